package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
)

// Waiting is an interrupted ingest whose spool is kept: its package was
// built and verified, so the next ingest of Source resumes it with the
// same AIP id.
type Waiting struct {
	AIP, Source, State string
	Bytes              int64
}

// CleanStaging looks at every spool in the staging folder after a crash
// or kill, before any ingest starts. A spool whose package is complete
// (packaged, or stored at some locations) is kept for its resume; every
// other one is removed: a package interrupted while it was built (its
// record stays "described", so the next ingest of the folder builds it
// again under the same id), the leftover of a committed or failed ingest,
// or a folder no ingest record knows. The caller holds the lock.
func CleanStaging(ctx context.Context, cat *catalog.DB, staging string) (removed []string, waiting []Waiting, err error) {
	ents, err := os.ReadDir(staging)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, fmt.Errorf("staging %s: %w", staging, err)
	}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return removed, waiting, err
		}
		if name, ok := strings.CutSuffix(e.Name(), lockSuffix); ok {
			// A lock left by a crash after its spool went: take it to remove it.
			if id, perr := aip.ParseID(name); perr == nil {
				if _, serr := os.Lstat(filepath.Join(staging, name)); errors.Is(serr, os.ErrNotExist) {
					if unlock, lerr := LockSpool(staging, id); lerr == nil {
						unlock()
					}
				}
			}
			continue
		}
		gone, w, err := cleanSpool(ctx, cat, staging, e)
		if err != nil {
			return removed, waiting, err
		}
		if w != nil {
			waiting = append(waiting, *w)
		}
		if gone {
			removed = append(removed, e.Name())
		}
	}
	return removed, waiting, nil
}

// cleanSpool removes one staging entry unless it is a resumable spool (then
// it says so) or another process works on it; the spool's lock is held
// only while it is looked at.
func cleanSpool(ctx context.Context, cat *catalog.DB, staging string, e os.DirEntry) (removed bool, w *Waiting, err error) {
	p := filepath.Join(staging, e.Name())
	if id, perr := aip.ParseID(e.Name()); perr == nil {
		unlock, lerr := LockSpool(staging, id)
		if lerr != nil {
			return false, nil, nil // an ingest in another process works on it right now
		}
		defer unlock()
		if e.IsDir() {
			rec, gerr := cat.GetIngest(ctx, id.String())
			switch {
			case gerr == nil && (rec.State == StatePackaged || rec.State == StatePartial):
				return false, &Waiting{AIP: rec.AIP, Source: rec.Source, State: rec.State, Bytes: treeSize(p)}, nil
			case gerr != nil && !errors.Is(gerr, catalog.ErrNotFound):
				return false, nil, gerr
			}
		}
	}
	if err := os.RemoveAll(p); err != nil {
		return false, nil, fmt.Errorf("staging: remove %s: %w", p, err)
	}
	return true, nil, nil
}

const lockSuffix = ".lock"

// ErrSpoolBusy: another process is working on this AIP's spool.
var ErrSpoolBusy = errors.New("another archivd process is archiving this case right now")

// LockSpool takes the lock of an AIP's spool (staging/<name>.lock), which
// an ingest holds for as long as it works, so that the start-up cleanup of
// another process (a daemon starting while a command ingests) never takes
// a spool from under it. The lock file goes with the unlock.
func LockSpool(staging string, id aip.ID) (unlock func(), err error) {
	if err := os.MkdirAll(staging, 0o750); err != nil {
		return nil, err
	}
	p := filepath.Join(staging, id.Name()+lockSuffix)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", id, ErrSpoolBusy)
		}
		return nil, err
	}
	return func() {
		os.Remove(p)
		f.Close()
	}, nil
}

func treeSize(p string) int64 {
	var n int64
	filepath.Walk(p, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}
