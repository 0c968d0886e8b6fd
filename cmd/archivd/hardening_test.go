package main

// Tests for the findings of the hostile-testing issue: each failed before
// its fix.

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/demo"
	"github.com/archivd/archivd/ocfl"
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
	sealEveryCommand(t, cfg)
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
	made := filepath.Join(dir, "made", "by", "export")
	if r := archivd(t, "export", "--config", cfg, id, made); r.code == 0 {
		t.Fatalf("export of a damaged package succeeded")
	}
	if _, err := os.Lstat(filepath.Join(dir, "made")); !os.IsNotExist(err) {
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

// auditVerify runs audit verify and requires the exit code and text.
func auditVerify(t *testing.T, cfg string, code int, want ...string) string {
	t.Helper()
	r := archivd(t, "audit", "verify", "--config", cfg)
	if r.code != code {
		t.Fatalf("audit verify: exit %d, want %d\n%s%s", r.code, code, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Fatalf("audit verify lacks %q:\n%s", w, r.stdout)
		}
	}
	return r.stdout
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	s, _ := filepath.Glob(filepath.Join(dir, "var", "audit", "segment-*.jsonl"))
	return s
}

// TestAuditTrailSurvivesLatin1Names: a case folder whose name is not UTF-8
// is refused or archived, and the trail stays verifiable, also after the
// data directory is lost.
func TestAuditTrailSurvivesLatin1Names(t *testing.T) {
	cfg, dir := setup(t)
	sealEveryCommand(t, cfg)
	c := filepath.Join(dir, "M\xfcller-Akte")
	if err := demo.WriteSampleCase(c); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(c, "Bescheid-\xe4.txt"), []byte("Latin-1 name\n"), 0o644)
	if r := archivd(t, "ingest", "--config", cfg, c); r.code != 0 {
		t.Fatalf("ingest: %d %s", r.code, r.stderr)
	}
	// A refusal quoting binary bytes from case.yaml.
	bad := filepath.Join(dir, "bin\xff")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "a.txt"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(bad, "case.yaml"), []byte("title: \xff\xfe\x00\x1b[2J\n"), 0o644)
	if r := archivd(t, "ingest", "--config", cfg, bad); r.code != exitDataErr {
		t.Fatalf("binary case.yaml: %d %s", r.code, r.stderr)
	}
	auditVerify(t, cfg, 0, "OK: 2 entries", "OK stored trail at local")
	b, _ := os.ReadFile(segments(t, dir)[0])
	if !strings.Contains(string(b), `M\\xfcller-Akte`) {
		t.Errorf("the Latin-1 name is not kept as \\xfc: %s", b)
	}

	// Lose the data directory: the trail comes back from storage and goes on.
	for _, p := range []string{"catalog.db", "catalog.db-wal", "catalog.db-shm", "audit", "staging", "lock"} {
		os.RemoveAll(filepath.Join(dir, "var", p))
	}
	if r := archivd(t, "catalog", "rebuild", "--config", cfg); r.code != 0 {
		t.Fatalf("rebuild: %d %s", r.code, r.stderr)
	}
	auditVerify(t, cfg, 0, "OK: 3 entries", "OK stored trail at local")
	if n := len(segments(t, dir)); n != 3 {
		t.Errorf("segments after restore and one command: %d, want 3 (two restored, one new)", n)
	}
}

// TestBackupRestoredBehindStorage: the data directory comes back from a
// backup while storage went on.
func TestBackupRestoredBehindStorage(t *testing.T) {
	cfg, dir, id := ingested(t)
	backup := filepath.Join(dir, "backup")
	cpTree(t, filepath.Join(dir, "var", "audit"), filepath.Join(backup, "audit"))
	for i := 0; i < 2; i++ {
		if r := archivd(t, "verify", "--config", cfg, id); r.code != 0 {
			t.Fatal(r.stdout)
		}
	}
	auditVerify(t, cfg, 0, "OK: 3 entries")
	os.RemoveAll(filepath.Join(dir, "var", "audit"))
	cpTree(t, filepath.Join(backup, "audit"), filepath.Join(dir, "var", "audit"))
	// Behind storage: audit verify says so, without changing anything.
	auditVerify(t, cfg, exitDataErr, "OK: 1 entries", "DIFFERS", "missing from the local log")
	// The next command catches up and records it; then all agrees.
	r := archivd(t, "verify", "--config", cfg, id)
	if r.code != 0 || !strings.Contains(r.stderr, "caught up") {
		t.Fatalf("verify after restore: %d %s", r.code, r.stderr)
	}
	auditVerify(t, cfg, 0, "OK: 5 entries", "OK stored trail at local")

	// A backup written to since (a fork) stops every writer, naming both heads.
	os.RemoveAll(filepath.Join(dir, "var", "audit"))
	cpTree(t, filepath.Join(backup, "audit"), filepath.Join(dir, "var", "audit"))
	f, _ := os.OpenFile(filepath.Join(dir, "var", "audit", "current.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	f.WriteString(forkedEntry(t, filepath.Join(backup, "audit")))
	f.Close()
	r = archivd(t, "verify", "--config", cfg, id)
	if r.code != exitDataErr || !strings.Contains(r.stderr, "forked") || !strings.Contains(r.stderr, "local head: seq 2") || !strings.Contains(r.stderr, "stored head: seq 5") {
		t.Fatalf("fork: %d %s", r.code, r.stderr)
	}
}

// forkedEntry builds a valid entry 2 that storage does not have.
func forkedEntry(t *testing.T, auditDir string) string {
	t.Helper()
	l, err := audit.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	seg, _ := filepath.Glob(filepath.Join(auditDir, "segment-*.jsonl"))
	b, _ := os.ReadFile(seg[0])
	var first audit.Entry
	json.Unmarshal(b[:len(b)-1], &first)
	e := audit.Entry{V: 1, Seq: 2, Time: "2026-01-01T00:00:00Z", EventID: "x", Type: "dissemination", Outcome: "success", Agent: "someone", Prev: first.Hash()}
	return string(e.Canonical()) + "\n"
}

func cpTree(t *testing.T, from, to string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(to), 0o755)
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
}

// TestAuditVerifyComparesStoredSegments: deleting or editing the local
// sealed segments, or the stored ones, no longer passes.
func TestAuditVerifyComparesStoredSegments(t *testing.T) {
	cfg, dir, id := ingested(t)
	archivd(t, "verify", "--config", cfg, id)
	segs := segments(t, dir)
	last := segs[len(segs)-1]
	b, _ := os.ReadFile(last)

	os.Remove(last)
	auditVerify(t, cfg, exitDataErr, "DIFFERS "+filepath.Base(last)+" at local: stored, but missing from the local log")
	os.WriteFile(last, b, 0o440)
	auditVerify(t, cfg, 0)

	// Edit the last entry of the last local segment (still canonical JSON).
	os.Chmod(last, 0o640)
	os.WriteFile(last, []byte(strings.Replace(string(b), `"outcome":"success"`, `"outcome":"failure"`, 1)), 0o640)
	auditVerify(t, cfg, exitDataErr, "DIFFERS "+filepath.Base(last)+" at local: the stored copy and the local segment differ")
	os.WriteFile(last, b, 0o440)

	// Edit the stored copy.
	stored, _ := filepath.Glob(filepath.Join(dir, "var", "storage", "extensions", "archivd-audit-log", "segments", filepath.Base(segs[0])))
	sb, _ := os.ReadFile(stored[0])
	os.Chmod(stored[0], 0o640)
	os.WriteFile(stored[0], []byte(strings.Replace(string(sb), "success", "failure", 1)), 0o640)
	auditVerify(t, cfg, exitDataErr, "DIFFERS "+filepath.Base(segs[0])+" at local: the stored copy and the local segment differ")
	// Writers compare only the heads when they open (cheap); the damage
	// stays visible to the auditor's check after further work.
	if r := archivd(t, "verify", "--config", cfg, id); r.code != 0 {
		t.Fatalf("verify: %d %s", r.code, r.stderr)
	}
	auditVerify(t, cfg, exitDataErr, "DIFFERS "+filepath.Base(segs[0]))
}

// TestTornAuditTail: a crash mid-write leaves an unfinished line; it no
// longer blocks anything.
func TestTornAuditTail(t *testing.T) {
	cfg, dir, id := ingested(t)
	cur := filepath.Join(dir, "var", "audit", "current.jsonl")
	os.WriteFile(cur, []byte(`{"v":1,"seq":2,"time":"2026-12-01T`), 0o640)
	auditVerify(t, cfg, 0, "OK: 1 entries", "unfinished entry of 34 bytes")
	r := archivd(t, "verify", "--config", cfg, id)
	if r.code != 0 {
		t.Fatalf("verify with a torn audit tail: %d %s", r.code, r.stderr)
	}
	out := auditVerify(t, cfg, 0, "OK: 3 entries")
	if strings.Contains(out, "unfinished") {
		t.Error("the torn tail is still there")
	}
	ev := dumpCatalog(t, dir)
	if !strings.Contains(ev, "type=recovery") || !strings.Contains(ev, "unfinished last entry of 34 bytes") {
		t.Errorf("no event records the cut:\n%s", ev)
	}
	torn, _ := filepath.Glob(filepath.Join(dir, "var", "audit", "torn-*.part"))
	if len(torn) != 1 {
		t.Errorf("the cut bytes are not kept: %v", torn)
	}
}

// TestRebuildWithADamagedObject: one truncated inventory no longer empties
// the catalog; the object is named, the rest rebuilt.
func TestRebuildWithADamagedObject(t *testing.T) {
	cfg, dir, bad := ingested(t)
	r := archivd(t, "ingest", "--config", cfg, sampleCase(t, t.TempDir()))
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	good := strings.TrimSpace(r.stdout)
	invs, _ := filepath.Glob(filepath.Join(dir, "var", "storage", "*", "*", "*", "*"+strings.TrimPrefix(bad, "urn:uuid:"), "inventory.json"))
	if len(invs) != 1 {
		t.Fatalf("inventory of %s: %v", bad, invs)
	}
	// Both the root inventory and the only version's are damaged: nothing
	// describes the object any more (a lost root inventory alone is read
	// from the version's: TestRebuildWithoutRootInventory).
	for _, inv := range []string{invs[0], filepath.Join(filepath.Dir(invs[0]), "v1", "inventory.json")} {
		b, _ := os.ReadFile(inv)
		os.WriteFile(inv, b[:len(b)/2], 0o644)
	}

	r = archivd(t, "catalog", "rebuild", "--config", cfg)
	if r.code != exitDataErr || !strings.Contains(r.stdout, "SKIPPED "+bad) || !strings.Contains(r.stdout, "inventory.json") || !strings.Contains(r.stdout, "KEPT "+bad) {
		t.Fatalf("rebuild: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "verify", "--config", cfg, good); r.code != 0 {
		t.Errorf("the healthy AIP after the rebuild: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "verify", "--config", cfg, bad); r.code != exitDataErr || !strings.Contains(r.stdout, "DAMAGED") {
		t.Errorf("the damaged AIP after the rebuild: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "var", "catalog.db.rebuild")); !os.IsNotExist(err) {
		t.Errorf("the rebuild's work file stays: %v", err)
	}
}

// TestRebuildStopsWithTheOldCatalog: a location that cannot be read stops
// the rebuild and the catalog stays as it was.
func TestRebuildStopsWithTheOldCatalog(t *testing.T) {
	cfg, dir, _ := ingested(t)
	before := dumpCatalog(t, dir)
	// The storage root unreadable as a whole: remove its declaration file.
	os.Remove(filepath.Join(dir, "var", "storage", "0=ocfl_1.1"))
	objs, _ := filepath.Glob(filepath.Join(dir, "var", "storage", "*", "*", "*", "*", "inventory.json"))
	os.Remove(objs[0])
	r := archivd(t, "catalog", "rebuild", "--config", cfg)
	if r.code == 0 {
		t.Fatalf("rebuild without a storage root succeeded: %s", r.stdout)
	}
	if got := dumpCatalog(t, dir); got != before {
		t.Errorf("a failed rebuild changed the catalog")
	}
}

// TestMissingFilesAreDamage: the exit code rule. A stored file missing on a
// reachable location is damage (65); a copy not made yet is 69.
func TestMissingFilesAreDamage(t *testing.T) {
	cfg, dir, id := ingested(t)
	obj, _ := filepath.Glob(filepath.Join(dir, "var", "storage", "*", "*", "*", "*"+strings.TrimPrefix(id, "urn:uuid:")))
	side := filepath.Join(obj[0], "inventory.json.sha512")
	b, _ := os.ReadFile(side)
	os.Remove(side)
	r := archivd(t, "verify", "--config", cfg, id)
	if r.code != exitDataErr || !strings.Contains(r.stdout, "DAMAGED") || !strings.Contains(r.stdout, "inventory.json.sha512") {
		t.Errorf("missing sidecar: %d %s", r.code, r.stdout)
	}
	os.WriteFile(side, b, 0o644)
	os.RemoveAll(obj[0])
	if r := archivd(t, "verify", "--config", cfg, id); r.code != exitDataErr || !strings.Contains(r.stdout, "DAMAGED") {
		t.Errorf("deleted object: %d %s", r.code, r.stdout)
	}
}

// within runs fn and fails the test if it has not returned after a
// minute: a hang detector, not a speed check.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s hangs", what)
	}
}

func TestNoHangOnSpecialFiles(t *testing.T) {
	cfg, dir := setup(t)
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	within(t, "identify on a FIFO", func() {
		if r := archivd(t, "identify", fifo); r.code != exitDataErr || !strings.Contains(r.stderr, "named pipe") {
			t.Errorf("identify: %d %s", r.code, r.stderr)
		}
	})
	within(t, "policy check on a FIFO", func() {
		if r := archivd(t, "policy", "check", "--config", cfg, fifo); r.code != exitDataErr || !strings.Contains(r.stderr, "named pipe") {
			t.Errorf("policy check: %d %s", r.code, r.stderr)
		}
	})
	for _, p := range []string{fifo, "/dev/zero"} {
		within(t, "config check on "+p, func() {
			if r := archivd(t, "config", "check", p); r.code != exitConfig || !strings.Contains(r.stderr, "not a regular file") {
				t.Errorf("config check %s: %d %s", p, r.code, r.stderr)
			}
		})
	}
}

func TestSIGTERMStopsAnIngest(t *testing.T) {
	cfg, dir := setup(t)
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(b, []byte("unidentified: reject"), []byte("unidentified: accept"), 1), 0o644)
	c := bigCase(t, filepath.Join(dir, "big"), 7)
	cmd := proc("ingest", "--config", cfg, c)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Once the ingest works (its spool exists), archivd handles signals.
	within(t, "the ingest to begin", func() {
		for {
			if spools, _ := filepath.Glob(filepath.Join(dir, "var", "staging", "urn+uuid+*")); len(spools) > 0 {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	cmd.Process.Signal(syscall.SIGTERM)
	within(t, "ingest after SIGTERM", func() { cmd.Wait() })
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		t.Fatalf("archivd did not stop by itself on SIGTERM (killed by %v)\n%s", ws.Signal(), out.String())
	}
	t.Logf("exit %d after SIGTERM:\n%s", cmd.ProcessState.ExitCode(), out.String())
	if cmd.ProcessState.ExitCode() == 0 && !strings.Contains(out.String(), "urn:uuid:") {
		t.Fatalf("exit 0 without an AIP:\n%s", out.String())
	}
	// Whatever the moment, the case can be archived afterwards.
	r := archivd(t, "ingest", "--config", cfg, c)
	if r.code != 0 && !strings.Contains(r.stderr, "already archived unchanged") {
		t.Fatalf("ingest after SIGTERM: %d %s", r.code, r.stderr)
	}
}

func TestCaseFolderArguments(t *testing.T) {
	cfg, dir := setup(t)
	if r := archivd(t, "ingest", "--config", cfg, ""); r.code != exitUsage {
		t.Errorf("empty folder argument: %d %s %s", r.code, r.stdout, r.stderr)
	}
	c := sampleCase(t, dir)
	link := filepath.Join(dir, "link")
	os.Symlink(c, link)
	if r := archivd(t, "ingest", "--config", cfg, link); r.code != exitDataErr || !strings.Contains(r.stderr, "is a symbolic link") {
		t.Errorf("symlinked case folder: %d %s", r.code, r.stderr)
	}
	// case.yaml as a folder: refused, named; not archived as content.
	d := filepath.Join(dir, "yaml-folder")
	os.MkdirAll(filepath.Join(d, "case.yaml"), 0o755)
	os.WriteFile(filepath.Join(d, "case.yaml", "title.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(d, "a.txt"), []byte("a"), 0o644)
	if r := archivd(t, "ingest", "--config", cfg, d); r.code != exitDataErr || !strings.Contains(r.stderr, `"case.yaml": is a folder`) {
		t.Errorf("case.yaml folder: %d %s", r.code, r.stderr)
	}
	// Control bytes from case.yaml never reach the terminal raw.
	e := filepath.Join(dir, "escape")
	os.MkdirAll(e, 0o755)
	os.WriteFile(filepath.Join(e, "a.txt"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(e, "case.yaml"), []byte("\"\\e[2J\\u009b31m\": 1\n"), 0o644)
	r := archivd(t, "ingest", "--config", cfg, e)
	if r.code != exitDataErr || strings.ContainsAny(r.stderr, "\x1b\u009b") || !strings.Contains(r.stderr, `\x1b[2J`) {
		t.Errorf("control bytes: %d %q", r.code, r.stderr)
	}
	// The refusal in the audit trail names the folder once.
	ev := dumpCatalog(t, dir)
	if n := strings.Count(ev, "case folder "+e); n != 1 {
		t.Errorf("the refusal names the folder %d times:\n%s", n, ev)
	}
}

func TestConfigCheckRefusesOnePhysicalCopyTwice(t *testing.T) {
	_, dir := setup(t)
	p := filepath.Join(dir, "two.yaml")
	os.WriteFile(p, []byte("data_dir: ./var\nlocations:\n  - name: a\n    type: local\n    path: ./store\n  - name: b\n    type: local\n    path: ./store/\n"), 0o644)
	r := archivd(t, "config", "check", p)
	if r.code != exitConfig || !strings.Contains(r.stderr, "two.yaml:6:") || !strings.Contains(r.stderr, "same folder") {
		t.Errorf("config check: %d %s", r.code, r.stderr)
	}
}

func TestLogSettingsAreRead(t *testing.T) {
	cfg, dir := setup(t)
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(b, []byte("format: console"), []byte("format: json"), 1), 0o644)
	r := archivd(t, "ingest", "--config", cfg, sampleCase(t, dir))
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["level"] == nil || m["message"] == nil {
			t.Fatalf("log.format json: a line is not a JSON log record: %q", line)
		}
	}
	os.WriteFile(cfg, bytes.Replace(b, []byte("level: info"), []byte("level: error"), 1), 0o644)
	r = archivd(t, "ingest", "--config", cfg, sampleCase(t, t.TempDir()))
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("log.level error still logs info: %q", r.stderr)
	}
	// Not a terminal: no colour codes.
	os.WriteFile(cfg, b, 0o644)
	r = archivd(t, "ingest", "--config", cfg, sampleCase(t, filepath.Join(t.TempDir(), "x")))
	if strings.Contains(r.stderr, "\x1b[") {
		t.Errorf("colour codes written to a pipe: %q", r.stderr)
	}
}

// TestAuditSegmentsByAge: commands do not each leave a segment in storage;
// the open segment is sealed once its first entry is seal_after old.
func TestAuditSegmentsByAge(t *testing.T) {
	cfg, dir := setup(t)
	b, _ := os.ReadFile(cfg)
	const sealAfter = 3 * time.Second
	os.WriteFile(cfg, bytes.Replace(b, []byte("seal_after: 1h"), []byte("seal_after: 3s"), 1), 0o644)
	start := time.Now() // before the segment's first entry
	r := archivd(t, "ingest", "--config", cfg, sampleCase(t, dir))
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	for i := 0; i < 3; i++ {
		archivd(t, "verify", "--config", cfg, id)
	}
	stored := func() []string {
		s, _ := filepath.Glob(filepath.Join(dir, "var", "storage", "extensions", "archivd-audit-log", "segments", "*"))
		return s
	}
	// Only a run that finishes the four commands within seal_after can
	// tell (a loaded machine under -race might not).
	took := time.Since(start)
	if took >= sealAfter {
		t.Skipf("the four commands took %v, longer than seal_after: this run cannot tell", took)
	}
	t.Logf("the four commands took %v", took)
	if n := len(stored()); n != 0 || len(segments(t, dir)) != 0 {
		t.Fatalf("four commands left %d stored and %d sealed segments; want none before seal_after", n, len(segments(t, dir)))
	}
	time.Sleep(sealAfter + 100*time.Millisecond) // the first entry is older than that now
	archivd(t, "verify", "--config", cfg, id)
	if s := stored(); len(s) != 1 {
		t.Fatalf("after seal_after: %d stored segments, want one", len(s))
	}
	auditVerify(t, cfg, 0, "OK: 5 entries", "OK stored trail at local")
}

// TestOnceOnlySurvivesALostCatalog: the delivery a case came from is kept
// in its package; a catalog rebuilt from storage refuses it again.
func TestOnceOnlySurvivesALostCatalog(t *testing.T) {
	cfg, dir := setup(t)
	sealEveryCommand(t, cfg)
	c := filepath.Join(dir, "Akte-Müller-\xe4")
	if err := demo.WriteSampleCase(c); err != nil {
		t.Fatal(err)
	}
	r := archivd(t, "ingest", "--config", cfg, c)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	for _, p := range []string{"catalog.db", "catalog.db-wal", "catalog.db-shm", "audit"} {
		os.RemoveAll(filepath.Join(dir, "var", p))
	}
	if r := archivd(t, "catalog", "rebuild", "--config", cfg); r.code != 0 {
		t.Fatalf("rebuild: %d %s", r.code, r.stderr)
	}
	r = archivd(t, "ingest", "--config", cfg, c)
	if r.code != exitDataErr || !strings.Contains(r.stderr, "already archived unchanged as "+id) {
		t.Fatalf("the same delivery after a rebuild: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// TestRebuildWithoutRootInventory: a copy whose root inventory.json and
// sidecar were deleted is rebuilt from its newest version inventory, and
// the rebuild says so and exits 65; the AIP is not dropped.
func TestRebuildWithoutRootInventory(t *testing.T) {
	cfg, dir, id := ingested(t)
	obj := filepath.Join(dir, "var", "storage", filepath.FromSlash(ocfl.ObjectPath(id)))
	os.Remove(filepath.Join(obj, "inventory.json"))
	os.Remove(filepath.Join(obj, "inventory.json.sha512"))
	os.Remove(filepath.Join(dir, "var", "catalog.db"))
	r := archivd(t, "catalog", "rebuild", "--config", cfg)
	if r.code != exitDataErr || !strings.Contains(r.stdout, "RECOVERED "+id) || !strings.Contains(r.stdout, "v1/inventory.json") || !strings.Contains(r.stdout, "1 AIP(s)") {
		t.Fatalf("rebuild without a root inventory: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "list", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, id) {
		t.Fatalf("the AIP is not in the rebuilt catalog: %d %s", r.code, r.stdout)
	}
	if r := archivd(t, "verify", "--config", cfg, id); r.code != exitDataErr || !strings.Contains(r.stdout, "inventory") {
		t.Fatalf("verify of a copy without its root inventory: %d %s %s", r.code, r.stdout, r.stderr)
	}
}
