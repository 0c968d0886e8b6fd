package archive

import (
	"context"
	"time"

	"github.com/archivd/archivd/fixity"
)

// Checker is the fixity checker over the configured locations.
func (a *Archive) Checker() *fixity.Checker {
	cfg := a.conf()
	return &fixity.Checker{Stores: a.stores, Catalog: a.cat, Trail: a.trail, Log: a.log,
		Staging: a.StagingDir(), Repair: cfg.Fixity.RepairOn()}
}

// Fixity runs fixity checks; settings o leaves zero come from the
// configuration (cycle, max_run, bandwidth, parallel).
func (a *Archive) Fixity(ctx context.Context, o fixity.Options) (*fixity.Run, error) {
	f := a.conf().Fixity
	if o.Cycle == 0 {
		o.Cycle = time.Duration(f.CycleDays) * 24 * time.Hour
	}
	if o.MaxRun == 0 {
		o.MaxRun = f.MaxRunD
	}
	if o.BytesPerSec == 0 {
		o.BytesPerSec = int64(f.BandwidthMiB) << 20
	}
	if o.Parallel == 0 {
		o.Parallel = f.Parallel
	}
	return a.Checker().Run(ctx, o)
}
