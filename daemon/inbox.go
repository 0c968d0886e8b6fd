package daemon

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/atomicfile"
	"github.com/archivd/archivd/config"
)

// MarkerSuffix names the file that says a case is complete (ready: marker).
const MarkerSuffix = ".ready"

// snapshot is what a case looked like at a poll, for ready: settle.
type snapshot struct {
	sum   [32]byte
	since time.Time
}

// claimReady claims every finished case of every inbox, unless free space
// is low. An error here is fatal (the work area cannot be written).
func (d *Daemon) claimReady(ctx context.Context) error {
	if d.spaceLow() {
		return nil
	}
	for i := range d.conf().Inboxes {
		in := &d.conf().Inboxes[i]
		names, err := d.ready(in)
		if err != nil {
			d.once("inbox "+in.Name+err.Error(), func() { d.log.Error().Err(err).Str("inbox", in.Name).Msg("cannot read the inbox") })
			continue
		}
		for _, name := range names {
			if ctx.Err() != nil {
				return nil
			}
			if err := d.claim(in, name); err != nil {
				var pe *fs.PathError
				if errors.As(err, &pe) && errors.Is(err, fs.ErrNotExist) {
					continue // taken away meanwhile
				}
				return fmt.Errorf("claim %s from inbox %s: %w", name, in.Name, err)
			}
		}
	}
	return nil
}

// ready lists the cases of an inbox that are complete by its rule. Only
// folders are cases; hidden entries (a producer's temporary names) and
// markers are not. Anything else is named once in the log.
func (d *Daemon) ready(in *config.Inbox) ([]string, error) {
	ents, err := os.ReadDir(in.Path)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, e := range ents {
		have[e.Name()] = true
	}
	var out []string
	now := time.Now()
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "."):
			continue
		case strings.HasSuffix(name, MarkerSuffix) && e.Type().IsRegular():
			if !have[strings.TrimSuffix(name, MarkerSuffix)] {
				d.once(in.Path+"/"+name, func() {
					d.log.Warn().Str("inbox", in.Name).Str("marker", name).Msg("a ready marker without its case folder; waiting for the case")
				})
			}
			continue
		case isDelivery(in, e):
			// a delivery
		default:
			d.once(in.Path+"/"+name, func() {
				d.log.Warn().Str("inbox", in.Name).Str("entry", name).Str("type", e.Type().String()).
					Msg("not a case folder (a file, link, pipe or device at the top of the inbox); left alone")
			})
			continue
		}
		switch in.Ready {
		case "rename":
			out = append(out, name)
		case "marker":
			if st, err := os.Lstat(filepath.Join(in.Path, name+MarkerSuffix)); err == nil && st.Mode().IsRegular() {
				out = append(out, name)
			}
		case "settle":
			key := in.Path + "/" + name
			sum := fingerprint(filepath.Join(in.Path, name))
			d.mu.Lock()
			s, seen := d.settle[key]
			if !seen || s.sum != sum {
				d.settle[key] = snapshot{sum, now}
			} else if now.Sub(s.since) >= in.SettleD {
				out = append(out, name)
				delete(d.settle, key)
			}
			d.mu.Unlock()
		}
	}
	return out, nil
}

// isDelivery reports whether an inbox entry is a delivery of the inbox's
// kind: a folder, or for a zip inbox a .zip file. Hidden names (a
// producer's temporary copies) never are.
func isDelivery(in *config.Inbox, e fs.DirEntry) bool {
	name := e.Name()
	switch {
	case strings.HasPrefix(name, "."):
		return false
	case in.Kind == "zip" || in.Kind == "xdomea":
		return e.Type().IsRegular() && strings.HasSuffix(strings.ToLower(name), ".zip")
	}
	return e.IsDir()
}

// waiting lists an inbox's deliveries, ready or not.
func waiting(in *config.Inbox) []string {
	ents, _ := os.ReadDir(in.Path)
	var out []string
	for _, e := range ents {
		if isDelivery(in, e) {
			out = append(out, e.Name())
		}
	}
	return out
}

// fingerprint sums every name, size, time and type below dir: a case still
// being copied changes it.
func fingerprint(dir string) [32]byte {
	h := sha256.New()
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(h, "%s error %v\n", p, err)
			return nil
		}
		info, err := e.Info()
		if err == nil {
			fmt.Fprintf(h, "%q %d %d %v\n", p, info.Size(), info.ModTime().UnixNano(), info.Mode())
		}
		return nil
	})
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// claim takes a finished case out of its inbox: the claim record with the
// AIP id is written first, then one rename moves the case into the work
// area. A crash before the rename leaves the case in its inbox and a work
// folder without a case, which is removed on the next start.
func (d *Daemon) claim(in *config.Inbox, name string) error {
	id, err := aip.NewID()
	if err != nil {
		return err
	}
	c := &Claim{ID: id.String(), Inbox: in.Name, Name: name, Claimed: time.Now().UTC(),
		dir: filepath.Join(workDir(d.conf()), id.Name()), id: id, Zip: in.Kind == "zip" || in.Kind == "xdomea"}
	override := filepath.Join(in.Path, overrideName(name))
	if b, err := os.ReadFile(override); err == nil {
		c.Override = strings.TrimSpace(string(b))
	}
	if err := os.Mkdir(c.dir, 0o750); err != nil {
		return err
	}
	if err := c.save(); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(workDir(d.conf())); err != nil {
		return err
	}
	d.crash("claim-recorded")
	// An override is in claim.json now; its file goes before the case, so
	// that it can never apply to a later delivery of the same name (a crash
	// in between loses it: the case is refused again, never accepted).
	if c.Override != "" {
		if err := os.Remove(override); err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.RemoveAll(c.dir)
			return err
		}
	}
	// The marker goes before the case: a marker left behind would make a
	// later delivery of the same name look complete while it is copied. A
	// crash in between is repaired by claimed(), which puts it back.
	marker := filepath.Join(in.Path, name+MarkerSuffix)
	if in.Ready == "marker" {
		if err := os.Remove(marker); err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.RemoveAll(c.dir)
			return err
		}
	}
	if err := os.Rename(filepath.Join(in.Path, name), c.Delivery()); err != nil {
		os.RemoveAll(c.dir)
		if in.Ready == "marker" {
			atomicfile.WriteFile(marker, nil, 0o640)
		}
		return err
	}
	if err := atomicfile.SyncDir(in.Path); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(c.dir); err != nil {
		return err
	}
	d.crash("claimed")
	d.log.Info().Str("inbox", in.Name).Str("case", name).Str("aip", c.ID).Msg("case claimed")
	return nil
}

func sortClaims(cs []*Claim) {
	sort.Slice(cs, func(i, j int) bool {
		if !cs[i].Claimed.Equal(cs[j].Claimed) {
			return cs[i].Claimed.Before(cs[j].Claimed)
		}
		return cs[i].ID < cs[j].ID
	})
}
