// Package rebuild reconstructs the catalog's derived tables from what is
// in storage (inventories, member indexes, bag-info) and from the audit
// log. It reads kilobytes per AIP, never the packages themselves.
package rebuild

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/ingest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
)

// Stats counts what a rebuild restored.
type Stats struct {
	AIPs, Versions, Events int
}

// Run empties the derived tables and fills them again from every location:
// the first location holding an AIP gives its rows, each location its copy.
func Run(ctx context.Context, stores []storage.Store, cat *catalog.DB, log *audit.Log) (*Stats, error) {
	st := &Stats{}
	if err := cat.ClearDerived(ctx); err != nil {
		return nil, err
	}
	// Events first: the copies' verification times come from them.
	verified := map[string]string{} // "aip location" -> time of the last successful check
	n, err := log.Verify(func(e audit.Entry) error {
		if e.Outcome == "success" && (e.Type == "ingestion" || e.Type == "fixity check" || e.Type == "replication") && e.AIP != "" {
			verified[e.AIP+" "+e.Location] = e.Time
		}
		return cat.PutEvent(ctx, catalog.Event{Seq: e.Seq, Hash: e.Hash(), Time: e.Time, Type: e.Type, AIP: e.AIP,
			Location: e.Location, Outcome: e.Outcome, Detail: e.Detail})
	})
	if err != nil {
		return nil, fmt.Errorf("rebuild events: %w", err)
	}
	st.Events = int(n)
	seen := map[string]bool{}
	for _, store := range stores {
		if err := rebuildLocation(ctx, store, cat, verified, seen, st); err != nil {
			return nil, fmt.Errorf("location %s: %w", store.Name(), err)
		}
	}
	return st, nil
}

func rebuildLocation(ctx context.Context, store storage.Store, cat *catalog.DB, verified map[string]string, seen map[string]bool, st *Stats) error {
	ids, err := store.Objects(ctx)
	if err != nil {
		return err
	}
	for _, s := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		id, err := aip.ParseID(s)
		if err != nil {
			return fmt.Errorf("object %q is not an archivd AIP: %w", s, err)
		}
		invBytes, err := store.Inventory(ctx, s)
		if err != nil {
			return err
		}
		inv, err := ocfl.ParseInventory(invBytes)
		if err != nil {
			return fmt.Errorf("object %s: %w", s, err)
		}
		for v := 1; v <= inv.HeadNumber(); v++ {
			if err := rebuildVersion(ctx, store, cat, id, inv, v, verified, !seen[s]); err != nil {
				return fmt.Errorf("object %s v%d: %w", s, v, err)
			}
			if !seen[s] {
				st.Versions++
			}
		}
		if !seen[s] {
			st.AIPs++
		}
		seen[s] = true
	}
	return nil
}

func rebuildVersion(ctx context.Context, store storage.Store, cat *catalog.DB, id aip.ID, inv *ocfl.Inventory, v int, verified map[string]string, rows bool) error {
	vn := ocfl.VersionName(v)
	vinv, err := read(ctx, store, inv, id, vn+"/"+ocfl.InventoryFile, "")
	if err != nil {
		return err
	}
	root := id.PackageRoot(v)
	idx, err := read(ctx, store, inv, id, vn+"/content/"+root+".index.tsv", vn)
	if err != nil {
		return err
	}
	res, err := aip.ParseIndex(idx)
	if err != nil {
		return err
	}
	info, err := read(ctx, store, inv, id, vn+"/content/"+root+"/"+aip.TagBagInfo, vn)
	if err != nil {
		return err
	}
	meta := aip.MetadataFromBagInfo(info)
	ver := inv.Versions[vn]
	a, vr, p, files := ingest.Rows(id, v, ver.Created, meta, res, digest.Of(vinv).SHA512.String(), ver.Message)
	a.Head = inv.HeadNumber()
	st, err := store.Stat(ctx, id.String(), vn+"/content/"+id.PackageFile(v))
	if err != nil {
		return err
	}
	cp := catalog.Copy{AIP: id.String(), Version: v, Location: store.Name(),
		ObjectKey: ocfl.ObjectPath(id.String()) + "/" + vn + "/content/" + id.PackageFile(v), VersionID: st.VersionID,
		Size: res.Size, SHA512: res.Package.SHA512.String(), VerifiedAt: verified[id.String()+" "+store.Name()]}
	if !rows {
		return cat.PutCopyRow(ctx, cp)
	}
	if err := cat.PutVersionRows(ctx, a, vr, p, files, cp); err != nil {
		return err
	}
	fr, err := read(ctx, store, inv, id, vn+"/content/"+root+".formats.json", vn)
	if errors.Is(err, storage.ErrNotFound) {
		return nil // ingested without format identification
	} else if err != nil {
		return err
	}
	report, err := ingest.ParseFormatReport(fr)
	if err != nil {
		return err
	}
	return cat.PutIdentifications(ctx, ingest.IdentificationRows(id.String(), v, report))
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
