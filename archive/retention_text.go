package archive

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
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
