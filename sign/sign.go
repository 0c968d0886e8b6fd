// Package sign is the archive's one signing facility: an Ed25519 key that
// signs the documents auditors receive (fixity reports, deletion
// certificates). Keys are PEM files in the formats OpenSSL reads (PKCS#8
// private, PKIX public), so a signature is checked with openssl alone:
//
//	openssl pkeyutl -verify -pubin -inkey archivd-signing.pub.pem -rawin \
//	    -in REPORT.json -sigfile REPORT.json.sig
//
// A signature is the raw 64 bytes over a file's exact bytes, stored beside
// it as FILE.sig.
package sign

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/archivd/archivd/atomicfile"
)

// Suffix names a signature file beside the file it signs.
const Suffix = ".sig"

// Key is the archive's private signing key.
type Key struct {
	priv ed25519.PrivateKey
	Path string // where it was read from
}

// Public is a public key an auditor checks signatures with.
type Public struct {
	key ed25519.PublicKey
}

// Generate writes a new private key to path (mode 0600, refusing to
// overwrite one) and its public key to path's .pub.pem twin.
func Generate(path string) (*Key, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%s already exists: a signing key is never overwritten (reports signed with it could no longer be matched to it); move it away first", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	k := &Key{priv: priv, Path: path}
	if err := atomicfile.WriteFile(PublicPath(path), Public{pub}.PEM(), 0o644); err != nil {
		return nil, err
	}
	return k, nil
}

// PublicPath is where the public twin of the private key file path lives.
func PublicPath(path string) string {
	return strings.TrimSuffix(path, ".pem") + ".pub.pem"
}

// Load reads a private key written by Generate (or by
// `openssl genpkey -algorithm ed25519`). A key readable by others than its
// owner is refused: whoever can read it can sign in the archive's name.
func Load(path string) (*Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("signing key %s does not exist: create it with archivd keygen: %w", path, err)
		}
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s is readable by others (mode %04o): chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: not a PEM \"PRIVATE KEY\" (PKCS#8)", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: a %T, not an Ed25519 key", path, k)
	}
	return &Key{priv: priv, Path: path}, nil
}

// Public returns the key's public half.
func (k *Key) Public() Public { return Public{k.priv.Public().(ed25519.PublicKey)} }

// Sign signs b.
func (k *Key) Sign(b []byte) []byte { return ed25519.Sign(k.priv, b) }

// SignFile writes path+Suffix: the signature over path's bytes.
func (k *Key) SignFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path+Suffix, k.Sign(b), 0o644)
}

// PEM is the public key as OpenSSL writes it (-----BEGIN PUBLIC KEY-----).
func (p Public) PEM() []byte {
	der, _ := x509.MarshalPKIXPublicKey(p.key)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Fingerprint is "SHA256:" and the unpadded base64 of the SHA-256 of the
// key's DER form (as ssh-keygen prints fingerprints): what an auditor
// compares with the fingerprint the archive published.
func (p Public) Fingerprint() string {
	der, _ := x509.MarshalPKIXPublicKey(p.key)
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// Equal reports whether two public keys are the same.
func (p Public) Equal(q Public) bool { return p.key.Equal(q.key) }

// Verify reports whether sig is p's signature over b.
func (p Public) Verify(b, sig []byte) bool {
	return len(sig) == ed25519.SignatureSize && ed25519.Verify(p.key, b, sig)
}

// ParsePublic reads a PEM public key (PKIX, as written by PEM).
func ParsePublic(b []byte) (Public, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return Public{}, errors.New("not a PEM \"PUBLIC KEY\"")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return Public{}, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return Public{}, fmt.Errorf("a %T, not an Ed25519 key", k)
	}
	return Public{pub}, nil
}

// LoadPublic reads a PEM public key file.
func LoadPublic(path string) (Public, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Public{}, err
	}
	p, err := ParsePublic(b)
	if err != nil {
		return Public{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
