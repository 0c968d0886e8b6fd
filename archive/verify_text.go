package archive

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/audit"
)

// WriteText writes one line per copy (and a damaged copy's findings), as
// archivd verify shows them.
func (r *VerifyReport) WriteText(w io.Writer) {
	for _, cp := range r.Copies {
		switch cp.State {
		case CopyOK:
			fmt.Fprintf(w, "OK %s at %s (%s; %d bytes read)\n", r.AIP, cp.Location, strings.Join(cp.Checked, ", "), cp.Bytes)
		case CopyDamaged:
			fmt.Fprintf(w, "DAMAGED %s at %s\n", r.AIP, cp.Location)
			for _, f := range cp.Findings {
				fmt.Fprintf(w, "  %s\n", f)
			}
		case CopyUnavailable:
			fmt.Fprintf(w, "UNAVAILABLE %s at %s: %v\n", r.AIP, cp.Location, cp.Err)
		case CopyUnchecked:
			fmt.Fprintf(w, "UNCHECKED %s at %s: location no longer configured\n", r.AIP, cp.Location)
		case CopyMissing:
			fmt.Fprintf(w, "MISSING %s at %s: no copy yet (run archivd replicate)\n", r.AIP, cp.Location)
		}
	}
}

// Differs reports whether a stored segment differs from the local log.
func (r *AuditReport) Differs() bool {
	return slices.ContainsFunc(r.Differences, func(d audit.Difference) bool { return !d.Pending })
}

// Pending reports whether a segment is not stored yet.
func (r *AuditReport) Pending() bool {
	return slices.ContainsFunc(r.Differences, func(d audit.Difference) bool { return d.Pending })
}

// WriteText writes what the audit check found, as archivd audit verify
// shows it: a broken chain alone, else the chain, a torn tail, and every
// stored copy's state.
func (r *AuditReport) WriteText(w io.Writer) {
	if r.Broken != nil {
		fmt.Fprintf(w, "BROKEN after %d intact entries: %v\n", r.Entries, r.Broken)
		return
	}
	fmt.Fprintf(w, "OK: %d entries, hash chain intact\n", r.Entries)
	if r.Torn != nil {
		fmt.Fprintf(w, "NOTE: the open segment ends in an unfinished entry of %d bytes (a crash while it was written, or a write under way); the next command cuts it off and records that\n", r.Torn.Bytes)
	}
	for _, d := range r.Differences {
		if d.Pending {
			fmt.Fprintf(w, "PENDING %s\n", d)
		} else {
			fmt.Fprintf(w, "DIFFERS %s\n", d)
		}
	}
	for _, name := range r.Matching {
		fmt.Fprintf(w, "OK stored trail at %s matches the local log\n", name)
	}
	for _, name := range slices.Sorted(maps.Keys(r.Unreachable)) {
		fmt.Fprintf(w, "UNAVAILABLE stored trail at %s: %v\n", name, r.Unreachable[name])
	}
}

// WriteText says what an export restored, and where.
func (r *ExportReport) WriteText(w io.Writer, id aip.ID, target string) {
	fmt.Fprintf(w, "exported %s v%d to %s: %d files, %d folders, %d bytes\n", id, r.Version, target, r.Files, r.Dirs, r.Bytes)
}
