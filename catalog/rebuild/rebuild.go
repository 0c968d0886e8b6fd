// Package rebuild reconstructs the catalog's derived tables from what is
// in storage (inventories, member indexes, bag-info) and from the audit
// log. It reads kilobytes per AIP, never the packages themselves.
package rebuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/catalog/rows"
	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/fixity"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
)

// Stats counts what a rebuild restored.
type Stats struct {
	AIPs, Versions, Events int
	// Skipped names every stored object that could not be read; a rebuild
	// never skips one silently.
	Skipped []Skip
	// Kept lists the AIPs no location could give: their rows are carried
	// over from the previous catalog, so verify still finds their damage.
	Kept []string
	// Recovered names the objects whose root inventory was missing or
	// damaged and which were read from their newest intact version
	// inventory instead: their copy is damaged all the same.
	Recovered []Skip
}

// Skip is one object a rebuild could not read at one location.
type Skip struct {
	Location, Object string
	Err              error
}

func (s Skip) String() string { return fmt.Sprintf("%s at %s: %v", s.Object, s.Location, s.Err) }

// Run builds a new catalog from every location and the audit log and
// swaps it in when complete: the first location holding an AIP gives its
// rows, each location its copy. An object that cannot be read is skipped
// and named in Stats; a location that cannot be listed or reached stops the
// rebuild with the old catalog intact.
func Run(ctx context.Context, stores []storage.Store, cat *catalog.DB, log *audit.Log, zone *time.Location) (*Stats, error) {
	st := &Stats{}
	old := map[string]bool{}
	ids, err := cat.AIPs(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		old[id] = true
	}
	err = cat.Rebuild(ctx, func(ctx context.Context, next *catalog.DB) error {
		// Events first: the copies' verification times come from them.
		verified := map[string]string{} // "aip location" -> time of the last successful check
		n, err := log.Verify(func(e audit.Entry) error {
			// A quick check reads no content: it verifies nothing in full.
			quick := strings.HasPrefix(e.Detail, fixity.QuickDetailPrefix)
			if e.Outcome == audit.OutcomeSuccess && (e.Type == audit.TypeIngestion || e.Type == audit.TypeFixityCheck || e.Type == audit.TypeReplication) && e.AIP != "" && !quick {
				verified[e.AIP+" "+e.Location] = e.Time
			}
			return next.PutEvent(ctx, catalog.Event{Seq: e.Seq, Hash: e.Hash(), Time: e.Time, Type: e.Type, AIP: e.AIP,
				Location: e.Location, Outcome: e.Outcome, Detail: e.Detail})
		})
		if err != nil {
			return fmt.Errorf("rebuild events: %w", err)
		}
		st.Events = int(n)
		seen := map[string]bool{}
		for _, store := range stores {
			if err := rebuildLocation(ctx, store, next, verified, seen, st, zone); err != nil {
				return fmt.Errorf("location %s: %w", store.Name(), err)
			}
		}
		for _, id := range ids {
			if seen[id] || !skipped(st, id) {
				continue
			}
			if err := next.CarryOver(ctx, cat.Path(), id); err != nil {
				return err
			}
			st.Kept = append(st.Kept, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// catalogError: writing the new catalog failed; that stops the rebuild.
type catalogError struct{ err error }

func (e *catalogError) Error() string { return "catalog: " + e.err.Error() }
func (e *catalogError) Unwrap() error { return e.err }

func skipped(st *Stats, id string) bool {
	for _, s := range st.Skipped {
		if s.Object == id {
			return true
		}
	}
	return false
}

func rebuildLocation(ctx context.Context, store storage.Store, cat *catalog.DB, verified map[string]string, seen map[string]bool, st *Stats, zone *time.Location) error {
	ids, err := store.Objects(ctx)
	if err != nil {
		return err
	}
	for _, s := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := rebuildObject(ctx, store, cat, s, verified, seen, st, zone)
		switch {
		case err == nil:
		case errors.Is(err, storage.ErrUnavailable), errors.As(err, new(*catalogError)), ctx.Err() != nil:
			return err
		default:
			st.Skipped = append(st.Skipped, Skip{store.Name(), s, err})
		}
	}
	return nil
}

// rebuildObject reads one object's small files and writes its rows in one
// transaction, so a damaged object leaves no half of its rows behind.
func rebuildObject(ctx context.Context, store storage.Store, cat *catalog.DB, s string, verified map[string]string, seen map[string]bool, st *Stats, zone *time.Location) error {
	id, err := aip.ParseID(s)
	if err != nil {
		return fmt.Errorf("not an archivd AIP: %w", err)
	}
	invBytes, err := store.Inventory(ctx, s)
	if storage.IsDamage(err) {
		// The root inventory is gone or damaged (a delete, say): the newest
		// intact version inventory describes the same object up to its
		// version. Read from it, and say so.
		var vn string
		invBytes, vn, err = newestVersionInventory(ctx, store, id, err)
		if err != nil {
			return err
		}
		st.Recovered = append(st.Recovered, Skip{store.Name(), s, fmt.Errorf("root inventory.json unreadable; read from %s/inventory.json (repair this copy: archivd replicate)", vn)})
	} else if err != nil {
		return err
	}
	inv, err := ocfl.ParseInventory(invBytes)
	if err != nil {
		return fmt.Errorf("root inventory.json: %w", err)
	}
	var rows []versionRows
	for v := 1; v <= inv.HeadNumber(); v++ {
		r, err := readVersion(ctx, store, id, inv, v, verified)
		if err != nil {
			return fmt.Errorf("v%d: %w", v, err)
		}
		rows = append(rows, r)
	}
	first := !seen[s]
	for _, r := range rows {
		if err := r.put(ctx, cat, first, zone); err != nil {
			return &catalogError{err}
		}
	}
	if first {
		st.AIPs++
		st.Versions += len(rows)
	}
	seen[s] = true
	return nil
}

// newestVersionInventory reads v1/inventory.json, v2/..., while they exist
// and match their sidecars, and returns the last one; rootErr if none.
func newestVersionInventory(ctx context.Context, store storage.Store, id aip.ID, rootErr error) ([]byte, string, error) {
	var best []byte
	var bestVN string
	for v := 1; ; v++ {
		vn := ocfl.VersionName(v)
		b, err := read(ctx, store, nil, id, vn+"/"+ocfl.InventoryFile, "")
		if err != nil {
			break
		}
		side, err := read(ctx, store, nil, id, vn+"/"+ocfl.SidecarFile, "")
		if f := strings.Fields(string(side)); err != nil || len(f) != 2 || !strings.EqualFold(f[0], digest.Of(b).SHA512.String()) {
			break
		}
		inv, err := ocfl.ParseInventory(b)
		if err != nil || inv.ID != id.String() || inv.Head != vn {
			break
		}
		best, bestVN = b, vn
	}
	if best == nil {
		return nil, "", rootErr
	}
	return best, bestVN, nil
}

// versionRows are the catalog rows of one stored version.
type versionRows struct {
	a      catalog.AIP
	v      catalog.Version
	p      catalog.Package
	files  []catalog.File
	cp     catalog.Copy
	ids    []catalog.Identification
	origin string // the delivery, from bag-info.txt
	ret    *aip.Retention
}

// put writes the rows; later locations of an AIP add only their copy.
func (r versionRows) put(ctx context.Context, cat *catalog.DB, first bool, zone *time.Location) error {
	if !first {
		return cat.PutCopyRow(ctx, r.cp)
	}
	if err := cat.PutVersionRows(ctx, r.a, r.v, r.p, r.files, r.cp); err != nil {
		return err
	}
	if r.v.Version == 1 && r.origin != "" {
		if err := cat.RestoreIngest(ctx, r.a.ID, r.origin, r.v.Created); err != nil {
			return err
		}
	}
	// Retention is kept by the rebuild (a recompute may have changed it);
	// an AIP without a row gets the one its package recorded.
	if r.ret != nil {
		if _, err := cat.GetRetention(ctx, r.a.ID); errors.Is(err, catalog.ErrNotFound) {
			if err := cat.PutRetention(ctx, rows.RetentionRow(r.a.ID, r.ret, zone, r.v.Created)); err != nil {
				return err
			}
		}
	}
	if len(r.ids) == 0 {
		return nil
	}
	return cat.PutIdentifications(ctx, r.ids)
}

func readVersion(ctx context.Context, store storage.Store, id aip.ID, inv *ocfl.Inventory, v int, verified map[string]string) (versionRows, error) {
	var r versionRows
	vn := ocfl.VersionName(v)
	vinv, err := read(ctx, store, inv, id, vn+"/"+ocfl.InventoryFile, "")
	if err != nil {
		return r, err
	}
	idx, err := readBeside(ctx, store, inv, id, vn, id.BesideNames(v, aip.ExtIndex))
	if err != nil {
		return r, err
	}
	res, err := aip.ParseIndex(idx)
	if err != nil {
		return r, err
	}
	info, err := read(ctx, store, inv, id, vn+"/content/"+id.BagInfoFile(v), vn)
	if err != nil {
		return r, err
	}
	meta := aip.MetadataFromBagInfo(info)
	r.origin = aip.OriginFromBagInfo(info)
	if r.ret = aip.RetentionFromBagInfo(info); r.ret != nil {
		r.ret.Basis = "restored from bag-info.txt by a catalog rebuild"
	}
	ver := inv.Versions[vn]
	r.a, r.v, r.p, r.files = rows.Rows(id, v, ver.Created, meta, res, digest.Of(vinv).SHA512.String(), ver.Message)
	r.a.Head = inv.HeadNumber()
	st, err := store.Stat(ctx, id.String(), vn+"/content/"+id.PackageFile(v))
	if err != nil {
		return r, err
	}
	r.cp = catalog.Copy{AIP: id.String(), Version: v, Location: store.Name(),
		ObjectKey: ocfl.ObjectPath(id.String()) + "/" + vn + "/content/" + id.PackageFile(v), VersionID: st.VersionID,
		Size: res.Size, SHA512: res.Package.SHA512.String(), VerifiedAt: verified[id.String()+" "+store.Name()]}
	fr, err := readBeside(ctx, store, inv, id, vn, id.BesideNames(v, aip.ExtFormats))
	if errors.Is(err, storage.ErrNotFound) {
		return r, nil // ingested without format identification
	} else if err != nil {
		return r, err
	}
	report, err := rows.ParseFormatReport(fr)
	if err != nil {
		return r, err
	}
	r.ids = rows.IdentificationRows(id.String(), v, report)
	return r, nil
}

// readBeside reads a file stored beside version vn's package under the
// first of names its inventory lists (format 2 compressed, format 1
// plain), decompressing it; storage.ErrNotFound if it lists none.
func readBeside(ctx context.Context, store storage.Store, inv *ocfl.Inventory, id aip.ID, vn string, names []string) ([]byte, error) {
	listed := map[string]bool{}
	for _, paths := range inv.Manifest {
		for _, p := range paths {
			listed[p] = true
		}
	}
	for _, name := range names {
		p := vn + "/content/" + name
		if !listed[p] {
			continue
		}
		b, err := read(ctx, store, inv, id, p, vn)
		if err != nil {
			return nil, err
		}
		return aip.ReadBeside(p, bytes.NewReader(b))
	}
	return nil, fmt.Errorf("%s: %s: %w", id, names[0], storage.ErrNotFound)
}

// read fetches a small content file and checks it against the inventory
// manifest (when inManifest is a version name) before trusting it.
func read(ctx context.Context, store storage.Store, inv *ocfl.Inventory, id aip.ID, p, inManifest string) ([]byte, error) {
	rc, err := store.Open(ctx, id.String(), p)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 256<<20))
	if err != nil {
		return nil, err
	}
	if inManifest != "" {
		d := digest.Of(b).SHA512.String()
		ok := false
		for _, cp := range inv.Manifest[d] {
			ok = ok || cp == p
		}
		if !ok {
			return nil, fmt.Errorf("%s does not match its inventory digest", p)
		}
	}
	return b, nil
}
