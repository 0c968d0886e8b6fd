package demo

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
	"github.com/rs/zerolog"
)

// Options are the demo's: where it works, whether the service keeps
// running for more cases, where it narrates and logs.
type Options struct {
	Dir         string // folder for the configuration, inbox, data and export
	KeepRunning bool   // leave the service running until ctx ends
	Out, Log    io.Writer
	Version     string
}

// Run is the demo: the service collects case files from an inbox, as a
// DMS export delivers them, and archives them; then one AIP is verified
// and exported again, byte-identical. Each step is told on o.Out.
func Run(ctx context.Context, o Options) error {
	w := o.Out
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return err
	}
	setup, err := Prepare(dir)
	if err != nil {
		return err
	}
	cfg, err := config.Load(setup.ConfigPath)
	if err != nil {
		return err
	}
	log := archive.NewLogger(o.Log, cfg.Log.Level, cfg.Log.Format)
	cases := setup.Cases
	fmt.Fprintf(w, "1. configuration written: %s\n   sample case files: %s\n", setup.ConfigPath, setup.Samples)
	ListTree(w, filepath.Join(setup.Samples, cases[0]))

	fmt.Fprintf(w, "\n2. archivd run --config %s  (storage %s, catalog %s)\n", setup.ConfigPath, cfg.Locations[0].Path, filepath.Join(cfg.DataDir, "catalog.db"))
	svc, err := Start(ctx, cfg, log, o.Version)
	if err != nil {
		return err
	}
	inbox := cfg.Inboxes[0].Path
	fmt.Fprintf(w, "\n3. a DMS export delivers %d case files into %s (each copied under a hidden name, renamed in, then marked <case>.ready)\n", len(cases), inbox)
	var outcome *Outcome
	if err = setup.Deliver(inbox); err == nil {
		outcome, err = setup.Wait(ctx, svc.Archive, cfg)
	}
	if err != nil {
		svc.Stop(ctx)
		return err
	}
	id := outcome.Archived[cases[0]]
	fmt.Fprintf(w, "   %s archived as %s\n   %s archived as %s\n", cases[0], id, cases[1], outcome.Archived[cases[1]])
	if idents, err := svc.Archive.Catalog().Identifications(ctx, id.String(), 1); err == nil {
		fmt.Fprintf(w, "   formats of %s (built-in signature set; configure a DROID signature file for full PRONOM):\n", cases[0])
		for _, i := range idents {
			fmt.Fprintf(w, "     %-10s %-8s %-12s %s\n", i.PUID, i.Decision, i.Validity, strings.TrimPrefix(i.Path, aip.RepresentationDir))
		}
	}
	q := outcome.Quarantined
	fmt.Fprintf(w, "   %s refused and quarantined in %s; its REASON.txt says:\n", cases[2], q.Dir)
	if b, err := q.ReasonText(); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			fmt.Fprintf(w, "     | %s\n", l)
		}
	}
	obj := filepath.Join(cfg.Locations[0].Path, filepath.FromSlash(ocfl.ObjectPath(id.String())))
	fmt.Fprintf(w, "   the inbox is empty again; the AIP is stored as OCFL object %s\n", obj)
	ListTree(w, obj)

	if o.KeepRunning {
		fmt.Fprintf(w, "\narchivd run keeps running. Drop case folders into %s and mark each with <case>.ready;\n"+
			"watch with: go run ./cmd/archivd status --config %s\nStop with Ctrl-C.\n", inbox, setup.ConfigPath)
		<-ctx.Done()
	}
	if err := svc.Stop(ctx); err != nil {
		return err
	}
	fmt.Fprintln(w, "   archivd run stopped cleanly")
	if o.KeepRunning {
		return nil
	}
	out := filepath.Join(dir, "export", id.Name())
	if err := verifyAndExport(ctx, w, cfg, log, o.Version, id, out); err != nil {
		return err
	}
	if same, err := SameTree(filepath.Join(setup.Samples, cases[0]), out); err != nil || !same {
		return fmt.Errorf("exported files differ from the case file: %v", err)
	}
	fmt.Fprintf(w, "   exported files are byte-identical to the case file, names and modification times restored\n")
	p := setup.ConfigPath
	fmt.Fprintf(w, "\nDone. Try on the demo's data:\n  go run ./cmd/archivd status --config %s\n  go run ./cmd/archivd quarantine list --config %s\n  go run ./cmd/archivd audit verify --config %s\n  go run ./cmd/archivd ocfl validate %s\n",
		p, p, p, cfg.Locations[0].Path)
	fmt.Fprintf(w, "An auditor can check the package without archivd: see docs/verify-without-archivd.md\n")
	return nil
}

// verifyAndExport verifies the AIP and exports it to out, as archivd
// verify and archivd export do.
func verifyAndExport(ctx context.Context, w io.Writer, cfg *config.Config, log zerolog.Logger, version string, id aip.ID, out string) error {
	a, err := archive.Open(ctx, cfg, archive.Options{Mode: archive.Shared, Log: log, Version: version, Purpose: "demo"})
	if err != nil {
		return err
	}
	defer a.Close(context.WithoutCancel(ctx))
	fmt.Fprintf(w, "\n4. archivd verify %s\n", id)
	rep, err := a.Verify(ctx, id)
	if rep != nil {
		rep.WriteText(w)
	}
	if err != nil {
		return err
	}
	switch {
	case rep.Damaged():
		return fmt.Errorf("verify %s: %w", id, storage.ErrDigest)
	case rep.Unavailable():
		return fmt.Errorf("verify %s: %w", id, storage.ErrUnavailable)
	}
	fmt.Fprintf(w, "\n5. archivd export %s %s\n", id, out)
	ex, err := a.Export(ctx, id, 0, out)
	if err != nil {
		return err
	}
	ex.WriteText(w, id, out)
	return nil
}
