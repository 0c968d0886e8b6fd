package formats

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf16"
)

// pdfaNS is the XMP namespace of the PDF/A identification schema.
const pdfaNS = "http://www.aiim.org/pdfa/ns/id/"

var (
	reAttrPart  = regexp.MustCompile(`([A-Za-z][\w.-]*):part\s*=\s*["']\s*(\d+)\s*["']`)
	reElemPart  = regexp.MustCompile(`<([A-Za-z][\w.-]*):part>\s*(\d+)\s*</`)
	reAttrConf  = regexp.MustCompile(`([A-Za-z][\w.-]*):conformance\s*=\s*["']\s*([A-Za-z])\s*["']`)
	reElemConf  = regexp.MustCompile(`<([A-Za-z][\w.-]*):conformance>\s*([A-Za-z])\s*</`)
	reNSBinding = regexp.MustCompile(`xmlns:([A-Za-z][\w.-]*)\s*=\s*["']http://www\.aiim\.org/pdfa/ns/id/?["']`)
)

// encodings of the namespace to look for: PRONOM's signatures only see
// UTF-8, but XMP may be UTF-16 or UTF-32 (ISO 16684-1).
var nsNeedles = func() [][]byte {
	u16 := utf16.Encode([]rune(pdfaNS))
	be, le := make([]byte, 0, 2*len(u16)), make([]byte, 0, 2*len(u16))
	b32, l32 := []byte{}, []byte{}
	for _, c := range u16 {
		be = append(be, byte(c>>8), byte(c))
		le = append(le, byte(c), byte(c>>8))
		b32 = append(b32, 0, 0, byte(c>>8), byte(c))
		l32 = append(l32, byte(c), byte(c>>8), 0, 0)
	}
	return [][]byte{[]byte(pdfaNS), be, le, b32, l32}
}()

// PDFAClaim looks for the PDF/A identification in the XMP metadata of a
// PDF (any encoding) and returns e.g. "PDF/A-2b" or "" when there is none.
// It is a claim the file makes about itself, never proof of conformance.
func PDFAClaim(data []byte) string {
	for enc, needle := range nsNeedles {
		off := 0
		for {
			i := bytes.Index(data[off:], needle)
			if i < 0 {
				break
			}
			at := off + i
			lo := max(0, at-8192)
			hi := min(len(data), at+16384)
			text := decodeWindow(data[lo:hi], enc, (at-lo)%unitSize(enc))
			if c := claimIn(text); c != "" {
				return c
			}
			off = at + len(needle)
		}
	}
	return ""
}

func unitSize(enc int) int {
	switch enc {
	case 1, 2:
		return 2
	case 3, 4:
		return 4
	}
	return 1
}

// decodeWindow turns a window of XMP bytes into a Go string.
func decodeWindow(b []byte, enc, align int) string {
	b = b[align:]
	switch enc {
	case 0:
		return string(b)
	case 1, 2:
		u := make([]uint16, len(b)/2)
		for i := range u {
			if enc == 1 {
				u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			} else {
				u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
			}
		}
		return string(utf16.Decode(u))
	default:
		var r []rune
		for i := 0; i+4 <= len(b); i += 4 {
			if enc == 3 {
				r = append(r, rune(b[i])<<24|rune(b[i+1])<<16|rune(b[i+2])<<8|rune(b[i+3]))
			} else {
				r = append(r, rune(b[i+3])<<24|rune(b[i+2])<<16|rune(b[i+1])<<8|rune(b[i]))
			}
		}
		return string(r)
	}
}

func claimIn(text string) string {
	prefixes := map[string]bool{"pdfaid": true}
	for _, m := range reNSBinding.FindAllStringSubmatch(text, -1) {
		prefixes[m[1]] = true
	}
	find := func(res ...*regexp.Regexp) string {
		for _, re := range res {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				if prefixes[m[1]] {
					return m[2]
				}
			}
		}
		return ""
	}
	part := find(reAttrPart, reElemPart)
	if part == "" {
		return ""
	}
	conf := strings.ToLower(find(reAttrConf, reElemConf))
	return "PDF/A-" + part + conf
}
