package archive

import (
	"context"
	"fmt"
	"time"

	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/fixity"
	"github.com/archivd/archivd/report"
	"github.com/archivd/archivd/sign"
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
		o.Cycle = a.cycle()
	}
	if o.Interval == 0 && !o.All && len(o.AIPs) == 0 {
		// By hand, without --all: the share the schedule would take now.
		o.Interval = config.Interval(a.conf().Schedule.Fixity, a.conf().Zone)
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

// cycle is the configured fixity cycle.
func (a *Archive) cycle() time.Duration {
	return time.Duration(a.conf().Fixity.CycleDays) * 24 * time.Hour
}

// locationNames are the configured locations, in order.
func (a *Archive) locationNames() []string {
	var out []string
	for _, l := range a.conf().Locations {
		out = append(out, l.Name)
	}
	return out
}

// FixityStatus is the coverage of every configured location within the
// fixity cycle, and the open damage; it reads the catalog only.
func (a *Archive) FixityStatus(ctx context.Context, now time.Time) (*fixity.Status, error) {
	return fixity.StatusOf(ctx, a.cat, a.locationNames(), a.cycle(), now)
}

// SigningKey loads the archive's signing key (signing.key_file or the
// systemd credential).
func (a *Archive) SigningKey() (*sign.Key, error) { return sign.Load(a.conf().SigningKeyPath()) }

// BuildReport writes the signed fixity report of period (YYYY-MM; "" the
// last full month) into dir ("" fixity.reports).
func (a *Archive) BuildReport(ctx context.Context, period, dir string, now time.Time) (string, *report.Report, error) {
	cfg := a.conf()
	if period == "" {
		period = now.In(cfg.Zone).AddDate(0, 0, -now.In(cfg.Zone).Day()).Format("2006-01")
	}
	if dir == "" {
		dir = cfg.Fixity.Reports
	}
	key, err := a.SigningKey()
	if err != nil {
		return "", nil, err
	}
	return report.Build(ctx, a.cat, key, report.Input{Period: period, Zone: cfg.Zone, Locations: a.locationNames(), Cycle: a.cycle(),
		Organization: cfg.Archive.Organization, Contact: cfg.Archive.Contact, Generator: a.Agent(), Dir: dir, Now: now})
}

// Keygen creates the archive's signing key at out, or at signing.key_file;
// with signing.systemd the key must be made at out and then encrypted as
// the credential.
func Keygen(cfg *config.Config, out string) (*sign.Key, error) {
	if out == "" {
		if c := cfg.Signing.Systemd; c != "" {
			return nil, fmt.Errorf("signing.systemd is set: create the key with --out FILE, then encrypt it as the credential:\n  systemd-creds encrypt --name=%s FILE /etc/credstore.encrypted/%s\nand remove FILE", c, c)
		}
		out = cfg.Signing.KeyFile
	}
	return sign.Generate(out)
}
