package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/sign"
)

// actor is the account running this command, with an optional display name.
func (c *cli) actor(name string) (archive.Actor, int) {
	who, err := archive.CurrentActor(name)
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		return who, exitFailure
	}
	return who, exitOK
}

// asActor parses a command's subcommand and flags for a step taken in an
// account's name (--name beside the OS account) and finds the account.
func (c *cli) asActor(cmd string, args []string, extra func(*flag.FlagSet)) (*config.Config, []string, archive.Actor, int) {
	if len(args) == 0 {
		return nil, nil, archive.Actor{}, c.usage(cmd)
	}
	var name string
	cfg, pos, code := c.configured(cmd+" "+args[0], args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "your name, recorded beside your account")
		if extra != nil {
			extra(fs)
		}
	})
	if code != exitOK {
		return nil, nil, archive.Actor{}, code
	}
	who, code := c.actor(name)
	return cfg, pos, who, code
}

// parseIDs reads AIP ids, naming any that is not one.
func (c *cli) parseIDs(args []string) ([]aip.ID, bool) {
	var ids []aip.ID
	for _, s := range args {
		id, err := aip.ParseID(s)
		if err != nil {
			fmt.Fprintf(c.errw, "archivd: %v\n", err)
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, len(ids) > 0
}

func (c *cli) holdList(ctx context.Context, cfg *config.Config) int {
	return c.withArchive(ctx, cfg, archive.Shared, func(a *archive.Archive) int {
		hs, err := a.Catalog().OpenHolds(ctx, "")
		if err != nil {
			return c.fail(err, exitFailure)
		}
		archive.WriteHolds(c.out, hs)
		return exitOK
	})
}

// retentionCmd: retention classes | due | recompute.
func (c *cli) retentionCmd(ctx context.Context, args []string) int {
	if len(args) == 0 {
		return c.usage("retention")
	}
	var before, format, class, name string
	cfg, pos, code := c.configured("retention "+args[0], args[1:], func(fs *flag.FlagSet) {
		switch args[0] {
		case "due":
			fs.StringVar(&before, "before", "", "due before this date, YYYY-MM-DD (default: now)")
			fs.StringVar(&format, "format", "table", "table, csv or json")
		case "recompute":
			fs.StringVar(&class, "class", "", "only AIPs now or before in this class")
			fs.StringVar(&name, "name", "", "your name, recorded beside your account")
		}
	})
	if code != exitOK {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(c.errw, "archivd retention %s: unexpected %q\n", args[0], pos[0])
		return exitUsage
	}
	switch args[0] {
	case "classes":
		return c.withArchive(ctx, cfg, archive.Shared, func(a *archive.Archive) int {
			classes, other, err := a.RetentionClasses(ctx)
			if err != nil {
				return c.fail(err, exitFailure)
			}
			archive.WriteRetentionClasses(c.out, classes, other)
			return exitOK
		})
	case "due":
		t := time.Now()
		if before != "" {
			d, err := time.ParseInLocation("2006-01-02", before, cfg.Zone)
			if err != nil {
				fmt.Fprintf(c.errw, "archivd retention due: --before %q: a date YYYY-MM-DD\n", before)
				return exitUsage
			}
			t = d
		}
		return c.withArchive(ctx, cfg, archive.Shared, func(a *archive.Archive) int {
			due, err := a.RetentionDue(ctx, t)
			if err != nil {
				return c.fail(err, exitFailure)
			}
			if err := archive.WriteDue(c.out, due, format); err != nil {
				fmt.Fprintf(c.errw, "archivd retention due: %v\n", err)
				return exitUsage
			}
			return exitOK
		})
	case "recompute":
		who, code := c.actor(name)
		if code != exitOK {
			return code
		}
		return c.withArchive(ctx, cfg, archive.Writer, func(a *archive.Archive) int {
			changes, err := a.RecomputeRetention(ctx, class, who)
			for _, ch := range changes {
				fmt.Fprintln(c.out, ch)
			}
			if err != nil {
				fmt.Fprintf(c.errw, "archivd: retention recompute: %v\n", err)
				return exitCode(err)
			}
			fmt.Fprintf(c.out, "%d AIP(s) changed; each change is in the audit trail\n", len(changes))
			return exitOK
		})
	}
	return c.usage("retention")
}

// disposeCmd: dispose propose | approve | execute | list | show.
func (c *cli) disposeCmd(ctx context.Context, args []string) int {
	var reason string
	cfg, pos, who, code := c.asActor("dispose", args, func(fs *flag.FlagSet) {
		if args[0] == "propose" {
			fs.StringVar(&reason, "reason", "", "why these AIPs go (recorded, and in the certificate)")
		}
	})
	if code != exitOK {
		return code
	}
	switch {
	case args[0] == "propose" && len(pos) > 0:
		ids, ok := c.parseIDs(pos)
		if !ok {
			return exitUsage
		}
		return c.withArchive(ctx, cfg, archive.Writer, func(a *archive.Archive) int {
			b, err := a.Propose(ctx, ids, reason, who)
			if err != nil {
				return c.fail(err, exitDataErr)
			}
			fmt.Fprintf(c.out, "batch %s proposed (%s, %d AIPs) by %s\nnext: another account approves it: archivd dispose approve --config %s %s\n", b.ID, b.Action, len(ids), who, cfg.Path, b.ID)
			return exitOK
		})
	case args[0] == "approve" && len(pos) == 1:
		return c.withArchive(ctx, cfg, archive.Writer, func(a *archive.Archive) int {
			b, err := a.Approve(ctx, pos[0], who)
			if err != nil {
				return c.fail(err, exitDataErr)
			}
			next := "archivd dispose execute --config " + cfg.Path + " " + b.ID
			if b.Action == "offer" {
				next = "archivd offer export --config " + cfg.Path + " " + b.ID + " DIR"
			}
			fmt.Fprintf(c.out, "batch %s approved by %s (proposed by %s)\nnext: %s\n", b.ID, who, b.ProposedBy, next)
			return exitOK
		})
	case args[0] == "execute" && len(pos) == 1:
		return c.executeBatch(ctx, cfg, who, func(a *archive.Archive) (*archive.Executed, error) {
			return a.Execute(ctx, pos[0], who)
		})
	case args[0] == "list" && len(pos) == 0:
		return c.withArchive(ctx, cfg, archive.Shared, func(a *archive.Archive) int {
			bs, err := a.Catalog().Batches(ctx)
			if err != nil {
				return c.fail(err, exitFailure)
			}
			archive.WriteBatches(c.out, bs)
			return exitOK
		})
	case args[0] == "show" && len(pos) == 1:
		return c.withArchive(ctx, cfg, archive.Shared, func(a *archive.Archive) int {
			b, items, err := a.Catalog().GetBatch(ctx, pos[0])
			if err != nil {
				return c.fail(err, exitCode(err))
			}
			archive.WriteBatch(c.out, b, items)
			return exitOK
		})
	}
	return c.usage("dispose")
}

// executeBatch runs an execution and prints what it destroyed and kept.
func (c *cli) executeBatch(ctx context.Context, cfg *config.Config, who archive.Actor, run func(*archive.Archive) (*archive.Executed, error)) int {
	return c.withArchive(ctx, cfg, archive.Writer, func(a *archive.Archive) int {
		ex, err := run(a)
		if ex != nil {
			ex.WriteText(c.out)
		}
		if err != nil {
			return c.fail(err, exitCode(err))
		}
		fmt.Fprintf(c.out, "batch %s executed by %s: %d destroyed, %d kept, %d stored object versions removed\ncertificate: %s (signed: %s%s)\n",
			ex.Batch.ID, who, len(ex.Destroyed), len(ex.Kept), ex.Objects, ex.Certificate, ex.Certificate, sign.Suffix)
		if len(ex.Kept) > 0 {
			return exitDataErr
		}
		return exitOK
	})
}

// offerCmd: offer export BATCH DIR | offer confirm BATCH.
func (c *cli) offerCmd(ctx context.Context, args []string) int {
	cfg, pos, who, code := c.asActor("offer", args, nil)
	if code != exitOK {
		return code
	}
	switch {
	case args[0] == "export" && len(pos) == 2:
		return c.withArchive(ctx, cfg, archive.Writer, func(a *archive.Archive) int {
			bags, err := a.OfferExport(ctx, pos[0], pos[1], who)
			for _, b := range bags {
				fmt.Fprintf(c.out, "bag %s\n", b)
			}
			if err != nil {
				return c.fail(err, exitCode(err))
			}
			fmt.Fprintf(c.out, "batch %s: %d BagIt bag(s) and offer-%s.csv in %s; the AIPs stay until the archive confirms: archivd offer confirm --config %s %s\n",
				pos[0], len(bags), pos[0], pos[1], cfg.Path, pos[0])
			return exitOK
		})
	case args[0] == "confirm" && len(pos) == 1:
		return c.executeBatch(ctx, cfg, who, func(a *archive.Archive) (*archive.Executed, error) {
			return a.OfferConfirm(ctx, pos[0], who)
		})
	}
	return c.usage("offer")
}
