package formats

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultPolicyDecisions(t *testing.T) {
	a := &Analyzer{ID: loadV122(t), Policy: DefaultPolicy()}
	ctx := context.Background()
	cases := []struct{ file, action, rule string }{
		{"corpus/siegfried-benchmark/Benchmark.pdf", Warn, "puid"},
		{"corpus/siegfried-benchmark/Benchmark.png", Accept, "puid fmt/"},
		{"corpus/siegfried-benchmark/Benchmark.docx", Warn, "puid fmt/412"},
		{"corpus/go-testdata/pngsuite/invalid-crc32.png", Reject, "unidentified"},
	}
	for _, c := range cases {
		an, err := a.AnalyzeFile(ctx, filepath.Join(dataDir, c.file), filepath.Base(c.file))
		if err != nil {
			t.Fatal(err)
		}
		if an.Decision.Action != c.action || !strings.HasPrefix(an.Decision.Rule, c.rule) || an.Decision.Grund == "" {
			t.Errorf("%s: %+v (%s, %s), want %s by %s", c.file, an.Decision, an.PUID, an.Validity, c.action, c.rule)
		}
	}
	// A PDF/A from the veraPDF corpus is accepted and carries its claim
	// (one that qpdf --check finds no fault in: several "pass" files of
	// the PDF/A suite have a trailer /Size that qpdf and archivd object to).
	matches, _ := filepath.Glob(filepath.Join(dataDir, "corpus/verapdf-corpus/PDF_A-2b/*/*/*6-1-13-t04-pass-a.pdf"))
	if len(matches) == 0 {
		t.Fatal("no PDF/A-2b pass files")
	}
	an, _ := a.AnalyzeFile(ctx, matches[0], filepath.Base(matches[0]))
	if an.PUID != "fmt/477" || an.Decision.Action != Accept || !strings.HasPrefix(an.PDFAClaim, "PDF/A-2b") {
		t.Errorf("PDF/A-2b: %s %q %+v", an.PUID, an.PDFAClaim, an.Decision)
	}
	// Executables and encrypted files are refused.
	dir := t.TempDir()
	exe := filepath.Join(dir, "setup.exe")
	os.WriteFile(exe, append([]byte("MZ\x90\x00"), make([]byte, 200)...), 0o644)
	if an, _ := a.AnalyzeFile(ctx, exe, "setup.exe"); an.Decision.Action != Reject {
		t.Errorf("executable: %+v", an.Decision)
	}
	enc := filepath.Join(dir, "secret.pdf")
	os.WriteFile(enc, []byte("%PDF-1.4\n1 0 obj<<>>endobj\nxref\n0 1\n0000000000 65535 f \ntrailer<</Size 1/Encrypt 2 0 R>>\nstartxref\n27\n%%EOF\n"), 0o644)
	if an, _ := a.AnalyzeFile(ctx, enc, "secret.pdf"); an.Decision.Action != Reject || an.Decision.Rule != "encrypted" {
		t.Errorf("encrypted PDF: %+v %v", an.Decision, an.Validation)
	}
}

func TestPolicyMergeAndCheck(t *testing.T) {
	p := DefaultPolicy().Merge(&Policy{Rules: []Rule{{PUIDs: []string{"fmt/18"}, Action: Reject, Reason: "no plain PDF here"}}, Unidentified: Warn})
	if d := p.Decide(Result{PUID: "fmt/18", Name: "PDF 1.4"}, Validation{Outcome: WellFormed}); d.Action != Reject {
		t.Errorf("override not applied: %+v", d)
	}
	if d := p.Decide(Result{PUID: Unknown}, Validation{}); d.Action != Warn {
		t.Errorf("unidentified override not applied: %+v", d)
	}
	bad := &Policy{Rules: []Rule{{Action: "maybe"}}, Encrypted: "sometimes"}
	if errs := bad.Check(); len(errs) != 3 {
		t.Errorf("Check = %v", errs)
	}
}

func TestExternalValidator(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.xml")
	os.WriteFile(good, []byte("<?xml version=\"1.0\"?><a/>"), 0o644)
	bad := filepath.Join(dir, "bad.xml")
	os.WriteFile(bad, []byte("<?xml version=\"1.0\"?><a><b></a>"), 0o644)
	xmllint := External{Name: "xmllint", Families: []string{"xml"}, Command: []string{"xmllint", "--noout", "{}"}, Timeout: 10 * time.Second, MemoryMiB: 256}
	a := &Analyzer{ID: Builtin(), External: []External{xmllint}}
	if an, _ := a.AnalyzeFile(ctx, good, "good.xml"); an.Validity != WellFormed || !strings.Contains(an.Validation.Checker, "xmllint") {
		t.Errorf("good xml: %+v", an.Validation)
	}
	if an, _ := a.AnalyzeFile(ctx, bad, "bad.xml"); an.Validity != Malformed {
		t.Errorf("bad xml: %+v", an.Validation)
	}
	// A validator that hangs yields "not checked", within its timeout.
	hang := External{Name: "hang", Families: []string{"xml"}, Command: []string{"sleep", "30"}, Timeout: 300 * time.Millisecond}
	a.External = []External{hang}
	start := time.Now()
	an, _ := a.AnalyzeFile(ctx, good, "good.xml")
	if time.Since(start) > 10*time.Second || !strings.Contains(strings.Join(an.Validation.Messages, " "), "hang: not checked") {
		t.Errorf("hung validator: %+v after %v", an.Validation, time.Since(start))
	}
	// A crashing validator too.
	crash := External{Name: "crash", Families: []string{"xml"}, Command: []string{"sh", "-c", "kill -SEGV $$"}}
	a.External = []External{crash}
	if an, _ := a.AnalyzeFile(ctx, good, "good.xml"); !strings.Contains(strings.Join(an.Validation.Messages, " "), "crash: not checked") {
		t.Errorf("crashing validator: %+v", an.Validation)
	}
}

func TestMIMEOfOLE2Documents(t *testing.T) {
	id := Builtin()
	for file, want := range map[string]string{
		"corpus/opf-format-corpus/pdfCabinetOfHorrors/externalLink.doc":               "application/msword",
		"corpus/opf-format-corpus/office-examples/powerpoint4-mac/ecdl+paris2001.ppt": "application/vnd.ms-powerpoint",
	} {
		r, err := id.IdentifyFile(filepath.Join(dataDir, file))
		if err != nil {
			t.Fatal(err)
		}
		if r.MIME != want {
			t.Errorf("%s: MIME %s, want %s", file, r.MIME, want)
		}
	}
}

// TestZipBomb: a member that expands enormously is listed, not opened.
func TestZipBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("bomb.bin")
	zero := make([]byte, 1<<20)
	for i := 0; i < 15; i++ { // 15 MiB of zeros compresses to a few KiB
		w.Write(zero)
	}
	w2, _ := zw.Create("note.txt")
	w2.Write([]byte("hello"))
	zw.Close()
	start := time.Now()
	r, err := Builtin().Identify(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "case.zip")
	if err != nil {
		t.Fatal(err)
	}
	if r.PUID != "x-fmt/263" || len(r.Members) != 2 {
		t.Fatalf("zip: %s with %d members", r.PUID, len(r.Members))
	}
	if !strings.Contains(strings.Join(r.Members[0].Warnings, " "), "zip bomb") || r.Members[1].PUID != "x-fmt/111" {
		t.Errorf("members: %+v", r.Members)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestGermanFindings(t *testing.T) {
	d := DefaultPolicy().Decide(Result{PUID: "x-fmt/111", Name: "Plain Text File", Size: 10},
		Validation{Outcome: Malformed, Messages: []string{"not valid UTF-8 at byte 20 (another encoding such as windows-1252?)", "a tool's own words"}})
	if d.Grund != "die Datei ist fehlerhaft aufgebaut: kein gültiges UTF-8 bei Byte 20 (andere Kodierung, etwa windows-1252?); Befund des Prüfwerkzeugs (im Wortlaut): a tool's own words" {
		t.Errorf("Grund: %q", d.Grund)
	}
}

// TestGermanForRealFindings: the native validators' findings on broken
// files all have a German rendering.
func TestGermanForRealFindings(t *testing.T) {
	ctx := context.Background()
	png := append([]byte("\x89PNG\r\n\x1a\n"), []byte("\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x00\x00\x00\x00")...)
	cases := []Validation{
		validatePDF(context.Background(), bytes.NewReader([]byte("not a pdf at all")), 16),
		validatePDF(context.Background(), bytes.NewReader([]byte("%PDF-1.4\nstuff")), 14),
		validateTIFF(ctx, bytes.NewReader([]byte("II*\x00")), 4),
		validateTIFF(ctx, bytes.NewReader([]byte("II*\x00\xff\xff\x00\x00")), 8),
		validateJPEG(ctx, bytes.NewReader([]byte("\xff\xd8\xff\xd9")), 4),
		validatePNG(ctx, bytes.NewReader(png), int64(len(png))),
		validateXML(ctx, bytes.NewReader([]byte("<a><b></a>")), 10),
		validateXML(ctx, bytes.NewReader([]byte("<a/><b/>")), 8),
		validateText(ctx, bytes.NewReader([]byte("Gr\xfc\xdfe")), 6),
	}
	for i, v := range cases {
		if v.Outcome != Malformed {
			t.Errorf("case %d: %s %v", i, v.Outcome, v.Messages)
			continue
		}
		if g := German(v.Messages); strings.Contains(g, "im Wortlaut") {
			t.Errorf("case %d: no German for %q", i, v.Messages)
		}
	}
}
