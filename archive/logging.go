package archive

import (
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// NewLogger builds the root logger of a command or the service: JSON lines
// (for journald and log shippers) or console text, coloured only on a
// terminal and never when NO_COLOR is set (no-color.org).
func NewLogger(w io.Writer, level, format string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	// The daemon's workers log at once: one line must not tear another.
	var out io.Writer = zerolog.SyncWriter(w)
	if format != "json" {
		_, noColor := os.LookupEnv("NO_COLOR")
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: time.RFC3339, NoColor: noColor || !IsTerminal(w)}
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger()
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
