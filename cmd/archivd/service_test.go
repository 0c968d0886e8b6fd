package main

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestUnitIsHardened rates the shipped unit with systemd's own tool.
func TestUnitIsHardened(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatalf("systemd-analyze is needed (scripts/test.sh installs Debian's systemd): %v", err)
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=yes", "../../systemd/archivd.service").CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for archivd\.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	level, _ := strconv.ParseFloat(string(m[1]), 64)
	if level > 2.0 {
		t.Errorf("exposure level %.1f, want 2.0 or lower:\n%s", level, out)
	}
	unit, _ := os.ReadFile("../../systemd/archivd.service")
	for _, want := range []string{"Type=notify", "ExecStart=/usr/bin/archivd run --config /etc/archivd/archivd.yaml", "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec=", "StateDirectory=archivd"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	t.Logf("exposure level %.1f", level)
}
