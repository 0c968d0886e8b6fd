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
	"os"
	"path/filepath"
	"sort"
	"strings"
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

// Log is the audit log in a directory of the data directory.
type Log struct {
	dir      string
	lastSeq  int64
	lastHash string
	f        *os.File
}

// Open opens the log in dir, creating it if needed, and finds the chain's end.
func Open(dir string) (*Log, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("audit log %s: %w", dir, err)
	}
	l := &Log{dir: dir, lastHash: Genesis}
	files, err := l.files()
	if err != nil {
		return nil, err
	}
	for i := len(files) - 1; i >= 0 && l.lastSeq == 0; i-- {
		last, err := lastEntry(files[i])
		if err != nil {
			return nil, err
		}
		if last != nil {
			l.lastSeq, l.lastHash = last.Seq, last.Hash()
		}
	}
	l.f, err = os.OpenFile(filepath.Join(dir, currentName), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return l, nil
}

// Close closes the open segment.
func (l *Log) Close() error { return l.f.Close() }

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
	b = bytes.TrimRight(b, "\n")
	if len(b) == 0 {
		return nil, nil
	}
	i := bytes.LastIndexByte(b, '\n')
	var e Entry
	if err := json.Unmarshal(b[i+1:], &e); err != nil {
		return nil, fmt.Errorf("audit log %s: last entry unreadable (run archivd audit verify): %w", path, err)
	}
	return &e, nil
}

// Append adds an event, fills in V, Seq and Prev (and Time if empty),
// and returns it after the line is on disk.
func (l *Log) Append(e Entry) (Entry, error) {
	e.V = FormatVersion
	e.Seq = l.lastSeq + 1
	e.Prev = l.lastHash
	if e.Time == "" {
		e.Time = time.Now().UTC().Format(time.RFC3339Nano)
	}
	line := append(e.Canonical(), '\n')
	if _, err := l.f.Write(line); err != nil {
		return e, fmt.Errorf("audit append: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return e, fmt.Errorf("audit append: %w", err)
	}
	l.lastSeq, l.lastHash = e.Seq, e.Hash()
	return e, nil
}

// Seal closes the current segment under the name of its first entry and
// starts a new one. It returns the sealed file's path, or "" if the current
// segment was empty.
func (l *Log) Seal() (string, error) {
	cur := filepath.Join(l.dir, currentName)
	b, err := os.ReadFile(cur)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", nil
	}
	var first Entry
	if err := json.Unmarshal(b[:bytes.IndexByte(b, '\n')], &first); err != nil {
		return "", fmt.Errorf("audit seal: %w", err)
	}
	name := filepath.Join(l.dir, SegmentName(first.Seq))
	if err := l.f.Close(); err != nil {
		return "", err
	}
	if err := os.Chmod(cur, 0o440); err != nil {
		return "", err
	}
	if err := os.Rename(cur, name); err != nil {
		return "", err
	}
	if err := atomicfile.SyncDir(l.dir); err != nil {
		return "", err
	}
	l.f, err = os.OpenFile(cur, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	return name, err
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
	return fmt.Sprintf("audit log broken at %s line %d (seq %d): %s", e.File, e.Line, e.Seq, e.Reason)
}

// Verify checks the whole log from its first entry to its last and calls fn
// (if not nil) for each entry in order. It returns the number of entries,
// or a *BrokenError for the first entry that does not fit.
func (l *Log) Verify(fn func(Entry) error) (int64, error) {
	files, err := l.files()
	if err != nil {
		return 0, err
	}
	readers := make([]Segment, 0, len(files))
	for _, f := range files {
		readers = append(readers, Segment{Name: f, Open: func() (io.ReadCloser, error) { return os.Open(f) }})
	}
	return VerifyChain(readers, fn)
}

// Segment is one part of a log to verify: local or from storage.
type Segment struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// VerifyChain verifies consecutive segments as one chain.
func VerifyChain(segs []Segment, fn func(Entry) error) (int64, error) {
	prev, seq := Genesis, int64(0)
	for _, s := range segs {
		rc, err := s.Open()
		if err != nil {
			return seq, err
		}
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		line := 0
		for sc.Scan() {
			line++
			raw := sc.Bytes()
			var e Entry
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&e); err != nil {
				rc.Close()
				return seq, &BrokenError{s.Name, line, seq + 1, "not a valid entry: " + err.Error()}
			}
			switch {
			case !bytes.Equal(e.Canonical(), raw):
				err = &BrokenError{s.Name, line, e.Seq, "entry is not in canonical form (edited?)"}
			case e.V != FormatVersion:
				err = &BrokenError{s.Name, line, e.Seq, fmt.Sprintf("unknown entry format version %d", e.V)}
			case e.Seq != seq+1:
				err = &BrokenError{s.Name, line, e.Seq, fmt.Sprintf("sequence jumps from %d to %d", seq, e.Seq)}
			case e.Prev != prev:
				err = &BrokenError{s.Name, line, e.Seq, "previous-entry hash does not match: an entry before it was changed or removed"}
			}
			if err != nil {
				rc.Close()
				return seq, err
			}
			if fn != nil {
				if err := fn(e); err != nil {
					rc.Close()
					return seq, err
				}
			}
			prev, seq = e.Hash(), e.Seq
		}
		err = sc.Err()
		rc.Close()
		if err != nil {
			return seq, &BrokenError{s.Name, line + 1, seq + 1, err.Error()}
		}
	}
	return seq, nil
}

// ErrEmpty is returned by callers that need at least one entry.
var ErrEmpty = errors.New("audit log is empty")

// IsEmpty reports whether dir holds no audit entries yet (a new or lost
// data directory).
func IsEmpty(dir string) bool {
	sealed, _ := filepath.Glob(filepath.Join(dir, "segment-*.jsonl"))
	if len(sealed) > 0 {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, currentName))
	return err != nil || st.Size() == 0
}

// Restore writes sealed segments (by file name) into an empty log
// directory after checking that they form one unbroken chain, so a data
// directory lost with its server continues the trail from storage.
func Restore(dir string, segments map[string][]byte) (int64, error) {
	if !IsEmpty(dir) {
		return 0, errors.New("audit restore: the log is not empty")
	}
	names := make([]string, 0, len(segments))
	for n := range segments {
		if !strings.HasPrefix(n, "segment-") || !strings.HasSuffix(n, ".jsonl") || filepath.Base(n) != n {
			return 0, fmt.Errorf("audit restore: %q is not a segment name", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var segs []Segment
	for _, n := range names {
		b := segments[n]
		segs = append(segs, Segment{Name: n, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }})
	}
	n, err := VerifyChain(segs, nil)
	if err != nil {
		return n, fmt.Errorf("audit restore: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, err
	}
	for _, name := range names {
		if err := atomicfile.WriteFile(filepath.Join(dir, name), segments[name], 0o440); err != nil {
			return 0, err
		}
	}
	return n, nil
}
