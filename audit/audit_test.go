package audit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
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
	if !errors.As(err, &be) || be.Seq != 3 {
		t.Fatalf("tampered entry 2: want the break found at seq 3 (whose prev no longer matches), got %v", err)
	}
	// Remove entry 1 instead.
	lines := bytes.SplitAfter(b, []byte("\n"))
	os.WriteFile(seg, bytes.Join(lines[1:], nil), 0o640)
	_, err = l.Verify(nil)
	if !errors.As(err, &be) || be.Line != 1 {
		t.Fatalf("removed entry: want break at line 1, got %v", err)
	}
}

func TestRestore(t *testing.T) {
	src := t.TempDir()
	l, _ := Open(src)
	for i := 0; i < 3; i++ {
		l.Append(Entry{Type: "ingestion", Outcome: "success", Agent: "a", EventID: "e"})
		l.Seal()
	}
	l.Close()
	segs := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join(src, "segment-*.jsonl"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		segs[filepath.Base(f)] = b
	}
	dst := filepath.Join(t.TempDir(), "audit")
	if n, err := Restore(dst, segs); err != nil || n != 3 {
		t.Fatalf("Restore = %d, %v", n, err)
	}
	l, _ = Open(dst)
	if e, _ := l.Append(Entry{Type: "fixity check", Outcome: "success", Agent: "a", EventID: "f"}); e.Seq != 4 {
		t.Errorf("restored log continues at %d, want 4", e.Seq)
	}
	l.Close()
	// A gap in what storage holds is refused.
	delete(segs, filepath.Base(files[1]))
	if _, err := Restore(filepath.Join(t.TempDir(), "a"), segs); err == nil {
		t.Error("restore of a broken chain succeeded")
	}
}
