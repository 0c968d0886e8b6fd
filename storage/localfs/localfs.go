// Package localfs is a storage location in a local folder: an OCFL 1.1
// storage root. New objects are built completely in a staging folder on the
// same filesystem and renamed in with one rename, so the storage root is
// valid OCFL at every moment. Later versions of an existing object are
// committed with a journal, see Commit.
package localfs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/archivd/archivd/atomicfile"
	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
)

// Store is an OCFL storage root in a local folder.
type Store struct {
	name    string
	root    string
	staging string
	// crash, when set by tests, is called before each step of a commit; an
	// error return stops the commit on the spot, as a power cut would.
	crash func(step string) error
}

// Option configures a Store.
type Option func(*Store)

// WithCrashPoints is for crash tests: fn is called with the name of each
// commit step before it runs; returning an error abandons the commit there.
func WithCrashPoints(fn func(step string) error) Option { return func(s *Store) { s.crash = fn } }

// Open opens (and if needed creates) the storage root at root. Staging
// happens in a sibling folder ".<base>.staging", on the same filesystem.
// Open recovers from an interrupted commit and removes stale staging data.
func Open(name, root string, opts ...Option) (*Store, error) {
	root = filepath.Clean(root)
	s := &Store{name: name, root: root, staging: filepath.Join(filepath.Dir(root), "."+filepath.Base(root)+".staging")}
	for _, o := range opts {
		o(s)
	}
	if err := os.MkdirAll(s.staging, 0o750); err != nil {
		return nil, fmt.Errorf("location %s: %w", name, err)
	}
	if err := s.initRoot(); err != nil {
		return nil, fmt.Errorf("location %s: %w", name, err)
	}
	if err := s.recover(); err != nil {
		return nil, fmt.Errorf("location %s: recover: %w", name, err)
	}
	return s, nil
}

// Name implements storage.Store.
func (s *Store) Name() string { return s.name }

// Root is the storage root folder.
func (s *Store) Root() string { return s.root }

func (s *Store) step(name string) error {
	if s.crash != nil {
		return s.crash(name)
	}
	return nil
}

// initRoot creates a new storage root by staging it and renaming it in.
func (s *Store) initRoot() error {
	if _, err := os.Stat(filepath.Join(s.root, ocfl.RootDeclaration)); err == nil {
		return nil
	}
	emptyDir := false
	if st, err := os.Stat(s.root); err == nil {
		if !st.IsDir() {
			return fmt.Errorf("%s is not a folder", s.root)
		}
		ents, err := os.ReadDir(s.root)
		if err != nil {
			return err
		}
		if len(ents) > 0 {
			return fmt.Errorf("%s is not empty and not an OCFL storage root", s.root)
		}
		emptyDir = true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp, err := os.MkdirTemp(s.staging, "root-")
	if err != nil {
		return err
	}
	files := map[string]string{
		ocfl.RootDeclaration: "ocfl_1.1\n",
		"ocfl_layout.json":   ocfl.LayoutJSON,
		"extensions/" + ocfl.LayoutExtension + "/config.json": ocfl.LayoutConfigJSON,
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(tmp, p)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, p), []byte(c), 0o644); err != nil {
			return err
		}
	}
	if err := atomicfile.SyncTree(tmp); err != nil {
		return err
	}
	if emptyDir {
		if err := os.Remove(s.root); err != nil { // an empty folder made by the admin
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(s.root), 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.root); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(s.root))
}

// journal records a commit of version N>1 between its first and last rename.
type journal struct {
	Object  string `json:"object"` // object dir relative to the root
	Version string `json:"version"`
}

// recover finishes or undoes a commit of a later version that was
// interrupted, then clears the staging folder. The rule: if the root
// inventory already names the new head, the commit happened and only the
// sidecar may be stale, so it is rewritten from the version's own sidecar
// (roll forward); otherwise the version directory is removed (roll back).
func (s *Store) recover() error {
	ents, err := os.ReadDir(s.staging)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "journal-") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.staging, e.Name()))
		if err != nil {
			return err
		}
		var j journal
		if err := json.Unmarshal(b, &j); err != nil || storage.CheckPath(j.Object) != nil {
			return fmt.Errorf("journal %s unreadable: %v", e.Name(), err)
		}
		obj := filepath.Join(s.root, filepath.FromSlash(j.Object))
		invBytes, err := os.ReadFile(filepath.Join(obj, ocfl.InventoryFile))
		if err != nil {
			return err
		}
		inv, err := ocfl.ParseInventory(invBytes)
		if err != nil {
			return err
		}
		if inv.Head == j.Version {
			side, err := os.ReadFile(filepath.Join(obj, j.Version, ocfl.SidecarFile))
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(filepath.Join(obj, ocfl.SidecarFile), side, 0o644); err != nil {
				return err
			}
		} else if err := os.RemoveAll(filepath.Join(obj, j.Version)); err != nil {
			return err
		} else if err := atomicfile.SyncDir(obj); err != nil {
			return err
		}
		if err := os.Remove(filepath.Join(s.staging, e.Name())); err != nil {
			return err
		}
	}
	ents, _ = os.ReadDir(s.staging)
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(s.staging, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) objectDir(id string) string {
	return filepath.Join(s.root, filepath.FromSlash(ocfl.ObjectPath(id)))
}

// Commit implements storage.Store. A new object is staged whole and renamed
// in. A later version is staged, then journaled, then renamed into the
// object, then the root inventory and last its sidecar are replaced by
// rename; Open's recovery rule handles a crash between those renames.
func (s *Store) Commit(ctx context.Context, c *storage.Commit) error {
	inv := c.Inventory
	cur, curErr := s.Inventory(ctx, inv.ID)
	invBytes, side, done, err := storage.Precheck(inv, cur, curErr)
	if err != nil || done {
		return err
	}
	head := inv.HeadNumber()
	obj := s.objectDir(inv.ID)

	tmp, err := os.MkdirTemp(s.staging, "commit-")
	if err != nil {
		return fmt.Errorf("commit %s: %w", inv.ID, err)
	}
	defer os.RemoveAll(tmp)
	stagedObj := filepath.Join(tmp, "obj")
	vdir := filepath.Join(stagedObj, inv.Head)
	if err := s.step("stage-content"); err != nil {
		return err
	}
	for _, f := range c.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeVerified(filepath.Join(vdir, "content", filepath.FromSlash(f.Path)), f); err != nil {
			return fmt.Errorf("commit %s: %w", inv.ID, err)
		}
	}
	if err := s.step("stage-inventories"); err != nil {
		return err
	}
	for _, dir := range []string{vdir, stagedObj} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, ocfl.InventoryFile), invBytes, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, ocfl.SidecarFile), side, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(stagedObj, ocfl.ObjectDeclaration), []byte("ocfl_object_1.1\n"), 0o644); err != nil {
		return err
	}
	if err := s.step("sync-staged"); err != nil {
		return err
	}
	if err := atomicfile.SyncTree(stagedObj); err != nil {
		return err
	}
	if head == 1 {
		return s.renameNewObject(inv.ID, stagedObj)
	}
	return s.commitVersion(inv, stagedObj, obj)
}

// renameNewObject moves a staged object into place, creating the missing
// part of its storage hierarchy in the same rename.
func (s *Store) renameNewObject(id, stagedObj string) error {
	rel := ocfl.ObjectPath(id)
	parts := strings.Split(rel, "/")
	// Find the first missing component; stage the chain below it.
	i := 0
	for ; i < len(parts); i++ {
		if _, err := os.Stat(filepath.Join(s.root, filepath.Join(parts[:i+1]...))); errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if i == len(parts) {
		return fmt.Errorf("commit %s: object folder exists without a readable inventory", id)
	}
	chain := filepath.Join(filepath.Dir(stagedObj), "chain")
	target := filepath.Join(chain, filepath.Join(parts[i:]...))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	if err := os.Rename(stagedObj, target); err != nil {
		return err
	}
	if err := atomicfile.SyncTree(chain); err != nil {
		return err
	}
	if err := s.step("rename-object"); err != nil {
		return err
	}
	parent := filepath.Join(s.root, filepath.Join(parts[:i]...))
	if err := os.Rename(filepath.Join(chain, parts[i]), filepath.Join(parent, parts[i])); err != nil {
		return fmt.Errorf("commit %s: %w", id, err)
	}
	return atomicfile.SyncDir(parent)
}

func (s *Store) commitVersion(inv *ocfl.Inventory, stagedObj, obj string) error {
	rel, _ := filepath.Rel(s.root, obj)
	jb, _ := json.Marshal(journal{Object: filepath.ToSlash(rel), Version: inv.Head})
	jname := filepath.Join(s.staging, "journal-"+randomHex())
	if err := s.step("write-journal"); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(jname, jb, 0o644); err != nil {
		return err
	}
	if err := s.step("rename-version"); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(stagedObj, inv.Head), filepath.Join(obj, inv.Head)); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(obj); err != nil {
		return err
	}
	if err := s.step("replace-inventory"); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(stagedObj, ocfl.InventoryFile), filepath.Join(obj, ocfl.InventoryFile)); err != nil {
		return err
	}
	if err := s.step("replace-sidecar"); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(stagedObj, ocfl.SidecarFile), filepath.Join(obj, ocfl.SidecarFile)); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(obj); err != nil {
		return err
	}
	if err := s.step("remove-journal"); err != nil {
		return err
	}
	return os.Remove(jname)
}

// writeVerified copies a file's bytes to dst and checks size and digests.
func writeVerified(dst string, f storage.File) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	var src io.Reader = bytes.NewReader(f.Data)
	if f.Source != "" {
		in, err := os.Open(f.Source)
		if err != nil {
			return err
		}
		defer in.Close()
		src = in
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	h := digest.NewHasher()
	if _, err := io.Copy(io.MultiWriter(out, h), src); err != nil {
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	if h.Size() != f.Size || h.Sum() != f.Digests {
		return fmt.Errorf("write %s: %w: expected %d bytes sha512 %s, wrote %d bytes sha512 %s",
			f.Path, storage.ErrDigest, f.Size, f.Digests.SHA512, h.Size(), h.Sum().SHA512)
	}
	return out.Close()
}

// Restore implements storage.Store: the verified bytes go to a temporary
// file beside the damaged one, are synced, and replace it by one rename.
func (s *Store) Restore(ctx context.Context, id string, f storage.File) (string, error) {
	if err := storage.CheckPath(f.Path); err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(s.root, ocfl.RootDeclaration)); err != nil {
		return "", fmt.Errorf("location %s: storage root %s is gone (not mounted?): %w: %v", s.name, s.root, storage.ErrUnavailable, err)
	}
	dst := filepath.Join(s.objectDir(id), filepath.FromSlash(f.Path))
	tmp := dst + ".restore-" + randomHex()
	if err := writeVerified(tmp, f); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return "", err
	}
	// A damaged path may have become a folder: it goes, the file comes.
	if st, err := os.Lstat(dst); err == nil && st.IsDir() {
		if err := os.RemoveAll(dst); err != nil {
			os.Remove(tmp)
			return "", err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return "", atomicfile.SyncDir(filepath.Dir(dst))
}

// Versions implements storage.Store: every file of the object.
func (s *Store) Versions(ctx context.Context, id string) ([]storage.StoredVersion, error) {
	obj := s.objectDir(id)
	var out []storage.StoredVersion
	err := filepath.WalkDir(obj, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == obj {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(obj, p)
		out = append(out, storage.StoredVersion{Path: filepath.ToSlash(rel), Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, s.fileErr(id, "", err)
	}
	return out, nil
}

// Locked implements storage.Store: a local folder has no Object Lock.
func (s *Store) Locked(ctx context.Context, id string, v storage.StoredVersion) string { return "" }

// DeleteVersion implements storage.Store: the file goes, and with it every
// folder of the object left empty (the object's own folder last).
func (s *Store) DeleteVersion(ctx context.Context, id string, v storage.StoredVersion) error {
	if err := storage.CheckPath(v.Path); err != nil {
		return err
	}
	obj := s.objectDir(id)
	p := filepath.Join(obj, filepath.FromSlash(v.Path))
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return s.fileErr(id, v.Path, err)
	}
	dir := filepath.Dir(p)
	for ; strings.HasPrefix(dir, s.root+string(filepath.Separator)); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil { // not empty, or gone
			break
		}
	}
	if _, err := os.Stat(dir); err != nil {
		dir = s.root
	}
	return atomicfile.SyncDir(dir)
}

func syncFile(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Inventory implements storage.Store.
func (s *Store) Inventory(ctx context.Context, id string) ([]byte, error) {
	obj := s.objectDir(id)
	b, err := os.ReadFile(filepath.Join(obj, ocfl.InventoryFile))
	if err != nil {
		return nil, s.fileErr(id, ocfl.InventoryFile, err)
	}
	side, err := os.ReadFile(filepath.Join(obj, ocfl.SidecarFile))
	if err != nil {
		return nil, s.fileErr(id, ocfl.SidecarFile, err)
	}
	if f := strings.Fields(string(side)); len(f) != 2 || !strings.EqualFold(f[0], digest.Of(b).SHA512.String()) {
		return nil, fmt.Errorf("object %s: inventory.json does not match its sidecar: %w", id, storage.ErrDigest)
	}
	return b, nil
}

// fileErr classifies an error reading a stored file. With the storage root
// in place, a missing or unreadable file is damage of this copy; without it
// (an unmounted disk) the location is unavailable.
func (s *Store) fileErr(id, p string, err error) error {
	if _, rerr := os.Stat(filepath.Join(s.root, ocfl.RootDeclaration)); rerr != nil {
		return fmt.Errorf("location %s: storage root %s is gone (not mounted?): %w: %v", s.name, s.root, storage.ErrUnavailable, rerr)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("object %s file %s: %w", id, p, storage.ErrNotFound)
	}
	return fmt.Errorf("object %s file %s: %w: %v", id, p, storage.ErrUnreadable, err)
}

// Open implements storage.Store.
func (s *Store) Open(ctx context.Context, id, p string) (io.ReadCloser, error) {
	if err := storage.CheckPath(p); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(s.objectDir(id), filepath.FromSlash(p)))
	if err != nil {
		return nil, s.fileErr(id, p, err)
	}
	return f, nil
}

// Stat implements storage.Store.
func (s *Store) Stat(ctx context.Context, id, p string) (storage.Info, error) {
	if err := storage.CheckPath(p); err != nil {
		return storage.Info{}, err
	}
	st, err := os.Stat(filepath.Join(s.objectDir(id), filepath.FromSlash(p)))
	if err != nil {
		return storage.Info{}, s.fileErr(id, p, err)
	}
	return storage.Info{Size: st.Size()}, nil
}

// Objects implements storage.Store.
func (s *Store) Objects(ctx context.Context) ([]string, error) {
	var ids []string
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p == filepath.Join(s.root, "extensions") {
			return fs.SkipDir
		}
		if d.Name() == ocfl.ObjectDeclaration {
			rel, _ := filepath.Rel(s.root, filepath.Dir(p))
			if id, ok := ocfl.IDFromPath(filepath.ToSlash(rel)); ok {
				ids = append(ids, id)
				return fs.SkipDir
			}
			b, err := os.ReadFile(filepath.Join(filepath.Dir(p), ocfl.InventoryFile))
			if err != nil {
				return err
			}
			var inv struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(b, &inv); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			ids = append(ids, inv.ID)
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s.name, err)
	}
	sort.Strings(ids)
	return ids, nil
}

func (s *Store) extPath(name string) (string, error) {
	if err := storage.CheckPath(name); err != nil {
		return "", err
	}
	return filepath.Join(s.root, "extensions", storage.ExtensionDir, filepath.FromSlash(name)), nil
}

// PutExtension implements storage.Store.
func (s *Store) PutExtension(ctx context.Context, name string, data []byte) error {
	p, err := s.extPath(name)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(p); err == nil {
		if bytes.Equal(old, data) {
			return nil
		}
		return fmt.Errorf("extension file %s exists with other content", name)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	// Write in staging, then rename: no temp file ever appears in the root.
	tmp := filepath.Join(s.staging, "ext-"+randomHex())
	if err := atomicfile.WriteFile(tmp, data, 0o444); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(p))
}

// GetExtension implements storage.Store.
func (s *Store) GetExtension(ctx context.Context, name string) ([]byte, error) {
	p, err := s.extPath(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("extension file %s: %w", name, storage.ErrNotFound)
	}
	return b, err
}

// ListExtension implements storage.Store.
func (s *Store) ListExtension(ctx context.Context, prefix string) ([]string, error) {
	base := filepath.Join(s.root, "extensions", storage.ExtensionDir)
	var out []string
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(base, p)
			rel = filepath.ToSlash(rel)
			if strings.HasPrefix(rel, prefix) {
				out = append(out, rel)
			}
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var _ storage.Store = (*Store)(nil)
