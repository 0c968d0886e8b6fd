package formats

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
)

type sha256Reader struct {
	r io.Reader
	h hash.Hash
}

func newSHA256Reader(r io.Reader) *sha256Reader { return &sha256Reader{r: r, h: sha256.New()} }

func (s *sha256Reader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	return n, err
}

func (s *sha256Reader) sum() string {
	io.Copy(io.Discard, s) // hash the whole file even if the parser stopped early
	return hex.EncodeToString(s.h.Sum(nil))
}
