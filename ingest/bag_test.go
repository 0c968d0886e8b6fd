package ingest

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/archivd/archivd/aip"
)

// makeBag writes a valid bag with sha512 and sha256 manifests, a tag
// manifest and bag-info, the way bagit-python or a DMS would.
func makeBag(t *testing.T, dir string, payload map[string]string, info string) {
	t.Helper()
	var m512, m256 []string
	for p, content := range payload {
		full := filepath.Join(dir, "data", filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(content), 0o644)
		s5 := sha512.Sum512([]byte(content))
		s2 := sha256.Sum256([]byte(content))
		m512 = append(m512, hex.EncodeToString(s5[:])+"  data/"+p)
		m256 = append(m256, hex.EncodeToString(s2[:])+"  data/"+p)
	}
	sort.Strings(m512)
	sort.Strings(m256)
	files := map[string]string{
		"bagit.txt":           "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
		"bag-info.txt":        info,
		"manifest-sha512.txt": strings.Join(m512, "\n") + "\n",
		"manifest-sha256.txt": strings.Join(m256, "\n") + "\n",
	}
	var tm []string
	for name, content := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		s := sha256.Sum256([]byte(content))
		tm = append(tm, hex.EncodeToString(s[:])+" "+name)
	}
	os.WriteFile(filepath.Join(dir, "tagmanifest-sha256.txt"), []byte(strings.Join(tm, "\n")+"\n"), 0o644)
}

func TestReadBag(t *testing.T) {
	payload := map[string]string{"Antrag.txt": "Antrag\n", "Anlagen/Plan.txt": "Plan\n", "case.yaml": "payload here, not metadata\n"}
	info := "Source-Organization: Stadt Musterstadt, Bauamt\nExternal-Identifier: 63-01/2026-4\nExternal-Description: Bauantrag\n  Musterweg 2\nPayload-Oxum: 39.3\nBagging-Date: 2026-11-30\nCase-Opened: 2026-01-05\n"
	dir := t.TempDir()
	makeBag(t, dir, payload, info)
	b, err := ReadBag(dir, aip.Metadata{RecordClass: "63.01"})
	if err != nil {
		t.Fatal(err)
	}
	m := b.Meta
	if m.Agency != "Stadt Musterstadt, Bauamt" || m.Reference != "63-01/2026-4" || m.Title != "Bauantrag Musterweg 2" ||
		m.RecordClass != "63.01" || m.Opened != "2026-01-05" || m.Extra["Bagging-Date"] != "2026-11-30" {
		t.Errorf("metadata from bag-info: %+v", m)
	}
	if b.Files != 3 || len(b.Algorithms) != 2 || !strings.Contains(b.Summary(), "manifest-sha512.txt and manifest-sha256.txt") {
		t.Errorf("bag: %+v %s", b, b.Summary())
	}
	in, err := ScanBag(b)
	if err != nil || len(in.Files) != 3 || in.Sidecar == nil || in.Sidecar.Name != "bag-info.txt" {
		t.Fatalf("ScanBag: %+v %v", in, err)
	}

	bad := []struct {
		name string
		do   func(dir string)
		want string
	}{
		{"changed payload", func(d string) { os.WriteFile(filepath.Join(d, "data", "Antrag.txt"), []byte("Antrag!\n"), 0o644) }, `"data/Antrag.txt": SHA512 differs`},
		{"missing payload", func(d string) { os.Remove(filepath.Join(d, "data", "Antrag.txt")) }, "listed in manifest-sha512.txt but not in the bag"},
		{"extra payload", func(d string) { os.WriteFile(filepath.Join(d, "data", "neu.txt"), nil, 0o644) }, `"data/neu.txt": in the payload but not in manifest-sha512.txt`},
		{"fetch.txt", func(d string) { os.WriteFile(filepath.Join(d, "fetch.txt"), []byte("http://x 1 data/y\n"), 0o644) }, "fetch.txt"},
		{"no bagit.txt", func(d string) { os.Remove(filepath.Join(d, "bagit.txt")) }, "not a BagIt bag"},
		{"changed tag file", func(d string) {
			os.WriteFile(filepath.Join(d, "bag-info.txt"), []byte(strings.Replace(info, "Bauamt", "Hauptamt", 1)), 0o644)
		}, `"bag-info.txt": SHA256 differs from tagmanifest-sha256.txt`},
		{"manifest escapes data/", func(d string) {
			f, _ := os.OpenFile(filepath.Join(d, "manifest-sha256.txt"), os.O_APPEND|os.O_WRONLY, 0)
			fmt.Fprintf(f, "%s  data/../bagit.txt\n", strings.Repeat("0", 64))
			f.Close()
		}, "is not a path inside data/"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			makeBag(t, d, payload, info)
			c.do(d)
			_, err := ReadBag(d, aip.Metadata{})
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an InputError with %q, got %v", c.want, err)
			}
		})
	}
	// Payload-Oxum that does not match.
	d := t.TempDir()
	makeBag(t, d, payload, strings.Replace(info, "39.3", "47.3", 1))
	if _, err := ReadBag(d, aip.Metadata{}); err == nil || !strings.Contains(err.Error(), "Payload-Oxum 47.3") {
		t.Errorf("Payload-Oxum: %v", err)
	}
}

// A case.yaml archivd writes (from an xdomea record) reads back as the
// metadata it was written from, whatever the DMS put in the fields.
func TestSidecarYAMLRoundTrip(t *testing.T) {
	meta := aip.Metadata{Title: `Bauantrag: "Neubau" – Müller & Söhne`, Reference: "63.01-17/2026", Agency: "  Kreis Musterland\nBauamt",
		RecordClass: "63.01", Opened: "2020-01-02", Closed: "2024-12-31",
		Extra: map[string]string{"xdomea-ProzessID": "9fde4e7a-b41b-11ec-9225-005056871b7c", "xdomea-Aufbewahrungsdauer": "10", "yes": "no", "#": "- [x]"}}
	b, err := SidecarYAML(meta)
	if err != nil {
		t.Fatal(err)
	}
	got, errs := parseSidecar(b, aip.Metadata{})
	if len(errs) > 0 || !reflect.DeepEqual(got, meta) {
		t.Errorf("read back %+v %v\nfrom\n%s", got, errs, b)
	}
	// Empty fields are left out; none is invented.
	if b, _ := SidecarYAML(aip.Metadata{Title: "x"}); string(b) != "title: x\n" {
		t.Errorf("sparse sidecar:\n%s", b)
	}
}
