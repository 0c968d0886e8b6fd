// Package aip owns the archival package format ("AIP format 2", see
// docs/aip-format.md): a BagIt 1.0 bag serialised as a pax tar and
// compressed as seekable zstd, with METS and PREMIS inside, the writer that
// produces it in one pass over the input, and the streaming verifier and
// reader that check and restore it.
package aip

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// ID is an AIP identifier, always in canonical form urn:uuid:<lower-case uuid>.
// The zero ID is invalid.
type ID struct{ u uuid.UUID }

// NewID returns a new id from a version 7 UUID, so ids sort by creation time.
func NewID() (ID, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return ID{}, fmt.Errorf("new aip id: %w", err)
	}
	return ID{u}, nil
}

// ParseID accepts an id in any spelling people use (urn:uuid: prefix or
// not, any case, with or without braces) and returns the canonical ID.
func ParseID(s string) (ID, error) {
	t := strings.TrimSpace(s)
	if len(t) >= 9 && strings.EqualFold(t[:9], "urn:uuid:") {
		t = t[9:]
	} else if len(t) >= 9 && strings.EqualFold(t[:9], "urn+uuid+") {
		t = t[9:]
	}
	t = strings.TrimSuffix(strings.TrimPrefix(t, "{"), "}")
	if len(t) != 36 {
		return ID{}, fmt.Errorf("aip id %q: want urn:uuid: followed by a 36-character UUID", s)
	}
	u, err := uuid.Parse(t)
	if err != nil {
		return ID{}, fmt.Errorf("aip id %q: %w", s, err)
	}
	if u == uuid.Nil {
		return ID{}, fmt.Errorf("aip id %q: the nil UUID is not an id", s)
	}
	return ID{u}, nil
}

// MustParseID is ParseID for constants in tests and examples.
func MustParseID(s string) ID {
	id, err := ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

// String is the canonical form urn:uuid:<uuid>; it is the OCFL object id.
func (id ID) String() string { return "urn:uuid:" + id.u.String() }

// IsZero reports whether id was never set.
func (id ID) IsZero() bool { return id.u == uuid.Nil }

// Name is the file-system form urn+uuid+<uuid> (E-ARK AIP), used for the
// package file name.
func (id ID) Name() string { return "urn+uuid+" + id.u.String() }

// PackageRoot is the tar root folder of version n: urn+uuid+<uuid>_vN.
func (id ID) PackageRoot(version int) string { return id.Name() + "_v" + strconv.Itoa(version) }

// PackageFile is the name of version n's package: urn+uuid+<uuid>_vN.tar.zst.
func (id ID) PackageFile(version int) string { return id.PackageRoot(version) + ".tar.zst" }

// UUID returns the bare UUID.
func (id ID) UUID() uuid.UUID { return id.u }
