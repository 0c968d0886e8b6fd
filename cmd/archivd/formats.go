package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/formats"
	"github.com/archivd/archivd/ingest"
)

// identifierLine says which identifier and signature files produced a result.
func identifierLine(id *formats.Identifier) string {
	return fmt.Sprintf("archivd %s; %s", version, id.Describe())
}

func (c *cli) identify(ctx context.Context, args []string) int {
	var format, sigs, conts, cfgPath string
	pos, ok := c.flags("identify", args, func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "table", "table, csv or json")
		fs.StringVar(&sigs, "signatures", "", "DROID signature file, or built-in (default: configured, installed, else the PRONOM files shipped in archivd)")
		fs.StringVar(&conts, "container-signatures", "", "DROID container signature file")
		fs.StringVar(&cfgPath, "config", "", "configuration file (signature files, validators, policy)")
	})
	if !ok || len(pos) == 0 || (format != "table" && format != "csv" && format != "json") {
		return c.usage("identify")
	}
	cfg, code := c.optionalConfig(cfgPath)
	if code != exitOK {
		return code
	}
	a, err := archive.NewAnalyzer(cfg, sigs, conts)
	if err != nil {
		return c.fail(err, exitConfig)
	}
	found, err := archive.Identify(ctx, a, pos)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(c.errw, "archivd: identify: interrupted")
		return exitFailure
	case err != nil:
		return c.fail(err, exitDataErr)
	}
	for _, p := range found.Skipped {
		fmt.Fprintf(c.errw, "archivd: %s: not a regular file (a link, pipe or device); left out\n", p)
	}
	for _, f := range found.Failed {
		fmt.Fprintf(c.errw, "archivd: %s: %v\n", f.Path, f.Err)
	}
	found.Write(c.out, format, identifierLine(a.ID))
	if len(found.Failed) > 0 {
		return exitFailure
	}
	return exitOK
}

func (c *cli) policyCheck(ctx context.Context, args []string) int {
	cfg, pos, code := c.configured("policy check", args, nil)
	if code != exitOK {
		return code
	}
	if len(pos) != 1 || pos[0] == "" {
		return c.missing("policy check", "DIR (the case folder to check)")
	}
	// A dry run of ingest (archive.PolicyCheck): the same refusals and words.
	rep, err := archive.PolicyCheck(ctx, cfg, pos[0])
	var ie *ingest.InputError
	switch {
	case errors.As(err, &ie) && !ie.Policy:
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		fmt.Fprintln(c.out, "The case file would be refused (Die Akte würde abgelehnt).")
		return exitCode(err)
	case err != nil && rep == nil:
		return c.fail(err, exitCode(err))
	}
	rejected := rep.WriteText(c.out, identifierLine(rep.Identifier))
	if rejected {
		fmt.Fprintln(c.out, "The case file would be refused (Die Akte würde abgelehnt).")
		return exitDataErr
	}
	return exitOK
}
