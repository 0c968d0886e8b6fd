// Package ocfl implements the parts of OCFL 1.1 archivd needs: the inventory
// format, the 0003 storage layout and a validator for objects and storage
// roots that reports the specification's error and warning codes.
package ocfl

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Names fixed by the specification.
const (
	ObjectDeclaration = "0=ocfl_object_1.1"
	RootDeclaration   = "0=ocfl_1.1"
	InventoryType     = "https://ocfl.io/1.1/spec/#inventory"
	InventoryFile     = "inventory.json"
	SidecarFile       = "inventory.json.sha512"
	LayoutExtension   = "0003-hash-and-id-n-tuple-storage-layout"
)

// Inventory is an OCFL inventory as archivd writes it: SHA-512 content
// addressing, content directory "content".
type Inventory struct {
	ID              string                         `json:"id"`
	Type            string                         `json:"type"`
	DigestAlgorithm string                         `json:"digestAlgorithm"`
	Head            string                         `json:"head"`
	ContentDir      string                         `json:"contentDirectory,omitempty"`
	Manifest        map[string][]string            `json:"manifest"`
	Versions        map[string]*Version            `json:"versions"`
	Fixity          map[string]map[string][]string `json:"fixity,omitempty"`
}

// Version is one entry of an inventory's versions block.
type Version struct {
	Created string              `json:"created"`
	State   map[string][]string `json:"state"`
	Message string              `json:"message,omitempty"`
	User    *User               `json:"user,omitempty"`
}

// User names who made a version.
type User struct {
	Name    string `json:"name"`
	Address string `json:"address,omitempty"`
}

// VersionName is the OCFL directory name of version n (unpadded).
func VersionName(n int) string { return "v" + strconv.Itoa(n) }

// ParseVersionName returns the number of an unpadded or padded version name.
func ParseVersionName(s string) (n int, padded bool, ok bool) {
	if len(s) < 2 || s[0] != 'v' {
		return 0, false, false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return 0, false, false
		}
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || n < 1 {
		return 0, false, false
	}
	return n, s[1] == '0', true
}

// HeadNumber is the number of the head version.
func (inv *Inventory) HeadNumber() int {
	n, _, _ := ParseVersionName(inv.Head)
	return n
}

// Marshal serialises the inventory deterministically (sorted keys, two-space
// indent, trailing newline), so the same inventory always has the same digest.
func (inv *Inventory) Marshal() ([]byte, error) {
	for _, m := range []map[string][]string{inv.Manifest} {
		for _, paths := range m {
			sort.Strings(paths)
		}
	}
	for _, v := range inv.Versions {
		for _, paths := range v.State {
			sort.Strings(paths)
		}
	}
	b, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseInventory reads an inventory strictly: unknown keys are errors.
func ParseInventory(b []byte) (*Inventory, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var inv Inventory
	if err := dec.Decode(&inv); err != nil {
		return nil, fmt.Errorf("parse inventory: %w", err)
	}
	return &inv, nil
}

// Sidecar returns the content of inventory.json.sha512 for inventory bytes b.
func Sidecar(sha512hex string) []byte {
	return []byte(sha512hex + "  " + InventoryFile + "\n")
}

// ContentPaths returns, for a logical path in version v, the content path
// holding its bytes, or "" when the state or manifest does not name it.
func (inv *Inventory) ContentPaths(v, logical string) []string {
	ver := inv.Versions[v]
	if ver == nil {
		return nil
	}
	for d, paths := range ver.State {
		for _, p := range paths {
			if p == logical {
				return inv.Manifest[d]
			}
		}
	}
	return nil
}

// ObjectPath maps an object id to its path below the storage root following
// extension 0003-hash-and-id-n-tuple-storage-layout with its defaults
// (sha256, three tuples of three characters).
func ObjectPath(id string) string {
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:])
	enc := encodeID(id)
	if len(enc) > 100 {
		enc = enc[:100] + "-" + h
	}
	return h[0:3] + "/" + h[3:6] + "/" + h[6:9] + "/" + enc
}

// IDFromPath recovers the object id from an object's path below the storage
// root (the inverse of ObjectPath), without reading its inventory, so a
// listing still names an object whose inventory is damaged. It fails for
// ids so long that their encoding was cut short.
func IDFromPath(p string) (string, bool) {
	enc := p[strings.LastIndexByte(p, '/')+1:]
	var b strings.Builder
	for i := 0; i < len(enc); i++ {
		if enc[i] != '%' {
			b.WriteByte(enc[i])
			continue
		}
		if i+2 >= len(enc) {
			return "", false
		}
		v, err := strconv.ParseUint(enc[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	id := b.String()
	return id, ObjectPath(id) == p
}

// encodeID percent-encodes every byte outside [A-Za-z0-9_-] with lower-case
// hex, as extension 0003 requires.
func encodeID(id string) string {
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02x", c)
	}
	return b.String()
}

// LayoutJSON is the content of ocfl_layout.json for archivd's storage roots.
const LayoutJSON = `{
  "extension": "0003-hash-and-id-n-tuple-storage-layout",
  "description": "OCFL object identifiers are hashed with SHA-256; the first nine hex digits form three directory levels, and the percent-encoded identifier names the object directory."
}
`

// LayoutConfigJSON is extensions/0003-hash-and-id-n-tuple-storage-layout/config.json.
const LayoutConfigJSON = `{
  "extensionName": "0003-hash-and-id-n-tuple-storage-layout",
  "digestAlgorithm": "sha256",
  "tupleSize": 3,
  "numberOfTuples": 3
}
`
