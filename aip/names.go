package aip

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on original paths; beyond them a case file is refused with the
// path named, since no archive system downstream could handle it either.
const (
	MaxPathDepth     = 64
	MaxPathBytes     = 4000
	MaxComponentSize = 255
)

// RepresentationDir is where original files live inside the bag.
const RepresentationDir = "data/representations/rep-001/data/"

// safeComponent reports whether a path component can be used unchanged:
// valid UTF-8 in NFC, no control characters, no '%' or '\' (which BagIt
// manifests and sha512sum would have to escape), not "." or "..".
func safeComponent(c string) bool {
	if c == "" || c == "." || c == ".." || !utf8.ValidString(c) || !norm.NFC.IsNormalString(c) {
		return false
	}
	for _, r := range c {
		if r < 0x20 || r == 0x7f || r == '%' || r == '\\' || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// mapComponent turns an unsafe component into a readable safe one with a
// short digest of the original bytes, so distinct originals stay distinct.
func mapComponent(c string) string {
	var b strings.Builder
	s := norm.NFC.String(strings.ToValidUTF8(c, "_"))
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '%' || r == '\\' || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			b.WriteByte('_')
		} else {
			b.WriteRune(r)
		}
	}
	s = b.String()
	if s == "." || s == ".." {
		s = "_"
	}
	sum := sha256.Sum256([]byte(c))
	tag := "~" + hex.EncodeToString(sum[:4])
	ext := path.Ext(s)
	if len(ext) > 16 || ext == s {
		ext = ""
	}
	stem := strings.TrimSuffix(s, ext)
	for len(stem)+len(tag)+len(ext) > MaxComponentSize {
		_, size := utf8.DecodeLastRuneInString(stem)
		stem = stem[:len(stem)-size]
	}
	return stem + tag + ext
}

// PathError names an input path that cannot be archived and why.
type PathError struct {
	Path   string // the original relative path, quoted when printed
	Reason string
}

func (e *PathError) Error() string { return fmt.Sprintf("%q: %s", e.Path, e.Reason) }

// MapPath returns the bag-safe relative path for an original relative path
// (with '/' separators) and whether it differs from the original. It refuses
// paths that are absolute, escape upwards, or exceed the limits.
func MapPath(orig string) (safe string, mapped bool, err error) {
	if orig == "" || strings.HasPrefix(orig, "/") {
		return "", false, &PathError{orig, "not a relative path"}
	}
	if len(orig) > MaxPathBytes {
		return "", false, &PathError{orig, fmt.Sprintf("path is %d bytes long, the limit is %d", len(orig), MaxPathBytes)}
	}
	parts := strings.Split(orig, "/")
	if len(parts) > MaxPathDepth {
		return "", false, &PathError{orig, fmt.Sprintf("nested %d folders deep, the limit is %d", len(parts), MaxPathDepth)}
	}
	out := make([]string, len(parts))
	for i, c := range parts {
		if c == "" || c == "." || c == ".." {
			return "", false, &PathError{orig, "path has an empty, '.' or '..' component"}
		}
		if len(c) > MaxComponentSize {
			return "", false, &PathError{orig, fmt.Sprintf("a name is %d bytes long, the limit is %d", len(c), MaxComponentSize)}
		}
		if safeComponent(c) {
			out[i] = c
		} else {
			out[i] = mapComponent(c)
			mapped = true
		}
	}
	return strings.Join(out, "/"), mapped, nil
}

// EscapePath percent-encodes every byte outside printable ASCII, plus '%'
// and '\', so any original name (even invalid UTF-8) fits on one line of a
// tag file and can be restored byte for byte by UnescapePath.
func EscapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= 0x20 || c >= 0x7f || c == '%' || c == '\\' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// UnescapePath reverses EscapePath.
func UnescapePath(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("bad escape at end of %q", s)
		}
		v, err := hex.DecodeString(s[i+1 : i+3])
		if err != nil {
			return "", fmt.Errorf("bad escape in %q: %w", s, err)
		}
		b.WriteByte(v[0])
		i += 2
	}
	return b.String(), nil
}
