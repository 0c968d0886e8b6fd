package xdomea

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Outcome is one record's result of a transfer, as the 0506 reports it.
type Outcome struct {
	ID       string // the Schriftgutobjekt's ID (IDSGO)
	Imported bool
	Reason   string // why not, in words
}

// Answer names of the two replies an archive sends.
const (
	TypeReceipt = "0507" // Aussonderung.AussonderungEmpfangBestaetigen
	TypeImport  = "0506" // Aussonderung.AussonderungImportBestaetigen
)

// AnswerName is the file name of an answer in the outbox:
// <ProzessID>_Aussonderung.AussonderungEmpfangBestaetigen.0507.xml (or
// ...ImportBestaetigen.0506.xml).
func AnswerName(m *Message, typ string) string {
	if typ == TypeReceipt {
		return m.ProzessID + "_Aussonderung.AussonderungEmpfangBestaetigen.0507.xml"
	}
	return m.ProzessID + "_Aussonderung.AussonderungImportBestaetigen.0506.xml"
}

// Receipt is the 0507 confirming that the transfer arrived and was read.
func Receipt(m *Message, archive string, now time.Time) ([]byte, error) {
	return answer(m, TypeReceipt, archive, now, nil)
}

// ImportConfirmation is the 0506: every record imported or not, with the
// reason. Send it only once every required copy of every imported record's
// AIP is verified: it lets the sender delete its copy.
func ImportConfirmation(m *Message, archive string, now time.Time, outcomes []Outcome) ([]byte, error) {
	if len(outcomes) == 0 {
		return nil, fmt.Errorf("a 0506 reports at least one record")
	}
	return answer(m, TypeImport, archive, now, outcomes)
}

// answer writes an answer in the message's own xdomea version. Only 3.x is
// written: archivd has the 3.0.0 schemas to check its answers against, and
// not yet those of 4.0.
func answer(m *Message, typ, archive string, now time.Time, outcomes []Outcome) ([]byte, error) {
	if !strings.HasPrefix(m.Version, "3.") {
		return nil, fmt.Errorf("answers in xdomea %s are not written yet (archivd writes 3.x answers, checked against the 3.0.0 schemas)", m.Version)
	}
	name := map[string]string{TypeReceipt: "Aussonderung.AussonderungEmpfangBestaetigen", TypeImport: "Aussonderung.AussonderungImportBestaetigen"}[typ]
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xdomea:%s.%s xmlns:xdomea=\"%s%s\">\n", name, typ, nsPrefix, m.Version)
	b.WriteString("  <xdomea:Kopf>\n")
	fmt.Fprintf(&b, "    <xdomea:ProzessID>%s</xdomea:ProzessID>\n", esc(m.ProzessID))
	fmt.Fprintf(&b, "    <xdomea:Nachrichtentyp listURI=\"urn:xoev-de:xdomea:codeliste:nachrichtentyp\" listVersionID=\"2.0\">\n      <code>%s</code>\n      <name>%s</name>\n    </xdomea:Nachrichtentyp>\n", typ, name)
	fmt.Fprintf(&b, "    <xdomea:Erstellungszeitpunkt>%s</xdomea:Erstellungszeitpunkt>\n", now.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "    <xdomea:Absender>\n      <xdomea:Institution>\n        <xdomea:Name>%s</xdomea:Name>\n      </xdomea:Institution>\n    </xdomea:Absender>\n", esc(orArchive(archive)))
	fmt.Fprintf(&b, "    <xdomea:Empfaenger>\n      <xdomea:Institution>\n        <xdomea:Name>%s</xdomea:Name>\n      </xdomea:Institution>\n    </xdomea:Empfaenger>\n", esc(orArchive(m.Sender)))
	fmt.Fprintf(&b, "    <xdomea:SendendesSystem>\n      <xdomea:InstanzID>%s</xdomea:InstanzID>\n      <xdomea:Produktname>archivd</xdomea:Produktname>\n    </xdomea:SendendesSystem>\n", uuid.NewString())
	b.WriteString("  </xdomea:Kopf>\n")
	for _, o := range outcomes {
		fmt.Fprintf(&b, "  <xdomea:AusgesondertesSGO>\n    <xdomea:IDSGO>%s</xdomea:IDSGO>\n    <xdomea:Erfolgreich>%v</xdomea:Erfolgreich>\n", esc(o.ID), o.Imported)
		if !o.Imported && o.Reason != "" {
			fmt.Fprintf(&b, "    <xdomea:Fehlermeldung>%s</xdomea:Fehlermeldung>\n", esc(o.Reason))
		}
		b.WriteString("  </xdomea:AusgesondertesSGO>\n")
	}
	fmt.Fprintf(&b, "</xdomea:%s.%s>\n", name, typ)
	return b.Bytes(), nil
}

func orArchive(s string) string {
	if s == "" {
		return "unbekannt / unknown"
	}
	return s
}
