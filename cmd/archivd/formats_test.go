package main

import (
	"archive/zip"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
)

const sigFile = "../../../shared/data/pronom/DROID_SignatureFile_V122.xml"
const contFile = "../../../shared/data/pronom/container-signature-20260119.xml"

func TestIdentifyCommand(t *testing.T) {
	dir := "../../../shared/data/corpus/siegfried-benchmark"
	r := archivd(t, "identify", "--format", "csv", "--signatures", sigFile, "--container-signatures", contFile, dir)
	if r.code != 0 {
		t.Fatalf("identify: %d %s", r.code, r.stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, row := range rows[1:] {
		got[filepath.Base(row[0])] = row[1]
		if !strings.Contains(row[10], "DROID_SignatureFile_V122.xml (version 122, sha256 ") {
			t.Errorf("identifier column lacks the signature file version and digest: %q", row[10])
		}
	}
	for file, puid := range map[string]string{"Benchmark.pdf": "fmt/18", "Benchmark.docx": "fmt/412", "Benchmark.msg": "x-fmt/430", "Benchmark.odt": "fmt/290"} {
		if got[file] != puid {
			t.Errorf("%s: %s, want %s", file, got[file], puid)
		}
	}
	r = archivd(t, "identify", "--format", "json", dir+"/Benchmark.pdf")
	var out struct {
		Identifier string `json:"identifier"`
		Files      []struct {
			PUID       string                         `json:"puid"`
			Validation struct{ Outcome string }       `json:"validation"`
			Decision   struct{ Action, Grund string } `json:"decision"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Files) != 1 {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	if !strings.Contains(out.Identifier, "built-in") || out.Files[0].PUID != "fmt/18" || out.Files[0].Validation.Outcome != "well-formed" || out.Files[0].Decision.Grund == "" {
		t.Errorf("json result: %+v", out)
	}
}

func TestPolicyCheckAndRefusal(t *testing.T) {
	cfg, dir := setup(t)
	caseDir := sampleCase(t, dir)
	if r := archivd(t, "policy", "check", "--config", cfg, caseDir); r.code != 0 || !strings.Contains(r.stdout, "0 reject") {
		t.Fatalf("policy check of the sample case: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	os.WriteFile(filepath.Join(caseDir, "tool.exe"), append([]byte("MZ\x90\x00"), make([]byte, 64)...), 0o644)
	r := archivd(t, "policy", "check", "--config", cfg, caseDir)
	if r.code != exitDataErr || !strings.Contains(r.stdout, "REJECT") || !strings.Contains(r.stdout, "tool.exe") || !strings.Contains(r.stdout, "Programm oder Skript") {
		t.Fatalf("policy check with an executable: %d\n%s", r.code, r.stdout)
	}
	before := snapshot(t, caseDir)
	r = archivd(t, "ingest", "--config", cfg, caseDir)
	if r.code != exitDataErr || !strings.Contains(r.stderr, `"tool.exe": refused by the format policy`) {
		t.Fatalf("ingest with an executable: %d %s", r.code, r.stderr)
	}
	if snapshot(t, caseDir) != before {
		t.Fatal("the refused case folder changed")
	}
	// Formats are judged beside the packaging: the refused case's spool is
	// gone, no ingest was recorded and nothing was stored.
	for _, sub := range []string{"staging", filepath.Join("storage", "*", "*", "*", "*")} {
		if left, _ := filepath.Glob(filepath.Join(dir, "var", sub, "urn+uuid+*")); len(left) > 0 {
			t.Errorf("a refused case left %v", left)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "var", "storage", "*", "*", "*", "urn*")); len(left) > 0 {
		t.Errorf("a refused case was stored: %v", left)
	}
	sq, err := sql.Open("sqlite", filepath.Join(dir, "var", "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	var ingests int
	err = sq.QueryRow(`SELECT count(*) FROM ingests`).Scan(&ingests)
	sq.Close()
	if err != nil || ingests != 0 {
		t.Errorf("a refused case left %d ingest records (%v)", ingests, err)
	}
	os.Remove(filepath.Join(caseDir, "tool.exe"))
	r = archivd(t, "ingest", "--config", cfg, caseDir)
	if r.code != 0 {
		t.Fatalf("ingest: %d %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	ctx := context.Background()
	db, err := catalog.Open(ctx, filepath.Join(dir, "var", "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := db.Identifications(ctx, id, 1)
	db.Close()
	if err != nil || len(ids) != 7 { // the seven documents; the sidecar is metadata
		t.Fatalf("identifications: %d rows, %v", len(ids), err)
	}
	for _, i := range ids {
		if i.SignatureFile == "" || i.Decision == "" || i.Validity == "" {
			t.Errorf("incomplete identification row: %+v", i)
		}
	}
	// PREMIS records the PUID and the identification and validation events.
	premis := packageMember(t, filepath.Join(dir, "var", "storage"), aip.MustParseID(id), aip.PathPREMIS)
	for _, want := range []string{"<premis:formatRegistryKey>x-fmt/111</premis:formatRegistryKey>", "eventType/for", "eventType/val"} {
		if !strings.Contains(string(premis), want) {
			t.Errorf("PREMIS lacks %q", want)
		}
	}
}

// TestSignaturesInstall: a fresh install identifies with the PRONOM files
// shipped in archivd; newer files are installed only once they load.
func TestSignaturesInstall(t *testing.T) {
	cfg, dir := setup(t)
	if r := archivd(t, "signatures", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "version 122") || !strings.Contains(r.stdout, "shipped with archivd") {
		t.Fatalf("signatures: %d %s %s", r.code, r.stdout, r.stderr)
	}
	bad := filepath.Join(dir, "broken.xml")
	os.WriteFile(bad, []byte("<FFSignatureFile Version=\"999\">"), 0o644)
	if r := archivd(t, "signatures", "install", "--config", cfg, bad); r.code != exitDataErr || !strings.Contains(r.stderr, "nothing was installed") {
		t.Fatalf("install of a broken file: %d %s", r.code, r.stderr)
	}
	if r := archivd(t, "signatures", "--config", cfg); !strings.Contains(r.stdout, "shipped with archivd") {
		t.Fatalf("a refused install changed the files in use: %s", r.stdout)
	}
	sig := "../../../shared/data/pronom/DROID_SignatureFile_V122.xml"
	cont := "../../../shared/data/pronom/container-signature-20260119.xml"
	if r := archivd(t, "signatures", "install", "--config", cfg, sig, cont); r.code != 0 {
		t.Fatalf("install: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r := archivd(t, "signatures", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, filepath.Join("var", "signatures", "signature.xml")) || !strings.Contains(r.stdout, "container-signature.xml") {
		t.Fatalf("signatures after install: %d %s", r.code, r.stdout)
	}
	if r := archivd(t, "identify", "--config", cfg, "../../docs/aip-format.md"); r.code != 0 || !strings.Contains(r.stdout, "fmt/1149") {
		t.Errorf("identify with the installed files: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// TestXdomeaInspect: a real xdomea 4.0 transfer is read and its AIPs
// named; the same transfer without its document would be refused.
func TestXdomeaInspect(t *testing.T) {
	dir := t.TempDir()
	ex := "../../../shared/data/xdomea/examples/"
	msg, _ := os.ReadFile(ex + "518c7c31-d1a0-11ef-accb-005056871b7c_0503_1.xml")
	doc, _ := os.ReadFile(ex + "8bcadd35-d27b-11ef-ab6c-005056871b7c.txt")
	write := func(name string, withDoc bool) string {
		p := filepath.Join(dir, name)
		f, _ := os.Create(p)
		zw := zip.NewWriter(f)
		w, _ := zw.Create("518c7c31-d1a0-11ef-accb-005056871b7c_0503_1.xml")
		w.Write(msg)
		if withDoc {
			w, _ = zw.Create("8bcadd35-d27b-11ef-ab6c-005056871b7c.txt")
			w.Write(doc)
		}
		zw.Close()
		f.Close()
		return p
	}
	r := archivd(t, "xdomea", "inspect", write("518c7c31-d1a0-11ef-accb-005056871b7c_0503_1.zip", true))
	if r.code != 0 || !strings.Contains(r.stdout, "1 AIP(s)") || !strings.Contains(r.stdout, "[Vorgangskennzeichen]") || !strings.Contains(r.stdout, "would take") {
		t.Fatalf("inspect: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// With the configuration and the inbox: the retention each record's
	// AIP would get. The sample's Vorgang closed on 2025-01-14; the inbox
	// gives the record class the class matches on.
	cfg := filepath.Join(dir, "archivd.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`data_dir: %[1]s/var
inboxes:
  - {name: dms, path: %[1]s/inbox, kind: xdomea, outbox: %[1]s/outbox}
retention:
  classes:
    - {name: kurz, match: {inbox: dms, record_class: "\\[Aktenplan*"}, years: 5, action: destroy}
`, dir)), 0o644)
	r = archivd(t, "xdomea", "inspect", "--config", cfg, "--inbox", "dms", filepath.Join(dir, "518c7c31-d1a0-11ef-accb-005056871b7c_0503_1.zip"))
	if r.code != 0 || !strings.Contains(r.stdout, "retention: class kurz, kept to 2030-12-31, then destroy") {
		t.Fatalf("inspect with the configuration: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "xdomea", "inspect", "--config", cfg, "--inbox", "post", filepath.Join(dir, "518c7c31-d1a0-11ef-accb-005056871b7c_0503_1.zip")); r.code == 0 || !strings.Contains(r.stderr, "post: no xdomea inbox") {
		t.Errorf("an inbox that is not there: %d %s", r.code, r.stderr)
	}
	os.MkdirAll(filepath.Join(dir, "b"), 0o755)
	r = archivd(t, "xdomea", "inspect", write("b/518c7c31-d1a0-11ef-accb-005056871b7c_0503_1.zip", false))
	if r.code != exitDataErr || !strings.Contains(r.stdout, "missing 8bcadd35") || !strings.Contains(r.stdout, "would refuse") {
		t.Fatalf("inspect without the document: %d %s %s", r.code, r.stdout, r.stderr)
	}
}
