package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/archivd/archivd/xdomea"
)

// xdomeaCmd: xdomea inspect FILE.zip.
func (c *cli) xdomeaCmd(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] != "inspect" {
		fmt.Fprintln(c.errw, "usage: archivd xdomea inspect [--schemas DIR] FILE.zip")
		return exitUsage
	}
	var schemas string
	pos, ok := c.flags("xdomea inspect", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&schemas, "schemas", "", "folder of the xdomea XSDs to validate the message against (xmllint)")
	})
	if !ok || len(pos) != 1 {
		fmt.Fprintln(c.errw, "usage: archivd xdomea inspect [--schemas DIR] FILE.zip")
		return exitUsage
	}
	in, err := xdomea.Inspect(ctx, pos[0], schemas, 0)
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: xdomea inspect: %v\n", err)
		return exitFailure
	}
	if m := in.Message; m != nil {
		fmt.Fprintf(c.out, "transfer %s: xdomea %s message %s, created %s\n  from %s to %s; import confirmation (0506) requested: %v\n  schema: %s\n",
			m.ProzessID, m.Version, in.MessageFile, m.Created, orNone(m.Sender), orNone(m.Receiver), m.ImportConfirmation, in.Schema)
		fmt.Fprintf(c.out, "%d AIP(s), one per transferred top-level record:\n", len(in.Units))
		for _, u := range in.Units {
			fmt.Fprintf(c.out, "  %s %s %q: Aktenzeichen %s, Aktenplan %s, %s – %s", u.Kind, u.ID, u.Title, orNone(u.Reference), orNone(u.RecordClass), orNone(u.Opened), orNone(u.Closed))
			if u.Retention != "" || u.Disposal != "" {
				fmt.Fprintf(c.out, ", Aufbewahrung %s, Aussonderungsart %s", orNone(u.Retention), orNone(u.Disposal))
			}
			var names []string
			for _, f := range u.Files() {
				names = append(names, f.Name)
			}
			fmt.Fprintf(c.out, "\n    %d primary document(s): %s\n", len(names), strings.Join(names, ", "))
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
