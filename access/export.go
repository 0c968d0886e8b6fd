// Package access gives back what archivd keeps: export restores the
// original files of an AIP version under their original names, checking
// every digest while writing.
package access

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/storage"
)

// Target problems: export refuses such a target and leaves it untouched.
var (
	ErrTargetNotEmpty  = errors.New("target folder is not empty")
	ErrTargetNotFolder = errors.New("target exists and is not a folder")
)

// Summary describes a finished export.
type Summary struct {
	Files, Dirs int
	Bytes       int64
}

const partial = ".archivd-partial"

// Export writes version v of AIP id from store into target, which must be
// an empty folder or not exist. Each file is written under a temporary name,
// checked against the catalog's digests and then renamed; modification
// times are restored. The delivered sidecar (case.yaml) is restored too.
//
// A target Export refuses (not a folder, not empty) is never touched. When
// an export fails after it began writing, Export removes what it wrote: the
// target folder itself if Export created it, else the entries it made in the
// empty folder it was given. So a caller may retry from another copy.
func Export(ctx context.Context, store storage.Store, cat *catalog.DB, id aip.ID, v int, target string) (*Summary, error) {
	files, err := cat.Files(ctx, id.String(), v)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("aip %s v%d: %w", id, v, catalog.ErrNotFound)
	}
	created, err := prepareTarget(target)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(target)
	if err != nil {
		if created != "" {
			os.RemoveAll(created)
		}
		return nil, &TargetError{target, err}
	}
	defer root.Close()
	sum, err := export(ctx, store, root, files, id, v)
	if err != nil {
		if cerr := undo(root, target, created); cerr != nil {
			err = fmt.Errorf("%w (and cleaning up %s failed: %v)", err, target, cerr)
		}
		return sum, err
	}
	return sum, nil
}

// TargetError: the target cannot take an export, whichever copy it comes
// from. The target is as it was.
type TargetError struct {
	Target string
	Err    error
}

func (e *TargetError) Error() string { return fmt.Sprintf("export to %s: %v", e.Target, e.Err) }
func (e *TargetError) Unwrap() error { return e.Err }

// prepareTarget checks the target and creates it (with missing parents)
// if it does not exist; created is the topmost folder it made, or "".
func prepareTarget(target string) (created string, err error) {
	if target == "" {
		return "", &TargetError{target, errors.New("the target folder name is empty")}
	}
	st, err := os.Lstat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		top := filepath.Clean(target)
		for {
			parent := filepath.Dir(top)
			if _, err := os.Lstat(parent); err == nil || parent == top {
				break
			}
			top = parent
		}
		if err := os.MkdirAll(target, 0o755); err != nil {
			return "", &TargetError{target, err}
		}
		return top, nil
	case err != nil:
		return "", &TargetError{target, err}
	case st.Mode()&fs.ModeSymlink != 0:
		return "", &TargetError{target, fmt.Errorf("%w: it is a symbolic link; name the folder itself", ErrTargetNotFolder)}
	case !st.IsDir():
		return "", &TargetError{target, ErrTargetNotFolder}
	}
	ents, err := os.ReadDir(target)
	if err != nil {
		return "", &TargetError{target, err}
	}
	if len(ents) > 0 {
		return "", &TargetError{target, ErrTargetNotEmpty}
	}
	return "", nil
}

// undo removes what a failed export wrote. The target was empty or absent
// when the export began, so everything in it now is the export's own.
func undo(root *os.Root, target, created string) error {
	if created != "" {
		return os.RemoveAll(created)
	}
	ents, err := os.ReadDir(target)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		errs = append(errs, root.RemoveAll(e.Name()))
	}
	return errors.Join(errs...)
}

func export(ctx context.Context, store storage.Store, root *os.Root, files []catalog.File, id aip.ID, v int) (*Summary, error) {
	want := map[string]catalog.File{}
	sum := &Summary{}
	for _, f := range files {
		switch {
		case f.Kind == aip.KindPayload:
			want[f.Path] = f
		case f.Kind == aip.KindDir:
			if err := root.MkdirAll(filepath.FromSlash(f.Original), 0o755); err != nil {
				return nil, fmt.Errorf("export %q: %w", f.Original, err)
			}
			sum.Dirs++
		case f.Kind == aip.KindMetadata && strings.HasPrefix(f.Path, aip.PathDescriptive):
			f.Original = strings.TrimPrefix(f.Path, aip.PathDescriptive)
			want[f.Path] = f
		}
	}
	var mtimes, dirs []catalog.File
	for _, f := range files {
		if f.Kind == aip.KindDir {
			dirs = append(dirs, f)
		}
	}
	format := 0 // AIP-Format-Version, from bag-info.txt (a tag file: after the payload)
	rc, err := store.Open(ctx, id.String(), fmt.Sprintf("v%d/content/%s", v, id.PackageFile(v)))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	prefix := id.PackageRoot(v) + "/"
	_, _, err = aip.Walk(ctx, rc, func(h *tar.Header, body io.Reader) error {
		if h.Name == prefix+aip.TagBagInfo {
			b, err := io.ReadAll(io.LimitReader(body, 1<<20))
			format = aip.FormatFromBagInfo(b)
			return err
		}
		f, ok := want[strings.TrimPrefix(h.Name, prefix)]
		if !ok || h.Typeflag != tar.TypeReg {
			return nil
		}
		delete(want, f.Path)
		if err := writeChecked(root, f, body); err != nil {
			return err
		}
		sum.Files++
		sum.Bytes += f.Size
		mtimes = append(mtimes, f)
		return nil
	})
	if err != nil {
		return sum, fmt.Errorf("export %s v%d: %w", id, v, err)
	}
	for p := range want {
		return sum, fmt.Errorf("export %s v%d: %s is recorded in the catalog but not in the package", id, v, p)
	}
	// Files first, then folders (format 2 records every folder's time,
	// format 1 none), deepest first: writing into a folder changes its time.
	if format >= 2 {
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i].Original) > len(dirs[j].Original) })
		mtimes = append(mtimes, dirs...)
	}
	for _, f := range mtimes {
		t, err := time.Parse(time.RFC3339Nano, f.MTime)
		if err == nil {
			err = root.Chtimes(filepath.FromSlash(f.Original), t, t)
		}
		if err != nil {
			return sum, fmt.Errorf("export %q: restore modification time: %w", f.Original, err)
		}
	}
	return sum, nil
}

func writeChecked(root *os.Root, f catalog.File, body io.Reader) error {
	name := filepath.FromSlash(f.Original)
	if dir := filepath.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("export %q: %w", f.Original, err)
		}
	}
	out, err := root.OpenFile(name+partial, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("export %q: %w", f.Original, err)
	}
	h := digest.NewHasher()
	_, err = io.Copy(io.MultiWriter(out, h), body)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		root.Remove(name + partial)
		return fmt.Errorf("export %q: %w", f.Original, err)
	}
	got := h.Sum()
	if got.SHA512.String() != f.SHA512 || got.SHA256.String() != f.SHA256 || h.Size() != f.Size {
		root.Remove(name + partial)
		return fmt.Errorf("export %q: %w: expected sha512 %s, package holds %s", f.Original, storage.ErrDigest, f.SHA512, got.SHA512)
	}
	if err := root.Rename(name+partial, name); err != nil {
		return fmt.Errorf("export %q: %w", f.Original, err)
	}
	return nil
}
