// Package digest provides the typed message digests archivd records for every
// byte it keeps: SHA-512 (primary, as in BagIt and OCFL) and SHA-256 (second,
// as in xdomea 4 and what auditors have at hand).
package digest

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// SHA512 is a SHA-512 digest. Its text form is lower-case hex.
type SHA512 [sha512.Size]byte

// SHA256 is a SHA-256 digest. Its text form is lower-case hex.
type SHA256 [sha256.Size]byte

func (d SHA512) String() string { return hex.EncodeToString(d[:]) }
func (d SHA256) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d was never set.
func (d SHA512) IsZero() bool { return d == SHA512{} }

// IsZero reports whether d was never set.
func (d SHA256) IsZero() bool { return d == SHA256{} }

// ParseSHA512 reads a hex SHA-512 digest in either case.
func ParseSHA512(s string) (SHA512, error) {
	var d SHA512
	return d, parseHex(d[:], s, "sha512")
}

// ParseSHA256 reads a hex SHA-256 digest in either case.
func ParseSHA256(s string) (SHA256, error) {
	var d SHA256
	return d, parseHex(d[:], s, "sha256")
}

func parseHex(dst []byte, s, alg string) error {
	if len(s) != 2*len(dst) {
		return fmt.Errorf("%s digest %q: want %d hex digits, have %d", alg, s, 2*len(dst), len(s))
	}
	if _, err := hex.Decode(dst, []byte(strings.ToLower(s))); err != nil {
		return fmt.Errorf("%s digest %q: %w", alg, s, err)
	}
	return nil
}

// Pair holds both digests of one stream of bytes.
type Pair struct {
	SHA512 SHA512
	SHA256 SHA256
}

// Hasher computes both digests and the length of everything written to it.
type Hasher struct {
	s512, s256 hash.Hash
	n          int64
}

// NewHasher returns a Hasher ready for writing.
func NewHasher() *Hasher {
	return &Hasher{s512: sha512.New(), s256: sha256.New()}
}

// parallelMin is the write size from which the two digests are computed
// on two cores at once.
const parallelMin = 16 << 10

// Write never fails.
func (h *Hasher) Write(p []byte) (int, error) {
	if len(p) >= parallelMin {
		done := make(chan struct{})
		go func() {
			h.s256.Write(p)
			close(done)
		}()
		h.s512.Write(p)
		<-done
	} else {
		h.s512.Write(p)
		h.s256.Write(p)
	}
	h.n += int64(len(p))
	return len(p), nil
}

// Size is the number of bytes written so far.
func (h *Hasher) Size() int64 { return h.n }

// Sum returns the digests of everything written so far.
func (h *Hasher) Sum() Pair {
	var p Pair
	h.s512.Sum(p.SHA512[:0])
	h.s256.Sum(p.SHA256[:0])
	return p
}

// Of returns the digests of b.
func Of(b []byte) Pair {
	return Pair{SHA512: sha512.Sum512(b), SHA256: sha256.Sum256(b)}
}

// Async hashes what is written to it on its own goroutine, so that the
// writer (a reader feeding a decompressor, say) goes on at once: on two
// cores the package's digests and its members' digests are computed side
// by side. Writes are copied into a few fixed buffers; memory stays at
// asyncBuffers × asyncBufSize whatever the stream's length.
type Async struct {
	h    *Hasher
	full chan []byte
	free chan []byte
	cur  []byte
	done chan struct{}
	n    int64
	sum  *Pair
}

const (
	asyncBuffers = 4
	asyncBufSize = 512 << 10
)

// NewAsync starts an Async hasher; call Sum (or Close) to stop it.
func NewAsync() *Async {
	a := &Async{h: NewHasher(), full: make(chan []byte, asyncBuffers), free: make(chan []byte, asyncBuffers), done: make(chan struct{})}
	for range asyncBuffers {
		a.free <- make([]byte, 0, asyncBufSize)
	}
	go func() {
		defer close(a.done)
		for b := range a.full {
			a.h.Write(b)
			a.free <- b[:0]
		}
	}()
	return a
}

// Write never fails.
func (a *Async) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if a.cur == nil {
			a.cur = <-a.free
		}
		c := copy(a.cur[len(a.cur):cap(a.cur)], p)
		a.cur, p = a.cur[:len(a.cur)+c], p[c:]
		if len(a.cur) == cap(a.cur) {
			a.full <- a.cur
			a.cur = nil
		}
	}
	a.n += int64(n)
	return n, nil
}

// Size is the number of bytes written so far.
func (a *Async) Size() int64 { return a.n }

// Sum waits for the hashing to finish and returns the digests; nothing may
// be written after it.
func (a *Async) Sum() Pair {
	if a.sum == nil {
		if a.cur != nil && len(a.cur) > 0 {
			a.full <- a.cur
			a.cur = nil
		}
		close(a.full)
		<-a.done
		s := a.h.Sum()
		a.sum = &s
	}
	return *a.sum
}

// Close stops the hashing goroutine (Sum does too); safe to call twice.
func (a *Async) Close() { a.Sum() }
