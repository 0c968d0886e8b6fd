package sdnotify

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNotifications(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: p, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", p)
	read := func() string {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 4096)
		n, err := conn.Read(b)
		if err != nil {
			t.Fatal(err)
		}
		return string(b[:n])
	}
	Ready("2 cases in flight")
	if got := read(); got != "READY=1\nSTATUS=2 cases in flight" {
		t.Errorf("ready: %q", got)
	}
	Reloading()
	if got := read(); !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") || len(got) < 30 {
		t.Errorf("reloading: %q", got)
	}
	Stopping()
	if got := read(); got != "STOPPING=1\nSTATUS=stopping" {
		t.Errorf("stopping: %q", got)
	}
	t.Setenv("NOTIFY_SOCKET", "")
	if sent, err := Send("READY=1"); sent || err != nil {
		t.Errorf("without systemd: %v %v", sent, err)
	}
	t.Setenv("WATCHDOG_USEC", "4000000")
	t.Setenv("WATCHDOG_PID", "")
	if d, ok := WatchdogInterval(); !ok || d != 2*time.Second {
		t.Errorf("watchdog interval: %v %v", d, ok)
	}
}
