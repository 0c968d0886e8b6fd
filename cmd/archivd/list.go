package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"text/tabwriter"

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
	switch format {
	case "json":
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	case "csv":
		w := csv.NewWriter(c.out)
		w.Write([]string{"id", "reference", "title", "agency", "record_class", "closed", "versions", "size", "copies"})
		for _, l := range out {
			w.Write([]string{l.ID, l.Reference, l.Title, l.Agency, l.RecordClass, l.Closed, fmt.Sprint(l.Versions), fmt.Sprint(l.Size), strings.Join(l.Copies, "; ")})
		}
		w.Flush()
	default:
		tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "AIP\tAKTENZEICHEN\tTITLE\tCLOSED\tSIZE\tCOPIES")
		for _, l := range out {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", l.ID, l.Reference, shorten(l.Title, 40), l.Closed, l.Size, strings.Join(l.Copies, ", "))
		}
		tw.Flush()
		fmt.Fprintf(c.out, "%d AIP(s)\n", len(out))
	}
	return exitOK
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
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
