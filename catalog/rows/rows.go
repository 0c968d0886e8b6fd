// Package rows turns what is stored with each package (its member index,
// bag-info, format report) into catalog rows. Ingest and the catalog
// rebuild both use it, so a rebuilt catalog equals the one it replaces,
// and neither depends on the other.
package rows

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
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

// Marshal renders the report as stored beside the package.
func (r *FormatReport) Marshal() []byte {
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

// VersionMessage is the OCFL version message of an ingest.
func VersionMessage(meta aip.Metadata) string {
	if meta.Reference != "" {
		return "Ingest of case file " + meta.Reference
	}
	return "Ingest of case file"
}

// Rows turns a package's description into catalog rows; catalog rebuild
// uses the same function, so a rebuilt catalog equals the original.
func Rows(id aip.ID, version int, created string, meta aip.Metadata, res *aip.Result, invSHA512, message string) (catalog.AIP, catalog.Version, catalog.Package, []catalog.File) {
	a := catalog.AIP{ID: id.String(), Reference: meta.Reference, Title: meta.Title, Agency: meta.Agency,
		RecordClass: meta.RecordClass, Opened: meta.Opened, Closed: meta.Closed, Created: created, Head: version, Extra: meta.Extra}
	v := catalog.Version{AIP: id.String(), Version: version, Created: created, Message: message, InventorySHA512: invSHA512}
	p := catalog.Package{AIP: id.String(), Version: version, Name: id.PackageFile(version), Size: res.Size,
		SHA512: res.Package.SHA512.String(), SHA256: res.Package.SHA256.String(), Frames: len(res.Frames), PayloadOxum: res.PayloadOxum}
	var files []catalog.File
	for _, m := range res.Members {
		files = append(files, catalog.File{AIP: id.String(), Version: version, Path: m.Path, Original: m.Original, Kind: m.Kind,
			Size: m.Size, SHA512: m.Digests.SHA512.String(), SHA256: m.Digests.SHA256.String(),
			MTime: m.ModTime.UTC().Format(time.RFC3339Nano), TarOffset: m.Offset, Frame: m.Frame})
	}
	return a, v, p, files
}

// RetentionRow is the catalog row of an AIP's retention as recorded in the
// package; Due is the first moment after the last day kept, in zone.
func RetentionRow(id string, r *aip.Retention, zone *time.Location, decided string) catalog.Retention {
	row := catalog.Retention{AIP: id, Class: r.Class, Period: r.Period, Trigger: r.Trigger, TriggerDate: r.TriggerDate,
		Ends: r.Ends, Action: r.Action, LockMode: r.LockMode, Basis: r.Basis, Decided: decided}
	if zone == nil {
		zone = time.UTC
	}
	if end, err := time.ParseInLocation("2006-01-02", r.Ends, zone); err == nil {
		row.Due = end.AddDate(0, 0, 1).UTC().Format(time.RFC3339)
	}
	return row
}
