package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/archivd/archivd/demo"
)

// demo runs the main job on the embedded default (package demo does the
// work and tells it): the service collects case files from an inbox, as a
// DMS export delivers them, and archives them; then one AIP is verified
// and exported again, byte-identical.
func (c *cli) demo(ctx context.Context, args []string) int {
	o := demo.Options{Out: c.out, Log: c.errw, Version: version}
	if _, ok := c.flags("demo", args, func(fs *flag.FlagSet) {
		fs.StringVar(&o.Dir, "dir", "archivd-demo", "folder for the demo's configuration, inbox, data and export")
		fs.BoolVar(&o.KeepRunning, "keep-running", false, "keep the service running afterwards, to drop more case files in")
	}); !ok {
		return exitUsage
	}
	if err := demo.Run(ctx, o); err != nil {
		fmt.Fprintf(c.errw, "archivd demo: %v\n", err)
		return exitCode(err)
	}
	return exitOK
}
