package archive

import (
	"fmt"
	"io"
	"time"

	"github.com/archivd/archivd/fixity"
	"github.com/archivd/archivd/report"
)

// WriteFixityStatus writes per location how much is verified within the cycle
// and the oldest verification, then the open damage, as archivd fixity
// status shows them.
func WriteFixityStatus(w io.Writer, st *fixity.Status, now time.Time) {
	for _, l := range st.Locations {
		oldest := "never"
		if l.OldestVerified != "" {
			oldest = l.OldestVerified + fmt.Sprintf(" (%s ago)", l.Age(now).Round(time.Minute))
		}
		fmt.Fprintf(w, "%-12s %5.1f %% verified within the cycle (%d of %d AIPs, %s); oldest verification %s", l.Location, l.Ratio*100, l.Verified, l.Copies, report.HumanBytes(l.Bytes), oldest)
		if l.OldestAIP != "" {
			fmt.Fprintf(w, ": %s", l.OldestAIP)
		}
		fmt.Fprintln(w)
	}
	if len(st.OpenDamage) == 0 {
		fmt.Fprintln(w, "open damage: none")
		return
	}
	fmt.Fprintf(w, "OPEN DAMAGE: %d\n", len(st.OpenDamage))
	for _, d := range st.OpenDamage {
		fmt.Fprintf(w, "  %s v%d at %s, found %s: %s\n", d.AIP, d.Version, d.Location, d.FoundAt, d.Problem)
	}
}
