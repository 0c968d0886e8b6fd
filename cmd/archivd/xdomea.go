package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/xdomea"
)

// xdomeaCmd: xdomea inspect [--config F --inbox NAME] FILE.zip.
func (c *cli) xdomeaCmd(ctx context.Context, args []string) int {
	const usage = "usage: archivd xdomea inspect [--schemas DIR] [--config F --inbox NAME] FILE.zip"
	if len(args) == 0 || args[0] != "inspect" {
		fmt.Fprintln(c.errw, usage)
		return exitUsage
	}
	var schemas, cfgPath, inbox string
	pos, ok := c.flags("xdomea inspect", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&schemas, "schemas", "", "folder of the xdomea XSDs to validate the message against (xmllint); default: the inbox's")
		fs.StringVar(&cfgPath, "config", "", "configuration file: show the retention each record would get")
		fs.StringVar(&inbox, "inbox", "", "the xdomea inbox the transfer would arrive in (with --config)")
	})
	if !ok || len(pos) != 1 || (inbox != "" && cfgPath == "") {
		fmt.Fprintln(c.errw, usage)
		return exitUsage
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
	if m := in.Message; m != nil {
		fmt.Fprintf(c.out, "transfer %s: xdomea %s message %s, created %s\n  from %s to %s; import confirmation (0506) requested: %v\n  schema: %s\n",
			m.ProzessID, m.Version, in.MessageFile, m.Created, orNone(m.Sender), orNone(m.Receiver), m.ImportConfirmation, in.Schema)
		fmt.Fprintf(c.out, "%d AIP(s), one per transferred top-level record:\n", len(plan.Records))
		for _, pr := range plan.Records {
			u := pr.Record
			fmt.Fprintf(c.out, "  %s %s %q: Aktenzeichen %s, Aktenplan %s, %s – %s", u.Kind, u.ID, u.Title, orNone(pr.Meta.Reference), orNone(pr.Meta.RecordClass), orNone(pr.Meta.Opened), orNone(pr.Meta.Closed))
			if u.Retention != "" || u.Disposal != "" {
				fmt.Fprintf(c.out, ", Aufbewahrung %s, Aussonderungsart %s", orNone(u.Retention), orNone(u.Disposal))
			}
			var names []string
			for _, f := range u.Files() {
				names = append(names, f.Name)
			}
			fmt.Fprintf(c.out, "\n    %d primary document(s): %s\n", len(names), strings.Join(names, ", "))
			switch d := pr.Retention; {
			case cfg == nil:
			case d == nil:
				fmt.Fprintln(c.out, "    retention: no class matches (kept; the locations' Object Lock days are the floor)")
			case d.Permanent:
				fmt.Fprintf(c.out, "    retention: class %s, kept permanently\n      (%s)\n", d.Class, d.Basis)
			default:
				fmt.Fprintf(c.out, "    retention: class %s, kept to %s, then %s\n      (%s)\n", d.Class, d.Ends, d.Action, d.Basis)
			}
		}
	}
	fmt.Fprint(c.out, xdomea.Summary(in))
	if !in.OK() {
		fmt.Fprintln(c.out, "archivd would refuse this transfer (quarantine, and a 0506 naming each record not imported)")
		return exitDataErr
	}
	fmt.Fprintln(c.out, "archivd would take this transfer")
	return exitOK
}
