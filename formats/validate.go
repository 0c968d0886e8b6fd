package formats

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Validity outcomes, named for what is really checked.
const (
	WellFormed = "well-formed"
	Malformed  = "malformed"
	NotChecked = "not checked"
)

// Validation is the outcome of a structural check.
type Validation struct {
	Outcome   string
	Checker   string // what checked it, e.g. "archivd pdf structure"
	Messages  []string
	Encrypted bool
	BytesRead int64
}

// Limits every native validator respects, whatever the file declares.
var (
	validateTimeout = 30 * time.Second
	maxTIFFIFDs     = 4096
	maxTIFFEntries  = 4096
	maxXMLDepth     = 256
	maxXMLTokens    = 50_000_000
	maxJPEGSegments = 100_000
	maxPNGChunks    = 1_000_000
	maxZIPEntries   = 100_000
)

// countingReaderAt counts bytes read, to report bytes read twice.
type countingReaderAt struct {
	r io.ReaderAt
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

// Validate checks the structure of a file identified as res. Each check is
// streaming or bounded random access, never allocates by a size the file
// declares, and ends within validateTimeout.
func Validate(ctx context.Context, r io.ReaderAt, size int64, res Result) Validation {
	ctx, cancel := context.WithTimeout(ctx, validateTimeout)
	defer cancel()
	cr := &countingReaderAt{r: r}
	head := make([]byte, min(size, 16))
	cr.ReadAt(head, 0)
	var v Validation
	switch family(res, head) {
	case "pdf":
		v = validatePDF(ctx, cr, size)
	case "tiff":
		v = validateTIFF(ctx, cr, size)
	case "jpeg":
		v = validateJPEG(ctx, cr, size)
	case "png":
		v = validatePNG(ctx, cr, size)
	case "zip":
		v = validateZIP(ctx, cr, size)
	case "xml":
		v = validateXML(ctx, cr, size)
	case "text":
		v = validateText(ctx, cr, size)
	case "wave":
		v = validateWAVE(ctx, cr, size)
	case "gif":
		v = validateGIF(ctx, cr, size)
	case "bmp":
		v = validateBMP(cr, size)
	case "jp2":
		v = validateJP2(ctx, cr, size)
	case "eml":
		v = validateEML(ctx, cr, size)
	case "msg":
		v = validateMSG(ctx, cr, size)
	default:
		v = Validation{Outcome: NotChecked, Messages: []string{"no validator for this format"}}
	}
	if ctx.Err() != nil {
		v = Validation{Outcome: NotChecked, Checker: v.Checker, Messages: []string{"validation stopped after " + validateTimeout.String()}}
	}
	v.BytesRead = cr.n
	return v
}

func family(res Result, head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")) || res.MIME == "application/pdf":
		return "pdf"
	case bytes.HasPrefix(head, []byte("II*\x00")) || bytes.HasPrefix(head, []byte("MM\x00*")):
		return "tiff"
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return "jpeg"
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return "zip"
	case bytes.HasPrefix(head, []byte("RIFF")) && len(head) >= 12 && string(head[8:12]) == "WAVE":
		return "wave"
	case bytes.HasPrefix(head, []byte("GIF87a")) || bytes.HasPrefix(head, []byte("GIF89a")):
		return "gif"
	case bytes.HasPrefix(head, []byte("BM")) && (res.MIME == "image/bmp" || res.MIME == "image/x-ms-bmp" || strings.HasPrefix(res.Name, "Windows Bitmap")):
		return "bmp"
	case bytes.HasPrefix(head, []byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' '}) || bytes.HasPrefix(head, []byte{0xFF, 0x4F, 0xFF, 0x51}):
		return "jp2"
	case res.PUID == "x-fmt/430" || res.MIME == "application/vnd.ms-outlook":
		return "msg"
	case res.PUID == "fmt/950" || res.MIME == "message/rfc822":
		return "eml"
	case strings.Contains(res.MIME, "xml") || bytes.HasPrefix(head, []byte("<?xml")):
		return "xml"
	case res.PUID == plainTextPUID || res.PUID == "x-fmt/18" || strings.HasPrefix(res.MIME, "text/plain") || res.MIME == "text/csv":
		return "text"
	}
	return ""
}

func malformed(checker string, msgs ...string) Validation {
	return Validation{Outcome: Malformed, Checker: checker, Messages: msgs}
}

var (
	rePDFHeader = regexp.MustCompile(`^%PDF-(\d)\.(\d)`)
	reStartxref = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF`)
	reXrefObj   = regexp.MustCompile(`^\s*\d+\s+\d+\s+obj\b`)
)

// validatePDF checks header, the last startxref and %%EOF, that startxref
// points at a cross-reference table or stream inside the file, that a
// trailer exists, and whether the document is encrypted.
func validatePDF(ctx context.Context, r io.ReaderAt, size int64) Validation {
	const checker = "archivd PDF structure (header, %%EOF, every xref section and the objects it names, stream lengths, object streams, trailer)"
	head := make([]byte, min(size, 1024))
	r.ReadAt(head, 0)
	i := bytes.Index(head, []byte("%PDF-"))
	if i < 0 || !rePDFHeader.Match(head[i:]) {
		return malformed(checker, "no %PDF-x.y header in the first 1024 bytes")
	}
	if i > 0 {
		// Offsets count from the first byte; readers that count from the
		// header (qpdf) see another file.
		return malformed(checker, fmt.Sprintf("%d bytes precede the %%PDF header: the header must begin the file", i))
	}
	tail := make([]byte, min(size, 4096))
	r.ReadAt(tail, size-int64(len(tail)))
	var msgs []string
	eof := bytes.LastIndex(tail, []byte("%%EOF"))
	if eof < 0 {
		return malformed(checker, "no %%EOF marker in the last 4096 bytes")
	}
	m := reStartxref.FindAllSubmatch(tail, -1)
	if len(m) == 0 {
		return malformed(checker, "no startxref before the final %%EOF")
	}
	off, err := strconv.ParseInt(string(m[len(m)-1][1]), 10, 64)
	if err != nil || off <= 0 || off >= size {
		return malformed(checker, fmt.Sprintf("startxref offset %s lies outside the file (%d bytes)", m[len(m)-1][1], size))
	}
	at := make([]byte, min(size-off, 64))
	r.ReadAt(at, off)
	classic := bytes.HasPrefix(bytes.TrimLeft(at, " \r\n\t"), []byte("xref"))
	if !classic && !reXrefObj.Match(at) {
		msgs = append(msgs, fmt.Sprintf("startxref %d does not point at an xref table or an xref stream object", off))
	}
	// The trailer (or the xref stream dictionary) follows the xref.
	trailerWin := make([]byte, min(size-off, 1<<20))
	r.ReadAt(trailerWin, off)
	enc := false
	if classic {
		t := bytes.Index(trailerWin, []byte("trailer"))
		if t < 0 {
			msgs = append(msgs, "no trailer after the cross-reference table")
		} else {
			enc = bytes.Contains(trailerWin[t:], []byte("/Encrypt"))
		}
	} else {
		end := bytes.Index(trailerWin, []byte("stream"))
		if end < 0 {
			end = len(trailerWin)
		}
		enc = bytes.Contains(trailerWin[:end], []byte("/Encrypt"))
	}
	if len(msgs) == 0 {
		problems, notes, encrypted := checkPDF(ctx, r, size, off)
		msgs = append(msgs, problems...)
		if len(problems) == 0 {
			msgs = append(msgs, notes...)
		}
		enc = enc || encrypted
		if len(problems) == 0 {
			v := Validation{Outcome: WellFormed, Checker: checker, Messages: msgs, Encrypted: enc}
			if enc {
				v.Messages = append(v.Messages, "document is encrypted (/Encrypt in the trailer)")
			}
			return v
		}
	}
	v := Validation{Outcome: WellFormed, Checker: checker, Messages: msgs, Encrypted: enc}
	if len(msgs) > 0 {
		v.Outcome = Malformed
	}
	if enc {
		v.Messages = append(v.Messages, "document is encrypted (/Encrypt in the trailer)")
	}
	return v
}

// validateTIFF walks every IFD, checking that offsets and the values they
// point to lie inside the file, that no IFD is visited twice, and that
// strip/tile data lies inside the file.
func validateTIFF(ctx context.Context, r io.ReaderAt, size int64) Validation {
	const checker = "archivd TIFF IFD walk"
	hdr := make([]byte, 8)
	if size < 8 {
		return malformed(checker, "file shorter than the 8-byte TIFF header")
	}
	r.ReadAt(hdr, 0)
	var bo binary.ByteOrder = binary.LittleEndian
	if hdr[0] == 'M' {
		bo = binary.BigEndian
	}
	if bo.Uint16(hdr[2:]) != 42 {
		return malformed(checker, "not classic TIFF (magic 42)")
	}
	typeSize := map[uint16]int64{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
	off := int64(bo.Uint32(hdr[4:]))
	seen := map[int64]bool{}
	var msgs []string
	for n := 0; off != 0; n++ {
		if ctx.Err() != nil {
			return Validation{Outcome: NotChecked, Checker: checker}
		}
		if n >= maxTIFFIFDs {
			return malformed(checker, fmt.Sprintf("more than %d IFDs", maxTIFFIFDs))
		}
		if seen[off] {
			return malformed(checker, fmt.Sprintf("IFD at offset %d is visited twice (loop)", off))
		}
		seen[off] = true
		if off < 8 || off+2 > size {
			return malformed(checker, fmt.Sprintf("IFD %d offset %d lies outside the file", n, off))
		}
		cnt := make([]byte, 2)
		r.ReadAt(cnt, off)
		entries := int64(bo.Uint16(cnt))
		if entries == 0 || entries > int64(maxTIFFEntries) || off+2+entries*12+4 > size {
			return malformed(checker, fmt.Sprintf("IFD %d declares %d entries, which do not fit in the file", n, entries))
		}
		buf := make([]byte, entries*12+4)
		r.ReadAt(buf, off+2)
		var stripOffs, stripCounts []int64
		for e := int64(0); e < entries; e++ {
			ent := buf[e*12:]
			tag, typ, count := bo.Uint16(ent), bo.Uint16(ent[2:]), int64(bo.Uint32(ent[4:]))
			ts, ok := typeSize[typ]
			if !ok {
				continue // unknown types are skipped, as readers must
			}
			total := ts * count
			if count < 0 || total < 0 || total > size {
				msgs = append(msgs, fmt.Sprintf("IFD %d tag %d declares %d values, more than the file holds", n, tag, count))
				continue
			}
			if total > 4 {
				vo := int64(bo.Uint32(ent[8:]))
				if vo+total > size {
					msgs = append(msgs, fmt.Sprintf("IFD %d tag %d values at %d..%d lie outside the file", n, tag, vo, vo+total))
					continue
				}
			}
			if (tag == 273 || tag == 279 || tag == 324 || tag == 325) && count <= 1<<16 {
				vals := readTIFFValues(r, bo, ent, typ, count, total)
				if tag == 273 || tag == 324 {
					stripOffs = vals
				} else {
					stripCounts = vals
				}
			}
		}
		for i := range stripOffs {
			if i < len(stripCounts) && stripOffs[i]+stripCounts[i] > size {
				msgs = append(msgs, fmt.Sprintf("IFD %d image data %d at %d (+%d bytes) lies outside the file", n, i, stripOffs[i], stripCounts[i]))
				break
			}
		}
		off = int64(bo.Uint32(buf[entries*12:]))
	}
	if len(msgs) > 0 {
		return malformed(checker, msgs...)
	}
	return Validation{Outcome: WellFormed, Checker: checker}
}

func readTIFFValues(r io.ReaderAt, bo binary.ByteOrder, ent []byte, typ uint16, count, total int64) []int64 {
	var raw []byte
	if total <= 4 {
		raw = ent[8 : 8+total]
	} else {
		raw = make([]byte, total)
		r.ReadAt(raw, int64(bo.Uint32(ent[8:])))
	}
	out := make([]int64, 0, count)
	for i := int64(0); i < count; i++ {
		switch typ {
		case 3:
			out = append(out, int64(bo.Uint16(raw[2*i:])))
		case 4:
			out = append(out, int64(bo.Uint32(raw[4*i:])))
		default:
			return nil
		}
	}
	return out
}

// validateJPEG walks the marker segments up to the scan, then requires the
// EOI marker at the end of the file.
func validateJPEG(ctx context.Context, r io.ReaderAt, size int64) Validation {
	const checker = "archivd JPEG marker structure"
	off := int64(2)
	b := make([]byte, 4)
	sos := false
	for n := 0; off+4 <= size && n < maxJPEGSegments; n++ {
		if ctx.Err() != nil {
			return Validation{Outcome: NotChecked, Checker: checker}
		}
		r.ReadAt(b, off)
		if b[0] != 0xFF {
			return malformed(checker, fmt.Sprintf("expected a marker at offset %d, found 0x%02X", off, b[0]))
		}
		m := b[1]
		if m == 0xFF { // fill byte
			off++
			continue
		}
		if m == 0xD9 {
			return malformed(checker, "EOI before any image scan")
		}
		if m >= 0xD0 && m <= 0xD7 || m == 0x01 {
			off += 2
			continue
		}
		l := int64(binary.BigEndian.Uint16(b[2:]))
		if l < 2 || off+2+l > size {
			return malformed(checker, fmt.Sprintf("segment 0x%02X at %d declares %d bytes past the end of the file", m, off, l))
		}
		off += 2 + l
		if m == 0xDA {
			sos = true
			break
		}
	}
	if !sos {
		return malformed(checker, "no start-of-scan (SOS) marker")
	}
	tail := make([]byte, min(size, 2))
	r.ReadAt(tail, size-2)
	if !bytes.Equal(tail, []byte{0xFF, 0xD9}) {
		// Trailing bytes after EOI are common; look a little further back.
		t := make([]byte, min(size-off, 4096))
		r.ReadAt(t, size-int64(len(t)))
		if bytes.LastIndex(t, []byte{0xFF, 0xD9}) < 0 {
			return malformed(checker, "no end-of-image (EOI) marker: the file is truncated")
		}
		return Validation{Outcome: WellFormed, Checker: checker, Messages: []string{"bytes follow the end-of-image marker"}}
	}
	return Validation{Outcome: WellFormed, Checker: checker}
}

// validatePNG checks every chunk's length and CRC, and IHDR first, IEND last.
func validatePNG(ctx context.Context, r io.ReaderAt, size int64) Validation {
	const checker = "archivd PNG chunk structure and CRCs"
	off := int64(8)
	hdr := make([]byte, 8)
	buf := make([]byte, 64<<10)
	first := true
	for n := 0; n < maxPNGChunks; n++ {
		if ctx.Err() != nil {
			return Validation{Outcome: NotChecked, Checker: checker}
		}
		if off+12 > size {
			return malformed(checker, fmt.Sprintf("truncated: chunk header at %d runs past the end", off))
		}
		r.ReadAt(hdr, off)
		l := int64(binary.BigEndian.Uint32(hdr))
		typ := string(hdr[4:8])
		if l > 1<<31-1 || off+12+l > size {
			return malformed(checker, fmt.Sprintf("chunk %q at %d declares %d bytes past the end", typ, off, l))
		}
		if first && typ != "IHDR" {
			return malformed(checker, "first chunk is "+typ+", not IHDR")
		}
		first = false
		crc := crc32.NewIEEE()
		crc.Write(hdr[4:8])
		for done := int64(0); done < l; {
			k := min(int64(len(buf)), l-done)
			r.ReadAt(buf[:k], off+8+done)
			crc.Write(buf[:k])
			done += k
		}
		want := make([]byte, 4)
		r.ReadAt(want, off+8+l)
		if crc.Sum32() != binary.BigEndian.Uint32(want) {
			return malformed(checker, fmt.Sprintf("chunk %q at %d has a wrong CRC", typ, off))
		}
		off += 12 + l
		if typ == "IEND" {
			if off != size {
				return Validation{Outcome: WellFormed, Checker: checker, Messages: []string{fmt.Sprintf("%d bytes follow IEND", size-off)}}
			}
			return Validation{Outcome: WellFormed, Checker: checker}
		}
	}
	return malformed(checker, "no IEND chunk")
}

// validateZIP reads the central directory, checks entry bounds, encryption
// and, for ODF, the mimetype entry.
func validateZIP(ctx context.Context, r io.ReaderAt, size int64) Validation {
	const checker = "archivd ZIP central directory"
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return malformed(checker, "central directory unreadable: "+err.Error())
	}
	if len(zr.File) > maxZIPEntries {
		return malformed(checker, fmt.Sprintf("more than %d entries", maxZIPEntries))
	}
	v := Validation{Outcome: WellFormed, Checker: checker}
	for i, f := range zr.File {
		if ctx.Err() != nil {
			return Validation{Outcome: NotChecked, Checker: checker}
		}
		if f.Flags&1 != 0 {
			v.Encrypted = true
		}
		if off, err := f.DataOffset(); err != nil || off+int64(f.CompressedSize64) > size {
			return malformed(checker, fmt.Sprintf("entry %q lies outside the file", f.Name))
		}
		if i == 0 && f.Name == "mimetype" {
			if f.Method != zip.Store {
				v.Messages = append(v.Messages, "ODF mimetype entry is compressed (ODF requires it stored)")
			}
		}
	}
	if v.Encrypted {
		v.Messages = append(v.Messages, "archive has encrypted entries")
		return v
	}
	problems, notes := checkOffice(ctx, zr)
	if len(problems) > 0 {
		return malformed("archivd Office Open XML / ODF package parts", problems...)
	}
	v.Messages = append(v.Messages, notes...)
	return v
}

// validateXML checks well-formedness in one streaming pass, with a depth
// and token cap.
func validateXML(ctx context.Context, r io.ReaderAt, size int64) Validation {
	const checker = "archivd XML well-formedness (encoding/xml)"
	dec := xml.NewDecoder(io.NewSectionReader(r, 0, size))
	dec.Strict = true
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "iso-8859-1", "latin1", "windows-1252", "us-ascii", "ascii":
			return &latin1Reader{r: in}, nil
		}
		return nil, fmt.Errorf("encoding %q not checked", label)
	}
	depth, tokens, root := 0, 0, false
	for {
		if tokens%4096 == 0 && ctx.Err() != nil {
			return Validation{Outcome: NotChecked, Checker: checker}
		}
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			if strings.Contains(err.Error(), "not checked") {
				return Validation{Outcome: NotChecked, Checker: checker, Messages: []string{err.Error()}}
			}
			return malformed(checker, err.Error())
		}
		tokens++
		if tokens > maxXMLTokens {
			return Validation{Outcome: NotChecked, Checker: checker, Messages: []string{"more than 50 million tokens"}}
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 && root {
				return malformed(checker, "more than one root element")
			}
			depth++
			root = true
			if depth > maxXMLDepth {
				return malformed(checker, fmt.Sprintf("elements nested deeper than %d", maxXMLDepth))
			}
		case xml.EndElement:
			depth--
		}
	}
	if !root {
		return malformed(checker, "no root element")
	}
	if depth != 0 {
		return malformed(checker, "unclosed elements at the end")
	}
	return Validation{Outcome: WellFormed, Checker: checker}
}

type latin1Reader struct {
	r   io.Reader
	buf []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(l.buf) == 0 {
		tmp := make([]byte, len(p)/2+1)
		n, err := l.r.Read(tmp)
		for _, c := range tmp[:n] {
			l.buf = utf8.AppendRune(l.buf, rune(c))
		}
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

// validateText checks that text is valid UTF-8 (or UTF-16 with a BOM).
func validateText(ctx context.Context, r io.ReaderAt, size int64) Validation {
	const checker = "archivd text encoding (UTF-8)"
	head := make([]byte, min(size, 2))
	r.ReadAt(head, 0)
	if bytes.Equal(head, []byte{0xFF, 0xFE}) || bytes.Equal(head, []byte{0xFE, 0xFF}) {
		return Validation{Outcome: WellFormed, Checker: checker, Messages: []string{"UTF-16 text (byte order mark)"}}
	}
	sr := io.NewSectionReader(r, 0, size)
	buf := make([]byte, min(max(size, 1), 64<<10)) // most text files are small: no 64 KiB each
	var carry []byte
	var off int64
	for {
		if ctx.Err() != nil {
			return Validation{Outcome: NotChecked, Checker: checker}
		}
		n, err := sr.Read(buf)
		chunk := append(carry, buf[:n]...)
		last := errors.Is(err, io.EOF) || n == 0
		// Keep an incomplete rune at the end for the next round.
		cut := len(chunk)
		for i := 1; !last && i <= 3 && i <= len(chunk); i++ {
			if utf8.RuneStart(chunk[len(chunk)-i]) {
				if !utf8.FullRune(chunk[len(chunk)-i:]) {
					cut = len(chunk) - i
				}
				break
			}
		}
		if !utf8.Valid(chunk[:cut]) {
			bad := off
			for i := 0; i < cut; {
				rn, w := utf8.DecodeRune(chunk[i:])
				if rn == utf8.RuneError && w == 1 {
					bad += int64(i)
					break
				}
				i += w
			}
			return Validation{Outcome: Malformed, Checker: checker, Messages: []string{fmt.Sprintf("not valid UTF-8 at byte %d (another encoding such as windows-1252?)", bad)}}
		}
		off += int64(cut)
		carry = append(carry[:0], chunk[cut:]...)
		if last {
			break
		}
	}
	if len(carry) > 0 {
		return malformed(checker, "text ends inside a UTF-8 sequence")
	}
	return Validation{Outcome: WellFormed, Checker: checker}
}
