package aip

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzMapPath(f *testing.F) {
	for _, s := range []string{"a/b.txt", "Pru\u0308fung.txt", "100%", "a\\b", "x\ny", "\xe4.txt", "../x", "a//b", ".", strings.Repeat("d/", 70) + "f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, orig string) {
		safe, mapped, err := MapPath(orig)
		if err != nil {
			return
		}
		if !utf8.ValidString(safe) || strings.ContainsAny(safe, "%\\\r\n\x00") {
			t.Fatalf("MapPath(%q) = %q: unsafe", orig, safe)
		}
		for _, c := range strings.Split(safe, "/") {
			if c == "" || c == "." || c == ".." || len(c) > MaxComponentSize {
				t.Fatalf("MapPath(%q) = %q: bad component %q", orig, safe, c)
			}
		}
		if !mapped && safe != orig {
			t.Fatalf("MapPath(%q) changed the path without saying so", orig)
		}
		again, mappedAgain, err := MapPath(safe)
		if err != nil || again != safe || mappedAgain {
			t.Fatalf("safe path %q is not stable: %q %v %v", safe, again, mappedAgain, err)
		}
	})
}

func FuzzEscapePath(f *testing.F) {
	for _, s := range []string{"a b", "%41", "\xff\x00\n", "ä/ö"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := EscapePath(s)
		if strings.ContainsAny(e, " \t\n\r") {
			t.Fatalf("escaped %q contains whitespace: %q", s, e)
		}
		back, err := UnescapePath(e)
		if err != nil || back != s {
			t.Fatalf("round trip of %q: %q %v", s, back, err)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(strings.Repeat("a", 64) + "  data/x\n"))
	f.Add([]byte(strings.Repeat("A", 64) + "\t*data/x%0Ay\r\n\n"))
	f.Add([]byte("zz  x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseManifest(data, 64)
		if err != nil {
			return
		}
		for _, e := range entries {
			if len(e.Hex) != 64 || e.Path == "" || strings.ToLower(e.Hex) != e.Hex {
				t.Fatalf("accepted bad entry %+v", e)
			}
		}
	})
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(IndexHeader + "#package\t1\t" + strings.Repeat("0", 128) + "\t" + strings.Repeat("0", 64) + "\t1\t0.0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseIndex(data)
		if err == nil && res == nil {
			t.Fatal("nil result without error")
		}
	})
}
