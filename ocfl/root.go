package ocfl

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ValidateRoot validates a storage root: its declaration, layout, the
// storage hierarchy and every object in it.
func ValidateRoot(fsys fs.FS) *Result {
	r := &Result{}
	b, err := fs.ReadFile(fsys, RootDeclaration)
	if err != nil {
		r.errf("E069", ".", "no storage root declaration %s", RootDeclaration)
		return r
	} else if string(b) != "ocfl_1.1\n" {
		r.errf("E080", RootDeclaration, "declaration must contain \"ocfl_1.1\\n\"")
	}
	use0003 := false
	if lb, err := fs.ReadFile(fsys, "ocfl_layout.json"); err == nil {
		var l struct {
			Extension   string `json:"extension"`
			Description string `json:"description"`
		}
		if json.Unmarshal(lb, &l) != nil || l.Extension == "" || l.Description == "" {
			r.errf("E070", "ocfl_layout.json", "must be JSON with keys extension and description")
		}
		use0003 = l.Extension == LayoutExtension
	}
	var walk func(dir string, top bool)
	walk = func(dir string, top bool) {
		ents, err := fs.ReadDir(fsys, dir)
		if err != nil {
			r.errf("E073", dir, "cannot read directory: %v", err)
			return
		}
		if !top && len(ents) == 0 {
			r.errf("E073", dir, "empty directory in storage root")
			return
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "0=ocfl_object_") {
				id := ""
				if use0003 {
					if b, err := fs.ReadFile(fsys, path.Join(dir, InventoryFile)); err == nil {
						var inv struct {
							ID string `json:"id"`
						}
						if json.Unmarshal(b, &inv) == nil && inv.ID != "" && ObjectPath(inv.ID) != dir {
							r.errf("E083", dir, "object %q belongs at %s under layout 0003", inv.ID, ObjectPath(inv.ID))
						}
					}
				}
				validateObjectInto(fsys, dir, r, id)
				r.Objects++
				return
			}
		}
		for _, e := range ents {
			p := path.Join(dir, e.Name())
			switch {
			case top && e.Name() == "extensions" && e.IsDir():
				exts, _ := fs.ReadDir(fsys, p)
				for _, x := range exts {
					if !x.IsDir() {
						r.errf("E112", path.Join(p, x.Name()), "file in storage root extensions directory")
					} else if !registeredExtensions[x.Name()] {
						r.warnf("W016", path.Join(p, x.Name()), "extension is not a registered OCFL extension name")
					}
				}
			case top && !e.IsDir():
				// Files in the storage root are self-documentation (E087: ignored).
			case !e.IsDir():
				r.errf("E084", p, "file in an intermediate directory of the storage hierarchy")
			default:
				walk(p, false)
			}
		}
	}
	walk(".", true)
	return r
}

// ValidatePath validates what lies at path: a storage root when it has
// the root declaration, else one object.
func ValidatePath(path string) *Result {
	fsys := os.DirFS(path)
	if _, err := os.Stat(filepath.Join(path, RootDeclaration)); err == nil {
		return ValidateRoot(fsys)
	}
	return ValidateObject(fsys, ".")
}

// WriteText writes every finding and the verdict on path, as archivd ocfl
// validate shows them.
func (r *Result) WriteText(w io.Writer, path string) {
	for _, f := range r.Errors {
		fmt.Fprintf(w, "ERROR   %s\n", f)
	}
	for _, f := range r.Warnings {
		fmt.Fprintf(w, "WARNING %s\n", f)
	}
	if !r.Valid() {
		fmt.Fprintf(w, "INVALID %s: %d error(s), %d warning(s)\n", path, len(r.Errors), len(r.Warnings))
		return
	}
	fmt.Fprintf(w, "VALID %s: %d object(s), %d warning(s)\n", path, max(r.Objects, 1), len(r.Warnings))
}
