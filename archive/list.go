package archive

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/config"
)

// Listed is one AIP as a listing shows it.
type Listed struct {
	ID          string   `json:"id"`
	Reference   string   `json:"reference"`
	Title       string   `json:"title"`
	Agency      string   `json:"agency"`
	RecordClass string   `json:"record_class"`
	Closed      string   `json:"closed"`
	Versions    int      `json:"versions"`
	Size        int64    `json:"size"`
	Copies      []string `json:"copies"` // "location (verified TIME)"
}

// List returns every AIP the filter selects, with its size (all versions)
// and the copies of its newest version. It reads the catalog only and
// takes no lock.
func List(ctx context.Context, cfg *config.Config, f catalog.AIPFilter) ([]Listed, error) {
	cat, err := catalog.Open(ctx, filepath.Join(cfg.DataDir, "catalog.db"))
	if err != nil {
		return nil, err
	}
	defer cat.Close()
	var out []Listed
	for f.Offset = 0; ; f.Offset += 1000 {
		f.Limit = 1000
		page, total, err := cat.ListAIPs(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, a := range page {
			l := Listed{ID: a.ID, Reference: a.Reference, Title: a.Title, Agency: a.Agency, RecordClass: a.RecordClass, Closed: a.Closed, Versions: a.Head, Copies: []string{}}
			for v := 1; v <= a.Head; v++ {
				if p, err := cat.GetPackage(ctx, a.ID, v); err == nil {
					l.Size += p.Size
				}
			}
			copies, err := cat.Copies(ctx, a.ID, a.Head)
			if err != nil {
				return nil, err
			}
			for _, cp := range copies {
				l.Copies = append(l.Copies, fmt.Sprintf("%s (verified %s)", cp.Location, cp.VerifiedAt))
			}
			out = append(out, l)
		}
		if f.Offset+len(page) >= total || len(page) == 0 {
			return out, nil
		}
	}
}

// ObjectURL says where a copy lies, in its location's own terms: a path
// for a local folder, s3://bucket/key at the endpoint for S3.
func ObjectURL(cfg *config.Config, cp catalog.Copy) string {
	for _, loc := range cfg.Locations {
		if loc.Name != cp.Location {
			continue
		}
		if loc.Type == "s3" {
			key := cp.ObjectKey
			if p := strings.Trim(loc.Prefix, "/"); p != "" {
				key = p + "/" + key
			}
			return "s3://" + loc.Bucket + "/" + key + " at " + loc.Endpoint
		}
		return filepath.Join(loc.Path, filepath.FromSlash(cp.ObjectKey))
	}
	return cp.ObjectKey
}

// WriteList writes the listed AIPs as archivd list shows them: a table
// (the default), CSV or JSON.
func WriteList(w io.Writer, out []Listed, format string) {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"id", "reference", "title", "agency", "record_class", "closed", "versions", "size", "copies"})
		for _, l := range out {
			cw.Write([]string{l.ID, l.Reference, l.Title, l.Agency, l.RecordClass, l.Closed, fmt.Sprint(l.Versions), fmt.Sprint(l.Size), strings.Join(l.Copies, "; ")})
		}
		cw.Flush()
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "AIP\tAKTENZEICHEN\tTITLE\tCLOSED\tSIZE\tCOPIES")
		for _, l := range out {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", l.ID, l.Reference, shorten(l.Title, 40), l.Closed, l.Size, strings.Join(l.Copies, ", "))
		}
		tw.Flush()
		fmt.Fprintf(w, "%d AIP(s)\n", len(out))
	}
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
