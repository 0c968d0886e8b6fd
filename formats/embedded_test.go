package formats

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func forget() {
	loadedMu.Lock()
	loaded = map[string]*Identifier{}
	loadedMu.Unlock()
}

// TestShippedPRONOM: the PRONOM files shipped in the binary are the
// published ones byte for byte; signature files on disk get a compiled
// cache that identifies every corpus file exactly as the XML does; a
// damaged cache is rebuilt.
func TestShippedPRONOM(t *testing.T) {
	forget()
	shipped, err := Load(SignatureFiles{})
	if err != nil {
		t.Fatal(err)
	}
	const dir = "../../shared/data/pronom/"
	b, err := os.ReadFile(dir + "DROID_SignatureFile_V122.xml")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if shipped.SHA256 != hex.EncodeToString(sum[:]) || shipped.Version != "122" || shipped.ContVer != "40" || shipped.fallback == nil {
		t.Fatalf("shipped signatures: %s", shipped.Describe())
	}
	// The same files installed on disk: compiled once, then read from the cache.
	files := SignatureFiles{Signature: dir + "DROID_SignatureFile_V122.xml", Container: dir + "container-signature-20260119.xml", Cache: t.TempDir()}
	cache := files.Cache
	fresh, err := CheckFiles(files.Signature, files.Container) // compiled from the XML, no cache
	if err != nil {
		t.Fatal(err)
	}
	forget()
	if _, err := Load(files); err != nil {
		t.Fatal(err)
	}
	bins, _ := filepath.Glob(filepath.Join(cache, "signatures-*.bin"))
	if len(bins) != 1 {
		t.Fatalf("compiled cache: %v", bins)
	}
	cached, err := readCache(bins[0])
	if err != nil {
		t.Fatal(err)
	}
	cached.fallback = builtinFallback
	// Every signature read back lazily is the one compiled from the XML.
	for _, f := range fresh.sigs.list {
		c := cached.sigs.sigs[f.id]
		if c == nil || c.lazy == nil || c.lazy.done.Load() {
			t.Fatalf("signature %d: not read lazily from the cache", f.id)
		}
		seqs, ok := c.sequences()
		if !ok || !reflect.DeepEqual(seqs, f.seqs) || !reflect.DeepEqual(c.quick, f.quick) || c.bounded != f.bounded {
			t.Fatalf("signature %d differs after the cache", f.id)
		}
	}
	cached, _ = readCache(bins[0]) // again, for the identification below to decode on demand
	cached.fallback = builtinFallback
	for _, p := range corpus(t) {
		a, err1 := fresh.IdentifyFile(p)
		c, err2 := cached.IdentifyFile(p)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(a, c) {
			t.Fatalf("%s: compiled from XML %+v (%v), from the cache %+v (%v)", p, a, err1, c, err2)
		}
	}
	// A damaged cache is not trusted: the XML is compiled again.
	os.WriteFile(bins[0], append(bytes.Clone(cacheMagic), make([]byte, 100)...), 0o640)
	if _, err := readCache(bins[0]); err == nil {
		t.Fatal("a damaged cache was read")
	}
	forget()
	again, err := Load(files)
	if err != nil || again.SHA256 != fresh.SHA256 {
		t.Fatalf("load over a damaged cache: %v", err)
	}
	if _, err := readCache(bins[0]); err != nil {
		t.Errorf("the damaged cache was not rewritten: %v", err)
	}
}

// TestBuiltinStandsInForPRONOM: what no PRONOM signature matches, the
// built-in set may identify, and the result says so.
func TestBuiltinStandsInForPRONOM(t *testing.T) {
	id, err := Load(SignatureFiles{})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "Lageplan.svg")
	os.WriteFile(p, []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>`), 0o644)
	r, err := id.IdentifyFile(p)
	if err != nil || r.PUID == Unknown || r.IdentifiedBy == "" {
		t.Errorf("an SVG without XML declaration: %+v %v", r, err)
	}
	if _, err := CheckFiles(filepath.Join(t.TempDir(), "missing.xml"), ""); err == nil {
		t.Error("a missing signature file was accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(bad, []byte("<FFSignatureFile><nope/>"), 0o644)
	if _, err := CheckFiles(bad, ""); err == nil {
		t.Error("a broken signature file was accepted")
	}
}

var update = flag.Bool("update", false, "rewrite formats/pronom/compiled.bin from the shipped XML")

// TestShippedCompiledUpToDate: the compiled form shipped in the binary is
// exactly what compiling the shipped XML gives (so a new signature file
// cannot ship with a stale compiled form); -update rewrites it.
func TestShippedCompiledUpToDate(t *testing.T) {
	sig, cont, err := SignatureFiles{}.read()
	if err != nil {
		t.Fatal(err)
	}
	id, err := sig.compile(cont)
	if err != nil {
		t.Fatal(err)
	}
	want := encodeCompiled(id)
	if *update {
		if err := os.WriteFile("pronom/compiled.bin", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(shippedCompiled, want) {
		t.Fatal("formats/pronom/compiled.bin does not match the shipped XML: go test ./formats -run TestShippedCompiledUpToDate -update")
	}
	forget()
	got, err := Load(SignatureFiles{})
	if err != nil || got.sigs.list[0].lazy == nil {
		t.Fatalf("the shipped identifier is not read from the compiled form: %v", err)
	}
}
