// Package storage defines where AIPs live: the Store interface every
// location implements (local folder, S3), the rules for building OCFL
// versions on it, and the errors callers branch on. Each location is an
// OCFL 1.1 storage root using layout extension 0003.
package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/ocfl"
)

var (
	// ErrNotFound: the object, file or extension file does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the object's head is not the version the commit builds on.
	ErrConflict = errors.New("object head moved: concurrent or repeated commit")
	// ErrDigest: bytes written or read do not have the expected digest.
	ErrDigest = errors.New("digest mismatch")
	// ErrUnavailable: the location cannot be reached or used right now;
	// the operation may succeed later.
	ErrUnavailable = errors.New("storage unavailable")
)

// File is a content file of a new version.
type File struct {
	Path    string      // content path relative to vN/content/
	Source  string      // local file to copy from, or ""
	Data    []byte      // the bytes, when Source is ""
	Size    int64       // expected size
	Digests digest.Pair // expected digests; the store verifies them while writing
}

// Commit is one new OCFL version of one object.
type Commit struct {
	Inventory *ocfl.Inventory // the object's inventory after this version (head = the new version)
	Files     []File          // the new version's content files
}

// Store is one storage location. Implementations must be safe for use by
// one writer at a time per object (the data directory lock guarantees it).
type Store interface {
	// Name identifies the location in messages and the catalog.
	Name() string

	// Commit writes a new version: content first, then the version
	// inventory, then the root inventory as the commit point. The content
	// is verified against File.Digests while written (ErrDigest). When
	// Commit returns nil the version is durable; on any error no reader
	// sees the new version, and a later Commit of the same version may be
	// retried. Committing a version that is already committed with the
	// identical inventory returns nil (idempotent retry); a head other than
	// the previous version returns ErrConflict.
	Commit(ctx context.Context, c *Commit) error

	// Inventory returns the root inventory of object id after checking it
	// against its sidecar (ErrDigest). ErrNotFound if there is no such object.
	Inventory(ctx context.Context, id string) ([]byte, error)

	// Open streams a file of object id; p is relative to the object root
	// (e.g. "v1/content/x.tar.zst"). ErrNotFound if it does not exist. The
	// caller hashes what it reads: the store does not vouch for the bytes.
	Open(ctx context.Context, id, p string) (io.ReadCloser, error)

	// Stat describes a file of object id (ErrNotFound): its size, the
	// storage version id where the location keeps versions, and the SHA-512
	// archivd recorded with it where the location keeps metadata.
	Stat(ctx context.Context, id, p string) (Info, error)

	// Objects lists the ids of all objects in the storage root.
	Objects(ctx context.Context) ([]string, error)

	// Restore writes one file of an existing object anew, the repair of a
	// damaged or missing copy: f.Path is relative to the object root (e.g.
	// "v1/content/x.tar.zst", "inventory.json"), and the bytes are verified
	// against f.Digests while written (ErrDigest). Where the location keeps
	// versions the damaged one stays, and Restore returns its storage
	// version id ("" where there is none); a locked location puts the new
	// version under its retention (and legal hold, if the old one had it).
	Restore(ctx context.Context, id string, f File) (replaced string, err error)

	// Versions lists every stored version of every file of object id:
	// on a versioned bucket also the older versions and delete markers
	// (what a disposal must remove so that nothing of the AIP remains).
	Versions(ctx context.Context, id string) ([]StoredVersion, error)
	// Locked says why a stored version cannot be deleted now (retention
	// until a future date, a legal hold), or "" if it can.
	Locked(ctx context.Context, id string, v StoredVersion) string
	// DeleteVersion removes one stored version for good: ErrLocked when
	// Object Lock refuses. Removing what is already gone is no error.
	DeleteVersion(ctx context.Context, id string, v StoredVersion) error

	// PutExtension stores a write-once file under the storage root's
	// extensions/<ExtensionDir>/ folder. Storing identical bytes again is a
	// no-op; different bytes under an existing name is an error.
	PutExtension(ctx context.Context, name string, data []byte) error

	// GetExtension reads a file stored by PutExtension (ErrNotFound).
	GetExtension(ctx context.Context, name string) ([]byte, error)

	// ListExtension lists names stored by PutExtension below prefix, sorted.
	ListExtension(ctx context.Context, prefix string) ([]string, error)
}

// StoredVersion is one stored version of one file of an object.
type StoredVersion struct {
	Path         string // relative to the object root
	VersionID    string // "" where the location keeps no versions
	Size         int64
	DeleteMarker bool
}

// Info describes one stored file.
type Info struct {
	Size      int64
	VersionID string // "" where the location does not version
	SHA512    string // archivd's digest stored with the file, "" if none
}

// Locker is implemented by locations with S3 Object Lock.
type Locker interface {
	// ObjectLock reports whether the location is configured with Object
	// Lock (object_lock); without it Retain and LegalHold refuse.
	ObjectLock() bool
	// Retain protects every file of version v of object id, as stored, until
	// the given time (retention can only be extended, never shortened).
	Retain(ctx context.Context, id string, v int, until time.Time) error
	// RetainMode is Retain in the given Object Lock mode ("governance",
	// "compliance"; "" the location's own).
	RetainMode(ctx context.Context, id string, v int, until time.Time, mode string) error
	// RetainFor protects version v for the retention the location is
	// configured with, counted from now; nothing if it has none. Ingest
	// and replication call it once a copy is verified.
	RetainFor(ctx context.Context, id string, v int, now time.Time) error
	// LegalHold sets or clears the legal hold on every file of every
	// version of object id.
	LegalHold(ctx context.Context, id string, on bool) error
}

// Retain puts version v of an AIP under Object Lock at one location: until
// due, the end of the AIP's retention period, when it lies ahead, in its
// class's mode ("" the location's); else (no
// class, a permanent class, a period already over) for the location's
// floor, object_lock.days from now.
func Retain(ctx context.Context, l Locker, id string, v int, due time.Time, mode string, now time.Time) error {
	if !l.ObjectLock() {
		return nil
	}
	if !due.IsZero() && due.After(now) {
		return l.RetainMode(ctx, id, v, due, mode)
	}
	return l.RetainFor(ctx, id, v, now)
}

// ErrLocked: the location refused a change because of Object Lock
// retention or a legal hold.
var ErrLocked = errors.New("refused by object lock")

// ErrUnreadable: a stored file exists on a reachable location but cannot be
// read (an I/O error, a file that became a folder). Like ErrNotFound and
// ErrDigest it is damage of that copy, not an unavailable location.
var ErrUnreadable = errors.New("stored file unreadable")

// IsDamage reports whether err says a stored file is missing, unreadable or
// different on a location that could be reached: damage, never a reason to
// wait and retry.
func IsDamage(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrDigest) || errors.Is(err, ErrUnreadable)
}

// ErrAccess: the location refused the credentials or the permission.
var ErrAccess = errors.New("access denied")

// ExtensionDir is the storage root extension folder for archivd's own files
// (sealed audit log segments).
const ExtensionDir = "archivd-audit-log"

// NextVersion builds the inventory of the next version of an object from
// the previous inventory (nil for a new object) and the new version's files.
// Files carry forward from the previous state; new files are added at
// logical paths equal to their content paths.
func NextVersion(prev *ocfl.Inventory, id string, files []File, created time.Time, message string, user ocfl.User) (*ocfl.Inventory, error) {
	inv := &ocfl.Inventory{ID: id, Type: ocfl.InventoryType, DigestAlgorithm: "sha512",
		Manifest: map[string][]string{}, Versions: map[string]*ocfl.Version{},
		Fixity: map[string]map[string][]string{"sha256": {}}}
	n := 1
	state := map[string][]string{}
	if prev != nil {
		if prev.ID != id {
			return nil, fmt.Errorf("next version of %s: previous inventory is of %s", id, prev.ID)
		}
		n = prev.HeadNumber() + 1
		for d, ps := range prev.Manifest {
			inv.Manifest[d] = append([]string(nil), ps...)
		}
		for k, v := range prev.Versions {
			inv.Versions[k] = v
		}
		for alg, m := range prev.Fixity {
			inv.Fixity[alg] = map[string][]string{}
			for d, ps := range m {
				inv.Fixity[alg][d] = append([]string(nil), ps...)
			}
		}
		for d, ps := range prev.Versions[prev.Head].State {
			state[d] = append([]string(nil), ps...)
		}
	}
	vn := ocfl.VersionName(n)
	seen := map[string]bool{}
	for _, f := range files {
		if err := CheckPath(f.Path); err != nil {
			return nil, err
		}
		if seen[f.Path] {
			return nil, fmt.Errorf("next version of %s: %s given twice", id, f.Path)
		}
		seen[f.Path] = true
		// A new file at an existing logical path replaces the old one.
		for od, lps := range state {
			for i, lp := range lps {
				if lp == f.Path {
					state[od] = append(lps[:i:i], lps[i+1:]...)
					if len(state[od]) == 0 {
						delete(state, od)
					}
					break
				}
			}
		}
		d := f.Digests.SHA512.String()
		cp := vn + "/content/" + f.Path
		inv.Manifest[d] = append(inv.Manifest[d], cp)
		inv.Fixity["sha256"][f.Digests.SHA256.String()] = append(inv.Fixity["sha256"][f.Digests.SHA256.String()], cp)
		state[d] = append(state[d], f.Path)
	}
	for _, ps := range state {
		sort.Strings(ps)
	}
	inv.Head = vn
	inv.Versions[vn] = &ocfl.Version{Created: created.UTC().Format(time.RFC3339), State: state, Message: message, User: &user}
	return inv, nil
}

// CheckPath refuses content paths that could escape their folder.
func CheckPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." || strings.ContainsAny(p, "\\\x00") {
		return fmt.Errorf("invalid storage path %q", p)
	}
	return nil
}

// SpoolFiles lists the content files of version v of inv as they lie in a
// spool folder (dir/<content path below vN/content/>), with the digests the
// inventory records, ready for Commit.
func SpoolFiles(inv *ocfl.Inventory, v int, dir string) ([]File, error) {
	prefix := ocfl.VersionName(v) + "/content/"
	sha256Of := map[string]string{}
	for d, paths := range inv.Fixity["sha256"] {
		for _, p := range paths {
			sha256Of[p] = d
		}
	}
	var out []File
	for d, paths := range inv.Manifest {
		for _, cp := range paths {
			rel, ok := strings.CutPrefix(cp, prefix)
			if !ok {
				continue
			}
			var f File
			var err error
			if f.Digests.SHA512, err = digest.ParseSHA512(d); err != nil {
				return nil, err
			}
			if f.Digests.SHA256, err = digest.ParseSHA256(sha256Of[cp]); err != nil {
				return nil, fmt.Errorf("%s: no sha256 fixity: %w", cp, err)
			}
			f.Path = rel
			f.Source = filepath.Join(dir, filepath.FromSlash(rel))
			st, err := os.Stat(f.Source)
			if err != nil {
				return nil, fmt.Errorf("spool: %w", err)
			}
			f.Size = st.Size()
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Precheck applies the Commit contract to what a store currently holds:
// cur and curErr are the result of its Inventory(inv.ID). It returns
// done=true for an identical repeat (nothing to do), ErrConflict when the
// head is not the version the commit builds on, and the inventory bytes
// and sidecar to write otherwise.
func Precheck(inv *ocfl.Inventory, cur []byte, curErr error) (invBytes, sidecar []byte, done bool, err error) {
	invBytes, err = inv.Marshal()
	if err != nil {
		return nil, nil, false, err
	}
	head := inv.HeadNumber()
	switch {
	case errors.Is(curErr, ErrNotFound):
		if head != 1 {
			return nil, nil, false, fmt.Errorf("commit %s %s: %w (object does not exist)", inv.ID, inv.Head, ErrConflict)
		}
	case curErr != nil:
		return nil, nil, false, curErr
	default:
		if bytes.Equal(cur, invBytes) {
			return invBytes, nil, true, nil // already committed: an idempotent retry
		}
		prev, err := ocfl.ParseInventory(cur)
		if err != nil {
			return nil, nil, false, fmt.Errorf("commit %s: %w", inv.ID, err)
		}
		if prev.HeadNumber() != head-1 {
			return nil, nil, false, fmt.Errorf("commit %s %s on head %s: %w", inv.ID, inv.Head, prev.Head, ErrConflict)
		}
	}
	return invBytes, ocfl.Sidecar(digest.Of(invBytes).SHA512.String()), false, nil
}
