package formats

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf16"
)

// pdfaNS is the XMP namespace of the PDF/A identification schema.
const pdfaNS = "http://www.aiim.org/pdfa/ns/id/"

var reNSBinding = regexp.MustCompile(`xmlns:([A-Za-z][\w.-]*)\s*=\s*["']http://www\.aiim\.org/pdfa/ns/id/?["']`)

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
	part := property(text, "part", prefixes, isDigit)
	if part == "" {
		return ""
	}
	conf := strings.ToLower(property(text, "conformance", prefixes, isLetter))
	return "PDF/A-" + part + conf
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// property finds <prefix>:<name>="v", ='v' or >v< for a bound prefix and
// returns v (the run of characters accepted by ok).
func property(text, name string, prefixes map[string]bool, ok func(byte) bool) string {
	key := ":" + name
	for off := 0; ; {
		i := strings.Index(text[off:], key)
		if i < 0 {
			return ""
		}
		at := off + i
		off = at + len(key)
		j := at
		for j > 0 && (isLetter(text[j-1]) || isDigit(text[j-1]) || text[j-1] == '_' || text[j-1] == '-' || text[j-1] == '.') {
			j--
		}
		if !prefixes[text[j:at]] {
			continue
		}
		k := off
		for k < len(text) && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r' || text[k] == '\n') {
			k++
		}
		if k < len(text) && text[k] == '=' {
			k++
			for k < len(text) && (text[k] == ' ' || text[k] == '\t') {
				k++
			}
			if k < len(text) && (text[k] == '"' || text[k] == '\'') {
				k++
			} else {
				continue
			}
		} else if k < len(text) && text[k] == '>' {
			k++
		} else {
			continue
		}
		for k < len(text) && (text[k] == ' ' || text[k] == '\n' || text[k] == '\r' || text[k] == '\t') {
			k++
		}
		e := k
		for e < len(text) && ok(text[e]) {
			e++
		}
		if e > k {
			return text[k:e]
		}
	}
}
