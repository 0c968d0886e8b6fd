package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/archive"
)

// locationsCheck tells for each location whether it is usable, in plain words.
func (c *cli) locationsCheck(ctx context.Context, args []string) int {
	cfg, _, code := c.configured("locations check", args, nil)
	if code != exitOK {
		return code
	}
	bad := false
	for _, ch := range archive.CheckLocations(ctx, cfg) {
		bad = bad || !ch.Usable()
		ch.WriteText(c.out)
	}
	if bad {
		return exitUnavailable
	}
	return exitOK
}

// replicateCmd brings every AIP up to the copy policy.
func (c *cli) replicateCmd(ctx context.Context, args []string) int {
	cfg, _, code := c.configured("replicate", args, nil)
	if code != exitOK {
		return code
	}
	return c.withArchive(ctx, cfg, archive.Writer, func(a *archive.Archive) int {
		st, err := a.Replicate(ctx)
		if err != nil {
			fmt.Fprintf(c.errw, "archivd: replicate: %v\n", err)
			return exitFailure
		}
		st.WriteText(c.out)
		if len(st.Failed) > 0 {
			return exitUnavailable
		}
		return exitOK
	})
}

// hold sets or clears the legal hold on AIPs (every copy), or lists holds.
func (c *cli) hold(ctx context.Context, args []string) int {
	var reason, name string
	cfg, pos, code := c.configured("hold", args, func(fs *flag.FlagSet) {
		fs.StringVar(&reason, "reason", "", "why (recorded with who set or cleared it)")
		fs.StringVar(&name, "name", "", "your name, recorded beside your account")
	})
	if code != exitOK {
		return code
	}
	if len(pos) == 1 && pos[0] == "list" {
		return c.holdList(ctx, cfg)
	}
	if len(pos) < 2 || (pos[0] != "set" && pos[0] != "clear") {
		return c.usage("hold")
	}
	ids, ok := c.parseIDs(pos[1:])
	if !ok {
		return exitUsage
	}
	who, code := c.actor(name)
	if code != exitOK {
		return code
	}
	on := pos[0] == "set"
	return c.withArchive(ctx, cfg, archive.Writer, func(a *archive.Archive) int {
		worst := exitOK
		for _, id := range ids {
			if code := c.holdOne(ctx, a, id, on, reason, who); code != exitOK {
				worst = code
			}
		}
		return worst
	})
}

func (c *cli) holdOne(ctx context.Context, a *archive.Archive, id aip.ID, on bool, reason string, who archive.Actor) int {
	res, err := a.Hold(ctx, id, on, reason, who)
	failed := archive.WriteHold(c.out, id, on, who, res, err)
	switch {
	case err != nil:
		return c.fail(err, exitCode(err))
	case failed:
		return exitUnavailable
	}
	return exitOK
}
