package archive

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage/s3"
)

// LocationCheck is what checking one location found.
type LocationCheck struct {
	Location config.Location
	Probe    *s3.Capabilities // S3: reachable, bucket, writable, versioning, Object Lock
	Objects  int              // local: objects in the valid storage root
	Problem  string           // why the location cannot be used, "" if it can
}

// Usable reports whether the location can take copies.
func (c LocationCheck) Usable() bool {
	return c.Problem == "" && (c.Probe == nil || len(c.Probe.Problems) == 0)
}

// CheckLocations says for each configured location whether it is usable,
// in plain words. The write tests leave nothing behind.
func CheckLocations(ctx context.Context, cfg *config.Config) []LocationCheck {
	var out []LocationCheck
	for _, loc := range cfg.Locations {
		c := LocationCheck{Location: loc}
		st, err := OpenLocation(ctx, loc)
		if err != nil { // st may be a typed nil then
			c.Problem = err.Error()
			out = append(out, c)
			continue
		}
		switch s := st.(type) {
		case *s3.Store:
			c.Probe = s.Probe(ctx)
		default:
			c.Objects, c.Problem = checkLocal(loc.Path)
		}
		out = append(out, c)
	}
	return out
}

// checkLocal validates a local storage root and that its folder takes new files.
func checkLocal(root string) (int, string) {
	r := ocfl.ValidateRoot(os.DirFS(root))
	if !r.Valid() {
		return 0, fmt.Sprintf("the storage root is not valid OCFL: %v", r.Errors[0])
	}
	f, err := os.CreateTemp(filepath.Dir(root), ".archivd-probe-*")
	if err != nil {
		return 0, fmt.Sprintf("not writable: %v", err)
	}
	f.Close()
	os.Remove(f.Name())
	return r.Objects, ""
}
