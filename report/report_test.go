package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/sign"
)

const (
	aipA = "urn:uuid:0192f000-0000-7000-8000-00000000000a"
	aipB = "urn:uuid:0192f000-0000-7000-8000-00000000000b"
)

// testCatalog is a real SQLite catalog with two AIPs on two locations,
// fixity runs in October and November 2026, and one damage found and
// repaired in November and one found in November and never repaired.
func testCatalog(t *testing.T) *catalog.DB {
	t.Helper()
	ctx := context.Background()
	db, err := catalog.Open(ctx, filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, id := range []string{aipA, aipB} {
		a := catalog.AIP{ID: id, Reference: "1/2026", Title: "Akte", Created: "2026-09-01T10:00:00Z", Head: 1}
		v := catalog.Version{AIP: id, Version: 1, Created: "2026-09-01T10:00:00Z", InventorySHA512: "00"}
		p := catalog.Package{AIP: id, Version: 1, Name: "p.tar.zst", Size: 1000, SHA512: "aa", SHA256: "bb"}
		var cps []catalog.Copy
		for _, loc := range []string{"local", "site-b"} {
			cps = append(cps, catalog.Copy{AIP: id, Version: 1, Location: loc, Size: 1000, SHA512: "aa", VerifiedAt: "2026-09-01T10:00:00Z"})
		}
		if err := db.PutVersionRows(ctx, a, v, p, nil, cps...); err != nil {
			t.Fatal(err)
		}
	}
	run := func(id, at string, checks []catalog.FixityCheck) {
		for _, k := range checks {
			k.Run, k.Time = id, at
			if err := db.PutFixityCheck(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.PutFixityRun(ctx, catalog.FixityRun{ID: id, Kind: "full", Started: at, Finished: at, Complete: true, Copies: len(checks)}); err != nil {
			t.Fatal(err)
		}
	}
	ok := func(id, loc string) catalog.FixityCheck {
		return catalog.FixityCheck{AIP: id, Location: loc, Kind: "full", Outcome: "ok", Bytes: 1000}
	}
	run("run-oct", "2026-10-15T02:00:00.5Z", []catalog.FixityCheck{ok(aipA, "local"), ok(aipA, "site-b")})
	nov := "2026-11-15T02:00:00.25Z"
	run("run-nov", nov, []catalog.FixityCheck{ok(aipA, "local"),
		{AIP: aipB, Location: "site-b", Kind: "full", Outcome: "repaired", Bytes: 2000},
		{AIP: aipB, Location: "local", Kind: "full", Outcome: "damaged", Bytes: 1000}})
	if _, err := db.PutDamage(ctx, catalog.Damage{Run: "run-nov", FoundAt: nov, AIP: aipB, Version: 1, Location: "site-b",
		File: "v1/content/p.tar.zst", Problem: "package SHA-512 differs", Expected: "aa", Found: "cc", StoredVersion: "vid-1"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetDamageRepaired(ctx, aipB, "site-b", "2026-11-15T02:00:01Z", "rewrote v1/content/p.tar.zst from the copy at local"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutDamage(ctx, catalog.Damage{Run: "run-nov", FoundAt: nov, AIP: aipB, Version: 1, Location: "local",
		File: "v1/content/p.tar.zst", Member: "data/Antrag.pdf", Problem: "SHA-512 differs from the recorded digest", Expected: "dd", Found: "ee"}); err != nil {
		t.Fatal(err)
	}
	return db
}

func input(dir, period string) Input {
	zone, _ := time.LoadLocation("Europe/Berlin")
	return Input{Period: period, Zone: zone, Locations: []string{"local", "site-b"}, Cycle: 365 * 24 * time.Hour,
		Organization: "Kreis Musterland, Kreisarchiv", Contact: "mailto:archiv@example.org", Generator: "archivd test", Dir: dir,
		Now: time.Date(2026, 12, 1, 9, 0, 0, 0, zone)}
}

// chain builds the October and November reports in a fresh folder.
func chain(t *testing.T) (dir string, key *sign.Key) {
	t.Helper()
	db := testCatalog(t)
	dir = t.TempDir()
	key, err := sign.Generate(filepath.Join(t.TempDir(), "keys", "archivd-signing.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"2026-10", "2026-11"} {
		if _, _, err := Build(context.Background(), db, key, input(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	return dir, key
}

func TestBuildFiguresAndChain(t *testing.T) {
	dir, key := chain(t)
	var r Report
	b, _ := os.ReadFile(filepath.Join(dir, "fixity-2026-11.json"))
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	s := r.Summary
	if s.Checks != 3 || s.AIPsChecked != 2 || s.BytesChecked != 4000 || s.OK != 1 || s.Repaired != 1 || s.Damaged != 1 ||
		s.DamageFound != 2 || s.DamageRepaired != 1 || s.DamageOpen != 1 || s.Runs != 1 {
		t.Errorf("summary: %+v", s)
	}
	if r.Sequence != 2 || r.PreviousReport != "fixity-2026-10.json" || r.SigningKey.Fingerprint != key.Public().Fingerprint() {
		t.Errorf("chain fields: %d %q %q", r.Sequence, r.PreviousReport, r.SigningKey.Fingerprint)
	}
	// Coverage at the end of November: B at local was never verified
	// again after its ingest, which is within the cycle; all copies count.
	for _, l := range r.Locations {
		if l.Copies != 2 || l.VerifiedInCycle != 2 {
			t.Errorf("location %+v", l)
		}
	}
	// The October report knows nothing of November.
	var oct Report
	b, _ = os.ReadFile(filepath.Join(dir, "fixity-2026-10.json"))
	json.Unmarshal(b, &oct)
	if oct.Summary.Checks != 2 || len(oct.Damage) != 0 || oct.Sequence != 1 || oct.PreviousReport != "" {
		t.Errorf("October: %+v", oct.Summary)
	}
	v, err := Verify(filepath.Join(dir, "fixity-2026-11.json"), nil)
	if err != nil || !v.OK() || len(v.Chain) != 2 {
		t.Fatalf("verify: %+v %v", v, err)
	}
	pub := key.Public()
	if v, _ := Verify(filepath.Join(dir, "fixity-2026-11.json"), &pub); !v.OK() {
		t.Errorf("verify with the pinned key: %+v", v)
	}
	// The chain only grows at its end; a month not over is refused.
	db := testCatalog(t)
	for _, p := range []string{"2026-11", "2026-10", "2026-12"} {
		if _, _, err := Build(context.Background(), db, key, input(dir, p)); err == nil {
			t.Errorf("report for %s built again / out of order / before its end", p)
		}
	}
}

// tamper copies the chain and changes it; it returns the folder.
func tamper(t *testing.T, dir string, change func(dir string)) string {
	t.Helper()
	out := t.TempDir()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		os.WriteFile(filepath.Join(out, e.Name()), b, 0o644)
	}
	change(out)
	return out
}

// docBlocks are the sh blocks of docs/verify-reports.md, in order.
func docBlocks(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile("../docs/verify-reports.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllSubmatch(doc, -1) {
		out = append(out, string(m[1]))
	}
	if len(out) != 4 {
		t.Fatalf("docs/verify-reports.md: %d sh blocks, the test expects 4 (fingerprint, signature, files, chain)", len(out))
	}
	return out
}

func runBlock(t *testing.T, dir, script string) (string, bool) {
	t.Helper()
	cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func TestTamperingIsFound(t *testing.T) {
	dir, key := chain(t)
	blocks := docBlocks(t)
	// The documented procedure accepts the good chain.
	for i, b := range blocks {
		out, ok := runBlock(t, dir, b)
		if !ok {
			t.Fatalf("doc block %d fails on a good report:\n%s\n%s", i+1, b, out)
		}
		if i == 0 && strings.TrimSpace(out) != strings.TrimPrefix(key.Public().Fingerprint(), "SHA256:") {
			t.Errorf("doc fingerprint %q, archivd says %s", out, key.Public().Fingerprint())
		}
		if i == 1 && !strings.Contains(out, "Signature Verified Successfully") {
			t.Errorf("openssl: %s", out)
		}
	}
	other, err := sign.Generate(filepath.Join(t.TempDir(), "other.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change func(dir string)
		want   string // in report verify's problems
		block  int    // the doc block (1-based) that must fail
	}{
		{"one edited byte", func(d string) {
			p := filepath.Join(d, "fixity-2026-11.json")
			b, _ := os.ReadFile(p)
			b = bytes.Replace(b, []byte(`"damaged_not_repaired": 1`), []byte(`"damaged_not_repaired": 0`), 1)
			os.WriteFile(p, b, 0o644)
		}, "signature does not match", 2},
		{"a report removed from the chain", func(d string) {
			os.Remove(filepath.Join(d, "fixity-2026-10.json"))
		}, "is not beside it", 4},
		{"signed with another key", func(d string) {
			// Re-signed consistently with a stranger's key: only the key
			// the archive published (and the chain) can tell.
			p := filepath.Join(d, "fixity-2026-11.json")
			b, _ := os.ReadFile(p)
			var r Report
			json.Unmarshal(b, &r)
			r.SigningKey = SigningKey{"Ed25519", other.Public().Fingerprint(), string(other.Public().PEM())}
			nb, _ := json.MarshalIndent(r, "", "  ")
			os.WriteFile(p, append(nb, '\n'), 0o644)
			other.SignFile(p)
		}, "signed with key", 2},
		{"an edited HTML rendering", func(d string) {
			p := filepath.Join(d, "fixity-2026-11.html")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte("OFFEN"), []byte("ERLEDIGT"), 1), 0o644)
		}, "fixity-2026-11.html has SHA-256", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := tamper(t, dir, c.change)
			v, err := Verify(filepath.Join(d, "fixity-2026-11.json"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if v.OK() {
				t.Fatal("report verify calls the tampered chain valid")
			}
			var all []string
			for _, r := range v.Chain {
				all = append(all, r.Problems...)
			}
			if !strings.Contains(strings.Join(all, "\n"), c.want) {
				t.Errorf("problems lack %q:\n%s", c.want, strings.Join(all, "\n"))
			}
			if out, ok := runBlock(t, d, blocks[c.block-1]); ok {
				t.Errorf("doc block %d accepts it:\n%s", c.block, out)
			}
		})
	}
}

// TestHTMLPrintsWhatTheReportSays renders the HTML in headless Chromium to
// PDF, as an auditor prints it, and reads the text back.
func TestHTMLPrintsWhatTheReportSays(t *testing.T) {
	for _, tool := range []string{"chromium", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (scripts/test.sh installs it: Debian packages chromium, poppler-utils)", tool)
		}
	}
	dir, key := chain(t)
	pdf := filepath.Join(t.TempDir(), "report.pdf")
	cmd := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
		"--no-pdf-header-footer", "--print-to-pdf="+pdf, "file://"+filepath.Join(dir, "fixity-2026-11.html"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	out, err := exec.Command("pdftotext", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{
		"Prüfbericht Bestandserhaltung / Fixity report 2026-11",
		"Kreis Musterland, Kreisarchiv",
		"Schäden gefunden / Damage found 2",
		"Repariert / Repaired 1",
		"Offen / Open 1",
		"OFFEN / OPEN", aipB,
		"data/Antrag.pdf",
		"rewrote v1/content/p.tar.zst from the copy at local",
		"fixity-2026-10.json",
		key.Public().Fingerprint(),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed report lacks %q\n%s", want, text)
		}
	}
}
