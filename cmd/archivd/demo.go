package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/demo"
	"github.com/archivd/archivd/ocfl"
)

// demo runs the main job on the embedded default (package demo does the
// work; this prints it): the service collects case files from an inbox, as
// a DMS export delivers them, and archives them; then one AIP is verified
// and exported again, byte-identical.
func (c *cli) demo(ctx context.Context, args []string) int {
	var dir string
	var keep bool
	if _, ok := c.flags("demo", args, func(fs *flag.FlagSet) {
		fs.StringVar(&dir, "dir", "archivd-demo", "folder for the demo's configuration, inbox, data and export")
		fs.BoolVar(&keep, "keep-running", false, "keep the service running afterwards, to drop more case files in")
	}); !ok {
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(c.errw, "archivd demo: %v\n", err)
		return exitFailure
	}
	dir, _ = filepath.Abs(dir)
	setup, err := demo.Prepare(dir)
	if err != nil {
		return fail(err)
	}
	cfg, code := c.loadConfig(setup.ConfigPath)
	if code != exitOK {
		return code
	}
	cases := setup.Cases
	fmt.Fprintf(c.out, "1. configuration written: %s\n   sample case files: %s\n", setup.ConfigPath, setup.Samples)
	demo.ListTree(c.out, filepath.Join(setup.Samples, cases[0]))

	fmt.Fprintf(c.out, "\n2. archivd run --config %s  (storage %s, catalog %s)\n", setup.ConfigPath, cfg.Locations[0].Path, filepath.Join(cfg.DataDir, "catalog.db"))
	svc, err := demo.Start(ctx, cfg, c.log, version)
	if err != nil {
		return c.fail(err, exitCode(err))
	}
	inbox := cfg.Inboxes[0].Path
	fmt.Fprintf(c.out, "\n3. a DMS export delivers %d case files into %s (each copied under a hidden name, renamed in, then marked <case>.ready)\n", len(cases), inbox)
	var outcome *demo.Outcome
	if err = setup.Deliver(inbox); err == nil {
		outcome, err = setup.Wait(ctx, svc.Archive, cfg)
	}
	if err != nil {
		svc.Stop(ctx)
		return fail(err)
	}
	id := outcome.Archived[cases[0]]
	fmt.Fprintf(c.out, "   %s archived as %s\n   %s archived as %s\n", cases[0], id, cases[1], outcome.Archived[cases[1]])
	if idents, err := svc.Archive.Catalog().Identifications(ctx, id.String(), 1); err == nil {
		fmt.Fprintf(c.out, "   formats of %s (built-in signature set; configure a DROID signature file for full PRONOM):\n", cases[0])
		for _, i := range idents {
			fmt.Fprintf(c.out, "     %-10s %-8s %-12s %s\n", i.PUID, i.Decision, i.Validity, strings.TrimPrefix(i.Path, aip.RepresentationDir))
		}
	}
	q := outcome.Quarantined
	fmt.Fprintf(c.out, "   %s refused and quarantined in %s; its REASON.txt says:\n", cases[2], q.Dir)
	if b, err := q.ReasonText(); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			fmt.Fprintf(c.out, "     | %s\n", l)
		}
	}
	obj := filepath.Join(cfg.Locations[0].Path, filepath.FromSlash(ocfl.ObjectPath(id.String())))
	fmt.Fprintf(c.out, "   the inbox is empty again; the AIP is stored as OCFL object %s\n", obj)
	demo.ListTree(c.out, obj)

	if keep {
		fmt.Fprintf(c.out, "\narchivd run keeps running. Drop case folders into %s and mark each with <case>.ready;\n"+
			"watch with: go run ./cmd/archivd status --config %s\nStop with Ctrl-C.\n", inbox, setup.ConfigPath)
		<-ctx.Done()
	}
	if err := svc.Stop(ctx); err != nil {
		return fail(err)
	}
	fmt.Fprintln(c.out, "   archivd run stopped cleanly")
	if keep {
		return exitOK
	}

	fmt.Fprintf(c.out, "\n4. archivd verify %s\n", id)
	if code := c.verifyWith(ctx, cfg, []aip.ID{id}); code != exitOK {
		return code
	}
	out := filepath.Join(dir, "export", id.Name())
	fmt.Fprintf(c.out, "\n5. archivd export %s %s\n", id, out)
	if code := c.exportWith(ctx, cfg, id, 0, out); code != exitOK {
		return code
	}
	if same, err := demo.SameTree(filepath.Join(setup.Samples, cases[0]), out); err != nil || !same {
		return fail(fmt.Errorf("exported files differ from the case file: %v", err))
	}
	fmt.Fprintf(c.out, "   exported files are byte-identical to the case file, names and modification times restored\n")
	p := setup.ConfigPath
	fmt.Fprintf(c.out, "\nDone. Try on the demo's data:\n  go run ./cmd/archivd status --config %s\n  go run ./cmd/archivd quarantine list --config %s\n  go run ./cmd/archivd audit verify --config %s\n  go run ./cmd/archivd ocfl validate %s\n",
		p, p, p, cfg.Locations[0].Path)
	fmt.Fprintf(c.out, "An auditor can check the package without archivd: see docs/verify-without-archivd.md\n")
	return exitOK
}
