package aip

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// xw writes indented XML by hand: the documents are fixed in shape, and
// hand-written output keeps element order exactly as the schemas demand.
// A package's PREMIS and METS describe every file, so writing them is on
// the ingest's hot path: they stream to a file (a case of 100,000 files
// has 200 MB of PREMIS), no formatting calls, and text that needs no
// escaping is copied as it is.
type xw struct {
	b     *bufio.Writer
	depth int
}

const spaces = "                                                                "

func (x *xw) indent() {
	for n := 2 * x.depth; n > 0; n -= len(spaces) {
		x.b.WriteString(spaces[:min(n, len(spaces))])
	}
}

// open writes <name attrs...>; attrs are name/value pairs, empty values skipped.
func (x *xw) open(name string, attrs ...string) {
	x.indent()
	x.b.WriteByte('<')
	x.b.WriteString(name)
	x.attrs(attrs)
	x.b.WriteString(">\n")
	x.depth++
}

func (x *xw) close(name string) {
	x.depth--
	x.indent()
	x.b.WriteString("</")
	x.b.WriteString(name)
	x.b.WriteString(">\n")
}

func (x *xw) empty(name string, attrs ...string) {
	x.indent()
	x.b.WriteByte('<')
	x.b.WriteString(name)
	x.attrs(attrs)
	x.b.WriteString("/>\n")
}

func (x *xw) text(name, value string, attrs ...string) {
	x.indent()
	x.b.WriteByte('<')
	x.b.WriteString(name)
	x.attrs(attrs)
	x.b.WriteByte('>')
	x.escape(value)
	x.b.WriteString("</")
	x.b.WriteString(name)
	x.b.WriteString(">\n")
}

func (x *xw) attrs(a []string) {
	for i := 0; i+1 < len(a); i += 2 {
		if a[i+1] == "" {
			continue
		}
		x.b.WriteByte(' ')
		x.b.WriteString(a[i])
		x.b.WriteString(`="`)
		x.escape(a[i+1])
		x.b.WriteByte('"')
	}
}

// escape writes s as XML character data, escaped as encoding/xml does.
func (x *xw) escape(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&' || c == '"' || c == '\'' {
			xml.EscapeText(x.b, []byte(s))
			return
		}
	}
	x.b.WriteString(s)
}

// xmlSafe returns s if it can be XML character data, else its EscapePath form.
func xmlSafe(s string) string {
	if !utf8.ValidString(s) {
		return EscapePath(s)
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0xfffe || r == 0xffff {
			return EscapePath(s)
		}
	}
	return s
}

func instant(t time.Time) string { return t.UTC().Format(time.RFC3339) }

const (
	nsPREMIS = "http://www.loc.gov/premis/v3"
	nsMETS   = "http://www.loc.gov/METS/"
	nsXLink  = "http://www.w3.org/1999/xlink"
	nsXSI    = "http://www.w3.org/2001/XMLSchema-instance"
	vocab    = "http://id.loc.gov/vocabulary/preservation/"
)

// eventCodes maps PREMIS event type labels to their id.loc.gov codes.
var eventCodes = map[string]string{
	"ingestion": "ing", "message digest calculation": "mes", "information package creation": "ipc",
	"fixity check": "fix", "format identification": "for", "validation": "val",
	"replication": "rep", "dissemination": "dis", "metadata modification": "mem",
}

func renderPREMIS(x *xw, rec Record, meta Metadata, ms []Member) {
	x.b.WriteString(xml.Header)
	x.open("premis:premis", "xmlns:premis", nsPREMIS, "xmlns:xsi", nsXSI,
		"xsi:schemaLocation", nsPREMIS+" http://www.loc.gov/standards/premis/v3/premis-v3-0.xsd", "version", "3.0")
	agentID := rec.Software + "/" + rec.SoftVersion

	x.open("premis:object", "xsi:type", "premis:intellectualEntity")
	objectID(x, "URN", rec.ID.String())
	if meta.Reference != "" {
		objectID(x, "Aktenzeichen", meta.Reference)
	}
	x.close("premis:object")

	// One file object per file, lean: what differs between files (path,
	// time, digests, size, format, a changed name) and nothing that is the
	// same for all of them. The agents are described once, below; every
	// file object is part of the intellectual entity above.
	for _, m := range ms {
		if m.Kind != KindPayload && m.Kind != KindMetadata {
			continue
		}
		x.open("premis:object", "xsi:type", "premis:file")
		objectID(x, "local", m.Path)
		x.open("premis:significantProperties")
		x.text("premis:significantPropertiesType", "file system modification time (UTC)")
		x.text("premis:significantPropertiesValue", instant(m.ModTime))
		x.close("premis:significantProperties")
		x.open("premis:objectCharacteristics")
		x.text("premis:compositionLevel", "0")
		fixity(x, "SHA-512", m.Digests.SHA512.String())
		fixity(x, "SHA-256", m.Digests.SHA256.String())
		x.text("premis:size", strconv.FormatInt(m.Size, 10))
		x.open("premis:format")
		x.open("premis:formatDesignation")
		if f := m.Format; f != nil && f.Name != "" {
			x.text("premis:formatName", f.Name)
			if f.Version != "" {
				x.text("premis:formatVersion", f.Version)
			}
		} else {
			x.text("premis:formatName", "not identified")
		}
		x.close("premis:formatDesignation")
		if f := m.Format; f != nil && f.PUID != "" && f.PUID != "UNKNOWN" {
			x.open("premis:formatRegistry")
			x.text("premis:formatRegistryName", "PRONOM")
			x.text("premis:formatRegistryKey", f.PUID)
			x.close("premis:formatRegistry")
		}
		if f := m.Format; f != nil {
			note := "identification basis: " + f.Basis + "; validity: " + f.Validity
			if f.MIME != "" {
				note += "; MIME type: " + f.MIME
			}
			if f.PDFAClaim != "" {
				note += "; " + f.PDFAClaim
			}
			x.text("premis:formatNote", note)
		}
		x.close("premis:format")
		x.close("premis:objectCharacteristics")
		if m.Original != "" && renamed(m) {
			x.text("premis:originalName", xmlSafe(m.Original))
		}
		x.close("premis:object")
	}

	for _, e := range rec.Events {
		x.open("premis:event")
		x.open("premis:eventIdentifier")
		x.text("premis:eventIdentifierType", "UUID")
		x.text("premis:eventIdentifierValue", e.ID)
		x.close("premis:eventIdentifier")
		if code, ok := eventCodes[e.Type]; ok {
			x.text("premis:eventType", e.Type, "authority", "eventType", "valueURI", vocab+"eventType/"+code)
		} else {
			x.text("premis:eventType", e.Type)
		}
		x.text("premis:eventDateTime", instant(e.Time))
		if e.Detail != "" {
			x.open("premis:eventDetailInformation")
			x.text("premis:eventDetail", xmlSafe(e.Detail))
			x.close("premis:eventDetailInformation")
		}
		x.open("premis:eventOutcomeInformation")
		outcomeCode := map[string]string{"success": "suc", "failure": "fai"}[e.Outcome]
		if outcomeCode != "" {
			x.text("premis:eventOutcome", e.Outcome, "authority", "eventOutcome", "valueURI", vocab+"eventOutcome/"+outcomeCode)
		} else {
			x.text("premis:eventOutcome", e.Outcome)
		}
		x.close("premis:eventOutcomeInformation")
		x.open("premis:linkingAgentIdentifier")
		x.text("premis:linkingAgentIdentifierType", "local")
		x.text("premis:linkingAgentIdentifierValue", agentID)
		x.text("premis:linkingAgentRole", "executing program", "authority", "eventRelatedAgentRole", "valueURI", vocab+"eventRelatedAgentRole/exe")
		x.close("premis:linkingAgentIdentifier")
		x.open("premis:linkingObjectIdentifier")
		x.text("premis:linkingObjectIdentifierType", "URN")
		x.text("premis:linkingObjectIdentifierValue", rec.ID.String())
		x.close("premis:linkingObjectIdentifier")
		x.close("premis:event")
	}

	x.open("premis:agent")
	x.open("premis:agentIdentifier")
	x.text("premis:agentIdentifierType", "local")
	x.text("premis:agentIdentifierValue", agentID)
	x.close("premis:agentIdentifier")
	x.text("premis:agentName", rec.Software)
	x.text("premis:agentType", "software", "authority", "agentType", "valueURI", vocab+"agentType/sof")
	x.text("premis:agentVersion", rec.SoftVersion)
	x.close("premis:agent")
	if rec.Organization != "" {
		x.open("premis:agent")
		x.open("premis:agentIdentifier")
		x.text("premis:agentIdentifierType", "local")
		x.text("premis:agentIdentifierValue", "organization")
		x.close("premis:agentIdentifier")
		x.text("premis:agentName", rec.Organization)
		x.text("premis:agentType", "organization", "authority", "agentType", "valueURI", vocab+"agentType/org")
		x.close("premis:agent")
	}
	if r := rec.Retention; r != nil {
		// The retention decided at ingest, as a rights statement about the
		// whole package (PREMIS 3: rights basis "other").
		x.open("premis:rights")
		x.open("premis:rightsStatement")
		x.open("premis:rightsStatementIdentifier")
		x.text("premis:rightsStatementIdentifierType", "local")
		x.text("premis:rightsStatementIdentifierValue", "retention")
		x.close("premis:rightsStatementIdentifier")
		x.text("premis:rightsBasis", "Other")
		x.open("premis:otherRightsInformation")
		x.text("premis:otherRightsBasis", "retention schedule (Aufbewahrungsfrist)")
		x.open("premis:otherRightsApplicableDates")
		x.text("premis:startDate", r.TriggerDate)
		if r.Ends != "" { // none: permanent
			x.text("premis:endDate", r.Ends)
		}
		x.close("premis:otherRightsApplicableDates")
		x.text("premis:otherRightsNote", xmlSafe(fmt.Sprintf("class %s, %s from %s %s; at the end: %s. %s", r.Class, r.Period, r.Trigger, r.TriggerDate, r.Action, r.Basis)))
		x.close("premis:otherRightsInformation")
		x.open("premis:linkingObjectIdentifier")
		x.text("premis:linkingObjectIdentifierType", "URN")
		x.text("premis:linkingObjectIdentifierValue", rec.ID.String())
		x.close("premis:linkingObjectIdentifier")
		x.close("premis:rightsStatement")
		x.close("premis:rights")
	}
	x.close("premis:premis")
}

func objectID(x *xw, typ, value string) {
	x.open("premis:objectIdentifier")
	x.text("premis:objectIdentifierType", typ)
	x.text("premis:objectIdentifierValue", value)
	x.close("premis:objectIdentifier")
}

// fixity writes a digest; the algorithm is named by its label in the LoC
// cryptographicHashFunctions vocabulary.
func fixity(x *xw, label, hex string) {
	x.open("premis:fixity")
	x.text("premis:messageDigestAlgorithm", label)
	x.text("premis:messageDigest", hex)
	x.close("premis:fixity")
}

// renamed reports whether a payload file's bag name differs from its
// original path (the name had to be made safe, see MapPath).
func renamed(m Member) bool {
	return strings.TrimPrefix(m.Path, RepresentationDir) != m.Original
}

func renderMETS(x *xw, rec Record, meta Metadata, ms []Member) {
	x.b.WriteString(xml.Header)
	label := strings.TrimSpace(meta.Reference + " " + meta.Title)
	x.open("mets:mets", "xmlns:mets", nsMETS, "xmlns:xlink", nsXLink, "xmlns:xsi", nsXSI,
		"xsi:schemaLocation", nsMETS+" http://www.loc.gov/standards/mets/mets.xsd",
		"OBJID", rec.ID.String(), "LABEL", xmlSafe(label), "TYPE", "Case file", "PROFILE", ProfileIdentifier)
	x.open("mets:metsHdr", "CREATEDATE", instant(rec.Created), "RECORDSTATUS", "NEW")
	x.open("mets:agent", "ROLE", "CREATOR", "TYPE", "OTHER", "OTHERTYPE", "SOFTWARE")
	x.text("mets:name", rec.Software)
	x.text("mets:note", rec.SoftVersion)
	x.close("mets:agent")
	if rec.Organization != "" {
		x.open("mets:agent", "ROLE", "CUSTODIAN", "TYPE", "ORGANIZATION")
		x.text("mets:name", rec.Organization)
		x.close("mets:agent")
	}
	if meta.Reference != "" {
		x.text("mets:altRecordID", meta.Reference, "TYPE", "Aktenzeichen")
	}
	x.close("mets:metsHdr")

	var dmdIDs, files []string
	var premis *Member
	for i, m := range ms {
		switch {
		case strings.HasPrefix(m.Path, PathDescriptive):
			id := fmt.Sprintf("dmd-%03d", len(dmdIDs)+1)
			dmdIDs = append(dmdIDs, id)
			x.open("mets:dmdSec", "ID", id, "CREATED", instant(rec.Created))
			mdRef(x, m, "OTHER", "archivd case sidecar", strings.TrimPrefix(m.Path, "data/"))
			x.close("mets:dmdSec")
		case m.Path == PathPREMIS:
			premis = &ms[i]
		}
	}
	if premis != nil {
		x.open("mets:amdSec", "ID", "amd-001")
		x.open("mets:digiprovMD", "ID", "digiprov-premis")
		mdRef(x, *premis, "PREMIS", "", strings.TrimPrefix(premis.Path, "data/"))
		x.close("mets:digiprovMD")
		x.close("mets:amdSec")
	}
	x.open("mets:fileSec", "ID", "filesec-001")
	x.open("mets:fileGrp", "USE", "Representations/rep-001", "ID", "grp-rep-001")
	for _, m := range ms {
		if m.Kind != KindPayload {
			continue
		}
		id := fmt.Sprintf("file-%06d", len(files)+1)
		files = append(files, id)
		mime := ""
		if m.Format != nil {
			mime = m.Format.MIME
		}
		x.open("mets:file", "ID", id, "MIMETYPE", mime, "SIZE", strconv.FormatInt(m.Size, 10), "CREATED", instant(m.ModTime),
			"CHECKSUM", m.Digests.SHA512.String(), "CHECKSUMTYPE", "SHA-512")
		x.empty("mets:FLocat", "LOCTYPE", "URL", "xlink:type", "simple", "xlink:href", hrefEscape(strings.TrimPrefix(m.Path, "data/")))
		x.close("mets:file")
	}
	x.close("mets:fileGrp")
	x.close("mets:fileSec")
	x.open("mets:structMap", "TYPE", "PHYSICAL", "LABEL", "CSIP")
	x.open("mets:div", "ID", "div-root", "LABEL", rec.ID.String())
	x.empty("mets:div", "ID", "div-metadata", "LABEL", "Metadata", "DMDID", strings.Join(dmdIDs, " "), "ADMID", map[bool]string{true: "amd-001"}[premis != nil])
	x.open("mets:div", "ID", "div-rep-001", "LABEL", "Representations/rep-001")
	for _, id := range files {
		x.empty("mets:fptr", "FILEID", id)
	}
	x.close("mets:div")
	x.close("mets:div")
	x.close("mets:structMap")
	x.close("mets:mets")
}

func mdRef(x *xw, m Member, mdtype, other, href string) {
	x.empty("mets:mdRef", "LOCTYPE", "URL", "xlink:type", "simple", "xlink:href", hrefEscape(href),
		"MDTYPE", mdtype, "OTHERMDTYPE", other, "SIZE", strconv.FormatInt(m.Size, 10), "CREATED", instant(m.ModTime),
		"CHECKSUM", m.Digests.SHA512.String(), "CHECKSUMTYPE", "SHA-512")
}

// hrefEscape makes a relative path a valid URI reference.
func hrefEscape(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/!$&'()*+,;=:@", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
