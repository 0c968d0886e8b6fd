package sign

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeysOpenSSLReads(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "keys", "archivd-signing.pem")
	k, err := Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", st.Mode().Perm())
	}
	if _, err := Generate(p); err == nil {
		t.Error("an existing key was overwritten")
	}
	doc := filepath.Join(dir, "doc.json")
	os.WriteFile(doc, []byte(`{"a": 1}`+"\n"), 0o644)
	if err := k.SignFile(doc); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", PublicPath(p), "-rawin", "-in", doc, "-sigfile", doc+Suffix).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Signature Verified Successfully") {
		t.Fatalf("openssl does not verify archivd's signature: %v %s", err, out)
	}
	// A key made by openssl is read, and signs what openssl verifies.
	ossl := filepath.Join(dir, "ossl.pem")
	if out, err := exec.Command("openssl", "genpkey", "-algorithm", "ed25519", "-out", ossl).CombinedOutput(); err != nil {
		t.Fatalf("openssl genpkey: %v %s", err, out)
	}
	os.Chmod(ossl, 0o600)
	k2, err := Load(ossl)
	if err != nil {
		t.Fatal(err)
	}
	pub2, _ := exec.Command("openssl", "pkey", "-in", ossl, "-pubout").Output()
	if p2, err := ParsePublic(pub2); err != nil || !p2.Equal(k2.Public()) {
		t.Errorf("openssl's public key differs from archivd's reading of the private key: %v", err)
	}
	if k2.Public().Verify([]byte("x"), k.Sign([]byte("x"))) {
		t.Error("a signature by another key verifies")
	}
	// A key others can read is refused.
	os.Chmod(p, 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable key: %v", err)
	}
}
