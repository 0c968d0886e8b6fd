package fixity

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes every copy's outcome of the run (with notes, damage,
// repairs and errors) and the run's summary, as archivd fixity run shows
// them.
func (run *Run) WriteText(w io.Writer) {
	for _, r := range run.Copies {
		fmt.Fprintf(w, "%-11s %s at %s (%s, %d bytes)\n", strings.ToUpper(r.Outcome), r.AIP, r.Location, r.Kind, r.Bytes)
		if r.Note != "" {
			fmt.Fprintf(w, "  note: %s\n", r.Note)
		}
		for _, f := range r.Findings {
			fmt.Fprintf(w, "  damage: %s\n", f)
		}
		if r.Repair != "" {
			fmt.Fprintf(w, "  repair: %s\n", r.Repair)
		}
		if r.Err != nil {
			fmt.Fprintf(w, "  %v\n", r.Err)
		}
	}
	fmt.Fprintf(w, "fixity run %s: %s\n", run.ID, run.Summary())
}
