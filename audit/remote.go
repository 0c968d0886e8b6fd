package audit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/archivd/archivd/atomicfile"
)

// Remote is a place that keeps copies of the sealed segments: a storage
// location, beside the AIPs.
type Remote interface {
	Name() string
	// SegmentNames lists the stored segment file names, sorted.
	SegmentNames(ctx context.Context) ([]string, error)
	// Segment reads one stored segment.
	Segment(ctx context.Context, name string) ([]byte, error)
}

// ForkError: the local log and the trail stored at a location hold
// different entries under the same sequence number. Neither is changed.
type ForkError struct {
	Location              string
	Seq                   int64 // where they were compared
	LocalSeq, StoredSeq   int64 // the heads
	LocalHash, StoredHash string
	Dir                   string
}

func (e *ForkError) Error() string {
	return fmt.Sprintf("audit trail forked: the local log and the copy stored at %s differ at seq %d "+
		"(local head: seq %d, hash %.16s; stored head: seq %d, hash %.16s). "+
		"Typically the data directory was restored from an older backup and written to since. "+
		"Nothing was changed. Keep %s for the record, move it aside, and the next command continues the trail from storage",
		e.Location, e.Seq, e.LocalSeq, e.LocalHash, e.StoredSeq, e.StoredHash, e.Dir)
}

// Recovery says how Reconcile caught the local log up from storage.
type Recovery struct {
	Location string
	From, To int64 // local head before and after
	Segments int   // segments written
}

// segmentSeq parses the first sequence number out of a segment name.
func segmentSeq(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, "segment-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".jsonl")
	if !ok || len(s) != 12 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0 && SegmentName(n) == name
}

// storedSegments lists the well-formed segment names a remote holds, sorted.
func storedSegments(ctx context.Context, r Remote) ([]string, error) {
	names, err := r.SegmentNames(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if _, ok := segmentSeq(n); ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// parseSegment reads a stored or local segment: every line an entry in
// canonical form, consecutive, each linked to the one before.
func parseSegment(name string, b []byte) ([]Entry, error) {
	br := bufio.NewReader(bytes.NewReader(b))
	var out []Entry
	for line := 1; ; line++ {
		raw, err := readLine(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &BrokenError{name, line, 0, err.Error()}
		}
		e, err := parseLine(raw)
		if err != nil {
			return nil, &BrokenError{name, line, 0, err.Error()}
		}
		if k := len(out); k > 0 && (e.Seq != out[k-1].Seq+1 || e.Prev != out[k-1].Hash()) {
			return nil, &BrokenError{name, line, e.Seq, "does not follow the entry before it"}
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, &BrokenError{name, 1, 0, "empty segment"}
	}
	if first, ok := segmentSeq(name); ok && out[0].Seq != first {
		return nil, &BrokenError{name, 1, out[0].Seq, fmt.Sprintf("segment named for seq %d starts at %d", first, out[0].Seq)}
	}
	return out, nil
}

// hashAt returns the hash of entry seq among segments listed by name (in
// order), reading only the one that must hold it.
func hashAt(seq int64, names []string, read func(name string) ([]byte, error)) (string, error) {
	if seq == 0 {
		return Genesis, nil
	}
	i := 0
	for k, n := range names {
		if first, ok := segmentSeq(n); ok && first <= seq {
			i = k
		}
	}
	for ; i < len(names); i++ {
		b, err := read(names[i])
		if err != nil {
			return "", err
		}
		if len(b) == 0 {
			continue
		}
		es, err := parseSegment(names[i], b)
		if err != nil {
			return "", err
		}
		for _, e := range es {
			if e.Seq == seq {
				return e.Hash(), nil
			}
		}
	}
	return "", fmt.Errorf("no entry with seq %d", seq)
}

// local lists the log's files by base name: sealed segments, then current.
func (l *Log) local() ([]string, error) {
	files, err := l.files()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	return names, nil
}

func (l *Log) readLocal(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(l.dir, name))
}

// sealedEnd is the last sequence number held by sealed local segments.
func (l *Log) sealedEnd(names []string) (int64, error) {
	var sealed []string
	for _, n := range names {
		if n != currentName {
			sealed = append(sealed, n)
		}
	}
	if len(sealed) == 0 {
		return 0, nil
	}
	b, err := l.readLocal(sealed[len(sealed)-1])
	if err != nil {
		return 0, err
	}
	es, err := parseSegment(sealed[len(sealed)-1], b)
	if err != nil {
		return 0, err
	}
	return es[len(es)-1].Seq, nil
}

// Reconcile compares the local log with the trail stored at each remote,
// before anything is appended. A local log that is a prefix of a stored
// trail (a data directory lost, or restored from an older backup) is caught
// up from storage; a local log that differs from a stored trail is a
// *ForkError and nothing is changed. Remotes that cannot be read are
// returned in unreachable and compared on a later open.
func (l *Log) Reconcile(ctx context.Context, remotes []Remote) (rec *Recovery, unreachable map[string]error, err error) {
	if l.readOnly {
		return nil, nil, errors.New("audit reconcile: the log was opened read-only")
	}
	err = l.locked(func() error {
		if err := l.refresh(); err != nil {
			return err
		}
		var err error
		rec, unreachable, err = l.reconcile(ctx, remotes)
		return err
	})
	return rec, unreachable, err
}

func (l *Log) reconcile(ctx context.Context, remotes []Remote) (rec *Recovery, unreachable map[string]error, err error) {
	unreachable = map[string]error{}
	for _, r := range remotes {
		names, err := storedSegments(ctx, r)
		if err != nil {
			unreachable[r.Name()] = err
			continue
		}
		if len(names) == 0 {
			continue
		}
		read := func(n string) ([]byte, error) { return r.Segment(ctx, n) }
		last, err := read(names[len(names)-1])
		if err != nil {
			unreachable[r.Name()] = err
			continue
		}
		es, err := parseSegment(names[len(names)-1], last)
		if err != nil {
			return rec, unreachable, fmt.Errorf("stored audit trail at %s is damaged: %w (archivd audit verify compares every copy)", r.Name(), err)
		}
		n, nHash := es[len(es)-1].Seq, es[len(es)-1].Hash()
		m, mHash := l.Head()
		fork := &ForkError{Location: r.Name(), LocalSeq: m, LocalHash: mHash, StoredSeq: n, StoredHash: nHash, Dir: l.dir}
		if n <= m {
			localNames, err := l.local()
			if err != nil {
				return rec, unreachable, err
			}
			h, err := hashAt(n, localNames, l.readLocal)
			if err != nil {
				return rec, unreachable, fmt.Errorf("audit log: %w", err)
			}
			if h != nHash {
				fork.Seq = n
				return rec, unreachable, fork
			}
			continue
		}
		h, err := hashAt(m, names, read)
		if err != nil {
			return rec, unreachable, fmt.Errorf("stored audit trail at %s: %w", r.Name(), err)
		}
		if h != mHash {
			fork.Seq = m
			return rec, unreachable, fork
		}
		got, err := l.catchUp(ctx, r, names)
		if err != nil {
			return rec, unreachable, err
		}
		rec = got
	}
	return rec, unreachable, nil
}

// catchUp copies the stored segments that follow the local sealed ones.
// The local head is known to be an entry of the stored trail.
func (l *Log) catchUp(ctx context.Context, r Remote, names []string) (*Recovery, error) {
	localNames, err := l.local()
	if err != nil {
		return nil, err
	}
	end, err := l.sealedEnd(localNames)
	if err != nil {
		return nil, err
	}
	prev, err := hashAt(end, localNames, l.readLocal)
	if err != nil {
		return nil, err
	}
	var fetch []string
	for _, n := range names {
		if first, _ := segmentSeq(n); first > end {
			fetch = append(fetch, n)
		}
	}
	if len(fetch) == 0 || fetch[0] != SegmentName(end+1) {
		return nil, fmt.Errorf("stored audit trail at %s does not line up with the local segments (no segment starts at seq %d)", r.Name(), end+1)
	}
	data := make([][]byte, len(fetch))
	seq := end
	for i, n := range fetch {
		if data[i], err = r.Segment(ctx, n); err != nil {
			return nil, fmt.Errorf("stored audit segment %s at %s: %w", n, r.Name(), err)
		}
		es, err := parseSegment(n, data[i])
		if err != nil {
			return nil, fmt.Errorf("stored audit trail at %s: %w", r.Name(), err)
		}
		if es[0].Seq != seq+1 || es[0].Prev != prev {
			return nil, fmt.Errorf("stored audit trail at %s: %s does not continue the chain", r.Name(), n)
		}
		seq, prev = es[len(es)-1].Seq, es[len(es)-1].Hash()
	}
	from, _ := l.Head()
	// The open segment's entries are all in the stored segments: empty it
	// first, so a crash in between leaves a shorter trail, never a doubled one.
	cur := filepath.Join(l.dir, currentName)
	if err := atomicfile.WriteFile(cur, nil, 0o640); err != nil {
		return nil, err
	}
	for i, n := range fetch {
		if err := atomicfile.WriteFile(filepath.Join(l.dir, n), data[i], 0o440); err != nil {
			return nil, err
		}
	}
	l.curIno = 0
	if err := l.refresh(); err != nil {
		return nil, err
	}
	if got, _ := l.Head(); got != seq {
		return nil, fmt.Errorf("audit log: after catching up from %s the log ends at seq %d, not %d", r.Name(), got, seq)
	}
	return &Recovery{Location: r.Name(), From: from, To: seq, Segments: len(fetch)}, nil
}

// Difference is one way a stored copy of the trail differs from the local
// log. Pending differences are segments not stored yet (the next command
// stores them); the others are damage or tampering.
type Difference struct {
	Location, Segment, Problem string
	Pending                    bool
}

func (d Difference) String() string {
	return fmt.Sprintf("%s at %s: %s", d.Segment, d.Location, d.Problem)
}

// Compare checks every stored copy of every segment against the local log
// and the stored trail as a chain of its own. It reads every stored
// segment: it is the auditor's check, not part of opening the log.
func (l *Log) Compare(ctx context.Context, remotes []Remote) (diffs []Difference, unreachable map[string]error, err error) {
	localNames, err := l.local()
	if err != nil {
		return nil, nil, err
	}
	local := map[string]bool{}
	for _, n := range localNames {
		local[n] = n != currentName
	}
	unreachable = map[string]error{}
	for _, r := range remotes {
		names, err := storedSegments(ctx, r)
		if err != nil {
			unreachable[r.Name()] = err
			continue
		}
		stored := map[string][]byte{}
		var segs []Segment
		for _, n := range names {
			b, err := r.Segment(ctx, n)
			if err != nil {
				diffs = append(diffs, Difference{Location: r.Name(), Segment: n, Problem: "stored copy unreadable: " + err.Error()})
				continue
			}
			stored[n] = b
			segs = append(segs, Segment{Name: n, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }})
		}
		if _, err := VerifyChain(segs, nil); err != nil {
			diffs = append(diffs, Difference{Location: r.Name(), Segment: "stored trail", Problem: err.Error()})
		}
		lastStored := ""
		if len(names) > 0 {
			lastStored = names[len(names)-1]
		}
		for _, n := range localNames {
			if !local[n] {
				continue
			}
			b, ok := stored[n]
			switch {
			case !ok && n < lastStored:
				diffs = append(diffs, Difference{Location: r.Name(), Segment: n, Problem: "missing from storage, though later segments are stored there"})
			case !ok:
				diffs = append(diffs, Difference{Location: r.Name(), Segment: n, Problem: "not stored yet (the next command stores it)", Pending: true})
			default:
				mine, err := l.readLocal(n)
				if err != nil {
					return diffs, unreachable, err
				}
				if !bytes.Equal(mine, b) {
					diffs = append(diffs, Difference{Location: r.Name(), Segment: n, Problem: "the stored copy and the local segment differ"})
				}
			}
		}
		for _, n := range names {
			if !local[n] {
				diffs = append(diffs, Difference{Location: r.Name(), Segment: n,
					Problem: "stored, but missing from the local log (deleted there, or the data directory was restored from an older backup)"})
			}
		}
	}
	return diffs, unreachable, nil
}

// Unstored lists the local sealed segments (paths) that names, the
// segments a remote holds, lacks.
func (l *Log) Unstored(names []string) ([]string, error) {
	sealed, err := l.Sealed()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range sealed {
		if !slices.Contains(names, filepath.Base(s)) {
			out = append(out, s)
		}
	}
	return out, nil
}
