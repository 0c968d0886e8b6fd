package aip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The seekable zstd format (zstd contrib/seekable_format): independent zstd
// frames followed by a skippable frame holding the seek table. Any zstd
// decoder reads the whole stream and ignores the table; a reader that wants
// one member fetches the table from the end and decodes only its frames.
const (
	skippableMagic = 0x184D2A5E
	seekableMagic  = 0x8F92EAB1
	// DefaultFrameSize is the uncompressed size of one independent frame:
	// a bit flip damages at most this much, and a range read fetches at
	// least one frame.
	DefaultFrameSize = 8 << 20
)

// Frame is one entry of the seek table.
type Frame struct {
	CompressedOffset   int64
	CompressedSize     uint32
	DecompressedOffset int64
	DecompressedSize   uint32
}

// seekableWriter compresses what is written to it into independent frames
// of frameSize uncompressed bytes and appends the seek table on Close.
// Compression of a full frame runs on a second goroutine while the next
// frame fills, so reading and hashing overlap with compressing; frames are
// written in order, so the output is the same as a serial writer's.
type seekableWriter struct {
	w          io.Writer
	enc        *zstd.Encoder
	probe      *zstd.Encoder // fastest level: do a frame's samples compress?
	scratch    []byte
	dec        *zstd.Decoder // decodes each compressed frame again
	decoded    []byte
	buf        []byte
	frameSize  int
	frames     []Frame
	cOff, dOff int64
	filled     int64 // uncompressed bytes handed to the worker

	work    chan []byte // full frames to compress
	free    chan []byte // buffers to reuse
	done    chan struct{}
	err     error // first write error, set by the worker
	errMu   sync.Mutex
	stopped bool
}

// newSeekableWriter: level maps to klauspost's speed levels: 1 fastest,
// 2 default (about zstd -3), 3 better (about zstd -7), 4 best (about zstd -11).
func newSeekableWriter(w io.Writer, level, frameSize int) (*seekableWriter, error) {
	if frameSize <= 0 {
		frameSize = DefaultFrameSize
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.EncoderLevel(level)),
		zstd.WithEncoderCRC(true),
		zstd.WithEncoderConcurrency(1),
		zstd.WithZeroFrames(true))
	if err != nil {
		return nil, fmt.Errorf("zstd encoder: %w", err)
	}
	probe, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
	if err != nil {
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	s := &seekableWriter{w: w, enc: enc, probe: probe, dec: dec, scratch: make([]byte, 0, 2*sampleSize), frameSize: frameSize, work: make(chan []byte, 1),
		free: make(chan []byte, 2), done: make(chan struct{})}
	s.buf = make([]byte, 0, frameSize)
	s.free <- make([]byte, 0, frameSize)
	go s.worker()
	return s, nil
}

func (s *seekableWriter) worker() {
	defer close(s.done)
	var out []byte
	for frame := range s.work {
		if s.failed() == nil {
			var err error
			size := 0
			if compressible(s.probe, frame, s.scratch) {
				if cap(out) < len(frame)+len(frame)>>7+1024 {
					out = make([]byte, 0, len(frame)+len(frame)>>7+1024) // zstd's worst case: no growing while encoding
				}
				out = s.enc.EncodeAll(frame, out[:0])
				if err = s.check(out, frame); err == nil {
					size, err = s.w.Write(out)
				}
			} else {
				size, err = writeRawFrame(s.w, frame)
			}
			if err != nil {
				s.errMu.Lock()
				s.err = err
				s.errMu.Unlock()
			} else {
				s.frames = append(s.frames, Frame{s.cOff, uint32(size), s.dOff, uint32(len(frame))})
				s.cOff += int64(size)
				s.dOff += int64(len(frame))
			}
		}
		s.free <- frame[:0]
	}
}

// check decodes a compressed frame and compares it with its input: the
// package is proven to hold exactly the bytes that were hashed, frame by
// frame, on the compressing goroutine, without reading it back.
func (s *seekableWriter) check(compressed, frame []byte) error {
	var err error
	s.decoded, err = s.dec.DecodeAll(compressed, s.decoded[:0])
	if err != nil {
		return fmt.Errorf("zstd frame %d does not decode: %w", len(s.frames), err)
	}
	if !bytes.Equal(s.decoded, frame) {
		return fmt.Errorf("zstd frame %d does not decode to the bytes it was made from", len(s.frames))
	}
	return nil
}

func (s *seekableWriter) failed() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

func (s *seekableWriter) Write(p []byte) (int, error) {
	if err := s.failed(); err != nil {
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), s.frameSize-len(s.buf))
		s.buf = append(s.buf, p[:k]...)
		p = p[k:]
		n += k
		if len(s.buf) == s.frameSize {
			s.flush()
		}
	}
	return n, nil
}

// Offset is the number of uncompressed bytes written so far.
func (s *seekableWriter) Offset() int64 { return s.filled + int64(len(s.buf)) }

func (s *seekableWriter) flush() {
	if len(s.buf) == 0 {
		return
	}
	s.filled += int64(len(s.buf))
	s.work <- s.buf
	s.buf = <-s.free
}

// stop ends the worker; safe to call more than once.
func (s *seekableWriter) stop() {
	if !s.stopped {
		s.stopped = true
		close(s.work)
		<-s.done
	}
}

// Close writes the last frame and the seek table. It does not close w.
func (s *seekableWriter) Close() error {
	s.flush()
	s.stop()
	s.enc.Close()
	s.probe.Close()
	s.dec.Close()
	if err := s.failed(); err != nil {
		return err
	}
	return writeSeekTable(s.w, s.frames)
}

func writeSeekTable(w io.Writer, frames []Frame) error {
	size := len(frames)*8 + 9
	b := make([]byte, 0, 8+size)
	b = binary.LittleEndian.AppendUint32(b, skippableMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	for _, f := range frames {
		b = binary.LittleEndian.AppendUint32(b, f.CompressedSize)
		b = binary.LittleEndian.AppendUint32(b, f.DecompressedSize)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(frames)))
	b = append(b, 0) // descriptor: no per-frame checksums (each frame carries its own XXH64)
	b = binary.LittleEndian.AppendUint32(b, seekableMagic)
	_, err := w.Write(b)
	return err
}

// ReadSeekTable reads the seek table at the end of a seekable zstd package
// of the given size.
func ReadSeekTable(r io.ReaderAt, size int64) ([]Frame, error) {
	if size < 17 {
		return nil, errors.New("seek table: package too small")
	}
	foot := make([]byte, 9)
	if _, err := r.ReadAt(foot, size-9); err != nil {
		return nil, fmt.Errorf("seek table: %w", err)
	}
	if binary.LittleEndian.Uint32(foot[5:]) != seekableMagic {
		return nil, errors.New("seek table: no seekable zstd footer")
	}
	if foot[4]&0x7c != 0 {
		return nil, errors.New("seek table: reserved descriptor bits set")
	}
	n := int64(binary.LittleEndian.Uint32(foot[:4]))
	entry := int64(8)
	if foot[4]&0x80 != 0 {
		entry = 12
	}
	tableSize := n*entry + 9
	if tableSize+8 > size {
		return nil, errors.New("seek table: larger than the package")
	}
	b := make([]byte, tableSize+8)
	if _, err := r.ReadAt(b, size-int64(len(b))); err != nil {
		return nil, fmt.Errorf("seek table: %w", err)
	}
	if binary.LittleEndian.Uint32(b) != skippableMagic || int64(binary.LittleEndian.Uint32(b[4:])) != tableSize {
		return nil, errors.New("seek table: bad skippable frame header")
	}
	frames := make([]Frame, n)
	var c, d int64
	for i := range frames {
		e := b[8+int64(i)*entry:]
		frames[i] = Frame{c, binary.LittleEndian.Uint32(e), d, binary.LittleEndian.Uint32(e[4:])}
		c += int64(frames[i].CompressedSize)
		d += int64(frames[i].DecompressedSize)
	}
	if c+int64(len(b)) != size {
		return nil, errors.New("seek table: frame sizes do not add up to the package size")
	}
	return frames, nil
}

// FrameAt returns the index of the frame holding uncompressed offset off.
func FrameAt(frames []Frame, off int64) int {
	lo, hi := 0, len(frames)
	for lo < hi {
		m := (lo + hi) / 2
		if frames[m].DecompressedOffset+int64(frames[m].DecompressedSize) <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// NewDecoder returns a streaming decoder with bounded memory for packages.
func NewDecoder(r io.Reader) (*zstd.Decoder, error) {
	return zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(64<<20))
}
