package xdomea

import "github.com/archivd/archivd/aip"

// CaseMetadata is the case metadata archivd records for a transferred
// record (Akte or Vorgang): Betreff as title, Kennzeichen as Aktenzeichen,
// the Aktenplaneinheit as record class, the Laufzeit as opened and closed
// (dates), the sender as agency, and as further fields the ProzessID, the
// record's ID and its Aufbewahrungsdauer and Aussonderungsart, which
// retention classes match on.
func (m *Message) CaseMetadata(r *Record) aip.Metadata {
	meta := aip.Metadata{Title: r.Title, Reference: r.Reference, Agency: m.Sender, RecordClass: r.RecordClass,
		Opened: civilDate(r.Opened), Closed: civilDate(r.Closed),
		Extra: map[string]string{"xdomea-ProzessID": m.ProzessID, "xdomea-" + r.Kind: r.ID}}
	if r.Retention != "" {
		meta.Extra["xdomea-Aufbewahrungsdauer"] = r.Retention
	}
	if r.Disposal != "" {
		meta.Extra["xdomea-Aussonderungsart"] = r.Disposal
	}
	return meta
}

// civilDate keeps the date of an xdomea date or time.
func civilDate(s string) string {
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}
