package ocfl

import (
	"testing"
	"testing/fstest"
)

// FuzzValidateInventory runs the validator on arbitrary inventory bytes:
// it must report, never panic or hang.
func FuzzValidateInventory(f *testing.F) {
	f.Add([]byte(`{"id":"urn:x","type":"https://ocfl.io/1.1/spec/#inventory","digestAlgorithm":"sha512","head":"v1","manifest":{},"versions":{"v1":{"created":"2026-01-01T00:00:00Z","state":{}}}}`))
	f.Add([]byte(`{"head":7,"versions":[]}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, inv []byte) {
		fsys := fstest.MapFS{
			"0=ocfl_object_1.1":     {Data: []byte("ocfl_object_1.1\n")},
			"inventory.json":        {Data: inv},
			"inventory.json.sha512": {Data: []byte("x inventory.json\n")},
			"v1/inventory.json":     {Data: inv},
			"v1/content/a":          {Data: []byte("a")},
		}
		r := ValidateObject(fsys, ".")
		if r.Valid() && len(inv) < 10 {
			t.Fatalf("accepted %q", inv)
		}
	})
}
