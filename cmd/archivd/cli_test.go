package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/demo"
	"github.com/archivd/archivd/ocfl"
)

type result struct {
	code           int
	stdout, stderr string
}

func archivd(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// setup copies the example configuration into a temporary folder, as a
// user would, and returns its path.
func setup(t *testing.T) (cfg, dir string) {
	t.Helper()
	dir = t.TempDir()
	b, err := os.ReadFile("../../examples/archivd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "etc", "archivd.yaml")
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, dir
}

// sealEveryCommand makes every command seal and store its audit segment,
// for tests that read the stored trail at once.
func sealEveryCommand(t *testing.T, cfg string) {
	t.Helper()
	b, _ := os.ReadFile(cfg)
	if !bytes.Contains(b, []byte("seal_after: 1h")) {
		t.Fatal("example configuration changed; adjust the test")
	}
	os.WriteFile(cfg, bytes.Replace(b, []byte("seal_after: 1h"), []byte("seal_after: 0s"), 1), 0o644)
}

func sampleCase(t *testing.T, dir string) string {
	t.Helper()
	c := filepath.Join(dir, "case")
	if err := demo.WriteSampleCase(c); err != nil {
		t.Fatal(err)
	}
	return c
}

// dumpCatalog renders the derived catalog tables of a test data directory.
func dumpCatalog(t *testing.T, dir string) string {
	t.Helper()
	ctx := context.Background()
	db, err := catalog.Open(ctx, filepath.Join(dir, "var", "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d, err := db.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rebuildKeeps removes the named entries of var/, runs catalog rebuild and
// requires the catalog to come back exactly as it was.
func rebuildKeeps(t *testing.T, cfg, dir string, remove ...string) {
	t.Helper()
	want := dumpCatalog(t, dir)
	for _, p := range remove {
		os.RemoveAll(filepath.Join(dir, "var", p))
	}
	if r := archivd(t, "catalog", "rebuild", "--config", cfg); r.code != 0 {
		t.Fatalf("rebuild: %d %s", r.code, r.stderr)
	}
	if got := withoutRecovery(dumpCatalog(t, dir)); got != want {
		t.Fatalf("rebuilt catalog differs:\n--- before\n%s\n--- after\n%s", want, got)
	}
}

// withoutRecovery drops the audit events that record a trail caught up
// from storage: a rebuild after a lost audit log adds one.
func withoutRecovery(dump string) string {
	var keep []string
	for _, l := range strings.Split(dump, "\n") {
		if !strings.Contains(l, " type=recovery ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// packageMember reads one file out of v1's package of an AIP stored in a
// local storage root.
func packageMember(t *testing.T, storageRoot string, id aip.ID, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join(storageRoot, filepath.FromSlash(ocfl.ObjectPath(id.String())), "v1", "content", id.PackageFile(1)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []byte
	_, _, err = aip.Walk(context.Background(), f, func(h *tar.Header, body io.Reader) error {
		if h.Name == id.PackageRoot(1)+"/"+name {
			b, err := io.ReadAll(body)
			out = b
			return err
		}
		return nil
	})
	if err != nil || out == nil {
		t.Fatalf("%s in the package of %s: %v", name, id, err)
	}
	return out
}

func snapshot(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		info, _ := d.Info()
		data := []byte{}
		if info.Mode().IsRegular() {
			data, _ = os.ReadFile(p)
		}
		b.WriteString(p + "|" + info.Mode().String() + "|" + info.ModTime().String() + "|" + string(data) + "\n")
		return nil
	})
	return b.String()
}

func TestIngestVerifyExportRebuild(t *testing.T) {
	cfg, dir := setup(t)
	sealEveryCommand(t, cfg)
	caseDir := sampleCase(t, dir)
	before := snapshot(t, caseDir)

	r := archivd(t, "ingest", "--config", cfg, caseDir)
	if r.code != 0 {
		t.Fatalf("ingest: %d %s", r.code, r.stderr)
	}
	idText := strings.TrimSpace(r.stdout)
	id, err := aip.ParseID(idText)
	if err != nil || id.String() != idText {
		t.Fatalf("ingest printed %q, not a canonical id", r.stdout)
	}
	if snapshot(t, caseDir) != before {
		t.Fatal("ingest changed the case folder")
	}
	// Any spelling of the id is accepted.
	upper := strings.ToUpper(strings.TrimPrefix(idText, "urn:uuid:"))
	if r := archivd(t, "verify", "--config", cfg, upper); r.code != 0 || !strings.HasPrefix(r.stdout, "OK ") {
		t.Fatalf("verify: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// Export restores the case folder byte for byte.
	out := filepath.Join(dir, "out")
	if r := archivd(t, "export", "--config", cfg, idText, out); r.code != 0 {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	if same, err := demo.SameTree(caseDir, out); !same {
		t.Fatalf("export differs from the case folder: %v", err)
	}
	if r := archivd(t, "export", "--config", cfg, idText, out); r.code != exitUsage || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("export into a non-empty folder: %d %s", r.code, r.stderr)
	}
	if r := archivd(t, "export", "--config", cfg, "--version", "v1", idText, filepath.Join(dir, "out-v1")); r.code != 0 {
		t.Errorf("export --version v1: %d %s", r.code, r.stderr)
	}
	// The storage root is valid OCFL, and the CLI says so.
	storageRoot := filepath.Join(dir, "var", "storage")
	if r := archivd(t, "ocfl", "validate", storageRoot); r.code != 0 || !strings.Contains(r.stdout, "VALID") {
		t.Fatalf("ocfl validate: %d %s", r.code, r.stdout)
	}
	// Sealed audit segments are stored beside the AIPs.
	segs, _ := filepath.Glob(filepath.Join(storageRoot, "extensions", "archivd-audit-log", "segments", "*.jsonl"))
	if len(segs) == 0 {
		t.Error("no audit segment stored in the storage root")
	}
	if r := archivd(t, "audit", "verify", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "intact") {
		t.Errorf("audit verify: %d %s", r.code, r.stdout)
	}

	// Catalog rebuild: delete the catalog, rebuild, compare.
	rebuildKeeps(t, cfg, dir, "catalog.db", "catalog.db-wal", "catalog.db-shm")
	if r := archivd(t, "verify", "--config", cfg, idText); r.code != 0 {
		t.Fatalf("verify after rebuild: %d %s %s", r.code, r.stdout, r.stderr)
	}

	// Flip one byte of the stored package: verify exits 65 and names it.
	pkg := filepath.Join(storageRoot, filepath.FromSlash(ocfl.ObjectPath(idText)), "v1", "content", id.PackageFile(1))
	b, _ := os.ReadFile(pkg)
	b[len(b)/2] ^= 0x20
	os.WriteFile(pkg, b, 0o644)
	r = archivd(t, "verify", "--config", cfg, idText)
	if r.code != exitDataErr || !strings.Contains(r.stdout, id.PackageFile(1)) {
		t.Fatalf("verify of a damaged package: %d %s", r.code, r.stdout)
	}
	// A damaged small copy (bag-info.txt beside the package) is found too.
	b[len(b)/2] ^= 0x20
	os.WriteFile(pkg, b, 0o644)
	info := filepath.Join(filepath.Dir(pkg), id.PackageRoot(1), "bag-info.txt")
	os.WriteFile(info, []byte("tampered\n"), 0o644)
	r = archivd(t, "verify", "--config", cfg, idText)
	if r.code != exitDataErr || !strings.Contains(r.stdout, "bag-info.txt") {
		t.Fatalf("verify of damaged bag-info copy: %d %s", r.code, r.stdout)
	}
	// The failed checks are in the audit trail.
	if r := archivd(t, "audit", "verify", "--config", cfg); r.code != 0 {
		t.Errorf("audit verify: %d %s", r.code, r.stdout)
	}
}

func TestExitCodes(t *testing.T) {
	cfg, dir := setup(t)
	if r := archivd(t); r.code != exitUsage {
		t.Errorf("no args: %d", r.code)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("data_dir: x\nsurprise: 1\npackage:\n  compression_level: 7\n"), 0o644)
	r := archivd(t, "config", "check", bad)
	if r.code != exitConfig || !strings.Contains(r.stderr, "bad.yaml:2:") || !strings.Contains(r.stderr, "bad.yaml:4:") {
		t.Errorf("config check: %d %q", r.code, r.stderr)
	}
	if r := archivd(t, "ingest", "--config", bad, dir); r.code != exitConfig {
		t.Errorf("ingest with bad config: %d", r.code)
	}
	if r := archivd(t, "verify", "--config", cfg, "urn:uuid:01937a3b-6c2e-7cc0-8a1b-3f4e5d6c7b8a"); r.code != exitDataErr {
		t.Errorf("verify unknown aip: %d %s", r.code, r.stderr)
	}
	// A second writer is refused while the lock is held.
	os.MkdirAll(filepath.Join(dir, "var"), 0o755)
	f, _ := os.OpenFile(filepath.Join(dir, "var", "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	r = archivd(t, "replicate", "--config", cfg)
	if r.code != exitLocked || !strings.Contains(r.stderr, "another archivd") {
		t.Errorf("locked: %d %s", r.code, r.stderr)
	}
	// An ingest works beside the holder.
	if r := archivd(t, "ingest", "--config", cfg, sampleCase(t, dir)); r.code != 0 {
		t.Errorf("ingest beside a lock holder: %d %s", r.code, r.stderr)
	}
	f.Close()
	// An empty case is refused with exit 65.
	empty := filepath.Join(dir, "empty-case")
	os.MkdirAll(empty, 0o755)
	if r := archivd(t, "ingest", "--config", cfg, empty); r.code != exitDataErr || !strings.Contains(r.stderr, "no files") {
		t.Errorf("empty case: %d %s", r.code, r.stderr)
	}
	// A storage path that is a file cannot work: a configuration error.
	os.RemoveAll(filepath.Join(dir, "var", "storage"))
	os.WriteFile(filepath.Join(dir, "var", "storage"), []byte("not a folder"), 0o644)
	if r := archivd(t, "ingest", "--config", cfg, sampleCase(t, t.TempDir())); r.code != exitConfig || !strings.Contains(r.stderr, "storage exists and is not a folder") {
		t.Errorf("unusable storage: %d %s", r.code, r.stderr)
	}
}

// TestBadInput feeds the awkward things real case folders contain.
func TestBadInput(t *testing.T) {
	cfg, dir := setup(t)
	mk := func(name string, files map[string]string) string {
		c := filepath.Join(dir, name)
		for p, content := range files {
			full := filepath.Join(c, p)
			os.MkdirAll(filepath.Dir(full), 0o755)
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	// Names that must be mapped and restored.
	odd := mk("odd", map[string]string{
		"Pru\u0308fung.txt":                   "NFD",
		"100%.txt":                            "percent",
		"back\\slash.txt":                     "backslash",
		"new\nline.txt":                       "newline",
		"latin1-\xe4.txt":                     "not UTF-8",
		"zero.bin":                            "",
		strings.Repeat("d/", 40) + "deep.txt": "deep",
	})
	os.MkdirAll(filepath.Join(odd, "empty", "inner"), 0o755)
	before := snapshot(t, odd)
	r := archivd(t, "ingest", "--config", cfg, odd)
	if r.code != 0 {
		t.Fatalf("odd names: %d %s", r.code, r.stderr)
	}
	if snapshot(t, odd) != before {
		t.Fatal("ingest changed the case folder")
	}
	out := filepath.Join(dir, "odd-out")
	if r := archivd(t, "export", "--config", cfg, strings.TrimSpace(r.stdout), out); r.code != 0 {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	if same, err := demo.SameTree(odd, out); !same {
		t.Fatalf("odd names not restored: %v", err)
	}

	// Things that are refused, each naming the file; nothing is touched.
	refuse := mk("refuse", map[string]string{"ok.txt": "fine"})
	os.Symlink("/etc/passwd", filepath.Join(refuse, "link.txt"))
	exec.Command("mkfifo", filepath.Join(refuse, "pipe")).Run()
	os.WriteFile(filepath.Join(refuse, "case.yaml"), []byte("title: x\nopened: 2024-13-45\nunknown: 1\n"), 0o644)
	deep := filepath.Join(refuse, strings.Repeat("x/", 70))
	os.MkdirAll(deep, 0o755)
	os.WriteFile(filepath.Join(deep, "too-deep.txt"), []byte("x"), 0o644)
	before = snapshot(t, refuse)
	r = archivd(t, "ingest", "--config", cfg, refuse)
	if r.code != exitDataErr {
		t.Fatalf("refuse: %d %s", r.code, r.stderr)
	}
	for _, want := range []string{`"link.txt": is a symbolic link`, `"pipe": is a named pipe`, `opened: "2024-13-45"`, "unknown", "too-deep.txt"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, r.stderr)
		}
	}
	if snapshot(t, refuse) != before {
		t.Fatal("a refused ingest changed the case folder")
	}
	// Nothing half-made stays behind.
	if ents, _ := os.ReadDir(filepath.Join(dir, "var", "staging")); len(ents) != 0 {
		t.Errorf("staging not empty after failures: %v", ents)
	}
	if r := archivd(t, "ocfl", "validate", filepath.Join(dir, "var", "storage")); r.code != 0 {
		t.Errorf("storage root invalid: %s", r.stdout)
	}
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	r := archivd(t, "demo", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "byte-identical") {
		t.Fatalf("demo: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	_ = time.Now
}

// TestLostDataDirectory: the server's data directory is lost; storage
// alone brings back the audit trail and the catalog.
func TestLostDataDirectory(t *testing.T) {
	cfg, dir := setup(t)
	sealEveryCommand(t, cfg)
	r := archivd(t, "ingest", "--config", cfg, sampleCase(t, dir))
	if r.code != 0 {
		t.Fatalf("ingest: %s", r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	if r := archivd(t, "verify", "--config", cfg, id); r.code != 0 {
		t.Fatalf("verify: %s", r.stdout)
	}
	rebuildKeeps(t, cfg, dir, "catalog.db", "catalog.db-wal", "catalog.db-shm", "audit", "staging", "lock")
	// Two entries from storage, one saying they were restored.
	r = archivd(t, "audit", "verify", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "OK: 3 entries") || !strings.Contains(r.stdout, "OK stored trail at local") {
		t.Fatalf("audit verify after restore: %d %s", r.code, r.stdout)
	}
	if r := archivd(t, "verify", "--config", cfg, id); r.code != 0 {
		t.Fatalf("verify after restore: %s", r.stdout)
	}
	if r := archivd(t, "audit", "verify", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "OK: 4 entries") {
		t.Fatalf("the trail does not continue: %s", r.stdout)
	}
}

func TestDuplicateDeliveryRefused(t *testing.T) {
	cfg, dir := setup(t)
	caseDir := sampleCase(t, dir)
	r := archivd(t, "ingest", "--config", cfg, caseDir)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	first := strings.TrimSpace(r.stdout)
	r = archivd(t, "ingest", "--config", cfg, caseDir)
	if r.code != exitDataErr || !strings.Contains(r.stderr, "already archived unchanged as "+first) {
		t.Fatalf("second delivery: %d %s", r.code, r.stderr)
	}
	if r := archivd(t, "ingest", "--config", cfg, "--again", caseDir); r.code != 0 || strings.TrimSpace(r.stdout) == first {
		t.Fatalf("--again: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// A changed folder is a new delivery.
	os.WriteFile(filepath.Join(caseDir, "Nachtrag.txt"), []byte("Nachtrag\n"), 0o644)
	if r := archivd(t, "ingest", "--config", cfg, caseDir); r.code != 0 {
		t.Fatalf("changed folder: %d %s", r.code, r.stderr)
	}
}
