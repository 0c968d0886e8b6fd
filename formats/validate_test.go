package formats

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateCorpus runs the validators over every corpus file whose
// expected validity is known: a valid file must never be called
// malformed, and invalid files should be caught.
func TestValidateCorpus(t *testing.T) {
	id := loadV122(t)
	corpora, _ := os.ReadDir(filepath.Join(dataDir, "corpus"))
	stats := map[string][3]int{} // family -> valid ok, invalid caught, invalid total
	for _, c := range corpora {
		if !c.IsDir() || c.Name() == "verapdf-corpus" || c.Name() == "skeleton-suite" {
			continue
		}
		for _, e := range readExpectedFull(t, c.Name()) {
			if e.validity != "valid" && e.validity != "invalid" {
				continue
			}
			p := filepath.Join(dataDir, "corpus", c.Name(), e.path)
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := f.Stat()
			res, _ := id.Identify(f, st.Size(), filepath.Base(p))
			head := make([]byte, 16)
			f.ReadAt(head, 0)
			v := Validate(context.Background(), f, st.Size(), res)
			f.Close()
			fam := family(res, head)
			s := stats[fam]
			if e.validity == "valid" {
				if v.Outcome == Malformed {
					t.Errorf("%s/%s is valid but was called malformed: %v", c.Name(), e.path, v.Messages)
				} else {
					s[0]++
				}
			} else {
				s[2]++
				if v.Outcome == Malformed {
					s[1]++
				}
			}
			stats[fam] = s
		}
	}
	for fam, s := range stats {
		t.Logf("%-5s valid files passed: %d; invalid files caught: %d of %d", fam, s[0], s[1], s[2])
	}
	if stats["png"][1] == 0 || stats["pdf"][1] == 0 {
		t.Error("the PNG and PDF validators caught no invalid corpus file")
	}
}

type fullExpectation struct{ path, puid, validity string }

func readExpectedFull(t testing.TB, corpus string) []fullExpectation {
	var out []fullExpectation
	b, err := os.ReadFile(filepath.Join(dataDir, "corpus", corpus, "expected.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, b)
	for _, r := range rows[1:] {
		out = append(out, fullExpectation{r[0], r[1], r[3]})
	}
	return out
}

func TestValidateAdversarial(t *testing.T) {
	ctx := context.Background()
	// TIFF whose IFD points to itself.
	loop := []byte("II*\x00\x08\x00\x00\x00\x01\x00\x00\x01\x03\x00\x01\x00\x00\x00\x01\x00\x00\x00\x08\x00\x00\x00")
	// TIFF declaring a huge IFD offset.
	far := []byte("II*\x00\xff\xff\xff\x7f")
	// JPEG segment longer than the file.
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xF0, 'J', 'F'}
	// PNG with a wrong CRC.
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), make([]byte, 13+4)...)
	// Deeply nested XML.
	deep := []byte("<?xml version=\"1.0\"?>" + strings.Repeat("<a>", 1000) + strings.Repeat("</a>", 1000))
	// PDF with startxref beyond the end.
	pdf := []byte("%PDF-1.7\n1 0 obj<<>>endobj\nstartxref\n999999\n%%EOF\n")
	cases := []struct {
		name string
		data []byte
		res  Result
		want string
	}{
		{"tiff loop", loop, Result{}, "visited twice"},
		{"tiff far", far, Result{}, "outside the file"},
		{"jpeg long segment", jpeg, Result{}, "past the end"},
		{"png crc", png, Result{}, "wrong CRC"},
		{"deep xml", deep, Result{MIME: "text/xml"}, "deeper than"},
		{"pdf startxref", pdf, Result{}, "outside the file"},
		{"latin1 text", []byte("Gr\xfc\xdfe"), Result{PUID: plainTextPUID}, "not valid UTF-8"},
	}
	for _, c := range cases {
		v := Validate(ctx, bytes.NewReader(c.data), int64(len(c.data)), c.res)
		if v.Outcome != Malformed || !strings.Contains(strings.Join(v.Messages, " "), c.want) {
			t.Errorf("%s: %s %v, want malformed with %q", c.name, v.Outcome, v.Messages, c.want)
		}
	}
}
