// Package xdomea reads xdomea transfer (Aussonderung) messages 0503 of
// xdomea 3.x and 4.0 as German e-file systems send them: the records
// (Akte, Vorgang, Dokument) with their metadata and the primary documents
// each names, and checks a transfer zip against its message: every named
// document present, nothing unnamed, digests matching, safe entry names.
package xdomea

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Namespaces archivd reads: xdomea 3.x and 4.0.
const nsPrefix = "urn:xoev-de:xdomea:schema:"

// Message is a parsed 0503 transfer message.
type Message struct {
	Version   string // 3.0.0, 3.1.0, 4.0.0 (from the namespace)
	ProzessID string
	Created   string
	Sender    string // Institution (and Organisationseinheit)
	Receiver  string
	// ImportConfirmation: the sender asks for the 0506 answer.
	ImportConfirmation bool
	Records            []*Record // the top-level Schriftgutobjekte

	raw []byte
}

// Part is the record's own element from the message, as sent, wrapped in a
// Schriftgutobjekt element that declares the xdomea namespace: what the
// record's AIP keeps beside the whole message.
func (m *Message) Part(r *Record) []byte {
	if r.end <= r.start || r.end > int64(len(m.raw)) {
		return nil
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xdomea:Schriftgutobjekt xmlns:xdomea=\"%s%s\">\n", nsPrefix, m.Version)
	b.Write(m.raw[r.start:r.end])
	b.WriteString("\n</xdomea:Schriftgutobjekt>\n")
	return b.Bytes()
}

// Record is an Akte, a Vorgang or a Dokument.
type Record struct {
	Kind        string // Akte, Vorgang, Dokument
	ID          string
	Context     bool   // Kontextobjekt: describes the records inside, is not itself transferred
	Title       string // Betreff (Aktenbetreff where given)
	Reference   string // Kennzeichen (Aktenzeichen)
	RecordClass string // Aktenplaneinheit/Kennzeichen
	Opened      string // Laufzeit/Beginn
	Closed      string // Laufzeit/Ende
	Retention   string // Aufbewahrungsdauer: years ("10"), or Unlimited; inherited from the enclosing record
	Disposal    string // Aussonderungsart code (A, B, V); inherited from the enclosing record
	Children    []*Record
	Versions    []Version // of a Dokument

	start, end int64 // the element's bytes in the message
}

// Version is one version of a Dokument with its primary documents.
type Version struct {
	Number string
	Files  []File
}

// File is a primary document (Primärdokument) named by the message.
type File struct {
	Name     string // Dateiname
	Hash     string // hex, lower case; "" if the message gives none
	HashAlgo string // SHA-256, SHA-512, ...
	Document string // the Dokument's ID
	Version  string
}

// node is an element of the message.
type node struct {
	name       string // local name
	text       string
	children   []*node
	start, end int64 // offsets of the element in the message
}

func (n *node) child(names ...string) *node {
	cur := n
	for _, name := range names {
		var next *node
		for _, c := range cur.children {
			if c.name == name {
				next = c
				break
			}
		}
		if next == nil {
			return nil
		}
		cur = next
	}
	return cur
}

func (n *node) textOf(names ...string) string {
	if c := n.child(names...); c != nil {
		return strings.TrimSpace(c.text)
	}
	return ""
}

// find returns the first element named name below n (depth first).
func (n *node) find(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
		if f := c.find(name); f != nil {
			return f
		}
	}
	return nil
}

// findOwn is find within a record's own metadata: it does not descend
// into the records the element contains.
func (n *node) findOwn(name string) *node {
	for _, c := range n.children {
		switch c.name {
		case name:
			return c
		case "Akte", "Vorgang", "Dokument", "Akteninhalt", "DokumentOderDokumentMitSchriftstueck", "Teilakte":
			continue
		}
		if f := c.findOwn(name); f != nil {
			return f
		}
	}
	return nil
}

// Unlimited is Record.Retention for Aufbewahrungsdauer/Unbefristet.
const Unlimited = "unbefristet"

// Limits of the parser.
const (
	maxMessage = 256 << 20
	maxDepth   = 200
	maxNodes   = 5_000_000
)

// ErrNotXdomea: the document is not an xdomea 0503 message.
var ErrNotXdomea = errors.New("not an xdomea transfer message (Aussonderung.Aussonderung.0503)")

// Parse reads a 0503 message.
func Parse(r io.Reader) (*Message, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxMessage+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxMessage {
		return nil, fmt.Errorf("message larger than %d MiB", maxMessage>>20)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	var root *node
	var stack []*node
	count := 0
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("message is not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if count++; count > maxNodes || len(stack) >= maxDepth {
				return nil, errors.New("message too large or too deeply nested")
			}
			n := &node{name: t.Name.Local, start: before}
			if root == nil {
				if !strings.HasPrefix(t.Name.Space, nsPrefix) {
					return nil, fmt.Errorf("%w: root element in namespace %q", ErrNotXdomea, t.Name.Space)
				}
				if t.Name.Local != "Aussonderung.Aussonderung.0503" {
					return nil, fmt.Errorf("%w: root element %s", ErrNotXdomea, t.Name.Local)
				}
				root = n
				root.text = strings.TrimPrefix(t.Name.Space, nsPrefix)
			} else {
				stack[len(stack)-1].children = append(stack[len(stack)-1].children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack[len(stack)-1].end = dec.InputOffset()
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 1 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, ErrNotXdomea
	}
	m := &Message{Version: root.text, raw: b}
	// 3.x: Kopf; 4.0: nachrichtenkopf with identifikation.nachricht.
	head := root.child("Kopf")
	if head == nil {
		head = root.child("nachrichtenkopf")
	}
	if head == nil {
		return nil, fmt.Errorf("%w: no message header (Kopf / nachrichtenkopf)", ErrNotXdomea)
	}
	m.ProzessID = head.textOf("ProzessID")
	if p := head.find("ProzessID"); m.ProzessID == "" && p != nil {
		m.ProzessID = strings.TrimSpace(p.text)
	}
	if m.Created = head.textOf("Erstellungszeitpunkt"); m.Created == "" {
		if c := head.find("erstellungszeitpunkt"); c != nil {
			m.Created = strings.TrimSpace(c.text)
		}
	}
	m.Sender = party(head, "Absender", "autor")
	m.Receiver = party(head, "Empfaenger", "leser")
	confirm := head.textOf("Importbestaetigung")
	if confirm == "" {
		confirm = root.textOf("Importbestaetigung")
	}
	m.ImportConfirmation = confirm == "1" || confirm == "true"
	if m.ProzessID == "" {
		return nil, fmt.Errorf("%w: no ProzessID", ErrNotXdomea)
	}
	for _, s := range root.children {
		if s.name != "Schriftgutobjekt" {
			continue
		}
		for _, c := range s.children {
			if r := record(c); r != nil {
				m.Records = append(m.Records, r)
			}
		}
	}
	if len(m.Records) == 0 {
		return nil, errors.New("the message names no records (Schriftgutobjekt)")
	}
	return m, nil
}

func party(head *node, v3, v4 string) string {
	for _, name := range []string{v3, v4} {
		p := head.child(name)
		if p == nil {
			continue
		}
		var parts []string
		for _, k := range []string{"Institution", "NameInstitution", "Organisationseinheit"} {
			if n := p.textOf(k, "Name"); n != "" {
				parts = append(parts, n)
			}
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

// record reads an Akte, Vorgang or Dokument element.
func record(n *node) *Record {
	switch n.name {
	case "Akte", "Vorgang", "Dokument":
	default:
		return nil
	}
	r := &Record{Kind: n.name, start: n.start, end: n.end}
	if r.ID = n.textOf("Identifikation", "ID"); r.ID == "" {
		r.ID = n.textOf("Identifikation", "xdomeaUUID")
	}
	r.Context = n.textOf("Kontextobjekt") == "1" || n.textOf("Kontextobjekt") == "true"
	r.Title = n.textOf("AllgemeineMetadaten", "Betreff")
	if t := n.textOf("Aktenbetreff"); t != "" && r.Title == "" {
		r.Title = t
	}
	r.Reference = n.textOf("AllgemeineMetadaten", "Kennzeichen")
	r.RecordClass = n.textOf("AllgemeineMetadaten", "Aktenplaneinheit", "Kennzeichen")
	r.Opened, r.Closed = n.textOf("Laufzeit", "Beginn"), n.textOf("Laufzeit", "Ende")
	if a := n.findOwn("Aufbewahrungsdauer"); a != nil {
		switch {
		case a.textOf("AnzahlJahre") != "":
			r.Retention = a.textOf("AnzahlJahre")
		case a.child("Unbefristet") != nil:
			r.Retention = Unlimited
		default:
			r.Retention = collect(a)
		}
	}
	if a := n.findOwn("Aussonderungsart"); a != nil {
		r.Disposal = strings.TrimSpace(a.textOf("Aussonderungsart", "code"))
		if r.Disposal == "" {
			r.Disposal = collect(a)
		}
	}
	for _, c := range n.children {
		switch c.name {
		case "Akteninhalt", "DokumentOderDokumentMitSchriftstueck", "Teilakte":
			for _, cc := range c.children {
				if k := record(cc); k != nil {
					r.Children = append(r.Children, k)
				}
			}
		case "Version":
			v := Version{Number: c.textOf("Nummer")}
			for _, f := range c.children {
				if f.name != "Format" {
					continue
				}
				for _, p := range f.children {
					if p.name != "Primaerdokument" {
						continue
					}
					file := File{Name: p.textOf("Dateiname"), Document: r.ID, Version: v.Number}
					if h := p.child("Hash"); h != nil {
						file.Hash = strings.ToLower(h.textOf("Wert"))
						file.HashAlgo = strings.ToUpper(h.textOf("Algorithmus", "code"))
					}
					v.Files = append(v.Files, file)
				}
			}
			r.Versions = append(r.Versions, v)
		default:
			if k := record(c); k != nil {
				r.Children = append(r.Children, k)
			}
		}
	}
	for _, k := range r.Children {
		k.inherit(r.Retention, r.Disposal)
	}
	return r
}

// inherit gives a record and those inside it the enclosing record's
// Aufbewahrungsdauer and Aussonderungsart where they have none of their
// own (xdomea: they pass from Akte to Vorgang to Dokument).
func (r *Record) inherit(retention, disposal string) {
	if r.Retention == "" {
		r.Retention = retention
	}
	if r.Disposal == "" {
		r.Disposal = disposal
	}
	for _, k := range r.Children {
		k.inherit(r.Retention, r.Disposal)
	}
}

// collect joins the text below n (for code lists and durations).
func collect(n *node) string {
	s := strings.TrimSpace(n.text)
	for _, c := range n.children {
		if t := collect(c); t != "" {
			if s != "" {
				s += " "
			}
			s += t
		}
	}
	return s
}

// Files lists every primary document below r, r included.
func (r *Record) Files() []File {
	var out []File
	for _, v := range r.Versions {
		out = append(out, v.Files...)
	}
	for _, c := range r.Children {
		out = append(out, c.Files()...)
	}
	return out
}

// Files lists every primary document the message names.
func (m *Message) Files() []File {
	var out []File
	for _, r := range m.Records {
		out = append(out, r.Files()...)
	}
	return out
}

// Units are the records archivd makes one AIP each of: each top-level Akte
// or Vorgang (a Dokument at the top level is a unit of its own); a
// top-level record that is only context (Kontextobjekt) gives its
// transferred children instead, each carrying the context's metadata where
// its own is empty.
func (m *Message) Units() []*Record {
	var out []*Record
	var walk func(r *Record, ctx *Record)
	walk = func(r *Record, ctx *Record) {
		if r.Context {
			for _, c := range r.Children {
				walk(c, r)
			}
			return
		}
		u := *r
		if ctx != nil {
			if u.RecordClass == "" {
				u.RecordClass = ctx.RecordClass
			}
			if u.Retention == "" {
				u.Retention = ctx.Retention
			}
			if u.Disposal == "" {
				u.Disposal = ctx.Disposal
			}
		}
		out = append(out, &u)
	}
	for _, r := range m.Records {
		walk(r, nil)
	}
	return out
}
