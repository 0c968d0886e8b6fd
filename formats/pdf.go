package formats

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/zlib"
)

// The PDF structure check: every cross-reference section (tables, streams,
// hybrids, the /Prev chain of incremental updates) parsed, every object it
// names found at its offset with its number, every stream's /Length ending
// at endstream, every object stream decoded and holding the objects the
// xref puts in it, the trailer's /Root and /Size. What qpdf --check calls
// damage, this calls malformed; linearization hint tables are not checked.

// Limits of the PDF check.
var (
	maxPDFObjects   = 2_000_000
	maxPDFXrefs     = 10_000
	maxPDFDepth     = 100
	maxPDFObjStm    = int64(64 << 20) // decoded bytes of one object or xref stream
	maxPDFDictBytes = int64(16 << 20)
	pdfInMemory     = int64(32 << 20) // PDFs up to this size are read whole, once
)

type (
	pdfName string
	pdfRef  struct{ num, gen int64 }
	pdfDict map[string]any
	pdfKw   string // a keyword: obj, stream, R, true, ...
)

var errPDFSyntax = errors.New("PDF syntax")

// pdfLex reads PDF tokens from a window over the file.
type pdfLex struct {
	r     io.ReaderAt
	size  int64
	pos   int64
	win   []byte
	winAt int64
	limit int64  // no token may start past this
	all   []byte // the whole file, when it was read at once
	tok   []byte // regular's buffer when all is nil
}

func (l *pdfLex) at(p int64) (byte, bool) {
	if p < 0 || p >= l.size || p > l.limit {
		return 0, false
	}
	if l.all != nil {
		return l.all[p], true
	}
	if p < l.winAt || p >= l.winAt+int64(len(l.win)) {
		if l.win == nil {
			l.win = make([]byte, 0, 64<<10)
		}
		n, _ := l.r.ReadAt(l.win[:cap(l.win)], p)
		l.win, l.winAt = l.win[:n], p
		if n == 0 {
			return 0, false
		}
	}
	return l.win[p-l.winAt], true
}

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isPDFDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (l *pdfLex) skipSpace() {
	for {
		c, ok := l.at(l.pos)
		switch {
		case !ok:
			return
		case isPDFSpace(c):
			l.pos++
		case c == '%':
			for ok && c != '\n' && c != '\r' {
				l.pos++
				c, ok = l.at(l.pos)
			}
		default:
			return
		}
	}
}

// regular reads a run of regular characters (at most 1025). The bytes
// are valid until the next call: a view of the file held in memory, or
// the lexer's own buffer.
func (l *pdfLex) regular() []byte {
	start := l.pos
	l.tok = l.tok[:0]
	for {
		c, ok := l.at(l.pos)
		if !ok || isPDFSpace(c) || isPDFDelim(c) || l.pos-start > 1024 {
			break
		}
		if l.all == nil {
			l.tok = append(l.tok, c)
		}
		l.pos++
	}
	if l.all != nil {
		return l.all[start:l.pos:l.pos]
	}
	return l.tok
}

// name reads a name after its slash; the common ones are made once, not
// for every occurrence (a PDF names Type, Length, Filter thousands of
// times).
func (l *pdfLex) name() any {
	b := l.regular()
	if v, ok := commonPDFNames()[string(b)]; ok {
		return v
	}
	return pdfName(b)
}

var commonPDFNames = sync.OnceValue(func() map[string]any {
	m := map[string]any{}
	for _, n := range strings.Fields(`A AIS AP AcroForm Alternate Annot Annots Artifact Ascent Author BBox BM
		BaseFont BitsPerComponent Border Bounds C C0 C1 CA CIDSystemInfo CIDToGIDMap CS CapHeight Catalog
		ColorSpace Columns Contents Coords Count CreationDate Creator CropBox D DA DW Decode DecodeParms
		Descent DescendantFonts Dest DestOutputProfile Dests DeviceCMYK DeviceGray DeviceRGB Domain Encode
		Encoding Encrypt ExtGState Extend F FT Ff Fields Figure Filter First FirstChar Flags FlateDecode Font
		FontBBox FontDescriptor FontFile FontFile2 FontFile3 FontName Form Function FunctionType Functions
		GTS_PDFA1 Group H Height I ICCBased ID Identity Identity-H Image ImageB ImageC ImageI Index Info
		Intent Interpolate ItalicAngle K Keywords Kids LC LJ LW Lang Last LastChar Length Length1 Length2
		Length3 Link ML MK MarkInfo Marked Mask Matrix MediaBox Metadata ModDate N Name Names Next Normal O
		OP OPM ObjStm Ordering OutputConditionIdentifier OutputIntent OutputIntents Outlines P Page
		PageMode Pages Parent Pattern Pg Predictor Prev ProcSet Producer Properties Range Rect Registry
		Resources Root Rotate S SA SMask Shading ShadingType Size Span StemV StructParents StructTreeRoot
		Subtype Supplement T TK Text Title ToUnicode Transparency Trapped TrueType Type Type0 Type1 URI
		UseOutlines V W Width Widths WinAnsiEncoding X XML XObject XRef ca op`) {
		m[n] = pdfName(n)
	}
	return m
})

// numeric reports whether a token may be a PDF number (digits, a sign or
// a point first); strconv need not try (and fail on) keywords and names.
func numeric(tok []byte) bool {
	c := tok[0]
	return '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

// object reads one object (a reference n g R is recognised).
func (l *pdfLex) object(depth int) (any, error) {
	if depth > maxPDFDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errPDFSyntax, maxPDFDepth)
	}
	l.skipSpace()
	start := l.pos
	c, ok := l.at(l.pos)
	if !ok {
		return nil, fmt.Errorf("%w: unexpected end of file", errPDFSyntax)
	}
	switch {
	case c == '/':
		l.pos++
		return l.name(), nil
	case c == '(':
		return l.literal()
	case c == '<':
		if n, _ := l.at(l.pos + 1); n == '<' {
			l.pos += 2
			d := pdfDict{}
			for {
				l.skipSpace()
				if c, ok := l.at(l.pos); ok && c == '>' {
					if n, _ := l.at(l.pos + 1); n == '>' {
						l.pos += 2
						return d, nil
					}
				}
				if l.pos-start > maxPDFDictBytes {
					return nil, fmt.Errorf("%w: dictionary larger than %d bytes", errPDFSyntax, maxPDFDictBytes)
				}
				k, err := l.object(depth + 1)
				if err != nil {
					return nil, err
				}
				name, ok := k.(pdfName)
				if !ok {
					return nil, fmt.Errorf("%w: dictionary key at %d is not a name", errPDFSyntax, l.pos)
				}
				v, err := l.object(depth + 1)
				if err != nil {
					return nil, err
				}
				d[string(name)] = v
			}
		}
		return l.hex()
	case c == '[':
		l.pos++
		var a []any
		for {
			l.skipSpace()
			if c, ok := l.at(l.pos); ok && c == ']' {
				l.pos++
				return a, nil
			}
			if l.pos-start > maxPDFDictBytes {
				return nil, fmt.Errorf("%w: array larger than %d bytes", errPDFSyntax, maxPDFDictBytes)
			}
			v, err := l.object(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	case c == ')' || c == '>' || c == ']' || c == '{' || c == '}':
		return nil, fmt.Errorf("%w: unexpected %q at %d", errPDFSyntax, c, l.pos)
	}
	tok := l.regular()
	if len(tok) == 0 {
		return nil, fmt.Errorf("%w: unexpected byte 0x%02X at %d", errPDFSyntax, c, l.pos)
	}
	if !numeric(tok) {
		switch string(tok) { // the common ones without an allocation
		case "true":
			return pdfKw("true"), nil
		case "false":
			return pdfKw("false"), nil
		case "null":
			return pdfKw("null"), nil
		}
		return pdfKw(tok), nil
	}
	if n, err := strconv.ParseInt(string(tok), 10, 64); err == nil {
		// n g R?
		save := l.pos
		l.skipSpace()
		if g := l.regular(); len(g) > 0 && numeric(g) {
			if gen, err := strconv.ParseInt(string(g), 10, 64); err == nil {
				l.skipSpace()
				if r := l.regular(); string(r) == "R" {
					return pdfRef{n, gen}, nil
				}
			}
		}
		l.pos = save
		return n, nil
	}
	if f, err := strconv.ParseFloat(string(tok), 64); err == nil {
		return f, nil
	}
	return pdfKw(tok), nil
}

func (l *pdfLex) literal() (any, error) {
	start := l.pos
	l.pos++
	depth := 1
	for {
		c, ok := l.at(l.pos)
		if !ok {
			return nil, fmt.Errorf("%w: string at %d is not closed", errPDFSyntax, start)
		}
		l.pos++
		switch c {
		case '\\':
			l.pos++
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return []byte(nil), nil
			}
		}
		if l.pos-start > maxPDFDictBytes {
			return nil, fmt.Errorf("%w: string at %d longer than %d bytes", errPDFSyntax, start, maxPDFDictBytes)
		}
	}
}

func (l *pdfLex) hex() (any, error) {
	start := l.pos
	l.pos++
	for {
		c, ok := l.at(l.pos)
		if !ok {
			return nil, fmt.Errorf("%w: hex string at %d is not closed", errPDFSyntax, start)
		}
		l.pos++
		switch {
		case c == '>':
			return []byte(nil), nil
		case isPDFSpace(c) || '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F':
		default:
			return nil, fmt.Errorf("%w: invalid character %q in the hex string at %d", errPDFSyntax, c, start)
		}
	}
}

func (l *pdfLex) keyword(want string) bool {
	l.skipSpace()
	save := l.pos
	if string(l.regular()) == want {
		return true
	}
	l.pos = save
	return false
}

// xrefEntry is where an object lives.
type xrefEntry struct {
	typ      int   // 1 in use at off, 2 in object stream stm at index idx
	off, gen int64 // type 1
	stm, idx int64 // type 2
}

type pdfCheck struct {
	ctx      context.Context
	lex      *pdfLex
	entries  map[int64]xrefEntry
	trailer  pdfDict // the newest trailer
	problems []string
	notes    []string
	enc      bool
	// last is the value of the object streamAt read last; maxRef the
	// highest object number any checked object refers to.
	last   any
	maxRef int64
	refBy  int64
	// inf is reused for every stream inflated, and by the next file.
	inf *inflater
}

// inflater is what inflating a stream needs: a zlib reader with its 32 KiB
// window, a read buffer for streams read from the file and a scratch
// buffer. Pooled: made anew for every file they were most of the
// allocations of a corpus pass.
type inflater struct {
	zr  io.ReadCloser
	br  *bufio.Reader
	buf []byte
}

var inflaters = sync.Pool{New: func() any { return &inflater{buf: make([]byte, 32<<10)} }}

func (p *pdfCheck) scratch() []byte { return p.inflater().buf }

func (p *pdfCheck) inflater() *inflater {
	if p.inf == nil {
		p.inf = inflaters.Get().(*inflater)
	}
	return p.inf
}

func (p *pdfCheck) bad(format string, args ...any) {
	if len(p.problems) < 20 {
		p.problems = append(p.problems, fmt.Sprintf(format, args...))
	}
}

// checkPDF runs the structure check from the xref at startxref.
func checkPDF(ctx context.Context, r io.ReaderAt, size, startxref int64) (problems, notes []string, enc bool) {
	lex := &pdfLex{r: r, size: size, limit: size}
	if b, ok := inMemory(r); ok && int64(len(b)) == size {
		lex.all = b // held in memory already
	} else if size <= pdfInMemory {
		// One read instead of a window per object: objects lie all over the file.
		b := make([]byte, size)
		if n, _ := r.ReadAt(b, 0); int64(n) == size {
			lex.all, lex.r = b, bytes.NewReader(b)
		}
	}
	p := &pdfCheck{ctx: ctx, lex: lex, entries: map[int64]xrefEntry{}}
	defer func() {
		if p.inf != nil {
			inflaters.Put(p.inf)
		}
	}()
	p.readXrefs(startxref)
	if len(p.problems) > 0 {
		return p.problems, p.notes, p.enc
	}
	if p.trailer == nil {
		p.bad("no trailer dictionary")
		return p.problems, p.notes, p.enc
	}
	_, p.enc = p.trailer["Encrypt"]
	p.checkObjects()
	p.checkTrailer()
	return p.problems, p.notes, p.enc
}

// readXrefs reads the xref section at off and those before it (/Prev,
// /XRefStm), newest first: an object's first entry found wins.
func (p *pdfCheck) readXrefs(off int64) {
	seen := map[int64]bool{}
	queue := []int64{off}
	for len(queue) > 0 && len(p.problems) == 0 {
		off := queue[0]
		queue = queue[1:]
		if seen[off] {
			continue // a /Prev loop; every section was read once
		}
		if len(seen) >= maxPDFXrefs {
			p.bad("more than %d cross-reference sections", maxPDFXrefs)
			return
		}
		seen[off] = true
		if off <= 0 || off >= p.lex.size {
			p.bad("cross-reference section offset %d lies outside the file", off)
			return
		}
		p.lex.pos = off
		if c, _ := p.lex.at(off); c != 'x' && (c < '0' || c > '9') {
			p.bad("the xref offset %d points at whitespace or other bytes, not at the cross-reference section itself", off)
			return
		}
		var trailer pdfDict
		if p.lex.keyword("xref") {
			trailer = p.xrefTable(off)
			if trailer != nil {
				if s, ok := trailer["XRefStm"].(int64); ok {
					queue = append([]int64{s}, queue...) // hybrid: the stream's entries come next
				}
			}
		} else {
			trailer = p.xrefStream(off)
		}
		if trailer == nil {
			return
		}
		if p.trailer == nil {
			p.trailer = trailer
		}
		if prev, ok := trailer["Prev"]; ok {
			o, isInt := prev.(int64)
			if !isInt {
				p.bad("/Prev of the xref at %d is not an offset", off)
				return
			}
			queue = append(queue, o)
		}
	}
}

func (p *pdfCheck) add(num int64, e xrefEntry) {
	if _, ok := p.entries[num]; !ok {
		p.entries[num] = e
	}
}

// xrefTable reads a classic table after its "xref" keyword; it returns the
// trailer.
func (p *pdfCheck) xrefTable(off int64) pdfDict {
	l := p.lex
	for {
		if p.ctx.Err() != nil {
			return nil
		}
		if l.keyword("trailer") {
			t, err := l.object(0)
			d, ok := t.(pdfDict)
			if err != nil || !ok {
				p.bad("the trailer after the xref table at %d is not a dictionary (%v)", off, err)
				return nil
			}
			return d
		}
		a, err1 := l.object(0)
		b, err2 := l.object(0)
		start, ok1 := a.(int64)
		count, ok2 := b.(int64)
		if err1 != nil || err2 != nil || !ok1 || !ok2 || start < 0 || count < 0 || count > int64(maxPDFObjects) {
			p.bad("xref table at %d: a subsection header is not two numbers (no trailer follows the table?)", off)
			return nil
		}
		for i := int64(0); i < count; i++ {
			o, err1 := l.object(0)
			g, err2 := l.object(0)
			l.skipSpace()
			kind := string(l.regular())
			ov, ok1 := o.(int64)
			gv, ok2 := g.(int64)
			if err1 != nil || err2 != nil || !ok1 || !ok2 || (kind != "n" && kind != "f") {
				p.bad("xref table at %d: entry %d of the subsection from %d is not 'offset generation n|f'", off, i, start)
				return nil
			}
			if kind == "n" {
				p.add(start+i, xrefEntry{typ: 1, off: ov, gen: gv})
			} else {
				p.add(start+i, xrefEntry{typ: 0})
			}
			if len(p.entries) > maxPDFObjects {
				p.bad("more than %d objects", maxPDFObjects)
				return nil
			}
		}
	}
}

// xrefStream reads a cross-reference stream object at off; it returns its
// dictionary (the trailer).
func (p *pdfCheck) xrefStream(off int64) pdfDict {
	num, d, data, err := p.streamAt(off, true)
	if err != nil {
		p.bad("startxref or /Prev %d points at neither an xref table nor an xref stream: %v", off, err)
		return nil
	}
	if t, _ := d["Type"].(pdfName); t != "XRef" {
		p.bad("object %d at %d is not a cross-reference stream (/Type %v)", num, off, d["Type"])
		return nil
	}

	w, ok := ints(d["W"])
	if !ok || len(w) != 3 || w[0] < 0 || w[1] < 0 || w[2] < 0 || w[0]+w[1]+w[2] == 0 || w[0]+w[1]+w[2] > 32 {
		p.bad("xref stream %d: /W %v is not three field widths", num, d["W"])
		return nil
	}
	size, _ := d["Size"].(int64)
	index := []int64{0, size}
	if ix, ok := d["Index"]; ok {
		if index, ok = ints(ix); !ok || len(index)%2 != 0 {
			p.bad("xref stream %d: /Index is not pairs of numbers", num)
			return nil
		}
	}
	raw, err := p.decode(d, data)
	if err != nil {
		p.notes = append(p.notes, fmt.Sprintf("xref stream %d not decoded (%v): its entries are not checked", num, err))
		return d
	}
	row := w[0] + w[1] + w[2]
	field := func(b []byte) int64 {
		var v int64
		for _, c := range b {
			v = v<<8 | int64(c)
		}
		return v
	}
	pos := int64(0)
	for i := 0; i < len(index); i += 2 {
		for k := int64(0); k < index[i+1]; k++ {
			if pos+row > int64(len(raw)) {
				p.bad("xref stream %d: %d bytes of entries, /Index and /W need more", num, len(raw))
				return nil
			}
			e := raw[pos : pos+row]
			pos += row
			t := int64(1)
			if w[0] > 0 {
				t = field(e[:w[0]])
			}
			f2, f3 := field(e[w[0]:w[0]+w[1]]), field(e[w[0]+w[1]:])
			switch t {
			case 0:
				p.add(index[i]+k, xrefEntry{typ: 0})
			case 1:
				p.add(index[i]+k, xrefEntry{typ: 1, off: f2, gen: f3})
			case 2:
				p.add(index[i]+k, xrefEntry{typ: 2, stm: f2, idx: f3})
			}
			if len(p.entries) > maxPDFObjects {
				p.bad("more than %d objects", maxPDFObjects)
				return nil
			}
		}
	}
	return d
}

func ints(v any) ([]int64, bool) {
	a, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]int64, len(a))
	for i, x := range a {
		n, ok := x.(int64)
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// streamAt parses "n g obj" at off; with wantStream, the object must be a
// stream whose /Length ends at endstream, and its raw data is returned
// (at most maxPDFObjStm bytes).
func (p *pdfCheck) streamAt(off int64, wantStream bool) (int64, pdfDict, []byte, error) {
	l := p.lex
	l.pos = off
	n, err1 := l.object(0)
	num, ok := n.(int64)
	if err1 != nil || !ok {
		return 0, nil, nil, fmt.Errorf("no object number at %d", off)
	}
	g, err2 := l.object(0)
	if _, ok := g.(int64); err2 != nil || !ok || !l.keyword("obj") {
		return num, nil, nil, fmt.Errorf("no 'n g obj' at %d", off)
	}
	v, err := l.object(0)
	if err != nil {
		return num, nil, nil, err
	}
	p.last = v
	d, isDict := v.(pdfDict)
	if !isDict || !l.keyword("stream") {
		if wantStream {
			return num, d, nil, fmt.Errorf("object %d at %d is not a stream", num, off)
		}
		return num, d, nil, nil
	}
	// The data begins after the EOL that follows "stream": CRLF or LF,
	// never CR alone or blanks first (PDF 32000-1 7.3.8.1).
	c, _ := l.at(l.pos)
	switch c {
	case '\r':
		if n, _ := l.at(l.pos + 1); n != '\n' {
			return num, d, nil, fmt.Errorf("object %d at %d: the stream keyword is followed by a carriage return alone", num, off)
		}
		l.pos += 2
	case '\n':
		l.pos++
	default:
		return num, d, nil, fmt.Errorf("object %d at %d: the stream keyword is not followed by an end-of-line", num, off)
	}
	start := l.pos
	length, err := p.length(d["Length"])
	if err != nil {
		return num, d, nil, fmt.Errorf("stream %d: %v", num, err)
	}
	if length < 0 || start+length > l.size {
		return num, d, nil, fmt.Errorf("stream %d: /Length %d runs past the end of the file", num, length)
	}
	l.pos = start + length
	if !l.keyword("endstream") {
		return num, d, nil, fmt.Errorf("stream %d at %d: /Length %d does not end at endstream", num, off, length)
	}
	if !wantStream {
		if err := p.inflates(d, start, length); err != nil {
			return num, d, nil, fmt.Errorf("stream %d: %v", num, err)
		}
		return num, d, nil, nil
	}
	if length > maxPDFObjStm {
		return num, d, nil, fmt.Errorf("stream %d: larger than %d bytes", num, maxPDFObjStm)
	}
	data := make([]byte, length)
	if _, err := l.r.ReadAt(data, start); err != nil && length > 0 {
		return num, d, nil, err
	}
	return num, d, data, nil
}

// length resolves a stream's /Length: a number, or a reference to one.
func (p *pdfCheck) length(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case pdfRef:
		e, ok := p.entries[x.num]
		if !ok || e.typ != 1 {
			return 0, fmt.Errorf("/Length refers to object %d, which the xref does not place in the file", x.num)
		}
		save := p.lex.pos
		defer func() { p.lex.pos = save }()
		_, d, _, err := p.valueAt(e.off)
		if err != nil {
			return 0, fmt.Errorf("/Length object %d: %v", x.num, err)
		}
		if n, ok := d.(int64); ok {
			return n, nil
		}
		return 0, fmt.Errorf("/Length object %d is not a number", x.num)
	}
	return 0, errors.New("no /Length")
}

// valueAt parses "n g obj value" at off.
func (p *pdfCheck) valueAt(off int64) (int64, any, int64, error) {
	l := p.lex
	l.pos = off
	n, err := l.object(0)
	num, ok := n.(int64)
	if err != nil || !ok {
		return 0, nil, 0, fmt.Errorf("no object at %d", off)
	}
	g, err := l.object(0)
	gen, ok := g.(int64)
	if err != nil || !ok || !l.keyword("obj") {
		return num, nil, 0, fmt.Errorf("no 'n g obj' at %d", off)
	}
	v, err := l.object(0)
	return num, v, gen, err
}

// inflates reads a FlateDecode stream's data to its end: damaged
// compressed data is damage, whatever filter follows.
func (p *pdfCheck) inflates(d pdfDict, start, length int64) error {
	first := d["Filter"]
	if a, ok := first.([]any); ok && len(a) > 0 {
		first = a[0]
	}
	if n, _ := first.(pdfName); n != "FlateDecode" || p.enc || p.ctx.Err() != nil {
		return nil
	}
	inf := p.inflater()
	// A byte reader is read as it is; a stream in the file through a buffer.
	var src io.Reader
	if p.lex.all != nil && start >= 0 && start+length <= int64(len(p.lex.all)) {
		src = bytes.NewReader(p.lex.all[start : start+length])
	} else {
		if inf.br == nil {
			inf.br = bufio.NewReaderSize(nil, 32<<10)
		}
		inf.br.Reset(io.NewSectionReader(p.lex.r, start, length))
		src = inf.br
	}
	zr, err := p.zlib(src)
	if err != nil {
		return fmt.Errorf("FlateDecode data does not begin a zlib stream: %v", err)
	}
	if _, err := io.CopyBuffer(io.Discard, io.LimitReader(zr, 1<<30), inf.buf); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("FlateDecode data does not decode: %v", err)
	}
	return nil
}

// zlib returns the check's pooled zlib reader, reset to read src.
func (p *pdfCheck) zlib(src io.Reader) (io.Reader, error) {
	inf := p.inflater()
	var err error
	if inf.zr == nil {
		inf.zr, err = zlib.NewReader(src)
	} else {
		err = inf.zr.(zlib.Resetter).Reset(src, nil)
	}
	if err != nil {
		inf.zr = nil
		return nil, err
	}
	return inf.zr, nil
}

// refs notes the highest object number v refers to.
func (p *pdfCheck) refs(v any, from int64, depth int) {
	if depth > maxPDFDepth {
		return
	}
	switch x := v.(type) {
	case pdfRef:
		if x.num > p.maxRef {
			p.maxRef, p.refBy = x.num, from
		}
	case pdfDict:
		for _, e := range x {
			p.refs(e, from, depth+1)
		}
	case []any:
		for _, e := range x {
			p.refs(e, from, depth+1)
		}
	}
}

func (p *pdfCheck) decode(d pdfDict, data []byte) ([]byte, error) {
	var filters []any
	switch f := d["Filter"].(type) {
	case nil:
	case pdfName:
		filters = []any{f}
	case []any:
		filters = f
	default:
		return nil, errors.New("unreadable /Filter")
	}
	if p.enc {
		if t, _ := d["Type"].(pdfName); t != "XRef" {
			return nil, errors.New("encrypted")
		}
	}
	out := data
	for _, f := range filters {
		if n, _ := f.(pdfName); n != "FlateDecode" {
			return nil, fmt.Errorf("filter %v", f)
		}
		zr, err := p.zlib(bytes.NewReader(out))
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(zr, maxPDFObjStm+1))
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, err
		}
		if int64(len(b)) > maxPDFObjStm {
			return nil, errors.New("decodes to too many bytes")
		}
		out = b
	}
	if parms, ok := d["DecodeParms"].(pdfDict); ok {
		pred, _ := parms["Predictor"].(int64)
		cols, _ := parms["Columns"].(int64)
		if pred >= 10 {
			if cols <= 0 {
				cols = 1
			}
			return unPNG(out, int(cols))
		} else if pred > 1 {
			return nil, fmt.Errorf("predictor %d", pred)
		}
	}
	return out, nil
}

// unPNG undoes PNG row predictors (one filter byte per row of cols bytes).
func unPNG(b []byte, cols int) ([]byte, error) {
	row := cols + 1
	if len(b)%row != 0 {
		return nil, fmt.Errorf("%d bytes are not rows of %d", len(b), row)
	}
	out := make([]byte, 0, len(b)/row*cols)
	prev := make([]byte, cols)
	for i := 0; i < len(b); i += row {
		cur := append([]byte(nil), b[i+1:i+row]...)
		switch b[i] {
		case 0:
		case 1:
			for j := 1; j < cols; j++ {
				cur[j] += cur[j-1]
			}
		case 2:
			for j := range cur {
				cur[j] += prev[j]
			}
		case 3:
			for j := range cur {
				var left byte
				if j > 0 {
					left = cur[j-1]
				}
				cur[j] += byte((int(left) + int(prev[j])) / 2)
			}
		case 4:
			for j := range cur {
				var a, c byte
				if j > 0 {
					a, c = cur[j-1], prev[j-1]
				}
				cur[j] += paeth(a, prev[j], c)
			}
		default:
			return nil, fmt.Errorf("PNG predictor %d", b[i])
		}
		out = append(out, cur...)
		prev = cur
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// checkObjects finds every in-use object at its offset (streams with a
// /Length that ends at endstream) and every compressed object in its
// object stream.
func (p *pdfCheck) checkObjects() {
	nums := make([]int64, 0, len(p.entries))
	for n, e := range p.entries {
		if e.typ != 0 {
			nums = append(nums, n)
		}
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	stms := map[int64][]int64{} // object stream -> objects it should hold
	for _, n := range nums {
		if p.ctx.Err() != nil || len(p.problems) >= 20 {
			return
		}
		e := p.entries[n]
		if e.typ == 2 {
			stms[e.stm] = append(stms[e.stm], n)
			continue
		}
		if n == 0 {
			continue
		}
		if e.off <= 0 || e.off >= p.lex.size {
			p.bad("object %d: the xref places it at %d, outside the file", n, e.off)
			continue
		}
		p.last = nil
		num, _, _, err := p.streamAt(e.off, false)
		p.refs(p.last, n, 0)
		switch {
		case err != nil && num == n:
			p.bad("object %d: %v", n, err)
		case err != nil || num != n:
			p.bad("object %d: the xref places it at %d, where %s", n, e.off, foundAt(num, err))
		}
	}
	// In object-stream order: the same file gives the same findings in the
	// same order every time (and the same ones when the cap of 20 cuts).
	for _, stm := range slices.Sorted(maps.Keys(stms)) {
		if p.ctx.Err() != nil || len(p.problems) >= 20 {
			return
		}
		p.checkObjStm(stm, stms[stm])
	}
}

func foundAt(num int64, err error) string {
	if err != nil {
		return "there is no such object (" + err.Error() + ")"
	}
	return fmt.Sprintf("object %d begins", num)
}

func (p *pdfCheck) checkObjStm(stm int64, objs []int64) {
	e, ok := p.entries[stm]
	if !ok || e.typ != 1 {
		p.bad("objects %v are in object stream %d, which the xref does not place in the file", objs[:min(len(objs), 5)], stm)
		return
	}
	_, d, data, err := p.streamAt(e.off, true)
	if err != nil {
		p.bad("object stream %d: %v", stm, err)
		return
	}
	if t, _ := d["Type"].(pdfName); t != "ObjStm" {
		p.bad("object stream %d has /Type %v, not /ObjStm", stm, d["Type"])
		return
	}
	n, _ := d["N"].(int64)
	first, _ := d["First"].(int64)
	raw, err := p.decode(d, data)
	if err != nil {
		p.notes = append(p.notes, fmt.Sprintf("object stream %d not decoded (%v)", stm, err))
		return
	}
	if n <= 0 || first <= 0 || first > int64(len(raw)) {
		p.bad("object stream %d: /N %d and /First %d do not fit its %d bytes", stm, n, first, len(raw))
		return
	}
	l := &pdfLex{r: bytes.NewReader(raw), size: int64(len(raw)), limit: first, all: raw}
	held := map[int64]int64{} // object number -> index
	for i := int64(0); i < n; i++ {
		a, err1 := l.object(0)
		b, err2 := l.object(0)
		num, ok1 := a.(int64)
		_, ok2 := b.(int64)
		if err1 != nil || err2 != nil || !ok1 || !ok2 {
			p.bad("object stream %d: its header does not list %d objects", stm, n)
			return
		}
		held[num] = i
	}
	for _, o := range objs {
		i, ok := held[o]
		if !ok || i != p.entries[o].idx {
			p.bad("object %d: the xref puts it at index %d of object stream %d, which does not hold it there", o, p.entries[o].idx, stm)
			return
		}
	}
}

func (p *pdfCheck) checkTrailer() {
	root, ok := p.trailer["Root"].(pdfRef)
	if !ok {
		p.bad("the trailer has no /Root reference")
		return
	}
	if e, ok := p.entries[root.num]; !ok || e.typ == 0 {
		p.bad("the trailer's /Root %d %d R is not an object in the file", root.num, root.gen)
	}
	size, ok := p.trailer["Size"].(int64)
	if !ok {
		p.bad("the trailer has no /Size")
		return
	}
	var highest int64 // every entry counts, free ones too (as qpdf counts)
	for n := range p.entries {
		highest = max(highest, n)
	}

	if p.maxRef >= size {
		p.bad("object %d refers to object %d, beyond the trailer's /Size %d", p.refBy, p.maxRef, size)
	}
	if size <= highest {
		p.bad("the trailer's /Size %d does not exceed the highest object number in the xref, %d", size, highest)
	} else if size != highest+1 {
		p.bad("the trailer's /Size %d is not one plus the highest object number (%d)", size, highest)
	}
}
