package formats

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// elemKind is the kind of one pattern element.
type elemKind uint8

const (
	kLit  elemKind = iota // literal bytes
	kSet                  // one byte from a set
	kWide                 // n bytes within [lo, hi] (big-endian compare), or outside if neg
	kAlt                  // one of several sub-patterns
	kGap                  // min..max arbitrary bytes (max < 0: unbounded)
)

// elem is one element of a compiled PRONOM pattern.
type elem struct {
	kind     elemKind
	lit      []byte
	set      *[256]bool
	lo, hi   []byte
	neg      bool
	alts     [][]elem
	min, max int
}

// pattern is a sequence of elements.
type pattern []elem

// minLen and maxLen bound the number of bytes a pattern spans (maxLen < 0:
// unbounded).
func (p pattern) minLen() int {
	n := 0
	for _, e := range p {
		switch e.kind {
		case kLit:
			n += len(e.lit)
		case kSet:
			n++
		case kWide:
			n += len(e.lo)
		case kGap:
			n += e.min
		case kAlt:
			m := -1
			for _, a := range e.alts {
				if l := pattern(a).minLen(); m < 0 || l < m {
					m = l
				}
			}
			n += max(m, 0)
		}
	}
	return n
}

func (p pattern) maxLen() int {
	n := 0
	for _, e := range p {
		switch e.kind {
		case kLit:
			n += len(e.lit)
		case kSet:
			n++
		case kWide:
			n += len(e.lo)
		case kGap:
			if e.max < 0 {
				return -1
			}
			n += e.max
		case kAlt:
			m := 0
			for _, a := range e.alts {
				l := pattern(a).maxLen()
				if l < 0 {
					return -1
				}
				m = max(m, l)
			}
			n += m
		}
	}
	return n
}

// budget bounds the work one pattern may do on one file, so adversarial
// patterns or inputs cannot hang identification.
type budget struct{ steps int }

const stepLimit = 2_000_000

// match tries p at pos in data and calls k with each possible end offset
// (earliest first for gaps); it stops when k returns true.
func (p pattern) match(data []byte, pos int, b *budget, k func(end int) bool) bool {
	return matchFrom(p, 0, data, pos, b, k)
}

// matchOne matches a single fixed-length element at pos; simple is false
// for elements of other kinds.
func matchOne(e *elem, data []byte, pos int) (n int, ok, simple bool) {
	switch e.kind {
	case kLit:
		return len(e.lit), bytes.HasPrefix(data[pos:], e.lit), true
	case kSet:
		return 1, pos < len(data) && e.set[data[pos]], true
	case kWide:
		n := len(e.lo)
		if pos+n > len(data) {
			return n, false, true
		}
		v := data[pos : pos+n]
		in := bytes.Compare(v, e.lo) >= 0 && bytes.Compare(v, e.hi) <= 0
		return n, in != e.neg, true
	}
	return 0, false, false
}

// fixed reports whether p holds only fixed-length elements (literals,
// sets, ranges): no gaps, no alternatives.
func (p pattern) fixed() bool {
	for i := range p {
		switch p[i].kind {
		case kLit, kSet, kWide:
		default:
			return false
		}
	}
	return true
}

// matchFixed matches a pattern of fixed-length elements only (literals,
// sets, ranges) at pos; simple is false when it holds anything else (a
// gap, an alternative), which the general matcher takes.
func matchFixed(p pattern, data []byte, pos int) (end int, ok, simple bool) {
	if !p.fixed() {
		return 0, false, false
	}
	end, ok = matchRun(p, data, pos)
	return end, ok, true
}

// matchRun matches a pattern that is fixed() at pos.
func matchRun(p pattern, data []byte, pos int) (end int, ok bool) {
	for i := range p {
		n, ok, _ := matchOne(&p[i], data, pos)
		if !ok {
			return 0, false
		}
		pos += n
	}
	return pos, true
}

func matchFrom(p pattern, i int, data []byte, pos int, b *budget, k func(end int) bool) bool {
	b.steps++
	if b.steps > stepLimit {
		return false
	}
	if i == len(p) {
		return k(pos)
	}
	e := &p[i]
	switch e.kind {
	case kLit:
		if bytes.HasPrefix(data[pos:], e.lit) {
			return matchFrom(p, i+1, data, pos+len(e.lit), b, k)
		}
		return false
	case kSet:
		if pos < len(data) && e.set[data[pos]] {
			return matchFrom(p, i+1, data, pos+1, b, k)
		}
		return false
	case kWide:
		n := len(e.lo)
		if pos+n > len(data) {
			return false
		}
		v := data[pos : pos+n]
		in := bytes.Compare(v, e.lo) >= 0 && bytes.Compare(v, e.hi) <= 0
		if in != e.neg {
			return matchFrom(p, i+1, data, pos+n, b, k)
		}
		return false
	case kAlt:
		for _, a := range e.alts {
			// Most alternatives are a fixed run of literals, sets and
			// ranges: matched here, without a continuation closure (which
			// would be allocated).
			if end, ok, simple := matchFixed(a, data, pos); simple {
				if ok && matchFrom(p, i+1, data, end, b, k) {
					return true
				}
				continue
			}
			if matchFrom(a, 0, data, pos, b, func(end int) bool { return matchFrom(p, i+1, data, end, b, k) }) {
				return true
			}
		}
		return false
	case kGap:
		hi := len(data) - pos
		if e.max >= 0 && e.max < hi {
			hi = e.max
		}
		// Jump straight to occurrences of a following literal.
		if i+1 < len(p) && p[i+1].kind == kLit {
			lit := p[i+1].lit
			g := e.min
			for g <= hi {
				j := bytes.Index(data[pos+g:], lit)
				if j < 0 || g+j > hi {
					return false
				}
				g += j
				if matchFrom(p, i+1, data, pos+g, b, k) {
					return true
				}
				g++
				if b.steps > stepLimit {
					return false
				}
			}
			return false
		}
		for g := e.min; g <= hi; g++ {
			if matchFrom(p, i+1, data, pos+g, b, k) {
				return true
			}
			if b.steps > stepLimit {
				return false
			}
		}
		return false
	}
	return false
}

// firstLit returns the first element if it is a literal, for a quick scan.
func (p pattern) firstLit() []byte {
	if len(p) > 0 && p[0].kind == kLit {
		return p[0].lit
	}
	return nil
}

// parsePattern reads PRONOM pattern syntax, both the compiled DROID form
// (hex, [a:b], [!xx], [!&xx]) and the container form (quoted strings,
// alternatives, byte sets, ??, {n-m}, *).
func parsePattern(s string) (pattern, error) {
	l := &lexer{s: s}
	p, err := l.seq(false)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", truncate(s), err)
	}
	if l.i < len(l.s) {
		return nil, fmt.Errorf("pattern %q: unexpected %q at %d", truncate(s), l.s[l.i], l.i)
	}
	return merge(p), nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

type lexer struct {
	s string
	i int
}

func (l *lexer) skipSpace() {
	for l.i < len(l.s) && strings.IndexByte(" \t\r\n", l.s[l.i]) >= 0 {
		l.i++
	}
}

// seq reads elements until the end, or until '|' or ')' inside an alternative.
func (l *lexer) seq(inAlt bool) (pattern, error) {
	var p pattern
	for {
		l.skipSpace()
		if l.i >= len(l.s) {
			if inAlt {
				return nil, fmt.Errorf("unclosed (")
			}
			return p, nil
		}
		c := l.s[l.i]
		switch {
		case c == '|' || c == ')':
			if !inAlt {
				return nil, fmt.Errorf("unexpected %q", c)
			}
			return p, nil
		case c == '\'':
			j := strings.IndexByte(l.s[l.i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unclosed quote")
			}
			p = append(p, elem{kind: kLit, lit: []byte(latin1(l.s[l.i+1 : l.i+1+j]))})
			l.i += j + 2
		case c == '(':
			l.i++
			var alts [][]elem
			for {
				a, err := l.seq(true)
				if err != nil {
					return nil, err
				}
				alts = append(alts, merge(a))
				if l.s[l.i] == ')' {
					l.i++
					break
				}
				l.i++ // '|'
			}
			p = append(p, elem{kind: kAlt, alts: alts})
		case c == '[':
			e, err := l.bracket()
			if err != nil {
				return nil, err
			}
			p = append(p, e)
		case c == '{':
			j := strings.IndexByte(l.s[l.i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("unclosed {")
			}
			body := l.s[l.i+1 : l.i+j]
			l.i += j + 1
			lo, hi, ok := strings.Cut(body, "-")
			mn, err := strconv.Atoi(strings.TrimSpace(lo))
			if err != nil || mn < 0 {
				return nil, fmt.Errorf("bad gap {%s}", body)
			}
			mx := mn
			if ok {
				if strings.TrimSpace(hi) == "*" {
					mx = -1
				} else if mx, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil || mx < mn {
					return nil, fmt.Errorf("bad gap {%s}", body)
				}
			}
			p = append(p, elem{kind: kGap, min: mn, max: mx})
		case c == '*':
			l.i++
			p = append(p, elem{kind: kGap, min: 0, max: -1})
		case c == '?':
			if !strings.HasPrefix(l.s[l.i:], "??") {
				return nil, fmt.Errorf("single ?")
			}
			l.i += 2
			p = append(p, elem{kind: kGap, min: 1, max: 1})
		default:
			b, err := l.hexByte()
			if err != nil {
				return nil, err
			}
			p = append(p, elem{kind: kLit, lit: []byte{b}})
		}
	}
}

// latin1 maps a quoted string's characters to ISO-8859-1 bytes.
func latin1(s string) string {
	var b []byte
	for _, r := range s {
		if r < 256 {
			b = append(b, byte(r))
		} else {
			b = append(b, string(r)...)
		}
	}
	return string(b)
}

func (l *lexer) hexByte() (byte, error) {
	if l.i+2 > len(l.s) {
		return 0, fmt.Errorf("truncated hex at %d", l.i)
	}
	v, err := strconv.ParseUint(l.s[l.i:l.i+2], 16, 8)
	if err != nil {
		return 0, fmt.Errorf("bad hex %q at %d", l.s[l.i:l.i+2], l.i)
	}
	l.i += 2
	return byte(v), nil
}

// value reads one bracket value: hex bytes (one or more) or a quoted char.
func (l *lexer) value() ([]byte, error) {
	l.skipSpace()
	if l.i < len(l.s) && l.s[l.i] == '\'' {
		j := strings.IndexByte(l.s[l.i+1:], '\'')
		if j < 0 {
			return nil, fmt.Errorf("unclosed quote")
		}
		v := []byte(latin1(l.s[l.i+1 : l.i+1+j]))
		l.i += j + 2
		if len(v) == 0 {
			return nil, fmt.Errorf("empty quoted value")
		}
		return v, nil
	}
	var v []byte
	for l.i+1 < len(l.s) && isHex(l.s[l.i]) && isHex(l.s[l.i+1]) {
		b, _ := l.hexByte()
		v = append(v, b)
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("expected a value at %d", l.i)
	}
	return v, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// bracket reads [..]: ranges, sets, negations and masks.
func (l *lexer) bracket() (elem, error) {
	l.i++ // '['
	l.skipSpace()
	neg := false
	if l.i < len(l.s) && l.s[l.i] == '!' {
		neg = true
		l.i++
	}
	l.skipSpace()
	if l.i < len(l.s) && (l.s[l.i] == '&' || l.s[l.i] == '~') {
		any := l.s[l.i] == '~'
		l.i++
		m, err := l.value()
		if err != nil || len(m) != 1 {
			return elem{}, fmt.Errorf("bad mask")
		}
		if err := l.close(); err != nil {
			return elem{}, err
		}
		var set [256]bool
		for b := 0; b < 256; b++ {
			hit := byte(b)&m[0] == m[0]
			if any {
				hit = byte(b)&m[0] != 0
			}
			set[b] = hit != neg
		}
		return elem{kind: kSet, set: &set}, nil
	}
	var set [256]bool
	for {
		l.skipSpace()
		if l.i >= len(l.s) {
			return elem{}, fmt.Errorf("unclosed [")
		}
		if l.s[l.i] == ']' {
			l.i++
			break
		}
		lo, err := l.value()
		if err != nil {
			return elem{}, err
		}
		hi := lo
		l.skipSpace()
		if l.i < len(l.s) && (l.s[l.i] == ':' || l.s[l.i] == '-') {
			l.i++
			if hi, err = l.value(); err != nil {
				return elem{}, err
			}
		}
		if len(lo) != len(hi) {
			return elem{}, fmt.Errorf("range bounds differ in length")
		}
		if len(lo) > 1 {
			if err := l.close(); err != nil {
				return elem{}, err
			}
			return elem{kind: kWide, lo: lo, hi: hi, neg: neg}, nil
		}
		for b := int(lo[0]); b <= int(hi[0]); b++ {
			set[b] = true
		}
	}
	if neg {
		for b := range set {
			set[b] = !set[b]
		}
	}
	return elem{kind: kSet, set: &set}, nil
}

func (l *lexer) close() error {
	l.skipSpace()
	if l.i >= len(l.s) || l.s[l.i] != ']' {
		return fmt.Errorf("expected ] at %d", l.i)
	}
	l.i++
	return nil
}

// merge joins adjacent literals and adjacent gaps.
func merge(p pattern) pattern {
	var out pattern
	for _, e := range p {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if e.kind == kLit && last.kind == kLit {
				last.lit = append(append([]byte(nil), last.lit...), e.lit...)
				continue
			}
			if e.kind == kGap && last.kind == kGap {
				last.min += e.min
				if last.max < 0 || e.max < 0 {
					last.max = -1
				} else {
					last.max += e.max
				}
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

// anchor returns the longest literal of p that lies at a fixed distance
// from the start, with that distance; nil if the pattern has none.
func (p pattern) anchor() ([]byte, int) {
	var best []byte
	bestOff, off := 0, 0
	for _, e := range p {
		switch e.kind {
		case kLit:
			if len(e.lit) > len(best) {
				best, bestOff = e.lit, off
			}
			off += len(e.lit)
		case kSet:
			off++
		case kWide:
			off += len(e.lo)
		case kGap:
			if e.max != e.min {
				return best, bestOff
			}
			off += e.min
		case kAlt:
			n := pattern(e.alts[0]).minLen()
			for _, a := range e.alts {
				if pattern(a).minLen() != n || pattern(a).maxLen() != n {
					return best, bestOff
				}
			}
			off += n
		}
	}
	return best, bestOff
}
