package rebuild

import (
	"fmt"
	"io"
)

// WriteText writes what a rebuild restored, skipped, kept and recovered,
// as archivd catalog rebuild shows it.
func (st *Stats) WriteText(w io.Writer) {
	fmt.Fprintf(w, "catalog rebuilt: %d AIP(s), %d version(s), %d audit event(s)\n", st.AIPs, st.Versions, st.Events)
	for _, s := range st.Skipped {
		fmt.Fprintf(w, "SKIPPED %s\n", s)
	}
	for _, id := range st.Kept {
		fmt.Fprintf(w, "KEPT %s: no location could give it; its rows are carried over from the previous catalog (archivd verify %s reports the damage)\n", id, id)
	}
	for _, r := range st.Recovered {
		fmt.Fprintf(w, "RECOVERED %s\n", r)
	}
}
