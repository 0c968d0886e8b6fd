package archive

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
)

// WriteDue writes the AIPs due as archivd retention due shows them: a
// table, CSV or JSON; an unknown format is an error.
func WriteDue(w io.Writer, due []DueAIP, format string) error {
	type row struct {
		AIP, Reference, Title, Class, Ended, Action, Hold, Batch string
	}
	var rows []row
	for _, d := range due {
		r := row{d.Retention.AIP, d.AIP.Reference, d.AIP.Title, d.Class, d.Ends, d.Action, "", d.Batch}
		if len(d.Holds) > 0 {
			r.Hold = d.Holds[0].Reason
		}
		rows = append(rows, r)
	}
	switch format {
	case "json":
		if rows == nil {
			rows = []row{}
		}
		b, _ := json.MarshalIndent(rows, "", "  ")
		fmt.Fprintln(w, string(b))
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"aip", "reference", "title", "class", "ended", "action", "hold", "batch"})
		for _, r := range rows {
			cw.Write([]string{r.AIP, r.Reference, r.Title, r.Class, r.Ended, r.Action, r.Hold, r.Batch})
		}
		cw.Flush()
	case "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "AIP\tREFERENCE\tTITLE\tCLASS\tENDED\tTHEN\tHOLD / BATCH")
		for _, r := range rows {
			note := r.Batch
			if r.Hold != "" {
				note = "HOLD: " + r.Hold
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.AIP, r.Reference, r.Title, r.Class, r.Ended, r.Action, note)
		}
		tw.Flush()
		fmt.Fprintf(w, "%d AIP(s) due\n", len(rows))
	default:
		return fmt.Errorf("--format %q: table, csv or json", format)
	}
	return nil
}

// WriteRetentionClasses writes the classes with their AIPs, then the AIPs
// under no class or a class no longer configured, as archivd retention
// classes shows them.
func WriteRetentionClasses(w io.Writer, classes []ClassCount, other map[string]int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tMATCH\tPERIOD\tFROM\tTHEN\tAIPS")
	for _, k := range classes {
		period := fmt.Sprintf("%d years", k.Years)
		if k.Permanent {
			period = "permanent"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", k.Name, k.Describe(), period, k.Trigger, k.Action, k.AIPs)
	}
	tw.Flush()
	for _, name := range slices.Sorted(maps.Keys(other)) {
		if name == "" {
			fmt.Fprintf(w, "%d AIP(s) under no class (kept for the locations' object_lock.days; never due)\n", other[name])
		} else {
			fmt.Fprintf(w, "%d AIP(s) in class %q, which is no longer configured (archivd retention recompute)\n", other[name], name)
		}
	}
}

// String is the change on one line, as archivd retention recompute shows
// it: old class, end and action, then the new ones, and what happened at
// the locations.
func (ch Change) String() string {
	s := fmt.Sprintf("%s: %s until %s (%s) -> %s until %s (%s)", ch.AIP, orNone(ch.Old.Class), orNone(ch.Old.Ends), orNone(ch.Old.Action), ch.New.Class, orNone(ch.New.Ends), ch.New.Action)
	if ch.Note != "" {
		s += "; " + ch.Note
	}
	return s
}

// WriteBatch writes a disposal batch with its steps and AIPs, as archivd
// dispose show shows it.
func WriteBatch(w io.Writer, b catalog.Batch, items []catalog.BatchItem) {
	fmt.Fprintf(w, "batch %s: %s, %s\nreason: %s\nproposed %s by %s\n", b.ID, b.Action, b.State, b.Reason, b.ProposedAt, b.ProposedBy)
	if b.ApprovedBy != "" {
		fmt.Fprintf(w, "approved %s by %s\n", b.ApprovedAt, b.ApprovedBy)
	}
	if b.Certificate != "" {
		fmt.Fprintf(w, "executed %s; certificate %s\n", b.ExecutedAt, b.Certificate)
	}
	for _, it := range items {
		fmt.Fprintf(w, "  %s %s %s\n", it.AIP, it.State, it.Detail)
	}
}

// WriteText writes every AIP an execution destroyed, then every one it
// kept and why (in AIP order).
func (ex *Executed) WriteText(w io.Writer) {
	for _, id := range ex.Destroyed {
		fmt.Fprintf(w, "DESTROYED %s\n", id)
	}
	for _, id := range slices.Sorted(maps.Keys(ex.Kept)) {
		fmt.Fprintf(w, "KEPT      %s: %s\n", id, ex.Kept[id])
	}
}

// WriteHold says what setting (on) or clearing a legal hold did: in the
// catalog (unless err) and at each location. failed: a location failed.
func WriteHold(w io.Writer, id aip.ID, on bool, who Actor, res []HoldResult, err error) (failed bool) {
	verb := map[bool]string{true: "set", false: "cleared"}[on]
	if err == nil {
		fmt.Fprintf(w, "%s: hold %s in the catalog (by %s)\n", id, verb, who)
	}
	for _, r := range res {
		switch {
		case !r.Locked:
			fmt.Fprintf(w, "%s: no Object Lock at this location; nothing to hold\n", r.Location)
		case r.Err != nil:
			failed = true
			fmt.Fprintf(w, "%s: FAILED: %v\n", r.Location, r.Err)
		default:
			fmt.Fprintf(w, "%s: legal hold %s\n", r.Location, verb)
		}
	}
	return failed
}

// WriteHolds writes the open legal holds, one line each, as archivd hold
// list shows them.
func WriteHolds(w io.Writer, hs []catalog.Hold) {
	if len(hs) == 0 {
		fmt.Fprintln(w, "no AIP is under legal hold")
	}
	for _, h := range hs {
		fmt.Fprintf(w, "%s  since %s by %s: %s\n", h.AIP, h.SetAt, h.SetBy, h.Reason)
	}
}

// WriteBatches writes the disposal batches, one line each, as archivd
// dispose list shows them.
func WriteBatches(w io.Writer, bs []catalog.Batch) {
	for _, b := range bs {
		fmt.Fprintf(w, "%s  %-9s %-7s proposed %s by %s: %s\n", b.ID, b.State, b.Action, b.ProposedAt, b.ProposedBy, b.Reason)
	}
}
