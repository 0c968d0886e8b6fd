package digest

import (
	"crypto/rand"
	"testing"
)

func TestAsyncEqualsOf(t *testing.T) {
	b := make([]byte, 3*asyncBufSize+12345)
	rand.Read(b)
	a := NewAsync()
	for p := b; len(p) > 0; {
		n := min(len(p), 1+len(p)%70000) // writes of odd sizes, across buffers
		a.Write(p[:n])
		p = p[n:]
	}
	if a.Sum() != Of(b) || a.Size() != int64(len(b)) || a.Sum() != Of(b) {
		t.Fatal("Async's digests differ from Of's")
	}
	empty := NewAsync()
	empty.Close()
	if empty.Sum() != Of(nil) {
		t.Fatal("the empty stream's digests differ")
	}
}
