package formats

import "fmt"

// The built-in set: the formats a municipal archive meets most, written
// from the formats' published magic numbers (ISO 32000, TIFF 6.0, JFIF,
// ISO 15444-1, PNG, GIF, ODF/OOXML packaging, the compound file format,
// RFC 5322, RIFF, ISO 14496-12), used when no DROID signature file is
// configured. Results name their source "built-in" so nobody mistakes
// them for a full PRONOM identification.

type builtinSeq struct {
	ref      refKind
	min, max int
	pat      string
}

type builtinFormat struct {
	puid, name, version, mime string
	exts                      []string
	seqs                      [][]builtinSeq // alternatives, each a list of ANDed sequences
	over                      []string       // PUIDs this format has priority over
}

func bof(min, max int, pat string) builtinSeq { return builtinSeq{refBOF, min, max, pat} }
func eof(min, max int, pat string) builtinSeq { return builtinSeq{refEOF, min, max, pat} }

var builtinFormats = []builtinFormat{
	// PDF, by header version; PDF/A parts come from the XMP claim.
	{puid: "fmt/14", name: "Acrobat PDF 1.0 - Portable Document Format", version: "1.0", mime: "application/pdf", exts: []string{"pdf"}, seqs: pdfSeq("0")},
	{puid: "fmt/15", name: "Acrobat PDF 1.1 - Portable Document Format", version: "1.1", mime: "application/pdf", exts: []string{"pdf"}, seqs: pdfSeq("1")},
	{puid: "fmt/16", name: "Acrobat PDF 1.2 - Portable Document Format", version: "1.2", mime: "application/pdf", exts: []string{"pdf"}, seqs: pdfSeq("2")},
	{puid: "fmt/17", name: "Acrobat PDF 1.3 - Portable Document Format", version: "1.3", mime: "application/pdf", exts: []string{"pdf"}, seqs: pdfSeq("3")},
	{puid: "fmt/18", name: "Acrobat PDF 1.4 - Portable Document Format", version: "1.4", mime: "application/pdf", exts: []string{"pdf"}, seqs: pdfSeq("4")},
	{puid: "fmt/19", name: "Acrobat PDF 1.5 - Portable Document Format", version: "1.5", mime: "application/pdf", exts: []string{"pdf"}, seqs: pdfSeq("5")},
	{puid: "fmt/20", name: "Acrobat PDF 1.6 - Portable Document Format", version: "1.6", mime: "application/pdf", exts: []string{"pdf"}, seqs: pdfSeq("6")},
	{puid: "fmt/276", name: "Acrobat PDF 1.7 - Portable Document Format", version: "1.7", mime: "application/pdf", exts: []string{"pdf"}, seqs: pdfSeq("7")},
	{puid: "fmt/1129", name: "PDF 2.0 - Portable Document Format", version: "2.0", mime: "application/pdf", exts: []string{"pdf"},
		seqs: [][]builtinSeq{{bof(0, 1024, "'%PDF-2.0'"), eof(0, 1024, "'%%EOF'")}}},
	// Images.
	{puid: "fmt/353", name: "Tagged Image File Format", version: "", mime: "image/tiff", exts: []string{"tif", "tiff"},
		seqs: [][]builtinSeq{{bof(0, 0, "49492A00")}, {bof(0, 0, "4D4D002A")}}},
	{puid: "fmt/42", name: "JPEG File Interchange Format", version: "1.00", mime: "image/jpeg", exts: []string{"jpg", "jpeg"},
		seqs: [][]builtinSeq{{bof(0, 0, "FFD8FFE0 ?? ?? 'JFIF' 00 01 00"), eof(0, 0, "FFD9")}}},
	{puid: "fmt/43", name: "JPEG File Interchange Format", version: "1.01", mime: "image/jpeg", exts: []string{"jpg", "jpeg"},
		seqs: [][]builtinSeq{{bof(0, 0, "FFD8FFE0 ?? ?? 'JFIF' 00 01 01"), eof(0, 0, "FFD9")}}},
	{puid: "fmt/44", name: "JPEG File Interchange Format", version: "1.02", mime: "image/jpeg", exts: []string{"jpg", "jpeg"},
		seqs: [][]builtinSeq{{bof(0, 0, "FFD8FFE0 ?? ?? 'JFIF' 00 01 02"), eof(0, 0, "FFD9")}}},
	{puid: "fmt/645", name: "Exchangeable Image File Format (Compressed)", version: "", mime: "image/jpeg", exts: []string{"jpg", "jpeg"},
		seqs: [][]builtinSeq{{bof(0, 0, "FFD8FFE1 ?? ?? 'Exif' 0000")}}},
	{puid: "fmt/41", name: "Raw JPEG Stream", version: "", mime: "image/jpeg", exts: []string{"jpg", "jpeg"},
		seqs: [][]builtinSeq{{bof(0, 0, "FFD8FF")}}},
	{puid: "x-fmt/392", name: "JP2 (JPEG 2000 part 1)", version: "", mime: "image/jp2", exts: []string{"jp2"},
		seqs: [][]builtinSeq{{bof(0, 0, "0000000C 6A502020 0D0A870A {4} 'ftypjp2 '")}}},
	{puid: "fmt/11", name: "Portable Network Graphics", version: "1.0", mime: "image/png", exts: []string{"png"},
		seqs: [][]builtinSeq{{bof(0, 0, "89504E470D0A1A0A 0000000D 'IHDR'"), eof(0, 0, "0000000049454E44AE426082")}}},
	{puid: "fmt/3", name: "Graphics Interchange Format", version: "87a", mime: "image/gif", exts: []string{"gif"},
		seqs: [][]builtinSeq{{bof(0, 0, "'GIF87a'")}}},
	{puid: "fmt/4", name: "Graphics Interchange Format", version: "89a", mime: "image/gif", exts: []string{"gif"},
		seqs: [][]builtinSeq{{bof(0, 0, "'GIF89a'")}}},
	// Containers and office documents.
	{puid: "x-fmt/263", name: "ZIP Format", version: "", mime: "application/zip", exts: []string{"zip"},
		seqs: [][]builtinSeq{{bof(0, 0, "'PK' 0304")}, {bof(0, 0, "'PK' 0506")}}},
	{puid: "fmt/111", name: "OLE2 Compound Document Format", version: "", mime: "application/x-ole-storage",
		seqs: [][]builtinSeq{{bof(0, 0, "D0CF11E0A1B11AE1")}}},
	{puid: "fmt/355", name: "Rich Text Format", version: "", mime: "application/rtf", exts: []string{"rtf"},
		seqs: [][]builtinSeq{{bof(0, 0, "'{\\rtf1'")}}},
	{puid: "fmt/101", name: "Extensible Markup Language", version: "1.0", mime: "text/xml", exts: []string{"xml"},
		seqs: [][]builtinSeq{{bof(0, 3, "'<?xml version' [20 3D] ")}}},
	{puid: "fmt/96", name: "Hypertext Markup Language", version: "", mime: "text/html", exts: []string{"html", "htm"},
		seqs: [][]builtinSeq{{bof(0, 1024, "'<' ['h' 'H'] ['t' 'T'] ['m' 'M'] ['l' 'L'] [20 3E 0D 0A]")}, {bof(0, 1024, "'<!' ['d' 'D'] ['o' 'O'] ['c' 'C'] ['t' 'T'] ['y' 'Y'] ['p' 'P'] ['e' 'E'] 20 ['h' 'H'] ['t' 'T'] ['m' 'M'] ['l' 'L']")}},
		over: []string{"fmt/101"}},
	{puid: "fmt/950", name: "MIME Email", version: "", mime: "message/rfc822", exts: []string{"eml"},
		seqs: [][]builtinSeq{{bof(0, 0, "('From: '|'Received: '|'Return-Path: '|'MIME-Version: '|'Message-ID: '|'Date: '|'Delivered-To: ')"), bof(0, 65536, "0A ('Subject:'|'From:'|'To:'|'Date:')")}}},
	// Audio and video.
	{puid: "fmt/6", name: "Waveform Audio", version: "", mime: "audio/x-wav", exts: []string{"wav"},
		seqs: [][]builtinSeq{{bof(0, 0, "'RIFF' {4} 'WAVE'")}}},
	{puid: "fmt/134", name: "MPEG 1/2 Audio Layer 3", version: "", mime: "audio/mpeg", exts: []string{"mp3"},
		seqs: [][]builtinSeq{{bof(0, 0, "'ID3' [02:04]")}, {bof(0, 0, "FF [E2:FF]"), eof(0, 0, "[00:FF]")}}},
	{puid: "fmt/199", name: "MPEG-4 Media File", version: "", mime: "video/mp4", exts: []string{"mp4", "m4a", "m4v"},
		seqs: [][]builtinSeq{{bof(4, 4, "'ftyp' ('isom'|'mp41'|'mp42'|'M4A '|'M4V '|'avc1'|'iso2'|'dash')")}}},
	// Formats found only inside containers (see builtinContainers).
	{puid: "fmt/412", name: "Microsoft Word for Windows", version: "2007 onwards", mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", exts: []string{"docx"}},
	{puid: "fmt/214", name: "Microsoft Excel for Windows", version: "2007 onwards", mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", exts: []string{"xlsx"}},
	{puid: "fmt/215", name: "Microsoft Powerpoint for Windows", version: "2007 onwards", mime: "application/vnd.openxmlformats-officedocument.presentationml.presentation", exts: []string{"pptx"}},
	{puid: "fmt/40", name: "Microsoft Word Document", version: "97-2003", mime: "application/msword", exts: []string{"doc"}},
	{puid: "fmt/61", name: "Microsoft Excel 97 Workbook (xls)", version: "8", mime: "application/vnd.ms-excel", exts: []string{"xls"}},
	{puid: "fmt/126", name: "Microsoft Powerpoint Presentation", version: "97-2003", mime: "application/vnd.ms-powerpoint", exts: []string{"ppt"}},
	{puid: "x-fmt/430", name: "Microsoft Outlook Email Message", version: "", mime: "application/vnd.ms-outlook", exts: []string{"msg"}},
	{puid: "fmt/494", name: "Microsoft Office Encrypted Document", version: "", mime: "application/encrypted", exts: []string{"docx", "xlsx", "pptx"}},
	{puid: "fmt/136", name: "OpenDocument Text", version: "1.0", mime: "application/vnd.oasis.opendocument.text", exts: []string{"odt"}},
	{puid: "fmt/290", name: "OpenDocument Text", version: "1.1", mime: "application/vnd.oasis.opendocument.text", exts: []string{"odt"}},
	{puid: "fmt/137", name: "OpenDocument Spreadsheet", version: "1.0", mime: "application/vnd.oasis.opendocument.spreadsheet", exts: []string{"ods"}},
	{puid: "fmt/294", name: "OpenDocument Spreadsheet", version: "1.1", mime: "application/vnd.oasis.opendocument.spreadsheet", exts: []string{"ods"}},
	{puid: "fmt/291", name: "OpenDocument Text", version: "1.2", mime: "application/vnd.oasis.opendocument.text", exts: []string{"odt"}},
	{puid: "fmt/1756", name: "OpenDocument Text", version: "1.3", mime: "application/vnd.oasis.opendocument.text", exts: []string{"odt"}},
	{puid: "fmt/295", name: "OpenDocument Spreadsheet", version: "1.2", mime: "application/vnd.oasis.opendocument.spreadsheet", exts: []string{"ods"}},
	{puid: "fmt/1755", name: "OpenDocument Spreadsheet", version: "1.3", mime: "application/vnd.oasis.opendocument.spreadsheet", exts: []string{"ods"}},
	{puid: "fmt/293", name: "OpenDocument Presentation", version: "1.2", mime: "application/vnd.oasis.opendocument.presentation", exts: []string{"odp"}},
	{puid: "fmt/1754", name: "OpenDocument Presentation", version: "1.3", mime: "application/vnd.oasis.opendocument.presentation", exts: []string{"odp"}},
	{puid: "fmt/297", name: "OpenDocument Graphics", version: "1.2", mime: "application/vnd.oasis.opendocument.graphics", exts: []string{"odg"}},
	{puid: "fmt/1753", name: "OpenDocument Graphics", version: "1.3", mime: "application/vnd.oasis.opendocument.graphics", exts: []string{"odg"}},
	// PDF/A parts: identified from the XMP claim (see PDFAClaim).
	{puid: "fmt/95", name: "PDF/A-1a", version: "1a", mime: "application/pdf", exts: []string{"pdf"}},
	{puid: "fmt/354", name: "PDF/A-1b", version: "1b", mime: "application/pdf", exts: []string{"pdf"}},
	{puid: "fmt/476", name: "PDF/A-2a", version: "2a", mime: "application/pdf", exts: []string{"pdf"}},
	{puid: "fmt/477", name: "PDF/A-2b", version: "2b", mime: "application/pdf", exts: []string{"pdf"}},
	{puid: "fmt/478", name: "PDF/A-2u", version: "2u", mime: "application/pdf", exts: []string{"pdf"}},
	{puid: "fmt/479", name: "PDF/A-3a", version: "3a", mime: "application/pdf", exts: []string{"pdf"}},
	{puid: "fmt/480", name: "PDF/A-3b", version: "3b", mime: "application/pdf", exts: []string{"pdf"}},
	{puid: "fmt/481", name: "PDF/A-3u", version: "3u", mime: "application/pdf", exts: []string{"pdf"}},
	{puid: "fmt/1910", name: "PDF/A-4", version: "4", mime: "application/pdf", exts: []string{"pdf"}},
	{puid: "fmt/1911", name: "PDF/A-4e", version: "4e", mime: "application/pdf", exts: []string{"pdf"}},
	{puid: "fmt/1912", name: "PDF/A-4f", version: "4f", mime: "application/pdf", exts: []string{"pdf"}},
	// Text: found by content (text), CSV by extension (no magic number exists).
	{puid: "x-fmt/111", name: "Plain Text File", version: "", mime: "text/plain", exts: []string{"txt"}},
	{puid: "x-fmt/18", name: "Comma Separated Values", version: "", mime: "text/csv", exts: []string{"csv"}},
}

// pdfClaimPUID maps an XMP PDF/A claim to its PRONOM PUID.
var pdfClaimPUID = map[string]string{
	"PDF/A-1a": "fmt/95", "PDF/A-1b": "fmt/354", "PDF/A-2a": "fmt/476", "PDF/A-2b": "fmt/477", "PDF/A-2u": "fmt/478",
	"PDF/A-3a": "fmt/479", "PDF/A-3b": "fmt/480", "PDF/A-3u": "fmt/481", "PDF/A-4": "fmt/1910", "PDF/A-4e": "fmt/1911", "PDF/A-4f": "fmt/1912",
}

func pdfSeq(minor string) [][]builtinSeq {
	return [][]builtinSeq{{bof(0, 1024, "'%PDF-1."+minor+"'"), eof(0, 1024, "'%%EOF'")}}
}

type builtinContainer struct {
	typ   string
	puid  string
	files map[string]string // entry path -> pattern at BOF 0..4096 of the entry ("" = must exist)
}

var builtinContainers = []builtinContainer{
	{"ZIP", "fmt/412", map[string]string{"[Content_Types].xml": "'wordprocessingml.document.main+xml'"}},
	{"ZIP", "fmt/214", map[string]string{"[Content_Types].xml": "'spreadsheetml.sheet.main+xml'"}},
	{"ZIP", "fmt/215", map[string]string{"[Content_Types].xml": "'presentationml.presentation.main+xml'"}},
	{"ZIP", "fmt/136", map[string]string{"mimetype": "'application/vnd.oasis.opendocument.text'", "content.xml": "'office:version=' [22 27] '1.0'"}},
	{"ZIP", "fmt/290", map[string]string{"mimetype": "'application/vnd.oasis.opendocument.text'", "content.xml": "'office:version=' [22 27] '1.1'"}},
	{"ZIP", "fmt/137", map[string]string{"mimetype": "'application/vnd.oasis.opendocument.spreadsheet'", "content.xml": "'office:version=' [22 27] '1.0'"}},
	{"ZIP", "fmt/294", map[string]string{"mimetype": "'application/vnd.oasis.opendocument.spreadsheet'", "content.xml": "'office:version=' [22 27] '1.1'"}},
	{"ZIP", "fmt/291", map[string]string{"mimetype": "'application/vnd.oasis.opendocument.text'", "content.xml": "'office:version=' [22 27] '1.2'"}},
	{"ZIP", "fmt/1756", map[string]string{"mimetype": "'application/vnd.oasis.opendocument.text'", "content.xml": "'office:version=' [22 27] '1.3'"}},
	{"ZIP", "fmt/295", map[string]string{"mimetype": "'application/vnd.oasis.opendocument.spreadsheet'", "content.xml": "'office:version=' [22 27] '1.2'"}},
	{"ZIP", "fmt/1755", map[string]string{"mimetype": "'application/vnd.oasis.opendocument.spreadsheet'", "content.xml": "'office:version=' [22 27] '1.3'"}},
	{"ZIP", "fmt/293", map[string]string{"mimetype": "'application/vnd.oasis.opendocument.presentation'", "content.xml": "'office:version=' [22 27] '1.2'"}},
	{"ZIP", "fmt/1754", map[string]string{"mimetype": "'application/vnd.oasis.opendocument.presentation'", "content.xml": "'office:version=' [22 27] '1.3'"}},
	{"ZIP", "fmt/297", map[string]string{"mimetype": "'application/vnd.oasis.opendocument.graphics'", "content.xml": "'office:version=' [22 27] '1.2'"}},
	{"ZIP", "fmt/1753", map[string]string{"mimetype": "'application/vnd.oasis.opendocument.graphics'", "content.xml": "'office:version=' [22 27] '1.3'"}},
	{"OLE2", "fmt/40", map[string]string{"WordDocument": ""}},
	{"OLE2", "fmt/61", map[string]string{"Workbook": ""}},
	{"OLE2", "fmt/126", map[string]string{"PowerPoint Document": ""}},
	{"OLE2", "x-fmt/430", map[string]string{"__properties_version1.0": ""}},
	{"OLE2", "fmt/494", map[string]string{"EncryptedPackage": ""}},
}

// Builtin returns an identifier over the built-in set.
func Builtin() *Identifier {
	ss := &signatureSet{version: "archivd built-in 1", sigs: map[int]*signature{}, formats: map[int]*Format{},
		byPUID: map[string]*Format{}, bySig: map[int][]int{}, byExt: map[string][]int{}}
	sigID := 1
	for i, bf := range builtinFormats {
		f := &Format{ID: i + 1, PUID: bf.puid, Name: bf.name, Version: bf.version, MIME: bf.mime, Extensions: bf.exts}
		for _, alt := range bf.seqs {
			sig := &signature{id: sigID, bounded: true}
			for _, s := range alt {
				p, err := parsePattern(s.pat)
				if err != nil {
					panic(fmt.Sprintf("built-in %s: %v", bf.puid, err))
				}
				bs := byteSeq{ref: s.ref, subs: []subseq{{pat: p, min: s.min, max: s.max, maxLen: p.maxLen()}}, must: longestLit(p)}
				sig.seqs = append(sig.seqs, bs)
				sig.bounded = sig.bounded && bs.bounded()
				if bs.bounded() {
					if bs.ref == refBOF {
						ss.bofWin = max(ss.bofWin, bs.window())
					} else {
						ss.eofWin = max(ss.eofWin, bs.window())
					}
				}
			}
			sig.prepare()
			ss.sigs[sigID] = sig
			ss.order = append(ss.order, sigID)
			ss.list = append(ss.list, sig)
			ss.bySig[sigID] = append(ss.bySig[sigID], f.ID)
			f.sigs = append(f.sigs, sigID)
			sigID++
		}
		ss.formats[f.ID] = f
		ss.byPUID[f.PUID] = f
		for _, e := range bf.exts {
			ss.byExt[e] = append(ss.byExt[e], f.ID)
		}
	}
	// Generic formats yield to specific ones.
	for _, bf := range builtinFormats {
		f := ss.byPUID[bf.puid]
		for _, o := range bf.over {
			f.over = append(f.over, ss.byPUID[o].ID)
		}
	}
	ss.byPUID["fmt/645"].over = append(ss.byPUID["fmt/645"].over, ss.byPUID["fmt/41"].ID)
	for _, p := range []string{"fmt/42", "fmt/43", "fmt/44"} {
		ss.byPUID[p].over = append(ss.byPUID[p].over, ss.byPUID["fmt/41"].ID)
	}
	cs := &containerSet{version: "archivd built-in 1", trigger: map[string]string{"x-fmt/263": "ZIP", "fmt/111": "OLE2"}}
	for i, bc := range builtinContainers {
		c := &containerSig{id: i + 1, typ: bc.typ, puids: []string{bc.puid}}
		for path, pat := range bc.files {
			cf := containerFile{path: path}
			if pat != "" {
				p, err := parsePattern(pat)
				if err != nil {
					panic(fmt.Sprintf("built-in container %s: %v", bc.puid, err))
				}
				cf.sigs = []*signature{{seqs: []byteSeq{{ref: refBOF, subs: []subseq{{pat: p, min: 0, max: 4096, maxLen: p.maxLen()}}}}}}
			}
			c.files = append(c.files, cf)
		}
		cs.sigs = append(cs.sigs, c)
	}
	id := &Identifier{sigs: ss, cont: cs, Source: "built-in", Version: ss.version, ContVer: cs.version, builtin: true}
	id.init()
	return id
}
