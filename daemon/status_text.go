package daemon

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/config"
)

// WriteText writes the status as archivd status shows it: running or not,
// cases in flight, queued per inbox, quarantined, scheduled work, recent
// failures.
func (st *Status) WriteText(w io.Writer, inboxes []config.Inbox) {
	if st.Running != "" {
		fmt.Fprintf(w, "archivd is running (%s)\n", st.Running)
	} else {
		fmt.Fprintln(w, "archivd is not running")
	}
	fmt.Fprintf(w, "\nIn flight: %d\n", len(st.InFlight))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, cs := range st.InFlight {
		since := cs.Claimed.Format(time.RFC3339)
		if cs.Updated != "" {
			since = cs.Updated
		}
		line := fmt.Sprintf("  %s/%s\t%s\tsince %s\t%s", cs.Inbox, cs.Name, cs.State, since, cs.ID)
		if cs.Error != "" {
			line += "\tlast error: " + firstLine(cs.Error)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	n := 0
	for _, q := range st.Queued {
		n += len(q)
	}
	fmt.Fprintf(w, "\nIn the inboxes, not claimed yet: %d\n", n)
	for _, in := range inboxes {
		if q := st.Queued[in.Name]; len(q) > 0 {
			fmt.Fprintf(w, "  %s (ready: %s): %s\n", in.Name, in.Ready, strings.Join(q, ", "))
		}
	}
	fmt.Fprintf(w, "\nQuarantined: %d\n", len(st.Quarantined))
	for _, q := range st.Quarantined {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", q.Ref, q.Reason.Quarantined.Format(time.RFC3339), q.Summary())
	}
	fmt.Fprintln(w, "\nScheduled work:")
	runs := map[string]catalog.ScheduleRun{}
	for _, r := range st.Runs {
		runs[r.Job] = r
	}
	if len(st.Next) == 0 {
		fmt.Fprintln(w, "  none configured")
	}
	for _, job := range slices.Sorted(maps.Keys(st.Next)) {
		last := "never ran"
		if r, ok := runs[job]; ok {
			last = fmt.Sprintf("last %s (%s): %s", r.Started, r.Outcome, r.Detail)
		}
		fmt.Fprintf(w, "  %s: next %s; %s\n", job, st.Next[job].Format(time.RFC3339), last)
	}
	fmt.Fprintf(w, "\nRecent failures: %d\n", len(st.Failures))
	for _, e := range st.Failures {
		fmt.Fprintf(w, "  %s %s %s: %s\n", e.Time, e.Type, e.AIP, firstLine(e.Detail))
	}
}

// WriteQuarantineList writes one line per quarantined case, as archivd
// quarantine list shows them, and their count.
func WriteQuarantineList(w io.Writer, qs []Quarantined) {
	for _, q := range qs {
		kind := "refused"
		if q.Reason.PolicyOnly {
			kind = "refused by the format policy"
		}
		fmt.Fprintf(w, "%s\t%s\t%s: %s\n", q.Ref, q.Reason.Quarantined.Format(time.RFC3339), kind, q.Summary())
	}
	fmt.Fprintf(w, "%d case(s) in quarantine\n", len(qs))
}

// Summary is the reasons of a quarantined case on one line.
func (q *Quarantined) Summary() string { return firstLine(strings.Join(q.Reason.Problems, "; ")) }

// firstLine shortens a message to its first line, at most 200 bytes.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
