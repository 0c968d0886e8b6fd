package xdomea

import (
	"archive/zip"
	"context"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	examples = "../../shared/data/xdomea/examples"
	v4msg    = "518c7c31-d1a0-11ef-accb-005056871b7c_0503_1.xml"
	v4doc    = "8bcadd35-d27b-11ef-ab6c-005056871b7c.txt"
	v3msg    = "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.xml"
	v3doc    = "f4bcaaf7-d7cb-11ef-a278-005056871b7c.txt"
	schemas  = "../../shared/data/xdomea/xsd-3.0.0"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examples, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// transfer writes a zip of entries (name, content) as a DMS hands it over.
func transfer(t *testing.T, name string, entries ...[2]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		w, err := zw.Create(e[0])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e[1]))
	}
	zw.Close()
	f.Close()
	return p
}

func TestRealMessages(t *testing.T) {
	ctx := context.Background()
	// xdomea 4.0: an Akte as context around the transferred Vorgang, with a
	// SHA-256 of the primary document.
	in, err := Inspect(ctx, transfer(t, "518c7c31-d1a0-11ef-accb-005056871b7c_0503_1.zip", [2]string{v4msg, read(t, v4msg)}, [2]string{v4doc, read(t, v4doc)}), "", 0)
	if err != nil || !in.OK() {
		t.Fatalf("4.0 transfer: %+v %v", in, err)
	}
	m := in.Message
	if m.Version != "4.0.0" || m.ProzessID != "518c7c31-d1a0-11ef-accb-005056871b7c" || !m.ImportConfirmation || !strings.Contains(m.Receiver, "Landesarchiv NRW") {
		t.Errorf("4.0 header: %+v", m)
	}
	if len(in.Units) != 1 || in.Units[0].Kind != "Vorgang" || in.Units[0].Reference != "[Vorgangskennzeichen]" ||
		in.Units[0].RecordClass != "[Aktenplankennzeichen]" || in.Units[0].Closed != "2025-01-14" {
		t.Errorf("4.0 units: %+v", in.Units)
	}
	if fs := m.Files(); len(fs) != 1 || fs[0].Name != v4doc || fs[0].HashAlgo != "SHA-256" || fs[0].Hash == "" {
		t.Errorf("4.0 files: %+v", fs)
	}
	// xdomea 3.0.0: a Vorgang at the top; valid against the schemas.
	in, err = Inspect(ctx, transfer(t, "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.zip", [2]string{v3msg, read(t, v3msg)}, [2]string{v3doc, read(t, v3doc)}), schemas, 0)
	if err != nil || !in.OK() || !strings.HasPrefix(in.Schema, "valid against") {
		t.Fatalf("3.0 transfer: %+v %v", in, err)
	}
	part := in.Message.Part(in.Units[0])
	if sub, err := Parse(strings.NewReader(string(part))); err == nil || !strings.Contains(string(part), "<xdomea:ID>67e456ea-b420-11ec-b503-005056871b7c</xdomea:ID>") {
		t.Errorf("the record's part: %v %+v\n%s", err, sub, part) // well-formed, but not a 0503 of its own
	}
	if err := xml.Unmarshal(part, new(struct{})); err != nil {
		t.Errorf("the record's part is not well-formed: %v", err)
	}
	if in.Message.Version != "3.0.0" || len(in.Units) != 1 || in.Units[0].Title != "[Vorgangsbetreff]" || in.Units[0].Opened != "2010-04-04" {
		t.Errorf("3.0: %+v %+v", in.Message, in.Units)
	}
}

func TestTransferFaults(t *testing.T) {
	ctx := context.Background()
	v3, v4, doc3 := read(t, v3msg), read(t, v4msg), read(t, v3doc)
	name3 := "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.zip"
	name4 := "518c7c31-d1a0-11ef-accb-005056871b7c_0503_1.zip"
	for _, c := range []struct {
		name    string
		zip     string
		schemas string
		want    string
	}{
		{"malformed XML", transfer(t, name3, [2]string{v3msg, v3[:len(v3)/2]}, [2]string{v3doc, doc3}), "", "not well-formed"},
		{"wrong namespace", transfer(t, name3, [2]string{v3msg, strings.Replace(v3, "urn:xoev-de:xdomea:schema:3.0.0", "urn:example:other", 1)}, [2]string{v3doc, doc3}), "", "namespace"},
		{"a missing document", transfer(t, name3, [2]string{v3msg, v3}), "", "missing " + v3doc},
		{"an extra file", transfer(t, name3, [2]string{v3msg, v3}, [2]string{v3doc, doc3}, [2]string{"Notiz.txt", "x"}), "", "extra Notiz.txt"},
		{"a digest mismatch", transfer(t, name4, [2]string{v4msg, v4}, [2]string{v4doc, "Testdokument (geändert)\n"}), "", "digest " + v4doc},
		{"a zip-slip entry", transfer(t, name3, [2]string{v3msg, v3}, [2]string{v3doc, doc3}, [2]string{"../../etc/evil", "x"}), "", "outside the transfer"},
		{"another process's name", transfer(t, "00000000-0000-0000-0000-000000000000_0503_1.zip", [2]string{v3msg, v3}, [2]string{v3doc, doc3}), "", "named for process"},
		{"invalid against the schema", transfer(t, name3, [2]string{v3msg, strings.Replace(v3, "<xdomea:Erstellungszeitpunkt>2022-04-04T15:34:58Z</xdomea:Erstellungszeitpunkt>", "", 1)}, [2]string{v3doc, doc3}), schemas, "does not validate"},
		{"not a zip", func() string {
			p := filepath.Join(t.TempDir(), name3)
			os.WriteFile(p, []byte("no zip"), 0o644)
			return p
		}(), "", "not a readable zip"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, err := Inspect(ctx, c.zip, c.schemas, 0)
			if err != nil {
				t.Fatal(err)
			}
			if in.OK() {
				t.Fatalf("accepted: %+v", in)
			}
			if got := Summary(in); !strings.Contains(got, c.want) {
				t.Errorf("the inspection does not say %q:\n%s", c.want, got)
			}
		})
	}
}

// TestAnswersValidate: the 0507 and the 0506 archivd writes for a 3.0.0
// transfer validate against the xdomea 3.0.0 schemas, and the 0506 names
// every record with its outcome.
func TestAnswersValidate(t *testing.T) {
	m, err := Parse(strings.NewReader(read(t, v3msg)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	receipt, err := Receipt(m, "Kreisarchiv Musterland", now)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := ImportConfirmation(m, "Kreisarchiv Musterland", now, []Outcome{
		{ID: m.Records[0].ID, Imported: true},
		{ID: "7bf9473a-b4a7-11ec-a407-005056871b7c", Imported: false, Reason: "Primärdokument f4bc.txt fehlt / missing <&>"},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{AnswerName(m, TypeReceipt): receipt, AnswerName(m, TypeImport): imp} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema", filepath.Join(schemas, "xdomea-Nachrichten-AussonderungDurchfuehren.xsd"), p).CombinedOutput()
		if err != nil {
			t.Errorf("%s does not validate: %v\n%s\n%s", name, err, out, b)
		}
	}
	if !strings.Contains(string(imp), "<xdomea:Erfolgreich>false</xdomea:Erfolgreich>") || !strings.Contains(string(imp), "missing &lt;&amp;&gt;") {
		t.Errorf("0506:\n%s", imp)
	}
	// 4.0 answers are not written without a schema to check them against.
	m4, _ := Parse(strings.NewReader(read(t, v4msg)))
	if _, err := Receipt(m4, "Kreisarchiv", now); err == nil {
		t.Error("a 4.0 answer was written unchecked")
	}
}

// archival adds the Vorgang's archival metadata (Aufbewahrungsdauer,
// Aussonderungsart) to the real 3.0.0 sample, where the schema puts it.
func archival(t *testing.T, block string) string {
	t.Helper()
	msg := read(t, v3msg)
	const at = "</xdomea:AllgemeineMetadaten>\n      <xdomea:Aktenbetreff>"
	if !strings.Contains(msg, at) {
		t.Fatal("the 3.0.0 sample changed: no place for ArchivspezifischeMetadaten")
	}
	return strings.Replace(msg, at, "</xdomea:AllgemeineMetadaten>\n"+block+"      <xdomea:Aktenbetreff>", 1)
}

func TestArchivalMetadata(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, block, retention, disposal string
	}{
		{"ten years, archivwürdig", `<xdomea:ArchivspezifischeMetadaten>
        <xdomea:Aufbewahrungsdauer><xdomea:AnzahlJahre>10</xdomea:AnzahlJahre></xdomea:Aufbewahrungsdauer>
        <xdomea:Aussonderungsart><xdomea:Aussonderungsart listURI="urn:xoev-de:xdomea:codeliste:aussonderungsart" listVersionID="1.0"><code>A</code></xdomea:Aussonderungsart></xdomea:Aussonderungsart>
      </xdomea:ArchivspezifischeMetadaten>
`, "10", "A"},
		// Unbefristet is the fixed value 1: it must not read as one year.
		{"unbefristet, zu vernichten", `<xdomea:ArchivspezifischeMetadaten>
        <xdomea:Aufbewahrungsdauer><xdomea:Unbefristet>1</xdomea:Unbefristet></xdomea:Aufbewahrungsdauer>
        <xdomea:Aussonderungsart><xdomea:Aussonderungsart><code>V</code></xdomea:Aussonderungsart></xdomea:Aussonderungsart>
      </xdomea:ArchivspezifischeMetadaten>
`, Unlimited, "V"},
		{"none given", "", "", ""},
	} {
		p := transfer(t, "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.zip",
			[2]string{v3msg, archival(t, c.block)}, [2]string{v3doc, read(t, v3doc)})
		in, err := Inspect(ctx, p, schemas, 0)
		if err != nil || !in.OK() || !strings.HasPrefix(in.Schema, "valid against") {
			t.Fatalf("%s: %+v %v", c.name, in, err)
		}
		u := in.Units[0]
		if u.Retention != c.retention || u.Disposal != c.disposal {
			t.Errorf("%s: Aufbewahrungsdauer %q, Aussonderungsart %q; want %q, %q", c.name, u.Retention, u.Disposal, c.retention, c.disposal)
		}
		// The Vorgang's documents inherit both (xdomea passes them down).
		if len(u.Children) == 0 {
			t.Fatalf("%s: the Vorgang has no documents", c.name)
		}
		for _, d := range u.Children {
			if d.Retention != c.retention || d.Disposal != c.disposal {
				t.Errorf("%s: document %s: %q %q", c.name, d.ID, d.Retention, d.Disposal)
			}
		}
	}
}
