package formats

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"path"
	"strings"

	"github.com/richardlehane/mscfb"
	"golang.org/x/text/encoding/ianaindex"
)

// Limits of the document validators.
var (
	maxMIMEParts  = 10_000
	maxMIMEDepth  = 32
	maxXMLPartLen = int64(256 << 20)
	maxOLEEntries = 100_000
)

// validateEML checks an e-mail message (RFC 5322, MIME): the message
// begins with a header field, every text part names a known charset,
// every part's transfer encoding is known and its base64 decodes, every
// part header parses, and a multipart body ends with its closing
// boundary. What mail readers routinely tolerate (a Content-Type without
// its semicolon, a base64 body cut mid-group, a multipart without
// boundary or parts, a stray line in the header) is noted, not called
// malformed: the e-mail corpus's own labels draw the line there.
func validateEML(ctx context.Context, r io.ReaderAt, size int64) Validation {
	const checker = "archivd e-mail structure (RFC 5322 header, MIME parts, transfer encodings)"
	msg, err := mail.ReadMessage(bufio.NewReader(io.NewSectionReader(r, 0, size)))
	if err != nil {
		if strings.Contains(err.Error(), "malformed initial line") {
			return malformed(checker, "the message does not begin with a header field: "+err.Error())
		}
		return Validation{Outcome: WellFormed, Checker: checker, Messages: []string{"header not fully parsed: " + err.Error()}}
	}
	c := &mimeCheck{ctx: ctx}
	c.part(textproto.MIMEHeader(msg.Header), msg.Body, 0)
	if c.problem != "" {
		return malformed(checker, c.problem)
	}
	for _, h := range []string{"From", "Date"} {
		if msg.Header.Get(h) == "" {
			c.notes = append(c.notes, "no "+h+" header (RFC 5322 requires one)")
		}
	}
	return Validation{Outcome: WellFormed, Checker: checker, Messages: c.notes}
}

type mimeCheck struct {
	ctx     context.Context
	parts   int
	problem string
	notes   []string
}

func (c *mimeCheck) note(format string, args ...any) {
	if len(c.notes) < 20 {
		c.notes = append(c.notes, fmt.Sprintf(format, args...))
	}
}

func (c *mimeCheck) part(h textproto.MIMEHeader, body io.Reader, depth int) {
	if c.parts++; c.parts > maxMIMEParts || depth > maxMIMEDepth || c.ctx.Err() != nil {
		c.problem = "too many or too deeply nested parts"
		return
	}
	ct := h.Get("Content-Type")
	mediaType, params := "text/plain", map[string]string{}
	if ct != "" {
		mt, ps, err := mime.ParseMediaType(ct)
		if err != nil {
			c.note("Content-Type %q does not parse (%v): read as %s", ct, err, strings.ToLower(strings.TrimSpace(strings.SplitN(ct, " ", 2)[0])))
			mt = strings.ToLower(strings.TrimRight(strings.TrimSpace(strings.SplitN(strings.SplitN(ct, ";", 2)[0], " ", 2)[0]), ";"))
		}
		if mt != "" {
			mediaType, params = mt, ps
		}
	}
	if cs := params["charset"]; cs != "" && strings.HasPrefix(mediaType, "text/") {
		if _, err := ianaindex.MIME.Encoding(cs); err != nil {
			c.problem = fmt.Sprintf("charset %q of a %s part is not a known character set", cs, mediaType)
			return
		}
	}
	cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	raw := &errReader{r: body} // tells the body's own errors from the decoder's
	body = raw
	var dec io.Reader
	switch cte {
	case "", "7bit", "8bit", "binary":
		dec = body
	case "base64":
		dec = base64.NewDecoder(base64.StdEncoding, &noSpace{r: body})
	case "quoted-printable":
		dec = quotedprintable.NewReader(body)
	default:
		c.problem = fmt.Sprintf("unknown Content-Transfer-Encoding %q", cte)
		return
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		b := params["boundary"]
		if b == "" {
			c.note("%s without a boundary: read as one part", mediaType)
			io.Copy(io.Discard, dec)
			return
		}
		mr := multipart.NewReader(dec, b)
		n := 0
		for c.problem == "" {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if strings.Contains(err.Error(), "malformed MIME header") {
					c.problem = fmt.Sprintf("%s: a part's header does not parse: %v", mediaType, err)
				} else {
					c.note("%s: %v", mediaType, err)
				}
				return
			}
			n++
			c.part(p.Header, p, depth+1)
		}
		if n == 0 {
			c.note("%s without parts", mediaType)
		}
		return
	}
	_, err := io.Copy(io.Discard, dec)
	var ce base64.CorruptInputError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		c.problem = fmt.Sprintf("a %s part's base64 content does not decode: %v", mediaType, err)
	case errors.Is(raw.err, io.ErrUnexpectedEOF):
		c.problem = fmt.Sprintf("a %s part ends without the multipart's closing boundary", mediaType)
	case errors.Is(err, io.ErrUnexpectedEOF) && cte == "base64":
		c.note("a %s part's base64 content ends mid-group", mediaType)
	default:
		c.problem = fmt.Sprintf("a %s part's %s content does not decode: %v", mediaType, orIdentity(cte), err)
	}
}

func orIdentity(cte string) string {
	if cte == "" {
		return "7bit"
	}
	return cte
}

// errReader remembers the error of the reader it wraps.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// noSpace drops the line breaks and blanks base64 bodies carry.
type noSpace struct{ r io.Reader }

func (n *noSpace) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// validateMSG checks an Outlook message: a readable OLE2 compound file
// with the property stream every message has and its content streams.
func validateMSG(ctx context.Context, r io.ReaderAt, size int64) Validation {
	const checker = "archivd Outlook message (OLE2 structure, required streams)"
	doc, err := mscfb.New(io.NewSectionReader(r, 0, size))
	if err != nil {
		return malformed(checker, "OLE2 structure unreadable: "+err.Error())
	}
	props, substg, n := false, false, 0
	for e, err := doc.Next(); err == nil; e, err = doc.Next() {
		if n++; n > maxOLEEntries || ctx.Err() != nil {
			return Validation{Outcome: NotChecked, Checker: checker, Messages: []string{"too many entries to check"}}
		}
		if len(e.Path) == 0 { // top level
			props = props || e.Name == "__properties_version1.0"
			substg = substg || strings.HasPrefix(e.Name, "__substg1.0_")
		}
		if e.Size > 0 {
			if _, err := io.Copy(io.Discard, e); err != nil {
				return malformed(checker, fmt.Sprintf("stream %q cannot be read: %v", e.Name, err))
			}
		}
	}
	switch {
	case !props:
		return malformed(checker, "no __properties_version1.0 stream: not a complete Outlook message")
	case !substg:
		return malformed(checker, "no property streams (__substg1.0_*): the message has no content")
	}
	return Validation{Outcome: WellFormed, Checker: checker}
}

// checkOffice checks what Office Open XML and ODF require of their ZIP
// package: OOXML [Content_Types].xml, _rels/.rels and the main part it
// names; ODF mimetype stored first and uncompressed, META-INF/manifest.xml;
// every XML part well-formed. It returns problems (malformed) and notes.
func checkOffice(ctx context.Context, zr *zip.Reader) (problems, notes []string) {
	byName := map[string]*zip.File{}
	for _, f := range zr.File {
		byName[f.Name] = f
	}
	switch {
	case byName["[Content_Types].xml"] != nil || byName["_rels/.rels"] != nil:
		if byName["[Content_Types].xml"] == nil {
			return []string{"Office Open XML package without [Content_Types].xml"}, nil
		}
		rels := byName["_rels/.rels"]
		if rels == nil {
			return []string{"Office Open XML package without _rels/.rels"}, nil
		}
		main, err := mainPart(rels)
		if err != nil {
			return []string{"_rels/.rels: " + err.Error()}, nil
		}
		if main == "" {
			return []string{"_rels/.rels names no main document part (officeDocument relationship)"}, nil
		}
		if byName[strings.TrimPrefix(path.Clean("/"+main), "/")] == nil {
			return []string{"the main document part " + main + " named in _rels/.rels is missing"}, nil
		}
	case byName["mimetype"] != nil:
		if zr.File[0].Name != "mimetype" {
			problems = append(problems, "ODF mimetype entry is not the first entry")
		} else if zr.File[0].Method != zip.Store {
			problems = append(problems, "ODF mimetype entry is compressed (ODF requires it stored)")
		}
		if byName["META-INF/manifest.xml"] == nil {
			problems = append(problems, "ODF package without META-INF/manifest.xml")
		}
		if problems != nil {
			return problems, nil
		}
	default:
		return nil, nil
	}
	for _, f := range zr.File {
		if ctx.Err() != nil {
			return nil, []string{"XML parts not all checked in time"}
		}
		if !strings.HasSuffix(f.Name, ".xml") && !strings.HasSuffix(f.Name, ".rels") {
			continue
		}
		if int64(f.UncompressedSize64) > maxXMLPartLen {
			notes = append(notes, f.Name+" is too large to check")
			continue
		}
		if err := wellFormedPart(f); err != nil {
			problems = append(problems, fmt.Sprintf("%s is not well-formed XML: %v", f.Name, err))
			if len(problems) >= 10 {
				break
			}
		}
	}
	return problems, notes
}

func mainPart(rels *zip.File) (string, error) {
	rc, err := rels.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var x struct {
		Rels []struct {
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(&x); err != nil {
		return "", err
	}
	for _, r := range x.Rels {
		if strings.HasSuffix(r.Type, "/officeDocument") {
			return r.Target, nil
		}
	}
	return "", nil
}

func wellFormedPart(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, maxXMLPartLen))
	dec.Strict = true
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		e, err := ianaindex.IANA.Encoding(label)
		if err != nil || e == nil {
			return nil, fmt.Errorf("unknown encoding %q", label)
		}
		return e.NewDecoder().Reader(in), nil
	}
	for depth := 0; ; {
		t, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t.(type) {
		case xml.StartElement:
			if depth++; depth > maxXMLDepth {
				return fmt.Errorf("nested deeper than %d", maxXMLDepth)
			}
		case xml.EndElement:
			depth--
		}
	}
}
