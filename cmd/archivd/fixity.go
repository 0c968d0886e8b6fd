package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/fixity"
	"github.com/archivd/archivd/report"
	"github.com/archivd/archivd/sign"
)

// fixityCmd: fixity run | fixity status.
func (c *cli) fixityCmd(ctx context.Context, args []string) int {
	if len(args) == 0 || (args[0] != "run" && args[0] != "status") {
		return c.usage("fixity")
	}
	if args[0] == "status" {
		return c.fixityStatus(ctx, args[1:])
	}
	var all, quick, full bool
	var aips multi
	var location string
	cfg, pos, code := c.configured("fixity run", args[1:], func(fs *flag.FlagSet) {
		fs.BoolVar(&all, "all", false, "every copy now, whatever the cycle")
		fs.Var(&aips, "aip", "only this AIP (repeatable)")
		fs.StringVar(&location, "location", "", "only copies at this location")
		fs.BoolVar(&quick, "quick", false, "quick check: present, size, stored digest; reads no content")
		fs.BoolVar(&full, "full", false, "full check: every byte of every copy (the default)")
	})
	if code != exitOK {
		return code
	}
	if len(pos) > 0 || (quick && full) {
		return c.usage("fixity run")
	}
	o := fixity.Options{Kind: fixity.Full, All: all || len(aips) > 0, AIPs: aips, Location: location}
	if quick {
		o.Kind = fixity.Quick
	}
	if archive.IsTerminal(c.errw) {
		var bar *progressbar.ProgressBar
		o.Progress = func(done, total int, bytes int64) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(c.errw), progressbar.OptionSetDescription("fixity"),
					progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
			}
			bar.Set(done)
		}
	}
	return c.withArchive(ctx, cfg, archive.Writer, func(a *archive.Archive) int {
		run, err := a.Fixity(ctx, o)
		if run != nil {
			run.WriteText(c.out)
		}
		switch {
		case err != nil:
			fmt.Fprintf(c.errw, "archivd: fixity run: %v\n", err)
			return exitCode(err)
		case run.Count(fixity.OutcomeDamaged) > 0:
			fmt.Fprintln(c.errw, "archivd: DAMAGE THAT COULD NOT BE REPAIRED: see the lines above; the report lists it until a repair")
			return exitDataErr
		case !run.Complete:
			return exitUnavailable
		}
		return exitOK
	})
}

func (c *cli) fixityStatus(ctx context.Context, args []string) int {
	cfg, _, code := c.configured("fixity status", args, nil)
	if code != exitOK {
		return code
	}
	return c.withArchive(ctx, cfg, archive.Shared, func(a *archive.Archive) int {
		now := time.Now()
		st, err := a.FixityStatus(ctx, now)
		if err != nil {
			fmt.Fprintf(c.errw, "archivd: fixity status: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(c.out, "cycle: every copy fully re-read within %d days\n", cfg.Fixity.CycleDays)
		archive.WriteFixityStatus(c.out, st, now)
		if len(st.OpenDamage) > 0 {
			return exitDataErr
		}
		return exitOK
	})
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// keygen creates the archive's signing key.
func (c *cli) keygen(ctx context.Context, args []string) int {
	var out string
	cfg, _, code := c.configured("keygen", args, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "write the key here instead of signing.key_file")
	})
	if code != exitOK {
		return code
	}
	k, err := archive.Keygen(cfg, out)
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: keygen: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(c.out, "private key: %s (mode 0600; keep it secret, back it up)\npublic key:  %s\nfingerprint: %s\n", k.Path, sign.PublicPath(k.Path), k.Public().Fingerprint())
	fmt.Fprintln(c.out, "Publish the fingerprint to your auditors by another way than the reports (a letter, the intranet): it ties the reports to this archive.")
	return exitOK
}

// reportCmd: report build | report verify.
func (c *cli) reportCmd(ctx context.Context, args []string) int {
	if len(args) > 0 && args[0] == "verify" {
		return c.reportVerify(args[1:])
	}
	if len(args) == 0 || args[0] != "build" {
		return c.usage("report")
	}
	var period, dir string
	cfg, _, code := c.configured("report build", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&period, "period", "", "the month, YYYY-MM (default: the last full month)")
		fs.StringVar(&dir, "dir", "", "the reports folder (default fixity.reports)")
	})
	if code != exitOK {
		return code
	}
	return c.withArchive(ctx, cfg, archive.Shared, func(a *archive.Archive) int {
		p, r, err := a.BuildReport(ctx, period, dir, time.Now())
		if err != nil {
			fmt.Fprintf(c.errw, "archivd: report build: %v\n", err)
			return exitFailure
		}
		r.WriteSummary(c.out, p)
		return exitOK
	})
}

func (c *cli) reportVerify(args []string) int {
	var keyPath string
	pos, ok := c.flags("report verify", args, func(fs *flag.FlagSet) {
		fs.StringVar(&keyPath, "key", "", "the archive's public key (PEM) to require")
	})
	if !ok || len(pos) != 1 {
		return c.usage("report verify")
	}
	var pin *sign.Public
	if keyPath != "" {
		k, err := sign.LoadPublic(keyPath)
		if err != nil {
			fmt.Fprintf(c.errw, "archivd: report verify: %v\n", err)
			return exitUsage
		}
		pin = &k
	}
	v, err := report.VerifyFile(pos[0], pin)
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: report verify: %v\n", err)
		if errors.Is(err, fs.ErrNotExist) {
			return exitUsage
		}
		return exitDataErr
	}
	v.WriteText(c.out)
	if !v.OK() {
		return exitDataErr
	}
	if !v.Pinned {
		fmt.Fprintf(c.out, "Signed with key %s: compare it with the fingerprint the archive published (or pass --key).\n", v.Chain[0].Fingerprint)
	}
	return exitOK
}
