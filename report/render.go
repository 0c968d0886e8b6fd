package report

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"html/template"
	"strings"
	"sync"
	"time"
)

// renderCSV is one row per check and one per damage, for a spreadsheet.
func renderCSV(r *Report) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"record", "time", "aip", "location", "kind", "outcome", "bytes", "version", "file", "member",
		"problem", "expected", "found", "stored_version", "repaired_at", "repair", "run"})
	for _, k := range r.Checks {
		w.Write([]string{"check", k.Time, k.AIP, k.Location, k.Kind, k.Outcome, fmt.Sprint(k.Bytes), "", "", "", "", "", "", "", "", "", k.Run})
	}
	for _, d := range r.Damage {
		outcome := "open"
		if d.RepairedAt != "" {
			outcome = "repaired"
		}
		w.Write([]string{"damage", d.FoundAt, d.AIP, d.Location, "", outcome, "", fmt.Sprint(d.Version), d.File, d.Member,
			d.Problem, d.Expected, d.Found, d.StoredVersion, d.RepairedAt, d.Repair, ""})
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

//go:embed report.html.tmpl
var tmplFS embed.FS

// page is parsed when the first report is written, not at every start.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
		"bytes":   HumanBytes,
		"percent": func(f float64) string { return fmt.Sprintf("%.1f %%", f*100) },
		"when":    when,
		"short":   func(s string) string { return strings.TrimPrefix(s, "urn:uuid:") },
		"outcome": outcomeWords,
	}).ParseFS(tmplFS, "report.html.tmpl"))
})

// renderHTML is the report for people: the summary first, then every
// damage and repair, then what was checked per location and every run.
func renderHTML(r *Report) ([]byte, error) {
	var b bytes.Buffer
	err := page().Execute(&b, r)
	return b.Bytes(), err
}

// HumanBytes shows a size in B, KiB, MiB, ….
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// when shows an RFC 3339 time in UTC to the second, or "–".
func when(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if s == "" {
			return "–"
		}
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func outcomeWords(o string) string {
	switch o {
	case "ok":
		return "in Ordnung / ok"
	case "repaired":
		return "repariert / repaired"
	case "damaged":
		return "BESCHÄDIGT / DAMAGED"
	case "unavailable":
		return "nicht erreichbar / unavailable"
	}
	return o
}
