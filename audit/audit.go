// Package audit is archivd's append-only, hash-chained event log. Every
// entry is one line of canonical JSON carrying the SHA-256 of the line
// before it; an entry is fsynced before the action it records counts as
// done. The open segment is sealed (renamed, never written again) and a
// copy is stored beside the AIPs, so the trail survives the loss of the
// server. Event types use the PREMIS event type vocabulary.
package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/archivd/archivd/atomicfile"
)

// FormatVersion is the entry format written by this code.
const FormatVersion = 1

// Genesis is the "previous hash" of the first entry.
var Genesis = strings.Repeat("0", 64)

// Entry is one event. Field order is the canonical serialisation order.
type Entry struct {
	V        int    `json:"v"`
	Seq      int64  `json:"seq"`
	Time     string `json:"time"`
	EventID  string `json:"event_id"`
	Type     string `json:"type"`
	AIP      string `json:"aip,omitempty"`
	Location string `json:"location,omitempty"`
	Outcome  string `json:"outcome"`
	Detail   string `json:"detail,omitempty"`
	Agent    string `json:"agent"`
	Prev     string `json:"prev"`
}

// Canonical returns the entry's one-line serialisation (without newline).
func (e *Entry) Canonical() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(e) // cannot fail for this struct
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Hash is the hex SHA-256 of the canonical line: the next entry's Prev.
func (e *Entry) Hash() string {
	sum := sha256.Sum256(e.Canonical())
	return hex.EncodeToString(sum[:])
}

const currentName = "current.jsonl"

// Log is the audit log in a directory of the data directory. Several
// processes may append to it at once (the daemon, and a verify or export
// beside it): each append takes the log's own lock (append.lock), finds the
// chain's end on disk, writes its line and fsyncs before it lets go. Only
// the holder of the data directory's lock seals segments or reconciles.
type Log struct {
	dir      string
	readOnly bool
	lock     *os.File   // append.lock; nil when it cannot be had read-only
	mu       sync.Mutex // flock excludes processes; this, goroutines sharing l

	// The chain's end as last seen, valid while current.jsonl has the
	// inode and size it had then.
	lastSeq  int64
	lastHash string
	curIno   uint64
	curSize  int64

	// torn is an unfinished entry cut off but not yet recorded: the next
	// Append records it first.
	torn *TornTail
	// Torn is what a read-only open found at the end of current.jsonl, or
	// what an open for appending cut off there.
	Torn *TornTail
}

// TornTail is an unfinished last line of current.jsonl: a crash while an
// entry was written. The entry was never fsynced, so the action it was to
// record never counted as done. A log open for appending cuts it off, keeps
// the bytes in Kept and records a "recovery" event with its next entry; a
// read-only open only reports it.
type TornTail struct {
	Bytes int64
	Kept  string // file holding the cut bytes ("" when only reported)
}

const lockName = "append.lock"

// Open opens the log in dir for appending, creating it if needed, and
// finds the chain's end. A torn last line of the open segment is cut off
// and kept beside it (l.Torn says so); damage anywhere else, such as a
// complete last line that is not an entry, is an error naming the line.
func Open(dir string) (*Log, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("audit log %s: %w", dir, err)
	}
	l := &Log{dir: dir, lastHash: Genesis}
	var err error
	if l.lock, err = os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o640); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	err = l.locked(func() error {
		if err := l.refresh(); err != nil {
			return err
		}
		l.Torn = l.torn
		return nil
	})
	if err != nil {
		l.lock.Close()
		return nil, err
	}
	return l, nil
}

// OpenReadOnly opens the log for Verify and Compare only: nothing is
// created, cut or appended. A torn last line is reported in l.Torn and left
// out of verification.
func OpenReadOnly(dir string) (*Log, error) {
	l := &Log{dir: dir, lastHash: Genesis, readOnly: true}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	l.lock, _ = os.Open(filepath.Join(dir, lockName)) // flock works on a read-only handle
	err := l.locked(func() error {
		b, err := os.ReadFile(filepath.Join(dir, currentName))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("audit log: %w", err)
		}
		if n := int64(len(b) - (bytes.LastIndexByte(b, '\n') + 1)); n > 0 {
			l.Torn = &TornTail{Bytes: n}
		}
		return nil
	})
	return l, err
}

// locked runs fn holding the log's append lock.
func (l *Log) locked(fn func() error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lock == nil {
		return fn()
	}
	if err := syscall.Flock(int(l.lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("audit log lock: %w", err)
	}
	defer syscall.Flock(int(l.lock.Fd()), syscall.LOCK_UN)
	return fn()
}

// refresh finds the chain's end, cutting a torn tail. Call it locked.
func (l *Log) refresh() error {
	cur := filepath.Join(l.dir, currentName)
	st, err := os.Stat(cur)
	if err == nil {
		if ino := st.Sys().(*syscall.Stat_t).Ino; ino == l.curIno && st.Size() == l.curSize && l.curIno != 0 {
			return nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("audit log: %w", err)
	}
	if err := l.cutTornTail(); err != nil {
		return err
	}
	l.lastSeq, l.lastHash = 0, Genesis
	if err := l.findEnd(); err != nil {
		return err
	}
	l.curIno, l.curSize = 0, 0
	if st, err := os.Stat(cur); err == nil {
		l.curIno, l.curSize = st.Sys().(*syscall.Stat_t).Ino, st.Size()
	}
	return nil
}

// cutTornTail cuts an unfinished last line off current.jsonl. Append writes
// each entry with its newline in one write, so a line without a newline is
// a write that never finished.
func (l *Log) cutTornTail() error {
	cur := filepath.Join(l.dir, currentName)
	b, err := os.ReadFile(cur)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	keep := bytes.LastIndexByte(b, '\n') + 1
	if keep == len(b) {
		return nil
	}
	kept := filepath.Join(l.dir, fmt.Sprintf("torn-%s.part", time.Now().UTC().Format("20060102T150405.000000000Z")))
	if err := atomicfile.WriteFile(kept, b[keep:], 0o440); err != nil {
		return fmt.Errorf("audit log: keep the torn last entry: %w", err)
	}
	if err := atomicfile.WriteFile(cur, b[:keep], 0o640); err != nil {
		return fmt.Errorf("audit log: cut the torn last entry: %w", err)
	}
	l.torn = &TornTail{Bytes: int64(len(b) - keep), Kept: kept}
	return nil
}

// findEnd reads the last entry of the newest segment that has one.
func (l *Log) findEnd() error {
	files, err := l.files()
	if err != nil {
		return err
	}
	for i := len(files) - 1; i >= 0; i-- {
		last, err := lastEntry(files[i])
		if err != nil {
			return err
		}
		if last != nil {
			l.lastSeq, l.lastHash = last.Seq, last.Hash()
			return nil
		}
	}
	return nil
}

// Head returns the sequence number and hash of the last entry (0 and
// Genesis for an empty log).
func (l *Log) Head() (int64, string) { return l.lastSeq, l.lastHash }

// Dir is the folder of the log.
func (l *Log) Dir() string { return l.dir }

// Close lets go of the log.
func (l *Log) Close() error {
	if l.lock == nil {
		return nil
	}
	return l.lock.Close()
}

// files lists sealed segments in order, then the current one.
func (l *Log) files() ([]string, error) {
	sealed, err := filepath.Glob(filepath.Join(l.dir, "segment-*.jsonl"))
	if err != nil {
		return nil, err
	}
	sort.Strings(sealed)
	cur := filepath.Join(l.dir, currentName)
	if _, err := os.Stat(cur); err == nil {
		sealed = append(sealed, cur)
	}
	return sealed, nil
}

func lastEntry(path string) (*Entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if len(b) == 0 {
		return nil, nil
	}
	if b[len(b)-1] != '\n' {
		return nil, &BrokenError{File: path, Line: bytes.Count(b, []byte("\n")) + 1,
			Reason: "the last line has no line end; only the open segment (current.jsonl) may end in an unfinished entry"}
	}
	b = b[:len(b)-1]
	i := bytes.LastIndexByte(b, '\n')
	e, err := parseLine(b[i+1:])
	if err != nil {
		return nil, &BrokenError{File: path, Line: bytes.Count(b, []byte("\n")) + 1,
			Reason: "the last entry is complete but damaged (" + err.Error() + "): not a torn write, so it is not cut off; compare with the stored segments (archivd audit verify) and restore this file from a backup"}
	}
	return &e, nil
}

// parseLine decodes one line strictly and checks it is in canonical form.
func parseLine(raw []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("not a valid entry: %v", err)
	}
	if dec.More() {
		return e, errors.New("not a valid entry: more than one value on the line")
	}
	if !bytes.Equal(e.Canonical(), raw) {
		return e, errors.New("entry is not in canonical form (edited?)")
	}
	return e, nil
}

// Append adds an event, fills in V, Seq and Prev (and Time if empty),
// and returns it after the line is on disk. Text that is not valid UTF-8 is
// stored escaped (see clean), never replaced. A torn entry found at the end
// of the log is cut off and recorded first, as a "recovery" event.
func (l *Log) Append(e Entry) (Entry, error) {
	if l.readOnly {
		return e, errors.New("audit append: the log was opened read-only")
	}
	err := l.locked(func() error {
		if err := l.refresh(); err != nil {
			return err
		}
		if t := l.torn; t != nil {
			rec := Entry{EventID: NewEventID(), Type: TypeRecovery, Outcome: OutcomeSuccess, Agent: e.Agent,
				Detail: fmt.Sprintf("cut off an unfinished last entry of %d bytes at the end of the audit log (a crash while it was written; never fsynced, so the action it was to record did not count as done); the bytes are kept in %s", t.Bytes, t.Kept)}
			if _, err := l.write(rec); err != nil {
				return err
			}
			l.torn = nil
		}
		var err error
		e, err = l.write(e)
		return err
	})
	return e, err
}

// write appends one entry after the known end. Call it locked.
func (l *Log) write(e Entry) (Entry, error) {
	cleanEntry(&e)
	e.V = FormatVersion
	e.Seq = l.lastSeq + 1
	e.Prev = l.lastHash
	if e.Time == "" {
		e.Time = time.Now().UTC().Format(time.RFC3339Nano)
	}
	line := append(e.Canonical(), '\n')
	f, err := os.OpenFile(filepath.Join(l.dir, currentName), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return e, fmt.Errorf("audit append: %w", err)
	}
	_, err = f.Write(line)
	if err == nil {
		err = f.Sync()
	}
	var st os.FileInfo
	if err == nil {
		st, err = f.Stat()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		l.curIno = 0 // find the end again next time
		return e, fmt.Errorf("audit append: %w", err)
	}
	l.lastSeq, l.lastHash = e.Seq, e.Hash()
	l.curIno, l.curSize = st.Sys().(*syscall.Stat_t).Ino, st.Size()
	return e, nil
}

// Seal closes the current segment under the name of its first entry; the
// next append starts a new one. It returns the sealed file's path, or "" if
// the current segment was empty. Only the holder of the data directory's
// lock seals.
func (l *Log) Seal() (string, error) {
	if l.readOnly {
		return "", errors.New("audit seal: the log was opened read-only")
	}
	var name string
	err := l.locked(func() error {
		if err := l.refresh(); err != nil {
			return err
		}
		cur := filepath.Join(l.dir, currentName)
		b, err := os.ReadFile(cur)
		if errors.Is(err, fs.ErrNotExist) || err == nil && len(b) == 0 {
			return nil
		} else if err != nil {
			return err
		}
		var first Entry
		if err := json.Unmarshal(b[:bytes.IndexByte(b, '\n')], &first); err != nil {
			return fmt.Errorf("audit seal: %w", err)
		}
		name = filepath.Join(l.dir, SegmentName(first.Seq))
		if err := os.Chmod(cur, 0o440); err != nil {
			return err
		}
		if err := os.Rename(cur, name); err != nil {
			return err
		}
		l.curIno, l.curSize = 0, 0
		return atomicfile.SyncDir(l.dir)
	})
	return name, err
}

// OpenSegment says how large the open segment is and when its first entry
// was written (zero for an empty one): what decides whether it is due to
// be sealed.
func (l *Log) OpenSegment() (size int64, first time.Time, err error) {
	err = l.locked(func() error {
		f, err := os.Open(filepath.Join(l.dir, currentName))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || st.Size() == 0 {
			return err
		}
		size = st.Size()
		line, err := readLine(bufio.NewReader(f))
		if err != nil {
			return nil // a torn first line: due, the next append cuts it
		}
		var e Entry
		if json.Unmarshal(line, &e) == nil {
			first, _ = time.Parse(time.RFC3339Nano, e.Time)
		}
		return nil
	})
	return size, first, err
}

// SegmentName is the file name of a sealed segment starting at seq.
func SegmentName(firstSeq int64) string { return fmt.Sprintf("segment-%012d.jsonl", firstSeq) }

// Sealed lists the sealed segment files in order.
func (l *Log) Sealed() ([]string, error) {
	files, err := l.files()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		if filepath.Base(f) != currentName {
			out = append(out, f)
		}
	}
	return out, nil
}

// BrokenError names the first entry that breaks the chain.
type BrokenError struct {
	File   string
	Line   int
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string {
	if e.Seq == 0 {
		return fmt.Sprintf("audit log broken at %s line %d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("audit log broken at %s line %d (seq %d): %s", e.File, e.Line, e.Seq, e.Reason)
}

// Verify checks the whole log from its first entry to its last and calls fn
// (if not nil) for each entry in order. It returns the number of entries,
// or a *BrokenError for the first entry that does not fit. It verifies a
// snapshot taken under the append lock (sealed segments never change; the
// open one is read up to its last complete line), so appends from other
// processes go on meanwhile.
func (l *Log) Verify(fn func(Entry) error) (int64, error) {
	files, cur, err := l.snapshot()
	if err != nil {
		return 0, err
	}
	segs := make([]Segment, 0, len(files)+1)
	for _, f := range files {
		segs = append(segs, Segment{Name: f, Open: func() (io.ReadCloser, error) { return os.Open(f) }})
	}
	segs = append(segs, Segment{Name: filepath.Join(l.dir, currentName), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(cur)), nil }})
	return VerifyChain(segs, fn)
}

// snapshot lists the sealed segments and reads the open one up to its
// last complete line, under the append lock: a consistent view while other
// processes append (sealed segments never change).
func (l *Log) snapshot() (sealed []string, cur []byte, err error) {
	err = l.locked(func() error {
		files, err := l.files()
		if err != nil {
			return err
		}
		sealed = files
		if len(files) > 0 && filepath.Base(files[len(files)-1]) == currentName {
			sealed = files[:len(files)-1]
			b, err := os.ReadFile(filepath.Join(l.dir, currentName))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			cur = b[:bytes.LastIndexByte(b, '\n')+1]
		}
		return nil
	})
	return sealed, cur, err
}

// Segment is one part of a log to verify: local or from storage.
type Segment struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// maxLine bounds one entry; Append never writes more than a few KiB.
const maxLine = 16 << 20

// VerifyChain verifies consecutive segments as one chain. When an entry's
// successor records another hash of it, the entry itself is named: it was
// changed after it was written (or the link to it was).
func VerifyChain(segs []Segment, fn func(Entry) error) (int64, error) {
	prev, seq := Genesis, int64(0)
	prevFile, prevLine := "", 0
	for _, s := range segs {
		rc, err := s.Open()
		if err != nil {
			return seq, err
		}
		err = verifySegment(s.Name, rc, &prev, &seq, &prevFile, &prevLine, fn)
		rc.Close()
		if err != nil {
			return seq, err
		}
	}
	return seq, nil
}

func verifySegment(name string, r io.Reader, prev *string, seq *int64, prevFile *string, prevLine *int, fn func(Entry) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	line := 0
	for {
		raw, err := readLine(br)
		if err == io.EOF {
			return nil
		}
		line++
		if err != nil {
			return &BrokenError{name, line, *seq + 1, err.Error()}
		}
		e, err := parseLine(raw)
		switch {
		case err != nil:
			return &BrokenError{name, line, *seq + 1, err.Error()}
		case e.V != FormatVersion:
			err = &BrokenError{name, line, e.Seq, fmt.Sprintf("unknown entry format version %d", e.V)}
		case e.Seq != *seq+1:
			err = &BrokenError{name, line, e.Seq, fmt.Sprintf("sequence jumps from %d to %d: entries were removed or added", *seq, e.Seq)}
		case e.Prev != *prev && *seq == 0:
			err = &BrokenError{name, line, e.Seq, "the first entry does not start the chain"}
		case e.Prev != *prev:
			err = &BrokenError{*prevFile, *prevLine, *seq, fmt.Sprintf("entry changed after it was written: the next entry (seq %d) records another hash of it (or that link was changed)", e.Seq)}
		}
		if err != nil {
			return err
		}
		if fn != nil {
			if err := fn(e); err != nil {
				return err
			}
		}
		*prev, *seq = e.Hash(), e.Seq
		*prevFile, *prevLine = name, line
	}
}

// readLine returns the next line without its newline. A last line without
// a newline is an error: sealed and stored segments always end with one.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxLine {
			return nil, fmt.Errorf("line longer than %d bytes", maxLine)
		}
		switch {
		case err == nil:
			return buf[:len(buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(buf) == 0:
			return nil, io.EOF
		case err == io.EOF:
			return nil, errors.New("unfinished last line (no line end)")
		default:
			return nil, err
		}
	}
}

// ErrEmpty is returned by callers that need at least one entry.
var ErrEmpty = errors.New("audit log is empty")

// Since calls fn for every entry after seq, in order, reading only the
// segments that can hold them: how an index catches up with entries other
// processes appended. It checks each entry's form and links like Verify,
// from the segment it starts in.
func (l *Log) Since(seq int64, fn func(Entry) error) error {
	all, cur, err := l.snapshot()
	if err != nil {
		return err
	}
	start := 0
	for i, f := range all {
		if first, ok := segmentSeq(filepath.Base(f)); ok && first <= seq+1 {
			start = i
		}
	}
	files := all[start:]
	read := func(name string, b []byte) error {
		if len(b) == 0 {
			return nil
		}
		es, err := parseSegment(name, b)
		if err != nil {
			return err
		}
		for _, e := range es {
			if e.Seq > seq {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := read(f, b); err != nil {
			return err
		}
	}
	return read(filepath.Join(l.dir, currentName), cur)
}
