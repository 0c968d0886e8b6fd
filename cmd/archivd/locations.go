package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage/s3"
)

// locationsCheck tells for each location whether it is usable, in plain words.
func (c *cli) locationsCheck(ctx context.Context, args []string) int {
	cfg, _, code := c.configured("locations check", args, nil)
	if code != exitOK {
		return code
	}
	bad := false
	for _, loc := range cfg.Locations {
		st, err := archive.OpenLocation(ctx, loc)
		if err != nil {
			fmt.Fprintf(c.out, "%s (%s): NOT USABLE: %v\n", loc.Name, loc.Type, err)
			bad = true
			continue
		}
		switch s := st.(type) {
		case *s3.Store:
			p := s.Probe(ctx)
			state := "OK"
			if len(p.Problems) > 0 {
				state, bad = "NOT USABLE", true
			}
			versioning, lock := p.Versioning, "off"
			if versioning == "" {
				versioning = "off"
			}
			if p.ObjectLock {
				lock = "on"
			}
			writable := fmt.Sprint(p.Writable)
			if !p.Checked {
				versioning, lock, writable = "not checked", "not checked", "not checked"
			}
			fmt.Fprintf(c.out, "%s (s3 %s bucket %s): %s\n  reachable: %v, bucket: %v, writable: %s, versioning: %s, object lock: %s\n",
				loc.Name, loc.Endpoint, loc.Bucket, state, p.Reachable, p.BucketFound, writable, versioning, lock)
			for _, m := range p.Problems {
				fmt.Fprintf(c.out, "  problem: %s\n", m)
			}
			for _, m := range p.Warnings {
				fmt.Fprintf(c.out, "  warning: %s\n", m)
			}
		default:
			r := ocfl.ValidateRoot(os.DirFS(loc.Path))
			if !r.Valid() {
				fmt.Fprintf(c.out, "%s (local %s): NOT USABLE: the storage root is not valid OCFL: %v\n", loc.Name, loc.Path, r.Errors[0])
				bad = true
				continue
			}
			f, err := os.CreateTemp(filepath.Dir(loc.Path), ".archivd-probe-*")
			if err != nil {
				fmt.Fprintf(c.out, "%s (local %s): NOT USABLE: not writable: %v\n", loc.Name, loc.Path, err)
				bad = true
				continue
			}
			f.Close()
			os.Remove(f.Name())
			fmt.Fprintf(c.out, "%s (local %s): OK\n  writable, valid OCFL storage root with %d object(s)\n", loc.Name, loc.Path, r.Objects)
		}
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
		fmt.Fprintf(c.out, "replicate: %d AIP version(s) checked, %d copy(ies) made, %d failed\n", st.Checked, st.Copied, len(st.Failed))
		for _, f := range st.Failed {
			fmt.Fprintf(c.out, "  failed: %s\n", f)
		}
		if len(st.Failed) > 0 {
			return exitUnavailable
		}
		return exitOK
	})
}

// hold sets or clears the legal hold on every copy of an AIP.
func (c *cli) hold(ctx context.Context, args []string) int {
	cfg, pos, code := c.configured("hold", args, nil)
	if code != exitOK {
		return code
	}
	if len(pos) != 2 || (pos[0] != "set" && pos[0] != "clear") {
		fmt.Fprintln(c.errw, "usage: archivd hold set|clear --config FILE AIP-ID")
		return exitUsage
	}
	id, err := aip.ParseID(pos[1])
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		return exitUsage
	}
	on := pos[0] == "set"
	return c.withArchive(ctx, cfg, archive.Writer, func(a *archive.Archive) int {
		res, err := a.Hold(ctx, id, on)
		failed := false
		for _, r := range res {
			switch {
			case !r.Locked:
				fmt.Fprintf(c.out, "%s: no Object Lock at this location; nothing to hold\n", r.Location)
			case r.Err != nil:
				failed = true
				fmt.Fprintf(c.out, "%s: FAILED: %v\n", r.Location, r.Err)
			default:
				fmt.Fprintf(c.out, "%s: legal hold %s\n", r.Location, map[bool]string{true: "set", false: "cleared"}[on])
			}
		}
		if err != nil {
			fmt.Fprintf(c.errw, "archivd: %v\n", err)
			return exitCode(err)
		}
		if failed {
			return exitUnavailable
		}
		return exitOK
	})
}
