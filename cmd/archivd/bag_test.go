package main

import (
	"crypto/sha512"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// writeBag writes a small BagIt bag with a sha512 manifest.
func writeBag(t *testing.T, dir string, payload map[string]string, info string) {
	t.Helper()
	var lines []string
	for p, content := range payload {
		full := filepath.Join(dir, "data", filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(content), 0o644)
		s := sha512.Sum512([]byte(content))
		lines = append(lines, hex.EncodeToString(s[:])+"  data/"+p)
	}
	sort.Strings(lines)
	os.WriteFile(filepath.Join(dir, "bagit.txt"), []byte("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bag-info.txt"), []byte(info), 0o644)
	os.WriteFile(filepath.Join(dir, "manifest-sha512.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

func TestIngestABag(t *testing.T) {
	cfg, dir := setup(t)
	bag := filepath.Join(dir, "bag")
	payload := map[string]string{"Antrag.txt": "Antrag\n", "Anlagen/Plan.txt": "Plan\n"}
	writeBag(t, bag, payload, "Source-Organization: Stadt Musterstadt\nExternal-Identifier: 63-01/2026-4\nTitle: Bauantrag Musterweg 2\n")
	r := archivd(t, "ingest", "--config", cfg, "--bag", bag)
	if r.code != 0 {
		t.Fatalf("ingest --bag: %d %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	d := dumpCatalog(t, dir)
	for _, want := range []string{"reference=63-01/2026-4", "agency=Stadt Musterstadt", "title=Bauantrag Musterweg 2", "original=Anlagen/Plan.txt", "delivered BagIt bag verified before ingest: 2 payload files"} {
		if !strings.Contains(d, want) {
			t.Errorf("catalog lacks %q", want)
		}
	}
	if r := archivd(t, "verify", "--config", cfg, id); r.code != 0 {
		t.Fatalf("verify: %s", r.stdout)
	}
	out := filepath.Join(dir, "out")
	if r := archivd(t, "export", "--config", cfg, id, out); r.code != 0 {
		t.Fatalf("export: %s", r.stderr)
	}
	for p, content := range payload {
		if b, err := os.ReadFile(filepath.Join(out, p)); err != nil || string(b) != content {
			t.Errorf("exported %s: %q %v", p, b, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(out, "bag-info.txt")); !strings.Contains(string(b), "External-Identifier") {
		t.Error("bag-info.txt not given back")
	}

	// A bag whose payload no longer matches its manifest is refused, named.
	bad := filepath.Join(dir, "bad-bag")
	writeBag(t, bad, payload, "")
	os.WriteFile(filepath.Join(bad, "data", "Antrag.txt"), []byte("geändert\n"), 0o644)
	r = archivd(t, "ingest", "--config", cfg, "--bag", bad)
	if r.code != exitDataErr || !strings.Contains(r.stderr, `"data/Antrag.txt": SHA512 differs from manifest-sha512.txt`) {
		t.Errorf("bad bag: %d %s", r.code, r.stderr)
	}
}
