package main

// Tests for the findings of the hostile-testing issue: each failed before
// its fix.

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sqlExec changes a test's catalog behind archivd's back.
func sqlExec(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "var", "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// ingested sets up a configuration with one archived sample case and
// returns the configuration, the folder and the AIP id.
func ingested(t *testing.T) (cfg, dir, id string) {
	t.Helper()
	cfg, dir = setup(t)
	r := archivd(t, "ingest", "--config", cfg, sampleCase(t, dir))
	if r.code != 0 {
		t.Fatalf("ingest: %d %s", r.code, r.stderr)
	}
	return cfg, dir, strings.TrimSpace(r.stdout)
}

func TestExportNeverDeletesTheUsersTarget(t *testing.T) {
	cfg, dir, id := ingested(t)

	// A file as target: refused, named, kept.
	f := filepath.Join(dir, "important")
	os.WriteFile(f, []byte("important\n"), 0o644)
	r := archivd(t, "export", "--config", cfg, id, f)
	if r.code != exitUsage || !strings.Contains(r.stderr, "not a folder") || strings.Contains(r.stderr, "trying the next") {
		t.Errorf("export to a file: %d %s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(f); err != nil || string(b) != "important\n" {
		t.Fatalf("the user's file is gone or changed: %q %v", b, err)
	}

	// A non-empty folder with no file rows in the catalog: refused, kept.
	user := filepath.Join(dir, "userdir")
	os.MkdirAll(user, 0o755)
	os.WriteFile(filepath.Join(user, "mine.txt"), []byte("mine"), 0o644)
	sqlExec(t, dir, "DELETE FROM identifications", "DELETE FROM files")
	r = archivd(t, "export", "--config", cfg, id, user)
	if r.code == 0 {
		t.Errorf("export without file rows succeeded: %s", r.stdout)
	}
	if b, err := os.ReadFile(filepath.Join(user, "mine.txt")); err != nil || string(b) != "mine" {
		t.Fatalf("the user's folder is gone or changed: %v", err)
	}
}

func TestExportFailureRemovesOnlyItsOwnFiles(t *testing.T) {
	cfg, dir, id := ingested(t)
	// Damage the package: the export fails on a digest after writing files.
	pkgs, _ := filepath.Glob(filepath.Join(dir, "var", "storage", "*", "*", "*", "*", "v1", "content", "*.tar.zst"))
	if len(pkgs) != 1 {
		t.Fatalf("packages: %v", pkgs)
	}
	b, _ := os.ReadFile(pkgs[0])
	b[len(b)/3] ^= 0xff
	os.WriteFile(pkgs[0], b, 0o644)

	empty := filepath.Join(dir, "given-empty")
	os.MkdirAll(empty, 0o755)
	if r := archivd(t, "export", "--config", cfg, id, empty); r.code == 0 {
		t.Fatalf("export of a damaged package succeeded")
	}
	if ents, err := os.ReadDir(empty); err != nil || len(ents) != 0 {
		t.Errorf("given empty folder: %v entries, %v; want it kept and empty", ents, err)
	}
	made := filepath.Join(dir, "made-by-export")
	if r := archivd(t, "export", "--config", cfg, id, made); r.code == 0 {
		t.Fatalf("export of a damaged package succeeded")
	}
	if _, err := os.Lstat(made); !os.IsNotExist(err) {
		t.Errorf("folder created by a failed export stays: %v", err)
	}
}

func TestExportNamesVersionsThatExist(t *testing.T) {
	cfg, dir, id := ingested(t)
	r := archivd(t, "export", "--config", cfg, "--version", "v2", id, filepath.Join(dir, "out"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "no version v2") || !strings.Contains(r.stderr, "v1 only") {
		t.Errorf("export --version v2: %d %s", r.code, r.stderr)
	}
}
