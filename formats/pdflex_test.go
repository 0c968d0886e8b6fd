package formats

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestPDFLexerWindowedSameAsInMemory: the lexer reads a PDF larger than
// pdfInMemory through a 64 KiB window and one held in memory from its
// bytes; both give the same objects, also for tokens that straddle the
// window's edge. Common names come out as the same values as rare ones;
// "inf" is a keyword, not infinity (strconv would take it for a number,
// PDF does not).
func TestPDFLexerWindowedSameAsInMemory(t *testing.T) {
	objects := "/Type /FlateDecode 12345 0 R true false null /Unusual#20Name 3.5 -.25 +17 obj (a (nested) string) <41 42 43> " +
		"[1 2 /Type [/Kids 7 0 R]] << /Length 10 /Filter /FlateDecode /Rare /Widths /W [1 2 3] >> endobj inf"
	for _, pad := range []int{0, 65536 - 3, 65536 - 12, 65536 + 1, 3*65536 - 7} {
		data := []byte(strings.Repeat(" ", pad) + objects)
		mem := &pdfLex{r: bytes.NewReader(data), size: int64(len(data)), limit: int64(len(data)), all: data}
		win := &pdfLex{r: bytes.NewReader(data), size: int64(len(data)), limit: int64(len(data))}
		var got []any
		for n := 0; ; n++ {
			a, errA := mem.object(0)
			b, errB := win.object(0)
			if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
				t.Fatalf("pad %d, object %d: in memory %#v (%v), through the window %#v (%v)", pad, n, a, errA, b, errB)
			}
			if errA != nil {
				break
			}
			got = append(got, a)
		}
		want := []any{pdfName("Type"), pdfName("FlateDecode"), pdfRef{12345, 0}, pdfKw("true"), pdfKw("false"), pdfKw("null"),
			pdfName("Unusual#20Name"), 3.5, -0.25, int64(17), pdfKw("obj"), []byte(nil), []byte(nil),
			[]any{int64(1), int64(2), pdfName("Type"), []any{pdfName("Kids"), pdfRef{7, 0}}},
			pdfDict{"Length": int64(10), "Filter": pdfName("FlateDecode"), "Rare": pdfName("Widths"), "W": []any{int64(1), int64(2), int64(3)}},
			pdfKw("endobj"), pdfKw("inf")}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("pad %d:\n got %#v\nwant %#v", pad, got, want)
		}
	}
}
