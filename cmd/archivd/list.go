package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"

	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/catalog"
)

// list shows the archived AIPs; it reads the catalog only and takes no lock.
func (c *cli) list(ctx context.Context, args []string) int {
	var f catalog.AIPFilter
	format := "table"
	cfg, pos, code := c.configured("list", args, func(fs *flag.FlagSet) {
		fs.StringVar(&f.Reference, "reference", "", "Aktenzeichen, or a prefix ending in *")
		fs.StringVar(&f.Agency, "agency", "", "abgebende Stelle")
		fs.StringVar(&f.RecordClass, "record-class", "", "Aktenplan")
		fs.StringVar(&format, "format", "table", "table, csv or json")
	})
	if code != exitOK {
		return code
	}
	if len(pos) != 0 || (format != "table" && format != "csv" && format != "json") {
		return c.missing("list", "nothing but flags")
	}
	out, err := archive.List(ctx, cfg, f)
	if err != nil {
		return c.fail(err, exitFailure)
	}
	archive.WriteList(c.out, out, format)
	return exitOK
}

// commit is set at build time with -ldflags "-X main.commit=...".
var commit = ""

// versionCmd prints archivd's version, commit, Go version and the
// signature files in use (the configured ones with --config, else the
// built-in set).
func (c *cli) versionCmd(args []string) int {
	var cfgPath string
	if _, ok := c.flags("version", args, func(fs *flag.FlagSet) { fs.StringVar(&cfgPath, "config", "", "configuration file") }); !ok {
		return exitUsage
	}
	cfg, code := c.optionalConfig(cfgPath)
	if code != exitOK {
		return code
	}
	fmt.Fprintf(c.out, "archivd %s", version)
	if commit != "" {
		fmt.Fprintf(c.out, " (commit %s)", commit)
	}
	fmt.Fprintf(c.out, "\n%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	a, err := archive.NewAnalyzer(cfg, "", "")
	if err != nil {
		return c.fail(err, exitConfig)
	}
	fmt.Fprintf(c.out, "signatures in use: %s, version %s", a.ID.Source, a.ID.Version)
	if a.ID.SHA256 != "" {
		fmt.Fprintf(c.out, ", sha256 %s", a.ID.SHA256)
	}
	if a.ID.ContVer != "" {
		fmt.Fprintf(c.out, "; container signatures version %s", a.ID.ContVer)
	}
	fmt.Fprintln(c.out)
	return exitOK
}
