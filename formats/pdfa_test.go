package formats

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestPDFAClaim(t *testing.T) {
	xmp := `<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" pdfaid:part="2" pdfaid:conformance="B"/>`
	elem := `<rdf:Description xmlns:x="http://www.aiim.org/pdfa/ns/id/"><x:part>3</x:part><x:conformance>U</x:conformance></rdf:Description>`
	utf16le := func(s string) []byte {
		var b []byte
		for _, c := range utf16.Encode([]rune(s)) {
			b = append(b, byte(c), byte(c>>8))
		}
		return b
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"utf8 attributes", []byte("%PDF-1.7\n" + xmp), "PDF/A-2b"},
		{"elements, other prefix", []byte("%PDF-1.7\n" + elem), "PDF/A-3u"},
		{"utf16le", append([]byte("%PDF-1.4\n"), utf16le(xmp)...), "PDF/A-2b"},
		{"no claim", []byte("%PDF-1.7\n<x:xmpmeta/>"), ""},
		{"namespace without part", []byte(`xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"`), ""},
	}
	for _, c := range cases {
		if got := PDFAClaim(c.data); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// TestPDFAClaimCorpus runs the claim detection over the veraPDF corpus.
// For files PRONOM reports as plain PDF because their XMP is not UTF-8
// (the notes say so), the claim must still be found where the file has one.
func TestPDFAClaimCorpus(t *testing.T) {
	rows := readExpected(t, "verapdf-corpus")
	var utf8Claims, agree, nonUTF8, nonUTF8Found int
	for _, e := range rows {
		b, err := os.ReadFile(filepath.Join(dataDir, "corpus/verapdf-corpus", e.path))
		if err != nil {
			t.Fatal(err)
		}
		claim := PDFAClaim(b)
		folder := strings.SplitN(e.path, "/", 2)[0] // e.g. PDF_A-2b
		switch {
		case strings.Contains(e.note, "does not carry a UTF-8 pdfaid claim"):
			nonUTF8++
			if claim != "" {
				nonUTF8Found++
			}
		case strings.HasPrefix(e.puid, "fmt/") && claim != "":
			utf8Claims++
			if strings.EqualFold(strings.ReplaceAll(folder, "_", "/"), claim) || strings.HasPrefix(strings.ToLower(strings.ReplaceAll(folder, "_", "/")), strings.ToLower(claim)) {
				agree++
			}
		}
	}
	t.Logf("claims in %d files PRONOM identified; %d agree with their folder's part and level", utf8Claims, agree)
	t.Logf("files whose claim PRONOM cannot see: %d, claim found by archivd in %d", nonUTF8, nonUTF8Found)
	if utf8Claims == 0 || agree*10 < utf8Claims*8 {
		t.Errorf("claim detection agrees with the folder in only %d of %d files", agree, utf8Claims)
	}
}
