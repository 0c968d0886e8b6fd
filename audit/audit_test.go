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
