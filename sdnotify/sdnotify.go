// Package sdnotify tells systemd how the service is (sd_notify(3)): ready,
// reloading, stopping, a status line for systemctl status, and the
// watchdog's heartbeat. It is dependency-free; without $NOTIFY_SOCKET
// (not started by systemd) every call does nothing.
package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Send sends one notification. It reports whether one was sent: false and
// no error when archivd does not run under systemd.
func Send(state string) (bool, error) {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return false, nil
	}
	if addr[0] == '@' {
		addr = "\x00" + addr[1:] // an abstract socket
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return false, fmt.Errorf("sd_notify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, fmt.Errorf("sd_notify: %w", err)
	}
	return true, nil
}

// Ready says startup (recovery included) is done.
func Ready(status string) error { return send("READY=1\nSTATUS=" + status) }

// Status sets the line systemctl status shows.
func Status(status string) error { return send("STATUS=" + status) }

// Stopping says the service is shutting down.
func Stopping() error { return send("STOPPING=1\nSTATUS=stopping") }

// Reloading says the configuration is being reloaded; Ready ends it.
func Reloading() error {
	return send("RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(monotonicUsec(), 10))
}

// Watchdog is the heartbeat for WatchdogSec=.
func Watchdog() error { return send("WATCHDOG=1") }

func send(state string) error {
	_, err := Send(state)
	return err
}

// WatchdogInterval is how often the heartbeat is due (half the
// configured WatchdogSec=), and whether a watchdog is configured for this
// process at all.
func WatchdogInterval() (time.Duration, bool) {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0, false
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0, false
	}
	return time.Duration(usec) * time.Microsecond / 2, true
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, as RELOADING=1 wants.
func monotonicUsec() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Sec*1_000_000 + ts.Nsec/1000
}
