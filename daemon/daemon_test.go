package daemon

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/config"
)

// env is a configuration with one inbox per readiness rule.
func env(t *testing.T, extra string) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	src := fmt.Sprintf(`data_dir: %[1]s/var
inboxes:
  - {name: marked, path: %[1]s/inbox/marked, ready: marker}
  - {name: renamed, path: %[1]s/inbox/renamed, ready: rename, after: keep}
  - {name: settled, path: %[1]s/inbox/settled, ready: settle, settle: 1s}
  - {name: bags, path: %[1]s/inbox/bags, kind: bag, ready: rename}
daemon:
  poll_interval: 100ms
  min_free_mib: 1
schedule:
  replicate: "@every 1h"
%s`, dir, extra)
	p := filepath.Join(dir, "archivd.yaml")
	os.WriteFile(p, []byte(src), 0o644)
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, dir
}

// deliver writes a case folder into an inbox as a DMS export would.
func deliver(t *testing.T, inbox, name string, files map[string]string, marker bool) {
	t.Helper()
	tmp := filepath.Join(inbox, "."+name+".part")
	for p, content := range files {
		full := filepath.Join(tmp, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // a re-delivery is the same export
		os.Chtimes(full, mt, mt)
	}
	if err := os.Rename(tmp, filepath.Join(inbox, name)); err != nil {
		t.Fatal(err)
	}
	if marker {
		os.WriteFile(filepath.Join(inbox, name+MarkerSuffix), nil, 0o644)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 600; i++ { // a hang detector, not a speed check
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: never happened", what)
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

func TestDaemonCollectsArchivesAndQuarantines(t *testing.T) {
	cfg, dir := env(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	a, err := archive.Open(ctx, cfg, archive.Options{Mode: archive.Writer, Log: zerolog.Nop(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	d := New(a, zerolog.Nop())
	done := make(chan error)
	ready := make(chan struct{})
	d.Ready = func() { close(ready) }
	go func() { done <- d.Run(ctx) }()
	<-ready

	good := map[string]string{"Antrag.txt": "Antrag\n", "case.yaml": "title: Antrag\nreference: 1/2026\n"}
	in := func(name string) string { return filepath.Join(dir, "inbox", name) }

	// Marker: archived when the marker comes, not before.
	deliver(t, in("marked"), "A", good, false)
	time.Sleep(400 * time.Millisecond)
	if !exists(filepath.Join(in("marked"), "A")) {
		t.Fatal("a case without its marker was claimed")
	}
	os.WriteFile(filepath.Join(in("marked"), "A"+MarkerSuffix), nil, 0o644)
	waitFor(t, "case A archived and removed", func() bool { return !exists(filepath.Join(in("marked"), "A")) && len(claims(t, cfg)) == 0 })
	ids, _ := a.Catalog().CommittedIngests(ctx, "inbox marked/A")
	if len(ids) != 1 {
		t.Fatalf("committed ingests of inbox marked/A: %v", ids)
	}
	if exists(filepath.Join(in("marked"), "A"+MarkerSuffix)) {
		t.Error("the marker stays after the claim")
	}

	// Rename, after: keep: the case is kept under done/ with a receipt.
	deliver(t, in("renamed"), "B", good, false)
	waitFor(t, "case B kept in done/", func() bool { return exists(filepath.Join(DoneDir(cfg), "renamed", "B", "Antrag.txt")) })
	rc, _ := os.ReadFile(filepath.Join(DoneDir(cfg), "renamed", "B.receipt.txt"))
	if !strings.Contains(string(rc), "urn:uuid:") {
		t.Errorf("receipt: %q", rc)
	}

	// Bad input: quarantined with reasons in both languages.
	deliver(t, in("marked"), "C", map[string]string{"x.txt": "x"}, false)
	os.Symlink("/etc/passwd", filepath.Join(in("marked"), "C", "link"))
	os.WriteFile(filepath.Join(in("marked"), "C"+MarkerSuffix), nil, 0o644)
	waitFor(t, "case C quarantined", func() bool { return exists(filepath.Join(QuarantineDir(cfg), "marked", "C", "case", "x.txt")) })
	reason, _ := os.ReadFile(filepath.Join(QuarantineDir(cfg), "marked", "C", "REASON.txt"))
	for _, want := range []string{"nicht archiviert", "was not archived", `"link": is a symbolic link`} {
		if !strings.Contains(string(reason), want) {
			t.Errorf("REASON.txt lacks %q:\n%s", want, reason)
		}
	}

	// A format the policy refuses: quarantined; retried with an override,
	// archived with the override recorded.
	deliver(t, in("marked"), "D", map[string]string{"blob": "\x00\x01\x02 no known format \xff\xfe"}, true)
	// Listed only once the delivery lies beside its reasons.
	waitFor(t, "case D quarantined", func() bool { _, err := FindQuarantined(cfg, "marked/D"); return err == nil })
	q, err := FindQuarantined(cfg, "marked/D")
	if err != nil || !q.Reason.PolicyOnly {
		t.Fatalf("quarantined D: %+v %v", q, err)
	}
	if _, err := Retry(ctx, cfg, a.Trail(), "marked/C", "Registratur Meier: checked"); err == nil {
		t.Error("an override accepted a symlink")
	}
	if _, err := Retry(ctx, cfg, a.Trail(), "marked/D", "Registratur Meier: Rohdaten, Ticket 4711"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "case D archived after the override", func() bool {
		ids, _ := a.Catalog().CommittedIngests(ctx, "inbox marked/D")
		return len(ids) == 1
	})
	ids, _ = a.Catalog().CommittedIngests(ctx, "inbox marked/D")
	idents, _ := a.Catalog().Identifications(ctx, ids[0], 1)
	if len(idents) != 1 || idents[0].Decision != "warn" || !strings.Contains(idents[0].DecisionReason, "Ticket 4711") {
		t.Errorf("override not recorded: %+v", idents)
	}

	// The same case delivered again: refused as already archived.
	deliver(t, in("marked"), "A", good, true)
	waitFor(t, "second delivery of A quarantined", func() bool {
		q, err := FindQuarantined(cfg, "marked/A")
		return err == nil && strings.Contains(strings.Join(q.Reason.Problems, " "), "already archived unchanged")
	})

	// Settle: claimed once nothing changed for the settle time.
	deliver(t, in("settled"), "E", good, false)
	waitFor(t, "case E archived after settling", func() bool {
		ids, _ := a.Catalog().CommittedIngests(ctx, "inbox settled/E")
		return len(ids) == 1
	})

	// Things at the top of an inbox that are not case folders stay.
	os.WriteFile(filepath.Join(in("renamed"), "loose.txt"), []byte("x"), 0o644)
	os.Symlink("/etc", filepath.Join(in("renamed"), "etc-link"))
	time.Sleep(300 * time.Millisecond)
	if !exists(filepath.Join(in("renamed"), "loose.txt")) || !exists(filepath.Join(in("renamed"), "etc-link")) {
		t.Error("a loose file or a link was taken from the inbox")
	}

	// The scheduled replicate ran once at start (it never had).
	runs, _ := a.Catalog().ScheduleRuns(ctx)
	if len(runs) != 1 || runs[0].Job != "replicate" || runs[0].Outcome != "success" {
		t.Errorf("schedule runs: %+v", runs)
	}
	st, err := ReadStatus(ctx, cfg, a.Catalog())
	if err != nil || len(st.Quarantined) != 2 || st.Next["replicate"].IsZero() {
		t.Errorf("status: %+v %v", st, err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := archive.VerifyAudit(context.Background(), cfg)
	if err != nil || r.Broken != nil || len(r.Differences) != 0 {
		t.Fatalf("audit trail: %+v %v", r, err)
	}
}

func claims(t *testing.T, cfg *config.Config) []string {
	ents, _ := os.ReadDir(workDir(cfg))
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestDaemonAdversarialCases: what real inboxes contain, each outcome
// asserted.
func TestDaemonAdversarialCases(t *testing.T) {
	cfg, dir := env(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := archive.Open(ctx, cfg, archive.Options{Mode: archive.Writer, Log: zerolog.Nop(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	d := New(a, testLog(t))
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	marked := filepath.Join(dir, "inbox", "marked")
	settled := filepath.Join(dir, "inbox", "settled")
	archived := func(inbox, name string) func() bool {
		return func() bool {
			ids, _ := a.Catalog().CommittedIngests(ctx, "inbox "+inbox+"/"+name)
			return len(ids) == 1
		}
	}
	quarantined := func(name string) func() bool {
		return func() bool { _, err := FindQuarantined(cfg, "marked/"+name); return err == nil }
	}

	// A name that is not UTF-8, with a Latin-1 file name and an empty file.
	latin := "Akte-M\xfcller"
	deliver(t, marked, latin, map[string]string{"Bescheid-\xe4.txt": "Latin-1\n", "leer.txt": ""}, true)
	waitFor(t, "a Latin-1 case archived", archived("marked", latin))

	// A device file inside a case: refused, named.
	deliver(t, marked, "Geraet", map[string]string{"a.txt": "a"}, false)
	if err := syscall.Mknod(filepath.Join(marked, "Geraet", "null"), syscall.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
		t.Logf("no device file test: %v", err)
		os.WriteFile(filepath.Join(marked, "Geraet", "null"), nil, 0o644)
		syscall.Mkfifo(filepath.Join(marked, "Geraet", "pipe"), 0o644)
	}
	os.WriteFile(filepath.Join(marked, "Geraet"+MarkerSuffix), nil, 0o644)
	waitFor(t, "a case with a device file quarantined", quarantined("Geraet"))
	reason, _ := os.ReadFile(filepath.Join(QuarantineDir(cfg), "marked", "Geraet", "REASON.txt"))
	if !strings.Contains(string(reason), "not a regular file") {
		t.Errorf("reason: %s", reason)
	}

	// 10,000 files in one case.
	many := map[string]string{}
	for i := 0; i < 10000; i++ {
		many[fmt.Sprintf("Blatt/%02d/%05d.txt", i%100, i)] = fmt.Sprintf("Blatt %d\n", i)
	}
	deliver(t, marked, "Viele", many, true)
	waitFor(t, "a case of 10,000 files archived", archived("marked", "Viele"))

	// A file still growing while the settle timer runs is not claimed.
	deliver(t, settled, "Waechst", map[string]string{"scan.txt": "Seite 1\n"}, false)
	grow := filepath.Join(settled, "Waechst", "scan.txt")
	for i := 0; i < 8; i++ {
		time.Sleep(300 * time.Millisecond)
		f, _ := os.OpenFile(grow, os.O_APPEND|os.O_WRONLY, 0)
		fmt.Fprintf(f, "Seite %d\n", i+2)
		f.Close()
		if !exists(grow) {
			t.Fatal("a case was claimed while a file of it still grew")
		}
	}
	waitFor(t, "the grown case archived once it settled", archived("settled", "Waechst"))
	ids, _ := a.Catalog().CommittedIngests(ctx, "inbox settled/Waechst")
	files, _ := a.Catalog().Files(ctx, ids[0], 1)
	for _, f := range files {
		if f.Original == "scan.txt" && f.Size != int64(len("Seite 1\n")+8*len("Seite 2\n")) {
			t.Errorf("archived scan.txt has %d bytes: not the finished file", f.Size)
		}
	}
	// A BagIt inbox: a good bag is archived, a bag that does not match its
	// manifest is quarantined.
	bags := filepath.Join(dir, "inbox", "bags")
	writeBag := func(name, content string, tamper bool) {
		tmp := filepath.Join(bags, "."+name)
		os.MkdirAll(filepath.Join(tmp, "data"), 0o755)
		sum := sha256.Sum256([]byte(content))
		os.WriteFile(filepath.Join(tmp, "data", "Akte.txt"), []byte(content), 0o644)
		os.WriteFile(filepath.Join(tmp, "bagit.txt"), []byte("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"), 0o644)
		os.WriteFile(filepath.Join(tmp, "bag-info.txt"), []byte("External-Identifier: "+name+"\n"), 0o644)
		os.WriteFile(filepath.Join(tmp, "manifest-sha256.txt"), []byte(hex.EncodeToString(sum[:])+"  data/Akte.txt\n"), 0o644)
		if tamper {
			os.WriteFile(filepath.Join(tmp, "data", "Akte.txt"), []byte(content+"!"), 0o644)
		}
		os.Rename(tmp, filepath.Join(bags, name))
	}
	writeBag("Bag-1", "Inhalt\n", false)
	writeBag("Bag-2", "Inhalt\n", true)
	waitFor(t, "a bag archived", archived("bags", "Bag-1"))
	waitFor(t, "a damaged bag quarantined", func() bool { _, err := FindQuarantined(cfg, "bags/Bag-2"); return err == nil })
	ids, _ = a.Catalog().CommittedIngests(ctx, "inbox bags/Bag-1")
	if ag, _ := a.Catalog().GetAIP(ctx, ids[0]); ag.Reference != "Bag-1" {
		t.Errorf("bag-info not mapped: %+v", ag)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// testLog writes the daemon's log into the test's output.
func testLog(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.ConsoleWriter{Out: zerolog.TestWriter{T: t}, NoColor: true})
}

// zipOf writes a zip with the given entries; a value starting with
// "symlink:" makes a link entry.
func zipOf(t *testing.T, p string, entries [][2]string) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e[0], Method: zip.Deflate, Modified: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)}
		content := e[1]
		if target, ok := strings.CutPrefix(content, "symlink:"); ok {
			h.SetMode(os.ModeSymlink | 0o777)
			content = target
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	zw.Close()
	f.Close()
}

func TestDaemonZipInbox(t *testing.T) {
	cfg, dir := env(t, "")
	cfg.Daemon.ZipMaxMiB = 2
	cfg.Inboxes = append(cfg.Inboxes, config.Inbox{Name: "zips", Path: filepath.Join(dir, "inbox", "zips"), Kind: "zip", Ready: "rename", After: "keep"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := archive.Open(ctx, cfg, archive.Options{Mode: archive.Writer, Log: zerolog.Nop(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	d := New(a, zerolog.Nop())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	zips := filepath.Join(dir, "inbox", "zips")
	os.MkdirAll(zips, 0o755)
	put := func(name string, entries [][2]string) {
		zipOf(t, filepath.Join(zips, "."+name), entries)
		os.Rename(filepath.Join(zips, "."+name), filepath.Join(zips, name))
	}
	sum := sha256.Sum256([]byte("Inhalt\n"))
	put("Akte.zip", [][2]string{{"Antrag.txt", "Antrag\n"}, {"Anlagen/", ""}, {"Anlagen/Plan.txt", "Plan\n"}, {"case.yaml", "reference: Z-1\n"}})
	put("Bag.zip", [][2]string{{"bag/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"},
		{"bag/manifest-sha256.txt", hex.EncodeToString(sum[:]) + "  data/Akte.txt\n"}, {"bag/data/Akte.txt", "Inhalt\n"},
		{"bag/bag-info.txt", "External-Identifier: Z-2\n"}})
	put("Flucht.zip", [][2]string{{"../../etc/cron.d/x", "boom"}})
	put("Link.zip", [][2]string{{"a.txt", "a"}, {"passwd", "symlink:/etc/passwd"}})
	put("Bombe.zip", [][2]string{{"zeros.bin", strings.Repeat("\x00", 3<<20)}})
	os.WriteFile(filepath.Join(zips, "Kaputt.zip"), []byte("PK\x03\x04 truncated"), 0o644)

	refs := map[string]string{"Akte.zip": "Z-1", "Bag.zip": "Z-2"}
	for name, ref := range refs {
		waitFor(t, name+" archived", func() bool {
			ids, _ := a.Catalog().CommittedIngests(ctx, "inbox zips/"+name)
			if len(ids) != 1 {
				return false
			}
			ag, _ := a.Catalog().GetAIP(ctx, ids[0])
			return ag.Reference == ref
		})
	}
	// The zip moves to done/ just after its ingest commits.
	waitFor(t, "the archived zip kept in done/", func() bool { return exists(filepath.Join(DoneDir(cfg), "zips", "Akte.zip")) })
	for name, want := range map[string]string{"Flucht.zip": "points outside the case", "Link.zip": "symbolic link",
		"Bombe.zip": "more than daemon.zip_max_mib", "Kaputt.zip": "not a readable zip file"} {
		waitFor(t, name+" quarantined", func() bool { return exists(filepath.Join(QuarantineDir(cfg), "zips", name, "delivery.zip")) })
		q, _ := FindQuarantined(cfg, "zips/"+name)
		if q == nil || !strings.Contains(strings.Join(q.Reason.Problems, " "), want) {
			t.Errorf("%s: want %q, got %+v", name, want, q)
		}
	}
	if exists(filepath.Join(dir, "etc")) || exists("/etc/cron.d/x") {
		t.Fatal("a zip entry escaped")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
