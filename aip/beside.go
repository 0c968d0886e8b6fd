package aip

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Beside each package, in the same OCFL version, archivd stores what a
// catalog rebuild, a quick check or a one-document read needs without a
// pass over the package (docs/aip-format.md §6). Format 2 stores it
// zstd-compressed, so the `zstd` tool alone reads it; format 1 stored it
// plain and also kept copies of the tag files, METS and PREMIS there.
const (
	ExtIndex   = ".index.tsv"    // the member index
	ExtFormats = ".formats.json" // the format identification report
	ExtZstd    = ".zst"
)

// IndexFile is the member index of version v beside its package.
func (id ID) IndexFile(v int) string { return id.PackageRoot(v) + ExtIndex + ExtZstd }

// FormatsFile is the identification report of version v beside its package.
func (id ID) FormatsFile(v int) string { return id.PackageRoot(v) + ExtFormats + ExtZstd }

// BagInfoFile is the copy of version v's bag-info.txt beside its package,
// at the path it has inside the package.
func (id ID) BagInfoFile(v int) string { return id.PackageRoot(v) + "/" + TagBagInfo }

// BesideNames returns the names a file stored beside version v's package
// may have, newest format first: compressed (format 2), then plain
// (format 1). ext is ExtIndex or ExtFormats.
func (id ID) BesideNames(v int, ext string) []string {
	plain := id.PackageRoot(v) + ext
	return []string{plain + ExtZstd, plain}
}

// MaxBeside bounds what is read of a file stored beside a package, after
// decompression: 1 GiB holds the index of several million files.
const MaxBeside = 1 << 30

// Compress returns data as one zstd frame with a content checksum, as the
// zstd tool writes it.
func Compress(data []byte) []byte {
	// A window no larger than the data: the encoder's history buffer is
	// twice the window, 16 MiB at the default for an index of a few KiB.
	window := zstd.MinWindowSize
	for window < len(data) && window < 8<<20 {
		window <<= 1
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithWindowSize(window),
		zstd.WithEncoderCRC(true), zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true))
	if err != nil {
		panic(err) // only for invalid options
	}
	defer enc.Close()
	return enc.EncodeAll(data, make([]byte, 0, len(data)/4+64))
}

// ReadBeside returns the content of a file stored beside a package, read
// from r, decompressing it when its name ends in .zst. At most MaxBeside
// bytes are accepted.
func ReadBeside(name string, r io.Reader) ([]byte, error) {
	if !strings.HasSuffix(name, ExtZstd) {
		b, err := io.ReadAll(io.LimitReader(r, MaxBeside+1))
		if err == nil && len(b) > MaxBeside {
			err = fmt.Errorf("%s: larger than %d bytes", name, MaxBeside)
		}
		return b, err
	}
	dec, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxBeside))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	var b bytes.Buffer
	n, err := io.Copy(&b, io.LimitReader(dec, MaxBeside+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if n > MaxBeside {
		return nil, fmt.Errorf("%s: larger than %d bytes when decompressed", name, MaxBeside)
	}
	return b.Bytes(), nil
}
