package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDebianPackage builds the .deb as a release would and checks what is
// in it: files, conffile, dependencies, maintainer scripts, and that the
// packaged binary and configuration work.
func TestDebianPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a package")
	}
	if _, err := os.Stat("../../.tools/bin/nfpm"); err != nil {
		t.Fatalf("nfpm is needed (scripts/test.sh builds it): %v", err)
	}
	out := t.TempDir()
	build := exec.Command("bash", "../../scripts/build-deb.sh", out)
	build.Env = append(os.Environ(), "ARCHIVD_VERSION=1.2.3")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build-deb.sh: %v\n%s", err, b)
	}
	deb := filepath.Join(out, "archivd_1.2.3_amd64.deb")
	contents, err := exec.Command("dpkg-deb", "-c", deb).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb -c: %v %s", err, contents)
	}
	for _, want := range []string{"./usr/bin/archivd", "./lib/systemd/system/archivd.service", "./usr/lib/sysusers.d/archivd.conf",
		"./usr/lib/tmpfiles.d/archivd.conf", "./etc/archivd/archivd.yaml", "./usr/share/doc/archivd/operations.md", "./usr/share/doc/archivd/api.yaml"} {
		if !strings.Contains(string(contents), want) {
			t.Errorf("the package lacks %s", want)
		}
	}
	info, _ := exec.Command("dpkg-deb", "-I", deb).CombinedOutput()
	for _, want := range []string{"Package: archivd", "Version: 1.2.3", "Depends: systemd", "postinst", "prerm", "postrm"} {
		if !strings.Contains(string(info), want) {
			t.Errorf("control lacks %q:\n%s", want, info)
		}
	}
	ctrl := t.TempDir()
	if b, err := exec.Command("dpkg-deb", "-e", deb, ctrl).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -e: %v %s", err, b)
	}
	if b, _ := os.ReadFile(filepath.Join(ctrl, "conffiles")); strings.TrimSpace(string(b)) != "/etc/archivd/archivd.yaml" {
		t.Errorf("conffiles: %q", b)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if b, err := exec.Command("sh", "-n", filepath.Join(ctrl, s)).CombinedOutput(); err != nil {
			t.Errorf("%s is not valid sh: %v %s", s, err, b)
		}
	}
	root := t.TempDir()
	if b, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v %s", err, b)
	}
	bin := filepath.Join(root, "usr", "bin", "archivd")
	if b, err := exec.Command(bin, "version").CombinedOutput(); err != nil || !strings.Contains(string(b), "archivd 1.2.3") {
		t.Errorf("packaged binary: %v %s", err, b)
	}
	cfg := filepath.Join(root, "etc", "archivd", "archivd.yaml")
	b, _ := os.ReadFile(cfg)
	if !strings.Contains(string(b), "data_dir: /var/lib/archivd") || !strings.Contains(string(b), "/srv/archivd/inbox/bauamt") {
		t.Errorf("packaged configuration does not use the system's paths:\n%s", b)
	}
	if b, err := exec.Command(bin, "config", "check", cfg).CombinedOutput(); err != nil {
		t.Errorf("packaged configuration: %v %s", err, b)
	}
}
