package audit

import (
	"strings"
	"unicode/utf8"
)

// clean makes a string safe for the canonical form. Valid UTF-8 is kept as
// it is. A string that is not valid UTF-8 (a Latin-1 file name, bytes of a
// binary sidecar quoted in a refusal) keeps every byte: each byte outside a
// valid UTF-8 sequence is written as \xNN and each backslash as \\, so the
// original bytes can be read back and the entry re-encodes to the very same
// line. (Encoding such bytes directly would turn them into U+FFFD, losing
// them and breaking the entry's hash.)
func clean(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&0xf])
		case r == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// cleanEntry applies clean to every text field.
func cleanEntry(e *Entry) {
	for _, f := range []*string{&e.Time, &e.EventID, &e.Type, &e.AIP, &e.Location, &e.Outcome, &e.Detail, &e.Agent} {
		*f = clean(*f)
	}
}
