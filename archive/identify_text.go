package archive

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/archivd/archivd/formats"
)

// Write writes what archivd identify found, as a table (with every
// container's members beneath it), CSV or JSON; identifier names the
// identifier and signature files on every line that stands alone.
func (f *Identification) Write(w io.Writer, format, identifier string) {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			Identifier string             `json:"identifier"`
			Files      []formats.Analysis `json:"files"`
		}{identifier, f.Files})
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"path", "puid", "format_name", "format_version", "mime", "basis", "validity", "pdfa_claim", "decision", "warnings", "identifier"})
		for _, r := range f.Files {
			cw.Write([]string{r.Path, r.PUID, r.Name, r.Version, r.MIME, r.Basis, r.Validity, r.PDFAClaim, r.Decision.Action, strings.Join(append(r.Warnings, r.ValidityNotes...), "; "), identifier})
		}
		cw.Flush()
	default:
		fmt.Fprintf(w, "# %s\n", identifier)
		for _, m := range f.Metadata {
			fmt.Fprintf(w, "# %s: case metadata, not a document\n", m)
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PATH\tPUID\tFORMAT\tVERSION\tMIME\tBASIS\tVALIDITY\tNOTES")
		for _, r := range f.Files {
			notes := append([]string(nil), r.Warnings...)
			if r.PDFAClaim != "" {
				notes = append(notes, r.PDFAClaim)
			}
			notes = append(notes, r.ValidityNotes...)
			if len(r.Candidates) > 0 {
				notes = append(notes, "candidates: "+strings.Join(r.Candidates, " "))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Path, r.PUID, r.Name, r.Version, r.MIME, r.Basis, r.Validity, strings.Join(notes, "; "))
			for _, m := range r.Members {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t\t%s\n", m.Path, m.PUID, m.Name, m.Version, m.MIME, m.Basis, strings.Join(m.Warnings, "; "))
			}
		}
		tw.Flush()
	}
}
