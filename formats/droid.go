package formats

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

type refKind uint8

const (
	refBOF refKind = iota
	refEOF
	refVar
)

// subseq is one compiled SubSequence: a pattern and where it may start
// (BOF, variable) or end (EOF), relative to the file or to the previous
// subsequence.
type subseq struct {
	pat      pattern
	min, max int // max < 0: unbounded
	maxLen   int // pattern's maximum span, < 0 unbounded
}

type byteSeq struct {
	ref  refKind
	subs []subseq
	must []byte // the longest literal of the first subsequence: must occur in its window
}

// longestLit returns the longest top-level literal of a pattern.
func longestLit(p pattern) []byte {
	var best []byte
	for _, e := range p {
		if e.kind == kLit && len(e.lit) > len(best) {
			best = e.lit
		}
	}
	return best
}

// bounded reports whether the sequence can be decided from the BOF and EOF
// windows alone.
func (bs *byteSeq) bounded() bool {
	if bs.ref == refVar {
		return false
	}
	for i, s := range bs.subs {
		if s.maxLen < 0 || s.max < 0 && i == 0 {
			return false
		}
		if i > 0 {
			return false // later subsequences are unbounded in practice
		}
	}
	return true
}

// window is how many bytes from BOF (or EOF) the sequence needs.
func (bs *byteSeq) window() int {
	if !bs.bounded() {
		return 0
	}
	return bs.subs[0].max + bs.subs[0].maxLen
}

type signature struct {
	id      int
	seqs    []byteSeq // use sequences(): read from the cache when first needed
	bounded bool      // every sequence bounded
	quick   []quickCheck
	lazy    *lazySeqs // nil once the sequences are there
}

// quickCheck is a literal a signature needs at a fixed offset from BOF
// (or, when eof is set, ending a fixed distance before EOF): one compare
// that rules most signatures out before any pattern runs.
type quickCheck struct {
	eof bool
	off int
	lit []byte
}

// prepare computes the quick checks of a signature.
func (s *signature) prepare() {
	for _, bs := range s.seqs {
		if len(bs.subs) == 0 {
			continue
		}
		sub := bs.subs[0]
		if sub.max != sub.min || len(sub.pat) == 0 {
			continue
		}
		switch bs.ref {
		case refBOF:
			if lit := sub.pat.firstLit(); lit != nil {
				s.quick = append(s.quick, quickCheck{off: sub.min, lit: lit[:min(len(lit), 8)]})
			}
		case refEOF:
			last := sub.pat[len(sub.pat)-1]
			if last.kind == kLit {
				lit := last.lit[max(0, len(last.lit)-8):]
				s.quick = append(s.quick, quickCheck{eof: true, off: sub.min, lit: lit})
			}
		}
	}
}

// passes reports whether the quick checks allow the signature to match.
func (s *signature) passes(src *source) bool {
	for _, q := range s.quick {
		if q.eof {
			end := len(src.eof) - q.off
			if end-len(q.lit) < 0 || !bytes.Equal(src.eof[end-len(q.lit):end], q.lit) {
				return false
			}
			continue
		}
		if q.off+len(q.lit) > len(src.bof) || !bytes.Equal(src.bof[q.off:q.off+len(q.lit)], q.lit) {
			return false
		}
	}
	return true
}

// Format is one PRONOM file format.
type Format struct {
	ID         int
	PUID       string
	Name       string
	Version    string
	MIME       string
	Extensions []string
	over       []int // FileFormat IDs this one has priority over
	sigs       []int // internal signature IDs
}

// xml shapes of the DROID signature file.
type xmlSigFile struct {
	Version     string      `xml:"Version,attr"`
	DateCreated string      `xml:"DateCreated,attr"`
	Sigs        []xmlSig    `xml:"InternalSignatureCollection>InternalSignature"`
	Formats     []xmlFormat `xml:"FileFormatCollection>FileFormat"`
}

type xmlSig struct {
	ID   int          `xml:"ID,attr"`
	Seqs []xmlByteSeq `xml:"ByteSequence"`
}

type xmlByteSeq struct {
	Ref  string   `xml:"Reference,attr"`
	Subs []xmlSub `xml:"SubSequence"`
}

type xmlSub struct {
	Pos   int       `xml:"Position,attr"`
	Min   string    `xml:"SubSeqMinOffset,attr"`
	Max   string    `xml:"SubSeqMaxOffset,attr"`
	Seq   string    `xml:"Sequence"`
	Left  []xmlFrag `xml:"LeftFragment"`
	Right []xmlFrag `xml:"RightFragment"`
}

type xmlFrag struct {
	Pos  int    `xml:"Position,attr"`
	Min  int    `xml:"MinOffset,attr"`
	Max  string `xml:"MaxOffset,attr"`
	Text string `xml:",chardata"`
}

type xmlFormat struct {
	ID       int      `xml:"ID,attr"`
	PUID     string   `xml:"PUID,attr"`
	Name     string   `xml:"Name,attr"`
	Version  string   `xml:"Version,attr"`
	MIME     string   `xml:"MIMEType,attr"`
	SigIDs   []int    `xml:"InternalSignatureID"`
	Exts     []string `xml:"Extension"`
	Priority []int    `xml:"HasPriorityOverFileFormatID"`
}

// compileSub turns a SubSequence into one pattern: left fragments
// (outermost first), the anchor, right fragments; fragments at the same
// position are alternatives.
func compileSub(x xmlSub) (subseq, error) {
	anchor, err := parsePattern(x.Seq)
	if err != nil {
		return subseq{}, err
	}
	side := func(frags []xmlFrag) ([]elem, []elem, error) {
		byPos := map[int][]xmlFrag{}
		maxPos := 0
		for _, f := range frags {
			byPos[f.Pos] = append(byPos[f.Pos], f)
			maxPos = max(maxPos, f.Pos)
		}
		var frag, gap []elem // indexed by position-1
		for p := 1; p <= maxPos; p++ {
			fs := byPos[p]
			if len(fs) == 0 {
				return nil, nil, fmt.Errorf("fragment position %d missing", p)
			}
			var alts [][]elem
			for _, f := range fs {
				fp, err := parsePattern(f.Text)
				if err != nil {
					return nil, nil, err
				}
				alts = append(alts, fp)
			}
			mx := fs[0].Min
			if fs[0].Max != "" {
				if mx, err = strconv.Atoi(fs[0].Max); err != nil {
					return nil, nil, fmt.Errorf("bad fragment MaxOffset %q", fs[0].Max)
				}
			}
			gap = append(gap, elem{kind: kGap, min: fs[0].Min, max: mx})
			frag = append(frag, elem{kind: kAlt, alts: alts})
		}
		return frag, gap, nil
	}
	lf, lg, err := side(x.Left)
	if err != nil {
		return subseq{}, err
	}
	rf, rg, err := side(x.Right)
	if err != nil {
		return subseq{}, err
	}
	var p pattern
	for i := len(lf) - 1; i >= 0; i-- {
		p = append(p, flatten(lf[i]), lg[i])
	}
	p = append(p, anchor...)
	for i := range rf {
		p = append(p, rg[i], flatten(rf[i]))
	}
	p = merge(dropEmptyGaps(p))
	s := subseq{pat: p, maxLen: p.maxLen()}
	if s.min, err = atoiDefault(x.Min, 0); err != nil {
		return s, err
	}
	if x.Max == "" {
		s.max = -1
	} else if s.max, err = strconv.Atoi(x.Max); err != nil {
		return s, fmt.Errorf("bad SubSeqMaxOffset %q", x.Max)
	}
	if s.max >= 0 && s.max < s.min {
		s.max = s.min // seen in the wild (fmt/837): max 0 with a min means exactly min
	}
	return s, nil
}

// flatten turns a one-alternative kAlt into its elements' single elem when
// it is a single element, keeping the pattern shallow.
func flatten(e elem) elem {
	if e.kind == kAlt && len(e.alts) == 1 && len(e.alts[0]) == 1 {
		return e.alts[0][0]
	}
	return e
}

func dropEmptyGaps(p pattern) pattern {
	out := p[:0:0]
	for _, e := range p {
		if e.kind == kGap && e.min == 0 && e.max == 0 {
			continue
		}
		out = append(out, e)
	}
	return out
}

func atoiDefault(s string, d int) (int, error) {
	if s == "" {
		return d, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("bad offset %q", s)
	}
	return n, nil
}

func compileByteSeq(x xmlByteSeq) (byteSeq, error) {
	bs := byteSeq{}
	switch x.Ref {
	case "BOFoffset":
		bs.ref = refBOF
	case "EOFoffset":
		bs.ref = refEOF
	case "", "Variable":
		bs.ref = refVar
	default:
		return bs, fmt.Errorf("unknown Reference %q", x.Ref)
	}
	subs := append([]xmlSub(nil), x.Subs...)
	sort.SliceStable(subs, func(i, j int) bool { return subs[i].Pos < subs[j].Pos })
	for _, s := range subs {
		c, err := compileSub(s)
		if err != nil {
			return bs, err
		}
		bs.subs = append(bs.subs, c)
	}
	if len(bs.subs) == 0 {
		return bs, fmt.Errorf("byte sequence without subsequences")
	}
	bs.must = longestLit(bs.subs[0].pat)
	return bs, nil
}

func compileSig(x xmlSig) (*signature, error) {
	s := &signature{id: x.ID, bounded: true}
	for _, b := range x.Seqs {
		bs, err := compileByteSeq(b)
		if err != nil {
			return nil, fmt.Errorf("signature %d: %w", x.ID, err)
		}
		s.seqs = append(s.seqs, bs)
		s.bounded = s.bounded && bs.bounded()
	}
	if len(s.seqs) == 0 {
		return nil, fmt.Errorf("signature %d has no byte sequence", x.ID)
	}
	s.prepare()
	return s, nil
}

// signatureSet is a loaded DROID signature file.
type signatureSet struct {
	version string
	sigs    map[int]*signature
	order   []int // signature ids in file order
	list    []*signature
	byFirst [256][]*signature // signatures that need a given first byte
	rest    []*signature      // the others
	indexed bool
	formats map[int]*Format
	byPUID  map[string]*Format
	bySig   map[int][]int // signature id -> format ids
	byExt   map[string][]int
	bofWin  int
	eofWin  int
}

// index sorts the signatures by the first byte they need, if any.
func (ss *signatureSet) index() {
	for _, sig := range ss.list {
		first := -1
		for _, q := range sig.quick {
			if !q.eof && q.off == 0 && len(q.lit) > 0 {
				first = int(q.lit[0])
			}
		}
		if first >= 0 {
			ss.byFirst[first] = append(ss.byFirst[first], sig)
		} else {
			ss.rest = append(ss.rest, sig)
		}
	}
	ss.indexed = true
}

// maxSignatureFile bounds the signature file read into memory.
const maxSignatureFile = 256 << 20

func parseSignatureFile(r io.Reader) (*signatureSet, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSignatureFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSignatureFile {
		return nil, fmt.Errorf("signature file larger than %d bytes", maxSignatureFile)
	}
	var x xmlSigFile
	dec := xml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("signature file: %w", err)
	}
	if len(x.Formats) == 0 {
		return nil, fmt.Errorf("signature file has no FileFormat entries")
	}
	ss := &signatureSet{version: x.Version, sigs: map[int]*signature{}, formats: map[int]*Format{},
		byPUID: map[string]*Format{}, bySig: map[int][]int{}, byExt: map[string][]int{}}
	for _, xs := range x.Sigs {
		s, err := compileSig(xs)
		if err != nil {
			return nil, err
		}
		ss.sigs[s.id] = s
		ss.order = append(ss.order, s.id)
		ss.list = append(ss.list, s)
		for _, bs := range s.seqs {
			if bs.bounded() {
				if bs.ref == refBOF {
					ss.bofWin = max(ss.bofWin, bs.window())
				} else {
					ss.eofWin = max(ss.eofWin, bs.window())
				}
			}
		}
	}
	for _, xf := range x.Formats {
		if xf.PUID == "" {
			continue // a format without a PUID cannot be reported
		}
		f := &Format{ID: xf.ID, PUID: xf.PUID, Name: xf.Name, Version: xf.Version, MIME: xf.MIME,
			over: xf.Priority, sigs: xf.SigIDs}
		for _, e := range xf.Exts {
			e = strings.ToLower(strings.TrimSpace(e))
			f.Extensions = append(f.Extensions, e)
			ss.byExt[e] = append(ss.byExt[e], f.ID)
		}
		ss.formats[f.ID] = f
		ss.byPUID[f.PUID] = f
		for _, sid := range xf.SigIDs {
			ss.bySig[sid] = append(ss.bySig[sid], f.ID)
		}
	}
	return ss, nil
}
