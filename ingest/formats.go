package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/formats"
)

// FormatRecord is what is kept about one file's format, beside each
// package as <package root>.formats.json (derived data: the package's
// PREMIS is authoritative) and in the catalog.
type FormatRecord struct {
	Path          string   `json:"path"` // bag path
	Original      string   `json:"original"`
	PUID          string   `json:"puid"`
	Name          string   `json:"format_name"`
	Version       string   `json:"format_version"`
	MIME          string   `json:"mime"`
	Basis         string   `json:"basis"`
	Candidates    []string `json:"candidates,omitempty"`
	Warnings      []string `json:"warnings,omitempty"`
	PDFAClaim     string   `json:"pdfa_claim,omitempty"`
	Validity      string   `json:"validity"`
	ValidityNotes []string `json:"validity_notes,omitempty"`
	Checker       string   `json:"checker,omitempty"`
	Decision      string   `json:"decision"`
	Reason        string   `json:"reason"`
	Grund         string   `json:"grund"`
	Members       []string `json:"members,omitempty"` // "path PUID" of ZIP members
}

// FormatReport is the content of <package root>.formats.json.
type FormatReport struct {
	Identifier      string         `json:"identifier"`
	SignatureFile   string         `json:"signature_file"`
	SignatureSHA256 string         `json:"signature_sha256,omitempty"`
	Files           []FormatRecord `json:"files"`
	BytesReread     int64          `json:"bytes_read_again"`
}

// analyze identifies and validates every original file and applies the
// policy. Files the policy rejects make the case an *InputError, each file
// named with the reason in English and German.
func (in *Ingester) analyze(ctx context.Context, folder string, input *aip.Input) (*FormatReport, error) {
	a := in.Analyzer
	rep := &FormatReport{Identifier: in.agent(), SignatureFile: a.ID.Source + " " + a.ID.Version, SignatureSHA256: a.ID.SHA256}
	var refused []string
	for i := range input.Files {
		f := &input.Files[i]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		an, err := a.AnalyzeFile(ctx, path.Join(folder, f.Path), path.Base(f.Path))
		if err != nil {
			return nil, &InputError{Folder: folder, Problems: []string{fmt.Sprintf("%q: format identification failed: %v", f.Path, err)}}
		}
		rep.BytesReread += an.BytesRead + an.Validation.BytesRead
		f.Format = &aip.FormatInfo{PUID: an.PUID, Name: an.Name, Version: an.Version, MIME: an.MIME, Basis: an.Basis,
			Validity: an.Validity, PDFAClaim: an.PDFAClaim}
		safe, _, _ := aip.MapPath(f.Path)
		r := FormatRecord{Path: aip.RepresentationDir + safe, Original: f.Path, PUID: an.PUID, Name: an.Name, Version: an.Version,
			MIME: an.MIME, Basis: an.Basis, Candidates: an.Candidates, Warnings: an.Warnings, PDFAClaim: an.PDFAClaim,
			Validity: an.Validity, ValidityNotes: an.ValidityNotes, Checker: an.Validation.Checker,
			Decision: an.Decision.Action, Reason: an.Decision.Reason, Grund: an.Decision.Grund}
		for _, m := range an.Members {
			r.Members = append(r.Members, m.Path+" "+m.PUID)
		}
		if an.Decision.Action == formats.Reject && in.Override != "" {
			r.Decision = formats.Warn
			r.Reason = "refused by the format policy (" + an.Decision.Reason + "), accepted by override: " + in.Override
			r.Grund = "nach der Formatrichtlinie abgelehnt (" + an.Decision.Grund + "), angenommen durch Freigabe: " + in.Override
			rep.Files = append(rep.Files, r)
			continue
		}
		rep.Files = append(rep.Files, r)
		if an.Decision.Action == formats.Reject {
			refused = append(refused, fmt.Sprintf("%q: refused by the format policy (%s, %s): %s / abgelehnt: %s",
				f.Path, an.PUID, an.Decision.Rule, an.Decision.Reason, an.Decision.Grund))
		}
	}
	sort.Slice(rep.Files, func(i, j int) bool { return rep.Files[i].Path < rep.Files[j].Path })
	if len(refused) > 0 {
		sort.Strings(refused)
		return rep, &InputError{Folder: folder, Problems: refused, Policy: true}
	}
	return rep, nil
}

// summary counts decisions and validity for the audit trail and PREMIS.
func (r *FormatReport) summary() (ident, valid string) {
	basis, dec, val := map[string]int{}, map[string]int{}, map[string]int{}
	for _, f := range r.Files {
		basis[f.Basis]++
		dec[f.Decision]++
		val[f.Validity]++
	}
	return fmt.Sprintf("%d files identified with %s (%s); basis: %s; policy: %s",
			len(r.Files), r.Identifier, r.SignatureFile, counts(basis), counts(dec)),
		fmt.Sprintf("%d files checked: %s", len(r.Files), counts(val))
}

func counts(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%d %s", v, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (r *FormatReport) marshal() []byte {
	b, _ := json.MarshalIndent(r, "", "  ")
	return append(b, '\n')
}

// ParseFormatReport reads <package root>.formats.json.
func ParseFormatReport(b []byte) (*FormatReport, error) {
	var r FormatReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("format report: %w", err)
	}
	return &r, nil
}

// IdentificationRows turns a format report into catalog rows.
func IdentificationRows(aipID string, version int, r *FormatReport) []catalog.Identification {
	var out []catalog.Identification
	for _, f := range r.Files {
		out = append(out, catalog.Identification{AIP: aipID, Version: version, Path: f.Path, Tool: "archivd",
			ToolVersion: r.Identifier, SignatureFile: r.SignatureFile, SignatureSHA256: r.SignatureSHA256,
			PUID: f.PUID, MIME: f.MIME, FormatName: f.Name, FormatVersion: f.Version, Basis: f.Basis,
			Candidates: strings.Join(f.Candidates, " "), Warnings: strings.Join(f.Warnings, "; "), PDFAClaim: f.PDFAClaim,
			Validity: f.Validity, ValidityNotes: strings.Join(f.ValidityNotes, "; "), Decision: f.Decision, DecisionReason: f.Reason})
	}
	return out
}
