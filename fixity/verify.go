// Package fixity checks that what archivd keeps is still what it stored:
// every version of an AIP on every copy, against the catalog and the
// OCFL inventory, not only against itself.
package fixity

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
)

// Finding is one piece of damage on one copy.
type Finding struct {
	Location string
	Version  int
	Problem  string // the whole message
	// File is the stored file that is damaged, relative to the object root
	// ("" when the problem is not one stored file's); Member the file
	// inside the package; Expected and Found the digests (or values).
	File, Member    string
	Expected, Found string
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s v%d: %s", f.Location, f.Version, f.Problem)
	if f.Expected != "" && !strings.Contains(f.Problem, f.Expected) {
		found := f.Found
		if found == "" {
			found = "nothing readable"
		}
		s += fmt.Sprintf(" (expected %s, found %s)", f.Expected, found)
	}
	return s
}

// Result is the outcome of checking one AIP.
type Result struct {
	AIP      string
	Findings []Finding
	Checked  []string // "location vN" of every copy checked
	Bytes    int64
}

// OK reports whether no damage was found.
func (r *Result) OK() bool { return len(r.Findings) == 0 }

// VerifyAIP checks every version of the AIP id on store, reading every
// byte once. Damage goes into the Result; an error means the check could
// not be done (storage unavailable, AIP unknown).
func VerifyAIP(ctx context.Context, store storage.Store, cat *catalog.DB, id aip.ID) (*Result, error) {
	a, err := cat.GetAIP(ctx, id.String())
	if err != nil {
		return nil, err
	}
	res := &Result{AIP: id.String()}
	loc := store.Name()
	bad := func(v int, f Finding) {
		f.Location, f.Version = loc, v
		res.Findings = append(res.Findings, f)
	}
	rootInv, err := store.Inventory(ctx, id.String())
	switch {
	case storage.IsDamage(err):
		bad(a.Head, Finding{Problem: fmt.Sprintf("root inventory: %v", err), File: ocfl.InventoryFile})
		return res, nil
	case err != nil:
		return nil, err
	}
	for v := 1; v <= a.Head; v++ {
		res.Checked = append(res.Checked, fmt.Sprintf("%s v%d", loc, v))
		if err := verifyVersion(ctx, store, cat, id, v, v == a.Head, rootInv, res, bad); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func verifyVersion(ctx context.Context, store storage.Store, cat *catalog.DB, id aip.ID, v int, head bool, rootInv []byte, res *Result, bad func(int, Finding)) error {
	ver, err := cat.GetVersion(ctx, id.String(), v)
	if err != nil {
		return err
	}
	pkg, err := cat.GetPackage(ctx, id.String(), v)
	if err != nil {
		return err
	}
	files, err := cat.Files(ctx, id.String(), v)
	if err != nil {
		return err
	}
	vn := ocfl.VersionName(v)
	vinv := vn + "/" + ocfl.InventoryFile
	invBytes, err := readAll(ctx, store, id, vinv)
	if err != nil {
		if storage.IsDamage(err) {
			bad(v, Finding{Problem: fmt.Sprintf("version inventory: %v", err), File: vinv})
			return nil
		}
		return err
	}
	if got := digest.Of(invBytes).SHA512.String(); got != ver.InventorySHA512 {
		bad(v, Finding{Problem: fmt.Sprintf("version inventory differs from the one recorded at commit (expected sha512 %s, found %s)", ver.InventorySHA512, got),
			File: vinv, Expected: ver.InventorySHA512, Found: got})
	}
	if head && string(invBytes) != string(rootInv) {
		bad(v, Finding{Problem: "root inventory differs from the head version's inventory", File: ocfl.InventoryFile,
			Expected: digest.Of(invBytes).SHA512.String(), Found: digest.Of(rootInv).SHA512.String()})
	}
	inv, err := ocfl.ParseInventory(invBytes)
	if err != nil {
		bad(v, Finding{Problem: fmt.Sprintf("version inventory unreadable: %v", err), File: vinv})
		return nil
	}
	members := map[string]digest.Pair{}
	for _, f := range files {
		if f.Kind == aip.KindDir {
			continue
		}
		var p digest.Pair
		p.SHA512, _ = digest.ParseSHA512(f.SHA512)
		p.SHA256, _ = digest.ParseSHA256(f.SHA256)
		members[f.Path] = p
	}
	// Every content file of this version, against the inventory and the catalog.
	prefix := vn + "/content/"
	for d, paths := range inv.Manifest {
		for _, cp := range paths {
			if !strings.HasPrefix(cp, prefix) {
				continue
			}
			name := strings.TrimPrefix(cp, prefix)
			if name == pkg.Name {
				var events []string
				if v == 1 {
					events = ingestEvents(ctx, cat, id, func(msg string) { bad(v, Finding{Problem: msg}) })
				}
				if err := verifyPackage(ctx, store, id, v, cp, d, pkg, members, events, res, bad); err != nil {
					return err
				}
				continue
			}
			b, err := readAll(ctx, store, id, cp)
			if storage.IsDamage(err) {
				bad(v, Finding{Problem: fmt.Sprintf("%s: %v", cp, err), File: cp, Expected: d})
				continue
			} else if err != nil {
				return err
			}
			res.Bytes += int64(len(b))
			got := digest.Of(b)
			if got.SHA512.String() != d {
				bad(v, Finding{Problem: fmt.Sprintf("%s: SHA-512 differs from the inventory (expected %s, found %s)", cp, d, got.SHA512),
					File: cp, Expected: d, Found: got.SHA512.String()})
			}
			// Copies of files inside the package (bag-info.txt; format 1
			// also kept the other tag files, METS and PREMIS) must equal them.
			if inner, ok := strings.CutPrefix(name, id.PackageRoot(v)+"/"); ok {
				if want, ok := members[inner]; ok && want != got {
					bad(v, Finding{Problem: fmt.Sprintf("%s: differs from the same file inside the package (expected %s, found %s)", cp, want.SHA512, got.SHA512),
						File: cp, Member: inner, Expected: want.SHA512.String(), Found: got.SHA512.String()})
				}
			}
		}
	}
	return nil
}

func verifyPackage(ctx context.Context, store storage.Store, id aip.ID, v int, cp, invDigest string, pkg catalog.Package, members map[string]digest.Pair, events []string, res *Result, bad func(int, Finding)) error {
	want, err := digest.ParseSHA512(pkg.SHA512)
	if err != nil {
		return fmt.Errorf("catalog package digest: %w", err)
	}
	if invDigest != pkg.SHA512 {
		bad(v, Finding{Problem: fmt.Sprintf("%s: inventory digest %s differs from the catalog's %s", cp, invDigest, pkg.SHA512),
			File: vn(v) + "/" + ocfl.InventoryFile, Expected: pkg.SHA512, Found: invDigest})
	}
	rc, err := store.Open(ctx, id.String(), cp)
	if storage.IsDamage(err) {
		bad(v, Finding{Problem: fmt.Sprintf("%s: %v", cp, err), File: cp, Expected: pkg.SHA512})
		return nil
	} else if err != nil {
		return err
	}
	defer rc.Close()
	rep, err := aip.Verify(ctx, rc, aip.Expect{Root: id.PackageRoot(v), Package: &want, Size: pkg.Size, Members: members, Events: events})
	if storage.IsDamage(err) { // the location answers, but not with this object's bytes
		bad(v, Finding{Problem: fmt.Sprintf("%s: %v", cp, err), File: cp, Expected: pkg.SHA512})
		return nil
	} else if err != nil {
		return fmt.Errorf("%s: %w: %v", cp, storage.ErrUnavailable, err)
	}
	res.Bytes += rep.PackageSize
	for _, p := range rep.Problems {
		bad(v, Finding{Problem: fmt.Sprintf("%s: %s", id.PackageFile(v), p), File: cp, Member: p.Path, Expected: p.Want, Found: p.Got})
	}
	return nil
}

func vn(v int) string { return ocfl.VersionName(v) }

func readAll(ctx context.Context, store storage.Store, id aip.ID, p string) ([]byte, error) {
	rc, err := store.Open(ctx, id.String(), p)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 1<<30))
	if storage.IsDamage(err) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", p, storage.ErrUnavailable, err)
	}
	return b, nil
}

// ingestEvents returns the PREMIS event ids the persisted ingest record
// names: the package's premis.xml must hold them. A rebuilt catalog has no
// ingest records; storage is the truth then.
func ingestEvents(ctx context.Context, cat *catalog.DB, id aip.ID, bad func(string)) []string {
	in, err := cat.GetIngest(ctx, id.String())
	if err != nil {
		return nil
	}
	var rec struct {
		EventIDs []string `json:"event_ids"`
	}
	if err := json.Unmarshal([]byte(in.Record), &rec); err != nil {
		bad("ingest record unreadable: " + err.Error())
		return nil
	}
	return rec.EventIDs
}
