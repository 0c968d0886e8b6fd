package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/archivd/archivd/ocfl"
)

// TestAuditorProcedure runs the shell block of
// docs/verify-without-archivd.md, exactly as written, on an AIP produced by
// archivd, and checks that it fails once a payload byte is changed.
func TestAuditorProcedure(t *testing.T) {
	doc, err := os.ReadFile("../../docs/verify-without-archivd.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```bash\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("no bash block in docs/verify-without-archivd.md")
	}
	script := string(m[1])

	cfg, dir := setup(t)
	r := archivd(t, "ingest", "--config", cfg, sampleCase(t, dir))
	if r.code != 0 {
		t.Fatalf("ingest: %s", r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	obj := filepath.Join(dir, "var", "storage", filepath.FromSlash(ocfl.ObjectPath(id)))
	runProc := func(obj string) ([]byte, error) {
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = append(os.Environ(), "OBJ="+obj, "WORK="+t.TempDir())
		return cmd.CombinedOutput()
	}
	if out, err := runProc(obj); err != nil {
		t.Fatalf("auditor procedure failed on an intact AIP: %v\n%s", err, out)
	} else if !strings.Contains(string(out), "every file matches") {
		t.Fatalf("procedure output lacks the final confirmation:\n%s", out)
	}

	// Copy the object, damage one byte of the package, and expect failure.
	bad := filepath.Join(t.TempDir(), "obj")
	if out, err := exec.Command("cp", "-a", obj, bad).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	pkgs, _ := filepath.Glob(filepath.Join(bad, "v1", "content", "*.tar.zst"))
	os.Chmod(pkgs[0], 0o644)
	b, _ := os.ReadFile(pkgs[0])
	b[len(b)/3] ^= 0x04
	os.WriteFile(pkgs[0], b, 0o644)
	if out, err := runProc(bad); err == nil {
		t.Fatalf("auditor procedure passed on a damaged package:\n%s", out)
	}
}
