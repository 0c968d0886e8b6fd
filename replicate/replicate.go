// Package replicate brings every AIP up to the copy policy: for each
// version that a required location lacks, it fetches the version from a
// location that holds a verified copy, checks every byte against the
// catalog and the inventory, and commits it to the location that lacks
// it. It is idempotent: a second run, or a run after a crash, finds the
// copies made and creates nothing twice.
package replicate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
)

// Recorder appends an event to the audit trail.
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) (audit.Entry, error)
}

// Replicator holds what a replication run needs.
type Replicator struct {
	Stores   []storage.Store
	Required []string
	Catalog  *catalog.DB
	Trail    Recorder
	Staging  string
	Agent    string
}

// Stats counts what a run did.
type Stats struct {
	Checked, Copied int
	Failed          []string // "aip vN -> location: reason"
}

// WriteText says what a run did, as archivd replicate shows it.
func (st *Stats) WriteText(w io.Writer) {
	fmt.Fprintf(w, "replicate: %d AIP version(s) checked, %d copy(ies) made, %d failed\n", st.Checked, st.Copied, len(st.Failed))
	for _, f := range st.Failed {
		fmt.Fprintf(w, "  failed: %s\n", f)
	}
}

// Run makes every missing required copy it can. It returns an error only
// when it cannot work at all (catalog unreadable, ctx ended).
func (r *Replicator) Run(ctx context.Context) (*Stats, error) {
	st := &Stats{}
	ids, err := r.Catalog.AIPs(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]storage.Store{}
	for _, s := range r.Stores {
		byName[s.Name()] = s
	}
	for _, id := range ids {
		a, err := r.Catalog.GetAIP(ctx, id)
		if err != nil {
			return nil, err
		}
		for v := 1; v <= a.Head; v++ {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			st.Checked++
			copies, err := r.Catalog.Copies(ctx, id, v)
			if err != nil {
				return nil, err
			}
			var have []string
			for _, c := range copies {
				have = append(have, c.Location)
			}
			for _, name := range r.Required {
				if slices.Contains(have, name) {
					continue
				}
				dst := byName[name]
				if dst == nil {
					return nil, fmt.Errorf("required location %s is not configured", name)
				}
				err := r.copyVersion(ctx, id, v, have, byName, dst)
				entry := audit.Entry{EventID: audit.NewEventID(), Type: audit.TypeReplication, AIP: id, Location: name, Agent: r.Agent}
				if err != nil {
					st.Failed = append(st.Failed, fmt.Sprintf("%s v%d -> %s: %v", id, v, name, err))
					entry.Outcome, entry.Detail = audit.OutcomeFailure, fmt.Sprintf("copy of v%d not made: %v", v, err)
					if _, aerr := r.Trail.Record(ctx, entry); aerr != nil {
						return st, aerr
					}
					continue
				}
				entry.Outcome, entry.Detail = audit.OutcomeSuccess, fmt.Sprintf("verified copy of v%d made at %s from %s", v, name, strings.Join(have, ", "))
				ev, err := r.Trail.Record(ctx, entry)
				if err != nil {
					return st, err
				}
				if err := r.record(ctx, id, v, dst, ev.Time); err != nil {
					return st, err
				}
				have = append(have, name)
				st.Copied++
			}
		}
	}
	return st, nil
}

func (r *Replicator) record(ctx context.Context, id string, v int, dst storage.Store, at string) error {
	pkg, err := r.Catalog.GetPackage(ctx, id, v)
	if err != nil {
		return err
	}
	info, err := dst.Stat(ctx, id, fmt.Sprintf("v%d/content/%s", v, pkg.Name))
	if err != nil {
		return err
	}
	return r.Catalog.PutCopyRow(ctx, catalog.Copy{AIP: id, Version: v, Location: dst.Name(),
		ObjectKey: ocfl.ObjectPath(id) + fmt.Sprintf("/v%d/content/", v) + pkg.Name, VersionID: info.VersionID,
		Size: pkg.Size, SHA512: pkg.SHA512, VerifiedAt: at})
}

// copyVersion fetches version v from the first source that delivers it
// intact and commits it to dst.
func (r *Replicator) copyVersion(ctx context.Context, id string, v int, sources []string, byName map[string]storage.Store, dst storage.Store) error {
	ver, err := r.Catalog.GetVersion(ctx, id, v)
	if err != nil {
		return err
	}
	if len(sources) == 0 {
		return errors.New("no location holds a verified copy")
	}
	var errs []error
	for _, name := range sources {
		src := byName[name]
		if src == nil {
			continue
		}
		dir, err := os.MkdirTemp(r.Staging, "replicate-")
		if err != nil {
			return err
		}
		err = r.fetchAndCommit(ctx, src, dst, id, v, ver.InventorySHA512, dir)
		os.RemoveAll(dir)
		if err == nil {
			if rt, ok := dst.(storage.Locker); ok {
				var due time.Time
				mode := ""
				if ret, err := r.Catalog.GetRetention(ctx, id); err == nil {
					due, _ = time.Parse(time.RFC3339, ret.Due)
					mode = ret.LockMode
				}
				return storage.Retain(ctx, rt, id, v, due, mode, time.Now())
			}
			return nil
		}
		errs = append(errs, fmt.Errorf("from %s: %w", name, err))
	}
	return errors.Join(errs...)
}

func (r *Replicator) fetchAndCommit(ctx context.Context, src, dst storage.Store, id string, v int, wantInv, dir string) error {
	vn := ocfl.VersionName(v)
	rc, err := src.Open(ctx, id, vn+"/"+ocfl.InventoryFile)
	if err != nil {
		return err
	}
	invBytes, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	rc.Close()
	if err != nil {
		return err
	}
	if got := digest.Of(invBytes).SHA512.String(); got != wantInv {
		return fmt.Errorf("%s/%s differs from the catalog (sha512 %s, expected %s): %w", vn, ocfl.InventoryFile, got, wantInv, storage.ErrDigest)
	}
	inv, err := ocfl.ParseInventory(invBytes)
	if err != nil {
		return err
	}
	prefix := vn + "/content/"
	for d, paths := range inv.Manifest {
		for _, cp := range paths {
			rel, ok := strings.CutPrefix(cp, prefix)
			if !ok {
				continue
			}
			if err := fetch(ctx, src, id, cp, filepath.Join(dir, filepath.FromSlash(rel)), d); err != nil {
				return err
			}
		}
	}
	files, err := storage.SpoolFiles(inv, v, dir)
	if err != nil {
		return err
	}
	return dst.Commit(ctx, &storage.Commit{Inventory: inv, Files: files})
}

// fetch downloads one file into the spool, hashing it on the way.
func fetch(ctx context.Context, src storage.Store, id, cp, dst, want string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	rc, err := src.Open(ctx, id, cp)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	h := digest.NewHasher()
	if _, err := io.Copy(io.MultiWriter(f, h), rc); err != nil {
		return fmt.Errorf("fetch %s: %w", cp, err)
	}
	if got := h.Sum().SHA512.String(); got != want {
		return fmt.Errorf("%s at %s is damaged (sha512 %s, expected %s): %w", cp, src.Name(), got, want, storage.ErrDigest)
	}
	return f.Sync()
}
