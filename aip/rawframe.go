package aip

import (
	"encoding/binary"
	"io"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
)

// Payload that is compressed already (JPEG, PDF streams, ZIP-based office
// files, video, encrypted data) gains nothing from zstd, and trying costs
// more than everything else the packager does: on random data the
// encoder runs at about 170 MB/s against 1 GB/s for SHA-512. A frame whose
// samples do not compress is written as raw zstd blocks instead: a valid
// zstd frame, with its content checksum, that any decoder reads.
const (
	sampleCount       = 16        // samples spread over the frame
	sampleSize        = 8 << 10   // bytes per sample
	rawBlockMax       = 128 << 10 // largest zstd block
	incompressiblePct = 97        // a sample saving less than 3 % does not compress
)

// compressible reports whether zstd pays on frame: true as soon as one of
// the samples, compressed alone with the fastest encoder, shrinks by 3 %
// or more. probe is an encoder at zstd.SpeedFastest.
func compressible(probe *zstd.Encoder, frame, scratch []byte) bool {
	if len(frame) < sampleCount*sampleSize*2 {
		return true // small frames: compressing costs little
	}
	step := (len(frame) - sampleSize) / (sampleCount - 1)
	for i := 0; i < sampleCount; i++ {
		s := frame[i*step : i*step+sampleSize]
		scratch = probe.EncodeAll(s, scratch[:0])
		if len(scratch)*100 < len(s)*incompressiblePct {
			return true
		}
	}
	return false
}

// writeRawFrame writes data as one zstd frame of raw blocks (RFC 8878
// §3.1.1): single segment, 4-byte content size, the low 32 bits of the
// content's XXH64 as checksum. The data is written where it lies, not
// copied into a frame buffer first; it returns the frame's size.
func writeRawFrame(w io.Writer, data []byte) (int, error) {
	head := binary.LittleEndian.AppendUint32(make([]byte, 0, 12), 0xFD2FB528)
	head = append(head, 0b10_1_0_0_1_00) // FCS 4 bytes, single segment, checksum, no dictionary
	head = binary.LittleEndian.AppendUint32(head, uint32(len(data)))
	sum := xxhash.Sum64(data)
	written := 0
	write := func(b []byte) error {
		n, err := w.Write(b)
		written += n
		return err
	}
	for first := true; first || len(data) > 0; first = false {
		n := min(len(data), rawBlockMax)
		h := uint32(n) << 3 // block type 0 (raw) in bits 1-2
		if n == len(data) {
			h |= 1 // last block
		}
		head = append(head, byte(h), byte(h>>8), byte(h>>16))
		if err := write(head); err != nil {
			return written, err
		}
		if err := write(data[:n]); err != nil {
			return written, err
		}
		head, data = head[:0], data[n:]
	}
	err := write(binary.LittleEndian.AppendUint32(head, uint32(sum)))
	return written, err
}
