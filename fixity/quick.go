package fixity

import (
	"context"
	"fmt"
	"strings"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
)

// QuickCheck asks the location about every stored file of every version of
// the AIP without reading content: the root inventory against its sidecar,
// each version inventory present, each content file present, the package
// with its recorded size, and each file's stored SHA-512 (where the
// location keeps one, as S3 metadata) against the inventory. It finds lost
// and truncated objects and replaced ones, not flipped bits: that is the
// full check's work.
func QuickCheck(ctx context.Context, store storage.Store, cat *catalog.DB, id aip.ID) ([]Finding, error) {
	a, err := cat.GetAIP(ctx, id.String())
	if err != nil {
		return nil, err
	}
	loc := store.Name()
	var out []Finding
	bad := func(v int, f Finding) {
		f.Location, f.Version = loc, v
		out = append(out, f)
	}
	b, err := store.Inventory(ctx, id.String())
	switch {
	case storage.IsDamage(err):
		bad(a.Head, Finding{Problem: fmt.Sprintf("root inventory: %v", err), File: ocfl.InventoryFile})
		return out, nil
	case err != nil:
		return nil, err
	}
	inv, err := ocfl.ParseInventory(b)
	if err != nil {
		bad(a.Head, Finding{Problem: fmt.Sprintf("root inventory unreadable: %v", err), File: ocfl.InventoryFile})
		return out, nil
	}
	for v := 1; v <= a.Head; v++ {
		vn := ocfl.VersionName(v)
		if _, err := store.Stat(ctx, id.String(), vn+"/"+ocfl.InventoryFile); storage.IsDamage(err) {
			bad(v, Finding{Problem: fmt.Sprintf("version inventory: %v", err), File: vn + "/" + ocfl.InventoryFile})
		} else if err != nil {
			return nil, err
		}
		pkg, err := cat.GetPackage(ctx, id.String(), v)
		if err != nil {
			return nil, err
		}
		for d, paths := range inv.Manifest {
			for _, cp := range paths {
				if !strings.HasPrefix(cp, vn+"/content/") {
					continue
				}
				info, err := store.Stat(ctx, id.String(), cp)
				switch {
				case storage.IsDamage(err):
					bad(v, Finding{Problem: fmt.Sprintf("%s: %v", cp, err), File: cp, Expected: d})
					continue
				case err != nil:
					return nil, err
				}
				if strings.HasSuffix(cp, "/"+pkg.Name) && info.Size != pkg.Size {
					bad(v, Finding{Problem: fmt.Sprintf("%s: %d bytes stored, %d recorded", cp, info.Size, pkg.Size), File: cp,
						Expected: fmt.Sprint(pkg.Size), Found: fmt.Sprint(info.Size)})
				}
				if info.SHA512 != "" && !strings.EqualFold(info.SHA512, d) {
					bad(v, Finding{Problem: fmt.Sprintf("%s: the SHA-512 stored with the object differs from the inventory (expected %s, found %s)", cp, d, info.SHA512),
						File: cp, Expected: d, Found: info.SHA512})
				}
			}
		}
	}
	return out, nil
}
