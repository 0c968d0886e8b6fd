package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestChainAndTamper(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, typ := range []string{"ingestion", "fixity check", "dissemination"} {
		e, err := l.Append(Entry{Type: typ, AIP: "urn:uuid:x", Outcome: "success", Agent: "archivd test", EventID: "e"})
		if err != nil || e.Seq != int64(i+1) {
			t.Fatalf("append %d: %v %v", i, e.Seq, err)
		}
		if i == 1 {
			if _, err := l.Seal(); err != nil {
				t.Fatal(err)
			}
		}
	}
	l.Close()
	// Reopen continues the chain.
	l, _ = Open(dir)
	e, _ := l.Append(Entry{Type: "ingestion", Outcome: "success", Agent: "a", EventID: "f"})
	if e.Seq != 4 {
		t.Fatalf("seq after reopen = %d", e.Seq)
	}
	n, err := l.Verify(nil)
	if err != nil || n != 4 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	l.Close()

	// Change one character of entry 2 in the sealed segment.
	seg := filepath.Join(dir, SegmentName(1))
	b, _ := os.ReadFile(seg)
	os.Chmod(seg, 0o640)
	os.WriteFile(seg, bytes.Replace(b, []byte("fixity check"), []byte("fixity checK"), 1), 0o640)
	l, _ = Open(dir)
	_, err = l.Verify(nil)
	var be *BrokenError
	if !errors.As(err, &be) || be.Seq != 2 || be.Line != 2 || !strings.Contains(be.Reason, "changed after it was written") {
		t.Fatalf("tampered entry 2: want entry 2 named as changed, got %v", err)
	}
	// Remove entry 1 instead.
	lines := bytes.SplitAfter(b, []byte("\n"))
	os.WriteFile(seg, bytes.Join(lines[1:], nil), 0o640)
	_, err = l.Verify(nil)
	if !errors.As(err, &be) || be.Line != 1 {
		t.Fatalf("removed entry: want break at line 1, got %v", err)
	}
}

// memRemote is a location's stored segments, in memory.
type memRemote struct {
	name string
	segs map[string][]byte
	err  error
}

func (m *memRemote) Name() string { return m.name }
func (m *memRemote) SegmentNames(context.Context) ([]string, error) {
	var out []string
	for n := range m.segs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, m.err
}
func (m *memRemote) Segment(_ context.Context, n string) ([]byte, error) {
	b, ok := m.segs[n]
	if !ok {
		return nil, os.ErrNotExist
	}
	return b, m.err
}

// store copies every sealed segment of dir to r, as seal does.
func (m *memRemote) store(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "segment-*.jsonl"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m.segs[filepath.Base(f)] = b
	}
}

func appendN(t *testing.T, l *Log, n int, seal bool) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := l.Append(Entry{Type: "ingestion", Outcome: "success", Agent: "a", EventID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if seal {
			if _, err := l.Seal(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestReconcileRestoresALostLog(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	l, _ := Open(src)
	appendN(t, l, 3, true)
	l.Close()
	r := &memRemote{name: "s3", segs: map[string][]byte{}}
	r.store(t, src)

	dst := filepath.Join(t.TempDir(), "audit")
	l, err := Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := l.Reconcile(ctx, []Remote{r})
	if err != nil || rec == nil || rec.From != 0 || rec.To != 3 || rec.Segments != 3 {
		t.Fatalf("Reconcile = %+v, %v", rec, err)
	}
	if e, _ := l.Append(Entry{Type: "fixity check", Outcome: "success", Agent: "a", EventID: "f"}); e.Seq != 4 {
		t.Errorf("restored log continues at %d, want 4", e.Seq)
	}
	if n, err := l.Verify(nil); n != 4 || err != nil {
		t.Errorf("Verify = %d, %v", n, err)
	}
	l.Close()

	// A gap in what storage holds is refused, and nothing is written.
	delete(r.segs, SegmentName(2))
	dst = filepath.Join(t.TempDir(), "audit")
	l, _ = Open(dst)
	if _, _, err := l.Reconcile(ctx, []Remote{r}); err == nil {
		t.Error("reconcile from a broken stored chain succeeded")
	}
	if seq, _ := l.Head(); seq != 0 {
		t.Errorf("head after a refused restore: %d", seq)
	}
}

// TestReconcileBackup: the data directory comes back from a backup while
// storage went on; the local trail is caught up, a forked one refused.
func TestReconcileBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, _ := Open(dir)
	appendN(t, l, 2, true)
	appendN(t, l, 1, false) // seq 3 in current.jsonl, not sealed
	l.Close()
	backup := t.TempDir()
	copyDir(t, dir, backup)

	l, _ = Open(dir)
	appendN(t, l, 3, true) // seals 3..4, then 5, 6
	l.Close()
	r := &memRemote{name: "loc", segs: map[string][]byte{}}
	r.store(t, dir)

	// The backup is behind storage: caught up.
	l, _ = Open(backup)
	rec, _, err := l.Reconcile(ctx, []Remote{r})
	if err != nil || rec == nil || rec.From != 3 || rec.To != 6 {
		t.Fatalf("Reconcile = %+v, %v", rec, err)
	}
	if n, err := l.Verify(nil); n != 6 || err != nil {
		t.Fatalf("after catch-up: %d %v", n, err)
	}
	l.Close()

	// A backup written to since has forked: refused, nothing changed.
	forked := t.TempDir()
	copyDir(t, dir, forked) // the newest state, then rewound
	os.RemoveAll(forked)
	copyDir(t, backupOf(t, dir, 2), forked)
	l, _ = Open(forked)
	appendN(t, l, 1, false)
	before := snapshotDir(t, forked)
	_, _, err = l.Reconcile(ctx, []Remote{r})
	var fork *ForkError
	if !errors.As(err, &fork) || fork.Location != "loc" || fork.LocalSeq != 3 || fork.StoredSeq != 6 {
		t.Fatalf("fork: %v", err)
	}
	if snapshotDir(t, forked) != before {
		t.Error("a refused reconcile changed the log")
	}
	l.Close()

	// An unreachable location is reported, not fatal.
	r.err = errors.New("connection refused")
	l, _ = Open(backup)
	if _, un, err := l.Reconcile(ctx, []Remote{r}); err != nil || un["loc"] == nil {
		t.Errorf("unreachable: %v %v", un, err)
	}
	l.Close()
}

// backupOf makes a log of the first n sealed segments of dir's history.
func backupOf(t *testing.T, dir string, n int) string {
	t.Helper()
	out := t.TempDir()
	for i := 1; i <= n; i++ {
		b, err := os.ReadFile(filepath.Join(dir, SegmentName(int64(i))))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(out, SegmentName(int64(i))), b, 0o640)
	}
	return out
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	os.MkdirAll(to, 0o750)
	ents, _ := os.ReadDir(from)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(to, e.Name()), b, 0o640)
	}
}

func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s %x\n", e.Name(), data)
	}
	return b.String()
}

func TestTornTailIsCutAndKept(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir)
	appendN(t, l, 2, false)
	l.Close()
	cur := filepath.Join(dir, currentName)
	f, _ := os.OpenFile(cur, os.O_APPEND|os.O_WRONLY, 0)
	torn := `{"v":1,"seq":3,"time":"2026-`
	f.WriteString(torn)
	f.Close()

	// Read-only: reported, left alone, the rest verifies.
	ro, err := OpenReadOnly(dir)
	if err != nil || ro.Torn == nil || ro.Torn.Kept != "" {
		t.Fatalf("read-only open: %+v %v", ro, err)
	}
	if n, err := ro.Verify(nil); n != 2 || err != nil {
		t.Fatalf("read-only verify: %d %v", n, err)
	}
	l, err = Open(dir)
	if err != nil || l.Torn == nil || l.Torn.Bytes != int64(len(torn)) {
		t.Fatalf("open with a torn tail: %+v %v", l, err)
	}
	if b, err := os.ReadFile(l.Torn.Kept); err != nil || !strings.HasPrefix(string(b), `{"v":1,"seq":3`) {
		t.Errorf("torn bytes not kept: %q %v", b, err)
	}
	// The next entry is preceded by one that records the cut.
	if e, _ := l.Append(Entry{Type: "x", Outcome: "success", Agent: "a", EventID: "e"}); e.Seq != 4 {
		t.Errorf("continues at %d", e.Seq)
	}
	var rec Entry
	if n, err := l.Verify(func(e Entry) error {
		if e.Seq == 3 {
			rec = e
		}
		return nil
	}); n != 4 || err != nil {
		t.Errorf("verify: %d %v", n, err)
	}
	if rec.Type != TypeRecovery || !strings.Contains(rec.Detail, l.Torn.Kept) {
		t.Errorf("the cut is not recorded: %+v", rec)
	}
	l.Close()

	// A complete but damaged last line is not a torn write: an error naming it.
	b, _ := os.ReadFile(cur)
	os.WriteFile(cur, append(b, []byte("{\"v\":1,\"seq\":4}garbage\n")...), 0o640)
	_, err = Open(dir)
	var be *BrokenError
	if !errors.As(err, &be) || be.Line != 5 || !strings.Contains(be.Reason, "not a torn write") {
		t.Errorf("damaged last line: %v", err)
	}
}

func TestCompareFindsEveryDifference(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, _ := Open(dir)
	appendN(t, l, 3, true)
	r := &memRemote{name: "loc", segs: map[string][]byte{}}
	r.store(t, dir)
	if d, _, err := l.Compare(ctx, []Remote{r}); len(d) != 0 || err != nil {
		t.Fatalf("identical: %v %v", d, err)
	}
	appendN(t, l, 1, true)
	d, _, _ := l.Compare(ctx, []Remote{r})
	if len(d) != 1 || !d[0].Pending {
		t.Fatalf("not yet stored: %v", d)
	}
	r.store(t, dir)
	// The last local segment deleted: storage has it, the log does not.
	last := filepath.Join(dir, SegmentName(4))
	os.Remove(last)
	d, _, _ = l.Compare(ctx, []Remote{r})
	if len(d) != 1 || d[0].Pending || d[0].Segment != SegmentName(4) {
		t.Fatalf("deleted local segment: %v", d)
	}
	// A stored copy edited.
	r.segs[SegmentName(2)] = bytes.Replace(r.segs[SegmentName(2)], []byte("success"), []byte("failure"), 1)
	d, _, _ = l.Compare(ctx, []Remote{r})
	found := false
	for _, x := range d {
		found = found || (x.Segment == SegmentName(2) && strings.Contains(x.Problem, "differ"))
	}
	if !found {
		t.Fatalf("edited stored segment: %v", d)
	}
	l.Close()
}

func TestInvalidUTF8RoundTrips(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir)
	raw := "case folder /in/M\xfcller-Akte: \\ back\\slash, \xff\xfe"
	e, err := l.Append(Entry{Type: "ingestion", Outcome: "failure", Detail: raw, Agent: "a", EventID: "e"})
	if err != nil {
		t.Fatal(err)
	}
	if got := unclean(e.Detail); got != raw {
		t.Errorf("escaped detail %q does not give back the bytes: %q", e.Detail, got)
	}
	if n, err := l.Verify(nil); n != 1 || err != nil {
		t.Fatalf("verify: %d %v", n, err)
	}
	l.Close()
}

// unclean inverts clean for a string clean escaped.
func unclean(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == '\\' {
			b = append(b, '\\')
			i++
		} else if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			v, _ := strconv.ParseUint(s[i+2:i+4], 16, 8)
			b = append(b, byte(v))
			i += 3
		} else {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// FuzzEntryBytes: any bytes in any field go through record, seal, store,
// restore from storage and verify, and come back.
func FuzzEntryBytes(f *testing.F) {
	f.Add([]byte("M\xfcller-Akte"), []byte("ok"))
	f.Add([]byte("\x00\x1b[31m\u2028<&>\\"), []byte("\xc3"))
	f.Add([]byte("plain"), []byte("\\x41"))
	f.Fuzz(func(t *testing.T, detail, loc []byte) {
		ctx := context.Background()
		src := t.TempDir()
		l, err := Open(src)
		if err != nil {
			t.Fatal(err)
		}
		e, err := l.Append(Entry{Type: "ingestion", Outcome: "failure", Detail: string(detail), Location: string(loc), Agent: "a", EventID: "e"})
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(detail) && unclean(e.Detail) != string(detail) {
			t.Fatalf("detail %q stored as %q", detail, e.Detail)
		}
		if utf8.Valid(detail) && e.Detail != string(detail) {
			t.Fatalf("valid detail %q changed to %q", detail, e.Detail)
		}
		if _, err := l.Seal(); err != nil {
			t.Fatal(err)
		}
		l.Close()
		r := &memRemote{name: "loc", segs: map[string][]byte{}}
		r.store(t, src)
		dst := filepath.Join(t.TempDir(), "audit")
		l, _ = Open(dst)
		defer l.Close()
		if rec, _, err := l.Reconcile(ctx, []Remote{r}); err != nil || rec == nil || rec.To != 1 {
			t.Fatalf("restore: %+v %v", rec, err)
		}
		var got Entry
		if n, err := l.Verify(func(x Entry) error { got = x; return nil }); n != 1 || err != nil {
			t.Fatalf("verify after restore: %d %v", n, err)
		}
		if got.Detail != e.Detail || got.Location != e.Location {
			t.Fatalf("restored entry differs: %q vs %q", got.Detail, e.Detail)
		}
	})
}

// TestAppendsFromSeveralLogs: two handles on one log (two processes, say
// the daemon and a verify beside it) append in turn; the chain holds.
func TestAppendsFromSeveralLogs(t *testing.T) {
	dir := t.TempDir()
	a, _ := Open(dir)
	b, _ := Open(dir)
	done := make(chan error, 2)
	for _, l := range []*Log{a, b} {
		go func(l *Log) {
			for i := 0; i < 50; i++ {
				if _, err := l.Append(Entry{Type: TypeFixityCheck, Outcome: OutcomeSuccess, Agent: "a", EventID: "e"}); err != nil {
					done <- err
					return
				}
				if i == 25 && l == a {
					if _, err := l.Seal(); err != nil {
						done <- err
						return
					}
				}
			}
			done <- nil
		}(l)
	}
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n, err := b.Verify(nil); n != 100 || err != nil {
		t.Fatalf("verify: %d %v", n, err)
	}
	a.Close()
	b.Close()
}
