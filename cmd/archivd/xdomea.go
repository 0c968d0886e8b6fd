package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/xdomea"
)

// xdomeaCmd: xdomea inspect [--config F --inbox NAME] FILE.zip.
func (c *cli) xdomeaCmd(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] != "inspect" {
		return c.usage("xdomea inspect")
	}
	var schemas, cfgPath, inbox string
	pos, ok := c.flags("xdomea inspect", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&schemas, "schemas", "", "folder of the xdomea XSDs to validate the message against (xmllint); default: the inbox's")
		fs.StringVar(&cfgPath, "config", "", "configuration file: show the retention each record would get")
		fs.StringVar(&inbox, "inbox", "", "the xdomea inbox the transfer would arrive in (with --config)")
	})
	if !ok || len(pos) != 1 || (inbox != "" && cfgPath == "") {
		return c.usage("xdomea inspect")
	}
	cfg, code := c.optionalConfig(cfgPath)
	if code != exitOK {
		return code
	}
	plan, err := archive.PlanTransfer(ctx, cfg, inbox, schemas, pos[0], time.Now())
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: xdomea inspect: %v\n", err)
		return exitFailure
	}
	in := plan.Inspection
	plan.WriteText(c.out, cfg != nil)
	fmt.Fprint(c.out, xdomea.Summary(in))
	if !in.OK() {
		fmt.Fprintln(c.out, "archivd would refuse this transfer (quarantine, and a 0506 naming each record not imported)")
		return exitDataErr
	}
	fmt.Fprintln(c.out, "archivd would take this transfer")
	return exitOK
}
