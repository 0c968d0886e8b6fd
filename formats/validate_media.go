package formats

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
)

// Limits of the media validators.
var (
	maxRIFFChunks = 1_000_000
	maxGIFBlocks  = 10_000_000
	maxJP2Boxes   = 100_000
	maxJ2KMarkers = 10_000_000
)

// validateWAVE checks a RIFF WAVE file: the RIFF size against the file,
// every chunk's declared size (with its pad byte) inside the RIFF body, a
// format chunk before the data chunk, and the data's length against the
// format's block alignment.
func validateWAVE(ctx context.Context, r io.ReaderAt, size int64) Validation {
	const checker = "archivd RIFF WAVE chunk structure"
	hdr := make([]byte, 12)
	if n, _ := r.ReadAt(hdr, 0); n < 12 || string(hdr[8:12]) != "WAVE" {
		return malformed(checker, "no RIFF WAVE header")
	}
	declared := int64(binary.LittleEndian.Uint32(hdr[4:8])) + 8
	var notes []string
	end := declared
	switch {
	case declared > size:
		return malformed(checker, fmt.Sprintf("RIFF header declares %d bytes, the file has %d: truncated", declared, size))
	case declared < size:
		notes = append(notes, fmt.Sprintf("%d bytes follow the RIFF chunk", size-declared))
	}
	var fmtSeen, dataSeen bool
	var blockAlign int64
	ch := make([]byte, 8)
	off := int64(12)
	for n := 0; off < end; n++ {
		if n >= maxRIFFChunks || ctx.Err() != nil {
			return Validation{Outcome: NotChecked, Checker: checker, Messages: []string{"too many chunks to check"}}
		}
		if off+8 > end {
			return malformed(checker, fmt.Sprintf("chunk header at %d runs past the end of the RIFF chunk", off))
		}
		r.ReadAt(ch, off)
		id := string(ch[:4])
		l := int64(binary.LittleEndian.Uint32(ch[4:8]))
		if off+8+l > end {
			return malformed(checker, fmt.Sprintf("chunk %q at %d declares %d bytes past the end of the RIFF chunk", id, off, l))
		}
		switch id {
		case "fmt ":
			if l < 16 {
				return malformed(checker, fmt.Sprintf("format chunk of %d bytes (at least 16)", l))
			}
			f := make([]byte, 16)
			r.ReadAt(f, off+8)
			tag := binary.LittleEndian.Uint16(f[0:2])
			channels := int64(binary.LittleEndian.Uint16(f[2:4]))
			rate := binary.LittleEndian.Uint32(f[4:8])
			blockAlign = int64(binary.LittleEndian.Uint16(f[12:14]))
			bits := int64(binary.LittleEndian.Uint16(f[14:16]))
			if channels == 0 || rate == 0 || blockAlign == 0 {
				return malformed(checker, fmt.Sprintf("format chunk declares %d channels at %d Hz, block align %d", channels, rate, blockAlign))
			}
			if tag == 1 && blockAlign != channels*((bits+7)/8) {
				return malformed(checker, fmt.Sprintf("PCM block align %d does not fit %d channels of %d bits", blockAlign, channels, bits))
			}
			fmtSeen = true
		case "data":
			if !fmtSeen {
				return malformed(checker, "data chunk before the format chunk")
			}
			if blockAlign > 0 && l%blockAlign != 0 {
				notes = append(notes, fmt.Sprintf("data length %d is not a multiple of the block align %d: the last frame is cut", l, blockAlign))
			}
			dataSeen = true
		}
		off += 8 + l + l%2
	}
	if !fmtSeen || !dataSeen {
		return malformed(checker, "no format chunk and data chunk")
	}
	return Validation{Outcome: WellFormed, Checker: checker, Messages: notes}
}

// validateGIF walks a GIF's blocks: header, logical screen and colour
// table, image descriptors with their colour tables and LZW data,
// extensions, each sub-block chain to its terminator, and the trailer.
func validateGIF(ctx context.Context, r io.ReaderAt, size int64) Validation {
	const checker = "archivd GIF block structure"
	hdr := make([]byte, 13)
	if n, _ := r.ReadAt(hdr, 0); n < 13 || (string(hdr[:6]) != "GIF87a" && string(hdr[:6]) != "GIF89a") {
		return malformed(checker, "no GIF87a/GIF89a header and logical screen descriptor")
	}
	off := int64(13)
	if hdr[10]&0x80 != 0 {
		off += 3 << (hdr[10]&7 + 1)
	}
	one := make([]byte, 1)
	byteAt := func(o int64) (byte, bool) {
		if o >= size {
			return 0, false
		}
		r.ReadAt(one, o)
		return one[0], true
	}
	// subBlocks skips a chain of data sub-blocks; it returns the offset
	// after the terminator.
	subBlocks := func(o int64) (int64, bool) {
		for {
			l, ok := byteAt(o)
			if !ok {
				return o, false
			}
			o++
			if l == 0 {
				return o, true
			}
			o += int64(l)
		}
	}
	images := 0
	for n := 0; n < maxGIFBlocks; n++ {
		if ctx.Err() != nil {
			return Validation{Outcome: NotChecked, Checker: checker}
		}
		b, ok := byteAt(off)
		if !ok {
			return malformed(checker, fmt.Sprintf("no trailer: the file ends at %d inside the block sequence", size))
		}
		switch b {
		case 0x3B:
			if images == 0 {
				return malformed(checker, "no image")
			}
			if off+1 < size {
				return Validation{Outcome: WellFormed, Checker: checker, Messages: []string{fmt.Sprintf("%d bytes follow the trailer", size-off-1)}}
			}
			return Validation{Outcome: WellFormed, Checker: checker}
		case 0x2C:
			d := make([]byte, 10)
			if k, _ := r.ReadAt(d, off); k < 10 {
				return malformed(checker, fmt.Sprintf("image descriptor at %d is cut off", off))
			}
			off += 10
			if d[9]&0x80 != 0 {
				off += 3 << (d[9]&7 + 1)
			}
			lzw, ok := byteAt(off)
			if !ok || lzw < 2 || lzw > 11 {
				return malformed(checker, fmt.Sprintf("image at %d: LZW minimum code size %d (2 to 11) or missing", off, lzw))
			}
			if off, ok = subBlocks(off + 1); !ok {
				return malformed(checker, "image data runs past the end of the file")
			}
			images++
		case 0x21:
			if _, ok := byteAt(off + 1); !ok {
				return malformed(checker, "extension label missing at the end")
			}
			if off, ok = subBlocks(off + 2); !ok {
				return malformed(checker, "extension runs past the end of the file")
			}
		default:
			return malformed(checker, fmt.Sprintf("unknown block 0x%02X at %d", b, off))
		}
	}
	return Validation{Outcome: NotChecked, Checker: checker, Messages: []string{"too many blocks to check"}}
}

// validateBMP checks a Windows bitmap's file header and DIB header against
// the file: the declared file size, the pixel data offset, the header
// size, planes, bit depth, and that uncompressed pixel rows fit.
func validateBMP(r io.ReaderAt, size int64) Validation {
	const checker = "archivd BMP headers"
	h := make([]byte, 54)
	n, _ := r.ReadAt(h, 0)
	if n < 26 || string(h[:2]) != "BM" {
		return malformed(checker, "no BM file header")
	}
	fileSize := int64(binary.LittleEndian.Uint32(h[2:6]))
	dataOff := int64(binary.LittleEndian.Uint32(h[10:14]))
	dib := int64(binary.LittleEndian.Uint32(h[14:18]))
	var notes []string
	switch dib {
	case 12, 16, 40, 52, 56, 64, 108, 124:
	default:
		return malformed(checker, fmt.Sprintf("DIB header size %d is none of the known ones", dib))
	}
	if 14+dib > size {
		return malformed(checker, "the DIB header runs past the end of the file")
	}
	if fileSize != 0 && fileSize != size {
		if fileSize > size {
			return malformed(checker, fmt.Sprintf("file header declares %d bytes, the file has %d: truncated", fileSize, size))
		}
		notes = append(notes, fmt.Sprintf("file header declares %d bytes, the file has %d", fileSize, size))
	}
	if dataOff < 14+dib || dataOff > size {
		return malformed(checker, fmt.Sprintf("pixel data offset %d outside the file (headers end at %d, file has %d bytes)", dataOff, 14+dib, size))
	}
	var width, height, planes, bpp, compression int64
	if dib == 12 {
		width, height = int64(binary.LittleEndian.Uint16(h[18:20])), int64(int16(binary.LittleEndian.Uint16(h[20:22])))
		planes, bpp = int64(binary.LittleEndian.Uint16(h[22:24])), int64(binary.LittleEndian.Uint16(h[24:26]))
	} else {
		if n < 54 {
			return malformed(checker, "the DIB header is cut off")
		}
		width, height = int64(int32(binary.LittleEndian.Uint32(h[18:22]))), int64(int32(binary.LittleEndian.Uint32(h[22:26])))
		planes, bpp = int64(binary.LittleEndian.Uint16(h[26:28])), int64(binary.LittleEndian.Uint16(h[28:30]))
		compression = int64(binary.LittleEndian.Uint32(h[30:34]))
	}
	if height < 0 {
		height = -height
	}
	switch {
	case width <= 0 || height == 0:
		return malformed(checker, fmt.Sprintf("image of %d × %d pixels", width, height))
	case planes != 1:
		return malformed(checker, fmt.Sprintf("%d colour planes (must be 1)", planes))
	}
	switch bpp {
	case 1, 4, 8, 16, 24, 32:
	case 0:
		if compression != 4 && compression != 5 { // JPEG or PNG inside
			return malformed(checker, "0 bits per pixel without JPEG or PNG compression")
		}
	default:
		return malformed(checker, fmt.Sprintf("%d bits per pixel", bpp))
	}
	if compression == 0 || compression == 3 || compression == 6 { // BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS
		row := (width*bpp + 31) / 32 * 4
		if need := row * height; dataOff+need > size {
			return malformed(checker, fmt.Sprintf("%d × %d pixels at %d bits need %d bytes of pixel data from offset %d; the file has %d bytes", width, height, bpp, need, dataOff, size))
		}
	}
	return Validation{Outcome: WellFormed, Checker: checker, Messages: notes}
}

// validateJP2 checks a JPEG 2000 file: the box structure of JP2/JPX
// (signature, file type, header with image header, a contiguous codestream
// box) and the codestream inside, or a raw codestream.
func validateJP2(ctx context.Context, r io.ReaderAt, size int64) Validation {
	const checker = "archivd JPEG 2000 boxes and codestream markers"
	head := make([]byte, 12)
	r.ReadAt(head, 0)
	if bytes.HasPrefix(head, []byte{0xFF, 0x4F, 0xFF, 0x51}) {
		return validateJ2K(ctx, r, 0, size, nil, checker)
	}
	if !bytes.Equal(head, []byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}) {
		return malformed(checker, "no JPEG 2000 signature box")
	}
	type box struct {
		typ        string
		start, end int64 // contents
	}
	// boxes lists the boxes in [from, to).
	boxes := func(from, to int64) ([]box, string) {
		var out []box
		b := make([]byte, 16)
		for off := from; off < to; {
			if len(out) >= maxJP2Boxes || ctx.Err() != nil {
				return out, "too many boxes"
			}
			if off+8 > to {
				return out, fmt.Sprintf("box header at %d runs past the end", off)
			}
			r.ReadAt(b[:8], off)
			l := int64(binary.BigEndian.Uint32(b[:4]))
			typ := string(b[4:8])
			hl := int64(8)
			switch l {
			case 0:
				l = to - off
			case 1:
				if off+16 > to {
					return out, fmt.Sprintf("box %q at %d: extended length runs past the end", typ, off)
				}
				r.ReadAt(b[8:16], off)
				l, hl = int64(binary.BigEndian.Uint64(b[8:16])), 16
			}
			if l < hl || off+l > to {
				return out, fmt.Sprintf("box %q at %d declares %d bytes; %d remain", typ, off, l, to-off)
			}
			out = append(out, box{typ, off + hl, off + l})
			off += l
		}
		return out, ""
	}
	top, problem := boxes(0, size)
	if problem != "" {
		return malformed(checker, problem)
	}
	if len(top) < 2 || top[1].typ != "ftyp" {
		return malformed(checker, "the file type box (ftyp) does not follow the signature")
	}
	var ihdr []byte
	var jp2c *box
	for i := range top {
		switch top[i].typ {
		case "jp2h":
			sub, problem := boxes(top[i].start, top[i].end)
			if problem != "" {
				return malformed(checker, "header box: "+problem)
			}
			if len(sub) == 0 || sub[0].typ != "ihdr" || sub[0].end-sub[0].start != 14 {
				return malformed(checker, "the header box does not begin with a 14-byte image header box (ihdr)")
			}
			ihdr = make([]byte, 14)
			r.ReadAt(ihdr, sub[0].start)
			hasColr := false
			for _, s := range sub {
				hasColr = hasColr || s.typ == "colr"
			}
			if !hasColr {
				return malformed(checker, "the header box has no colour specification box (colr)")
			}
		case "jp2c":
			if jp2c == nil {
				jp2c = &top[i]
			}
		}
	}
	switch {
	case ihdr == nil:
		return malformed(checker, "no header box (jp2h)")
	case jp2c == nil:
		return malformed(checker, "no contiguous codestream box (jp2c)")
	}
	return validateJ2K(ctx, r, jp2c.start, jp2c.end, ihdr, checker)
}

// validateJ2K checks a codestream in [from, to): SOC, SIZ right after it
// (matching the image header, if any), the main header's markers, every
// tile-part's length (SOT Psot) chaining to EOC at the end.
func validateJ2K(ctx context.Context, r io.ReaderAt, from, to int64, ihdr []byte, checker string) Validation {
	m := make([]byte, 4)
	if to-from < 4 {
		return malformed(checker, "codestream too short")
	}
	r.ReadAt(m, from)
	if m[0] != 0xFF || m[1] != 0x4F || m[2] != 0xFF || m[3] != 0x51 {
		return malformed(checker, "the codestream does not begin with SOC followed by SIZ")
	}
	siz := make([]byte, 40)
	if k, _ := r.ReadAt(siz, from+4); k < 40 || from+4+40 > to {
		return malformed(checker, "SIZ marker segment cut off")
	}
	lsiz := int64(binary.BigEndian.Uint16(siz[0:2]))
	xsiz, ysiz := binary.BigEndian.Uint32(siz[4:8]), binary.BigEndian.Uint32(siz[8:12])
	xo, yo := binary.BigEndian.Uint32(siz[12:16]), binary.BigEndian.Uint32(siz[16:20])
	csiz := binary.BigEndian.Uint16(siz[36:38])
	if csiz == 0 || lsiz != 38+3*int64(csiz) || xsiz <= xo || ysiz <= yo {
		return malformed(checker, fmt.Sprintf("SIZ: %d components, length %d, image %d×%d from %d,%d", csiz, lsiz, xsiz, ysiz, xo, yo))
	}
	if ihdr != nil {
		h, w := binary.BigEndian.Uint32(ihdr[0:4]), binary.BigEndian.Uint32(ihdr[4:8])
		nc := binary.BigEndian.Uint16(ihdr[8:10])
		if h != ysiz-yo || w != xsiz-xo || nc != csiz {
			return malformed(checker, fmt.Sprintf("image header says %d×%d with %d components, the codestream %d×%d with %d", w, h, nc, xsiz-xo, ysiz-yo, csiz))
		}
	}
	// Main header marker segments up to the first SOT.
	off := from + 4 + lsiz
	seg := make([]byte, 12)
	tileParts := 0
	for n := 0; ; n++ {
		if n >= maxJ2KMarkers || ctx.Err() != nil {
			return Validation{Outcome: NotChecked, Checker: checker, Messages: []string{"too many markers to check"}}
		}
		if off+2 > to {
			return malformed(checker, "no end of codestream (EOC) marker: truncated")
		}
		r.ReadAt(seg[:2], off)
		if seg[0] != 0xFF {
			return malformed(checker, fmt.Sprintf("expected a marker at %d, found 0x%02X", off-from, seg[0]))
		}
		switch seg[1] {
		case 0xD9: // EOC
			if tileParts == 0 {
				return malformed(checker, "no tile-part before EOC")
			}
			if off+2 != to {
				return Validation{Outcome: WellFormed, Checker: checker, Messages: []string{fmt.Sprintf("%d bytes follow EOC", to-off-2)}}
			}
			return Validation{Outcome: WellFormed, Checker: checker}
		case 0x90: // SOT: Lsot(2) Isot(2) Psot(4) TPsot TNsot
			if off+12 > to {
				return malformed(checker, "SOT marker segment cut off")
			}
			r.ReadAt(seg, off)
			psot := int64(binary.BigEndian.Uint32(seg[6:10]))
			if psot == 0 { // the last tile-part, to EOC
				psot = to - 2 - off
			}
			if psot < 14 || off+psot > to {
				return malformed(checker, fmt.Sprintf("tile-part at %d declares %d bytes; %d remain", off-from, psot, to-off))
			}
			tileParts++
			off += psot
		default:
			if tileParts > 0 {
				return malformed(checker, fmt.Sprintf("marker 0xFF%02X at %d where a tile-part or EOC must follow", seg[1], off-from))
			}
			if off+4 > to {
				return malformed(checker, "marker segment cut off")
			}
			r.ReadAt(seg[:4], off)
			l := int64(binary.BigEndian.Uint16(seg[2:4]))
			if l < 2 || off+2+l > to {
				return malformed(checker, fmt.Sprintf("marker 0xFF%02X at %d declares %d bytes past the end", seg[1], off-from, l))
			}
			off += 2 + l
		}
	}
}
