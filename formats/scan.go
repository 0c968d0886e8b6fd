package formats

import (
	"bytes"
	"io"
	"sync"
)

// source gives the matcher the bytes of one file: the BOF window, the EOF
// window and, only when a signature needs it, the whole file (up to a cap).
type source struct {
	r        io.ReaderAt
	size     int64
	bof, eof []byte
	full     []byte
	fullRead bool
	capped   bool // the full scan stopped at maxFullScan
	bytes    int64
	maxFull  int64
	mem      []byte // the whole file, when it is held in memory: the views are slices of it, not pooled buffers
	budget   budget // matchSig's, reset for each signature
}

// memFile is a file held in memory (read whole once, or handed over by the
// packager): identification and validation take views of its bytes
// instead of copying them out with ReadAt.
type memFile struct {
	*bytes.Reader
	b []byte
}

func newMemFile(b []byte) memFile { return memFile{bytes.NewReader(b), b} }

// inMemory returns the whole file's bytes when r holds them.
func inMemory(r io.ReaderAt) ([]byte, bool) {
	switch m := r.(type) {
	case memFile:
		return m.b, true
	case *countingReaderAt:
		return inMemory(m.r)
	}
	return nil, false
}

// buffers are reused across files: identification reads up to a few
// hundred KiB per file and should not make garbage of it each time.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

func getBuf(n int) []byte {
	p := bufPool.Get().(*[]byte)
	if cap(*p) < n {
		*p = make([]byte, n)
	}
	return (*p)[:n]
}

// release returns the source's buffers to the pool; the source must not
// be used afterwards.
func (s *source) release() {
	if s.mem != nil {
		s.bof, s.eof, s.full = nil, nil, nil
		return
	}
	var seen []*byte
	for _, b := range [][]byte{s.bof, s.eof, s.full} {
		if cap(b) == 0 || cap(b) > 64<<20 {
			continue
		}
		first := &b[:cap(b)][0]
		dup := false
		for _, p := range seen {
			dup = dup || p == first
		}
		if dup {
			continue // small files use one buffer for all three views
		}
		seen = append(seen, first)
		b := b[:0]
		bufPool.Put(&b)
	}
	s.bof, s.eof, s.full = nil, nil, nil
}

func newSource(r io.ReaderAt, size int64, bofWin, eofWin int, maxFull int64) (*source, error) {
	s := &source{r: r, size: size, maxFull: maxFull}
	whole := size <= int64(bofWin+eofWin) || size <= 1<<16 // read whole: the windows are views of it
	if b, ok := inMemory(r); ok && int64(len(b)) == size {
		// Views of the bytes in memory: nothing is copied or pooled.
		s.mem = b
		if whole {
			s.readFull()
			s.bof, s.eof = s.full, s.full
			return s, nil
		}
		s.bof, s.eof = b[:bofWin], b[len(b)-eofWin:]
		s.bytes = int64(bofWin + eofWin)
		return s, nil
	}
	if whole {
		if err := s.readFull(); err != nil {
			return nil, err
		}
		s.bof, s.eof = s.full, s.full
		return s, nil
	}
	s.bof = getBuf(bofWin)
	if _, err := r.ReadAt(s.bof, 0); err != nil && err != io.EOF {
		return nil, err
	}
	s.eof = getBuf(eofWin)
	if _, err := r.ReadAt(s.eof, size-int64(eofWin)); err != nil && err != io.EOF {
		return nil, err
	}
	s.bytes = int64(bofWin + eofWin)
	return s, nil
}

// readFull loads the file (or its first maxFull bytes) for unbounded
// sequences.
func (s *source) readFull() error {
	if s.fullRead {
		return nil
	}
	s.fullRead = true
	n := s.size
	if n > s.maxFull {
		n, s.capped = s.maxFull, true
	}
	if s.mem != nil {
		s.full = s.mem[:n]
		s.bytes += n
		return nil
	}
	s.full = getBuf(int(n))
	k, err := s.r.ReadAt(s.full, 0)
	if err != nil && err != io.EOF {
		return err
	}
	s.full = s.full[:k]
	s.bytes += int64(k)
	return nil
}

// matchSeq reports whether the byte sequence occurs in the file.
func (s *source) matchSeq(bs *byteSeq, b *budget) bool {
	if bs.bounded() && len(bs.must) > 1 {
		// The longest literal must lie inside the window: one search rules
		// most sequences out before any pattern runs.
		sub := &bs.subs[0]
		var region []byte
		if bs.ref == refBOF {
			region = s.bof[min(sub.min, len(s.bof)):min(sub.max+sub.maxLen, len(s.bof))]
		} else {
			n := len(s.eof)
			region = s.eof[max(0, n-sub.max-sub.maxLen):max(0, n-sub.min)]
		}
		if !bytes.Contains(region, bs.must) {
			return false
		}
	}
	switch bs.ref {
	case refBOF:
		data := s.bof
		if !bs.bounded() {
			data = s.full
		}
		return matchForward(bs.subs, 0, data, 0, true, b)
	case refEOF:
		data, base := s.eof, s.size-int64(len(s.eof))
		if !bs.bounded() {
			data, base = s.full, 0
			if s.capped {
				data, base = s.eof, s.size-int64(len(s.eof))
			}
		}
		return matchEOF(bs.subs, data, s.size-base, b)
	default:
		return matchForward(bs.subs, 0, s.full, 0, false, b)
	}
}

// matchForward matches subsequences i.. in order; from is where the
// previous one ended (or 0). anchored: subsequence 0 is BOF-anchored.
func matchForward(subs []subseq, i int, data []byte, from int, anchored bool, b *budget) bool {
	if i == len(subs) {
		return true
	}
	sub := &subs[i]
	lo := from + sub.min
	hi := len(data)
	if sub.max >= 0 && (i == 0 && anchored || i > 0) {
		hi = min(hi, from+sub.max)
	}
	if i == 0 && !anchored && sub.max >= 0 {
		hi = min(len(data), sub.max)
	}
	lit, litOff := sub.pat.anchor()
	// A run of literals, sets and ranges (most subsequences) is matched
	// without a continuation; the last subsequence's continuation accepts.
	fixed := sub.pat.fixed()
	var next func(end int) bool
	switch {
	case fixed:
	case i+1 == len(subs):
		next = acceptEnd
	default:
		next = func(end int) bool { return matchForward(subs, i+1, data, end, anchored, b) }
	}
	for start := lo; start <= hi && start <= len(data); start++ {
		if lit != nil {
			// Jump to the next place the anchor literal occurs.
			from := start + litOff
			end := min(len(data), hi+litOff+len(lit))
			if from > len(data) || end-from < len(lit) {
				return false
			}
			j := bytes.Index(data[from:end], lit)
			if j < 0 {
				return false
			}
			start += j
		}
		if fixed {
			b.steps++
			if end, ok := matchRun(sub.pat, data, start); ok && matchForward(subs, i+1, data, end, anchored, b) {
				return true
			}
		} else if sub.pat.match(data, start, b, next) {
			return true
		}
		if b.steps > stepLimit {
			return false
		}
	}
	return false
}

func acceptEnd(int) bool { return true }

// matchEOF matches an EOF-anchored sequence: subsequence 0 ends between
// min and max bytes before the end of the file; data ends at the file's
// end (dataLen is len(data) in file terms).
func matchEOF(subs []subseq, data []byte, _ int64, b *budget) bool {
	sub := &subs[0]
	n := len(data)
	maxLen := sub.maxLen
	if maxLen < 0 {
		maxLen = n
	}
	lo := n - sub.max - maxLen
	if sub.max < 0 {
		lo = 0
	}
	lo = max(lo, 0)
	hi := n - sub.min - sub.pat.minLen()
	lit := sub.pat.firstLit()
	start := 0
	accept := func(end int) bool {
		d := n - end
		if d < sub.min || sub.max >= 0 && d > sub.max {
			return false
		}
		return matchBackward(subs, 1, data, start, b)
	}
	for start = hi; start >= lo; start-- {
		if lit != nil {
			// Jump to the previous occurrence of the leading literal.
			end := min(start+len(lit), n)
			j := bytes.LastIndex(data[lo:end], lit)
			if j < 0 {
				return false
			}
			start = lo + j
		}
		if sub.pat.match(data, start, b, accept) {
			return true
		}
		if b.steps > stepLimit {
			return false
		}
	}
	return false
}

// matchBackward matches further EOF subsequences, each ending before the
// start of the previous one.
func matchBackward(subs []subseq, i int, data []byte, before int, b *budget) bool {
	if i == len(subs) {
		return true
	}
	sub := &subs[i]
	for start := before - sub.min - sub.pat.minLen(); start >= 0; start-- {
		if sub.pat.match(data, start, b, func(end int) bool {
			gap := before - end
			return gap >= sub.min && (sub.max < 0 || gap <= sub.max) && matchBackward(subs, i+1, data, start, b)
		}) {
			return true
		}
		if b.steps > stepLimit {
			return false
		}
	}
	return false
}
