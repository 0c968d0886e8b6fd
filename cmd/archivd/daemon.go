package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/daemon"
)

// runDaemon is archivd run: the long-running service in the foreground.
func (c *cli) runDaemon(ctx context.Context, args []string) int {
	cfg, pos, code := c.configured("run", args, nil)
	if code != exitOK {
		return code
	}
	if len(pos) != 0 {
		return c.usage("run")
	}
	err := daemon.Serve(ctx, cfg, archive.Options{Wait: c.wait, Log: c.log, Version: version, Purpose: c.command})
	switch {
	case errors.Is(err, daemon.ErrCannotGoOn):
		return exitFailure // logged
	case err != nil:
		return c.fail(err, exitCode(err))
	}
	return exitOK
}

// status shows what the daemon is doing; it takes no lock.
func (c *cli) status(ctx context.Context, args []string) int {
	cfg, _, code := c.configured("status", args, nil)
	if code != exitOK {
		return code
	}
	st, err := daemon.StatusOf(ctx, cfg)
	if err != nil {
		return c.fail(err, exitFailure)
	}
	st.WriteText(c.out, cfg.Inboxes)
	return exitOK
}

// quarantine lists, shows and retries refused cases.
func (c *cli) quarantine(ctx context.Context, args []string) int {
	if len(args) == 0 {
		return c.usage("quarantine")
	}
	var override string
	cfg, pos, code := c.configured("quarantine "+args[0], args[1:], func(fs *flag.FlagSet) {
		if args[0] == "retry" {
			fs.StringVar(&override, "accept-formats", "", "accept this case's format policy refusals; say who and why")
		}
	})
	if code != exitOK {
		return code
	}
	switch {
	case args[0] == "list" && len(pos) == 0:
		qs, err := daemon.ListQuarantine(cfg)
		if err != nil {
			return c.fail(err, exitFailure)
		}
		daemon.WriteQuarantineList(c.out, qs)
		return exitOK
	case args[0] == "show" && len(pos) == 1:
		q, err := daemon.FindQuarantined(cfg, pos[0])
		if err != nil {
			return c.fail(err, exitUsage)
		}
		b, err := q.ReasonText()
		if err != nil {
			return c.fail(err, exitFailure)
		}
		fmt.Fprintf(c.out, "%s\n%s", q.Dir, b)
		return exitOK
	case args[0] == "retry" && len(pos) == 1:
		return c.withArchive(ctx, cfg, archive.Shared, func(a *archive.Archive) int {
			dst, err := daemon.Retry(ctx, cfg, a.Trail(), pos[0], override)
			if err != nil {
				return c.fail(err, exitUsage)
			}
			fmt.Fprintf(c.out, "%s is back in its inbox as %s; archivd run claims it again\n", pos[0], dst)
			return exitOK
		})
	}
	return c.usage("quarantine")
}
