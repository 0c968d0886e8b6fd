package ocfl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtures = "../../shared/data/ocfl-fixtures/1.1"

func fixtureDirs(t *testing.T, kind string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(fixtures, kind))
	if err != nil {
		t.Fatalf("fixtures: %v", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatalf("no fixtures in %s", kind)
	}
	return out
}

func TestGoodObjects(t *testing.T) {
	for _, name := range fixtureDirs(t, "good-objects") {
		t.Run(name, func(t *testing.T) {
			r := ValidateObject(os.DirFS(filepath.Join(fixtures, "good-objects", name)), ".")
			if !r.Valid() {
				t.Errorf("good object rejected: %v", r.Errors)
			}
		})
	}
}

func TestWarnObjects(t *testing.T) {
	for _, name := range fixtureDirs(t, "warn-objects") {
		t.Run(name, func(t *testing.T) {
			r := ValidateObject(os.DirFS(filepath.Join(fixtures, "warn-objects", name)), ".")
			if !r.Valid() {
				t.Errorf("warn object rejected: %v", r.Errors)
			}
			for _, code := range expectedCodes(name) {
				if !r.HasCode(code) {
					t.Errorf("expected warning %s, got %v", code, r.Warnings)
				}
			}
		})
	}
}

func TestBadObjects(t *testing.T) {
	for _, name := range fixtureDirs(t, "bad-objects") {
		t.Run(name, func(t *testing.T) {
			r := ValidateObject(os.DirFS(filepath.Join(fixtures, "bad-objects", name)), ".")
			if r.Valid() {
				t.Fatalf("bad object accepted")
			}
			found := false
			for _, code := range expectedCodes(name) {
				found = found || r.HasCode(code)
			}
			if !found {
				t.Errorf("want one of %v, got %v", expectedCodes(name), r.Errors)
			}
		})
	}
}

// expectedCodes reads the codes from a fixture name like E049_E050_x.
func expectedCodes(name string) []string {
	var out []string
	for _, part := range strings.Split(name, "_") {
		if len(part) == 4 && (part[0] == 'E' || part[0] == 'W') {
			out = append(out, part)
		}
	}
	return out
}

func TestObjectPath0003(t *testing.T) {
	// Examples from the text of extension 0003.
	cases := map[string]string{
		"object-01":        "3c0/ff4/240/object-01",
		"..hor/rib:le-$id": "487/326/d8c/%2e%2ehor%2frib%3ale-%24id",
	}
	for id, want := range cases {
		if got := ObjectPath(id); got != want {
			t.Errorf("ObjectPath(%q) = %s, want %s", id, got, want)
		}
	}
}

func TestIDFromPath(t *testing.T) {
	for _, id := range []string{"urn:uuid:01937a3b-6c2e-7cc0-8a1b-3f4e5d6c7b8a", "ark:123/abc", "percent%20 and spaces", "ä"} {
		if got, ok := IDFromPath(ObjectPath(id)); !ok || got != id {
			t.Errorf("IDFromPath(ObjectPath(%q)) = %q, %v", id, got, ok)
		}
	}
	for _, p := range []string{"abc/def/123/urn%3auuid%3ax", "a/b/c/%zz", "x%2"} {
		if _, ok := IDFromPath(p); ok {
			t.Errorf("IDFromPath(%q) accepted a path that is not the id's", p)
		}
	}
}
