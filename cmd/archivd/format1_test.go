package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/demo"
	"github.com/archivd/archivd/ocfl"
)

// format1ID is the AIP in testdata/aip-format-1: a storage root written by
// archivd before AIP format 2 (the demo's sample case plus a file whose
// name had to be mapped, "Pru\u0308fung 100%.txt"), with every file format 1
// stored beside the package in plain form.
const format1ID = "urn:uuid:01a230ad-b0f2-7088-8a07-386fa1374828"

// format1Case writes the case folder the format 1 AIP was made from.
func format1Case(t *testing.T, dir string) string {
	t.Helper()
	c := sampleCase(t, dir)
	p := filepath.Join(c, "Pru\u0308fung 100%.txt")
	if err := os.WriteFile(p, []byte("Prüfvermerk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mt := time.Date(2024, 6, 14, 10, 30, 0, 0, time.UTC)
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFormat1AIPsStayReadable: an archive written before format 2 is
// rebuilt, verified and exported by today's archivd, beside new AIPs.
func TestFormat1AIPsStayReadable(t *testing.T) {
	cfg, dir := setup(t)
	storageRoot := filepath.Join(dir, "var", "storage")
	if err := os.CopyFS(storageRoot, os.DirFS("testdata/aip-format-1")); err != nil {
		t.Fatal(err)
	}
	if r := archivd(t, "catalog", "rebuild", "--config", cfg); r.code != 0 {
		t.Fatalf("rebuild of a format 1 archive: %d %s", r.code, r.stderr)
	}
	if r := archivd(t, "verify", "--config", cfg, format1ID); r.code != 0 || !strings.HasPrefix(r.stdout, "OK ") {
		t.Fatalf("verify of a format 1 AIP: %d %s %s", r.code, r.stdout, r.stderr)
	}
	caseDir := format1Case(t, dir)
	out := filepath.Join(dir, "out")
	if r := archivd(t, "export", "--config", cfg, format1ID, out); r.code != 0 {
		t.Fatalf("export of a format 1 AIP: %d %s", r.code, r.stderr)
	}
	if same, err := demo.SameTree(caseDir, out); !same {
		t.Fatalf("export of the format 1 AIP differs from its case folder: %v", err)
	}
	if r := archivd(t, "list", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, format1ID) {
		t.Fatalf("list: %d %s %s", r.code, r.stdout, r.stderr)
	}

	// A new AIP beside it is format 2: package, compressed index and
	// identification report, bag-info.txt, nothing else.
	newCase := filepath.Join(dir, "new")
	if err := os.Rename(caseDir, newCase); err != nil {
		t.Fatal(err)
	}
	r := archivd(t, "ingest", "--config", cfg, newCase)
	if r.code != 0 {
		t.Fatalf("ingest: %d %s", r.code, r.stderr)
	}
	id := aip.MustParseID(strings.TrimSpace(r.stdout))
	content := filepath.Join(storageRoot, filepath.FromSlash(ocfl.ObjectPath(id.String())), "v1", "content")
	var stored []string
	filepath.WalkDir(content, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(content, p)
			stored = append(stored, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(stored)
	want := []string{id.BagInfoFile(1), id.FormatsFile(1), id.IndexFile(1), id.PackageFile(1)}
	slices.Sort(want)
	if !slices.Equal(stored, want) {
		t.Errorf("format 2 stores beside the package %q, want %q", stored, want)
	}
	if b, _ := os.ReadFile(filepath.Join(content, id.BagInfoFile(1))); !strings.Contains(string(b), "AIP-Format-Version: 2\n") {
		t.Errorf("bag-info.txt of a new AIP:\n%s", b)
	}

	// Both formats survive a catalog rebuild unchanged, and verify.
	rebuildKeeps(t, cfg, dir, "catalog.db", "catalog.db-wal", "catalog.db-shm")
	for _, aipID := range []string{format1ID, id.String()} {
		if r := archivd(t, "verify", "--config", cfg, aipID); r.code != 0 {
			t.Fatalf("verify %s after rebuild: %d %s %s", aipID, r.code, r.stdout, r.stderr)
		}
	}

	// The plain copies format 1 kept beside its package are still checked
	// against the package.
	old := aip.MustParseID(format1ID)
	premis := filepath.Join(storageRoot, filepath.FromSlash(ocfl.ObjectPath(format1ID)), "v1", "content", old.PackageRoot(1), filepath.FromSlash(aip.PathPREMIS))
	if err := os.WriteFile(premis, []byte("<tampered/>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := archivd(t, "verify", "--config", cfg, format1ID); r.code != exitDataErr || !strings.Contains(r.stdout, "premis.xml") {
		t.Fatalf("verify of a format 1 AIP with a damaged PREMIS copy: %d %s", r.code, r.stdout)
	}
}

// TestVerifyChecksTheIngestRecordAgainstPREMIS: the events the ingest
// record names are looked for in the package's premis.xml, now that no
// copy of PREMIS lies beside the package.
func TestVerifyChecksTheIngestRecordAgainstPREMIS(t *testing.T) {
	cfg, dir, id := ingested(t)
	ctx := context.Background()
	db, err := catalog.Open(ctx, filepath.Join(dir, "var", "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := db.GetIngest(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		EventIDs []string `json:"event_ids"`
	}
	if err := json.Unmarshal([]byte(in.Record), &rec); err != nil || len(rec.EventIDs) == 0 {
		t.Fatalf("ingest record: %v %s", err, in.Record)
	}
	const other = "7d1f0b5e-0000-4000-8000-000000000000"
	in.Record = strings.Replace(in.Record, rec.EventIDs[0], other, 1)
	err = db.PutIngest(ctx, in)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := archivd(t, "verify", "--config", cfg, id)
	if r.code != exitDataErr || !strings.Contains(r.stdout, "premis.xml") || !strings.Contains(r.stdout, other) {
		t.Fatalf("verify with an ingest record PREMIS does not match: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// TestExportRestoresFolderTimes: format 2 records every folder's
// modification time (empty or not), and export restores them.
func TestExportRestoresFolderTimes(t *testing.T) {
	cfg, dir := setup(t)
	caseDir := sampleCase(t, dir)
	want := map[string]time.Time{}
	i := 0
	filepath.WalkDir(caseDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != caseDir {
			rel, _ := filepath.Rel(caseDir, p)
			want[rel] = time.Date(2023, 1, 2+i, 3, 4, 5, 600_000_000, time.UTC)
			i++
		}
		return nil
	})
	if len(want) < 3 {
		t.Fatalf("the sample case has %d folders; the test needs several", len(want))
	}
	for rel, mt := range want {
		if err := os.Chtimes(filepath.Join(caseDir, rel), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	r := archivd(t, "ingest", "--config", cfg, caseDir)
	if r.code != 0 {
		t.Fatalf("ingest: %d %s", r.code, r.stderr)
	}
	out := filepath.Join(dir, "out")
	if r := archivd(t, "export", "--config", cfg, strings.TrimSpace(r.stdout), out); r.code != 0 {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	for rel, mt := range want {
		info, err := os.Stat(filepath.Join(out, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !info.ModTime().Equal(mt) {
			t.Errorf("folder %s exported with time %s, want %s", rel, info.ModTime().UTC(), mt)
		}
	}
	if same, err := demo.SameTree(caseDir, out); !same {
		t.Fatalf("export differs: %v", err)
	}
}
