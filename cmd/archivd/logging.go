package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/archivd/archivd/ingest"
	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/sys/unix"
)

// newLogger builds the root logger: JSON lines (for journald and log
// shippers) or console text, coloured only on a terminal and never when
// NO_COLOR is set (no-color.org).
func newLogger(w io.Writer, level, format string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	// The daemon's workers log at once: one line must not tear another.
	var out io.Writer = zerolog.SyncWriter(w)
	if format != "json" {
		_, noColor := os.LookupEnv("NO_COLOR")
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: time.RFC3339, NoColor: noColor || !isTerminal(w)}
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progressBar draws the ingest's progress on a terminal (files, bytes,
// rate, time left); nil when stderr is not one, so logs and pipes stay clean.
func (c *cli) progressBar() func(ingest.Progress) {
	if !isTerminal(c.errw) {
		return nil
	}
	var bar *progressbar.ProgressBar
	phase := ""
	return func(p ingest.Progress) {
		if p.Phase != phase || bar == nil {
			if bar != nil {
				bar.Finish()
				fmt.Fprintln(c.errw)
			}
			phase = p.Phase
			bar = progressbar.NewOptions64(p.TotalBytes,
				progressbar.OptionSetWriter(c.errw),
				progressbar.OptionSetDescription(fmt.Sprintf("%-16s", p.Phase)),
				progressbar.OptionShowBytes(true),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(200*time.Millisecond),
				progressbar.OptionClearOnFinish())
		}
		bar.Describe(fmt.Sprintf("%-16s %d/%d files", p.Phase, p.Files, p.TotalFiles))
		bar.Set64(p.Bytes)
		if p.Bytes >= p.TotalBytes && p.Files >= p.TotalFiles {
			bar.Finish()
		}
	}
}
