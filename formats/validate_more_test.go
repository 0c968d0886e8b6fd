package formats

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func le16(v int) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(v)) }
func le32(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
func be16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func be32(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// wave builds a PCM WAVE file; fix may change its pieces before they are joined.
func wave(fix func(fmtChunk, data []byte) ([]byte, []byte, int)) []byte {
	fmtc := cat([]byte("fmt "), le32(16), le16(1), le16(2), le32(8000), le32(32000), le16(4), le16(16))
	data := cat([]byte("data"), le32(8), make([]byte, 8))
	extra := 0
	if fix != nil {
		fmtc, data, extra = fix(fmtc, data)
	}
	body := cat([]byte("WAVE"), fmtc, data)
	return cat([]byte("RIFF"), le32(len(body)+extra), body)
}

func gifImage(t *testing.T) []byte {
	img := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bmp builds a 2×2 24-bit bitmap.
func bmp(size, offset, bpp, pixels int) []byte {
	dib := cat(le32(40), le32(2), le32(2), le16(1), le16(bpp), le32(0), le32(0), le32(2835), le32(2835), le32(0), le32(0))
	return cat([]byte("BM"), le32(size), le32(0), le32(offset), dib, make([]byte, pixels))
}

func box(typ string, content []byte) []byte { return cat(be32(8+len(content)), []byte(typ), content) }

// jp2 builds a JP2 file of w×h, one component, whose image header says
// hw×hh; tail is what follows the tile-part (EOC, normally).
func jp2(w, h, hw, hh int, colr bool, psot int, tail []byte) []byte {
	siz := cat([]byte{0xFF, 0x51}, be16(41), be16(0), be32(w), be32(h), be32(0), be32(0), be32(w), be32(h), be32(0), be32(0), be16(1), []byte{7, 1, 1})
	tile := cat([]byte{0xFF, 0x93}, make([]byte, 6))
	sot := cat([]byte{0xFF, 0x90}, be16(10), be16(0), be32(psot), []byte{0, 1})
	cs := cat([]byte{0xFF, 0x4F}, siz, sot, tile, tail)
	ihdr := box("ihdr", cat(be32(hh), be32(hw), be16(1), []byte{7, 7, 0, 0}))
	hdr := ihdr
	if colr {
		hdr = cat(hdr, box("colr", []byte{1, 0, 0, 0, 0, 0, 0x10}))
	}
	return cat([]byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}, box("ftyp", []byte("jp2 \x00\x00\x00\x00jp2 ")), box("jp2h", hdr), box("jp2c", cs))
}

func zipOf(t *testing.T, entries ...[3]string) []byte { // name, content, "store" or ""
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		m := zip.Deflate
		if e[2] == "store" {
			m = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: m})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e[1]))
	}
	zw.Close()
	return b.Bytes()
}

const (
	ctXML   = `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`
	relsXML = `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`
	docXML  = `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>`
	mfXML   = `<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>`
	odtXML  = `<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>`
)

func eml(body string) []byte {
	return []byte("From: a@example.org\r\nDate: Tue, 1 Dec 2026 10:00:00 +0100\r\nSubject: Test\r\nMIME-Version: 1.0\r\n" + body)
}

const multipartOK = "Content-Type: multipart/mixed; boundary=XYZ\r\n\r\n--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHallo\r\n--XYZ\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XYZ--\r\n"

// TestValidatorsRules: each rule of the WAVE, GIF, BMP, JPEG 2000, Office
// Open XML, ODF and e-mail validators, on a valid file of our own making
// and on a twin broken on purpose.
func TestValidatorsRules(t *testing.T) {
	g := gifImage(t)
	cases := []struct {
		name, family string
		data         []byte
		want         string // outcome
		msg          string // in the messages
	}{
		{"wave ok", "wave", wave(nil), WellFormed, ""},
		{"wave truncated", "wave", wave(func(f, d []byte) ([]byte, []byte, int) { return f, d, 100 }), Malformed, "truncated"},
		{"wave data before fmt", "wave", wave(func(f, d []byte) ([]byte, []byte, int) { return d, f, 0 }), Malformed, "before the format chunk"},
		{"wave block align", "wave", wave(func(f, d []byte) ([]byte, []byte, int) { f[20] = 3; return f, d, 0 }), Malformed, "block align"},
		{"wave chunk past end", "wave", wave(func(f, d []byte) ([]byte, []byte, int) { copy(d[4:8], le32(4000)); return f, d, 0 }), Malformed, "past the end"},
		{"gif ok", "gif", g, WellFormed, ""},
		{"gif no trailer", "gif", g[:len(g)-1], Malformed, "no trailer"},
		{"gif cut in image data", "gif", g[:len(g)-6], Malformed, "past the end"},
		{"gif unknown block", "gif", cat(g[:len(g)-1], []byte{0x99, 0x3B}), Malformed, "unknown block"},
		{"bmp ok", "bmp", bmp(70, 54, 24, 16), WellFormed, ""},
		{"bmp declared size", "bmp", bmp(900, 54, 24, 16), Malformed, "truncated"},
		{"bmp pixel offset", "bmp", bmp(70, 500, 24, 16), Malformed, "pixel data offset"},
		{"bmp bit depth", "bmp", bmp(70, 54, 7, 16), Malformed, "bits per pixel"},
		{"bmp pixels cut", "bmp", bmp(62, 54, 24, 8), Malformed, "need 16 bytes"},
		{"jp2 ok", "jp2", jp2(4, 3, 4, 3, true, 20, []byte{0xFF, 0xD9}), WellFormed, ""},
		{"jp2 header and codestream disagree", "jp2", jp2(4, 3, 5, 3, true, 20, []byte{0xFF, 0xD9}), Malformed, "image header says"},
		{"jp2 no colour box", "jp2", jp2(4, 3, 4, 3, false, 20, []byte{0xFF, 0xD9}), Malformed, "colr"},
		{"jp2 no EOC", "jp2", jp2(4, 3, 4, 3, true, 20, nil), Malformed, "EOC"},
		{"jp2 junk after a tile-part", "jp2", jp2(4, 3, 4, 3, true, 20, []byte{0xFF, 0x52, 0, 2, 0xFF, 0xD9}), Malformed, "where a tile-part or EOC"},
		{"jp2 tile-part past end", "jp2", jp2(4, 3, 4, 3, true, 400, []byte{0xFF, 0xD9}), Malformed, "tile-part"},
		{"ooxml ok", "zip", zipOf(t, [3]string{"[Content_Types].xml", ctXML}, [3]string{"_rels/.rels", relsXML}, [3]string{"word/document.xml", docXML}), WellFormed, ""},
		{"ooxml no main part", "zip", zipOf(t, [3]string{"[Content_Types].xml", ctXML}, [3]string{"_rels/.rels", relsXML}), Malformed, "main document part"},
		{"ooxml no content types", "zip", zipOf(t, [3]string{"_rels/.rels", relsXML}, [3]string{"word/document.xml", docXML}), Malformed, "[Content_Types].xml"},
		{"ooxml broken part", "zip", zipOf(t, [3]string{"[Content_Types].xml", ctXML}, [3]string{"_rels/.rels", relsXML}, [3]string{"word/document.xml", "<w:document><w:body></w:document>"}), Malformed, "not well-formed"},
		{"odf ok", "zip", zipOf(t, [3]string{"mimetype", "application/vnd.oasis.opendocument.text", "store"}, [3]string{"META-INF/manifest.xml", mfXML}, [3]string{"content.xml", odtXML}), WellFormed, ""},
		{"odf mimetype compressed", "zip", zipOf(t, [3]string{"mimetype", "application/vnd.oasis.opendocument.text"}, [3]string{"META-INF/manifest.xml", mfXML}), Malformed, "compressed"},
		{"odf no manifest", "zip", zipOf(t, [3]string{"mimetype", "application/vnd.oasis.opendocument.text", "store"}, [3]string{"content.xml", odtXML}), Malformed, "manifest"},
		{"odf broken content", "zip", zipOf(t, [3]string{"mimetype", "application/vnd.oasis.opendocument.text", "store"}, [3]string{"META-INF/manifest.xml", mfXML}, [3]string{"content.xml", "<office:document-content>"}), Malformed, "content.xml"},
		{"eml ok", "eml", eml(multipartOK), WellFormed, ""},
		{"eml unknown encoding", "eml", eml(strings.Replace(multipartOK, "base64", "base9000", 1)), Malformed, "Content-Transfer-Encoding"},
		{"eml base64 garbage", "eml", eml(strings.Replace(multipartOK, "JVBERi0xLjQK", "JVB*Ri0x!!QK", 1)), Malformed, "does not decode"},
		{"eml not closed", "eml", eml(strings.Replace(multipartOK, "--XYZ--\r\n", "", 1)), Malformed, "closing boundary"},
		{"eml unknown charset", "eml", eml(strings.Replace(multipartOK, "utf-8", "fakescii", 1)), Malformed, "charset"},
		{"eml no header", "eml", []byte(" no header at all\r\n\r\nbody"), Malformed, "header field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := Result{}
			switch c.family {
			case "eml":
				res.PUID = "fmt/950"
			case "bmp":
				res.MIME = "image/bmp"
			}
			head := c.data[:min(16, len(c.data))]
			if f := family(res, head); f != c.family {
				t.Fatalf("family %q, want %q", f, c.family)
			}
			v := Validate(context.Background(), bytes.NewReader(c.data), int64(len(c.data)), res)
			if v.Outcome != c.want || !strings.Contains(strings.Join(v.Messages, " | "), c.msg) {
				t.Errorf("%s: %s %v, want %s with %q", c.name, v.Outcome, v.Messages, c.want, c.msg)
			}
		})
	}
}

// TestMSGRules: a real Outlook message is well-formed; cut short, it is not.
func TestMSGRules(t *testing.T) {
	p := filepath.Join(dataDir, "corpus", "email", "msg-outlook-message-parser", "simple email with TO and CC_single.msg")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	res := Result{PUID: "x-fmt/430"}
	if v := Validate(context.Background(), bytes.NewReader(b), int64(len(b)), res); v.Outcome != WellFormed {
		t.Fatalf("a real message: %s %v", v.Outcome, v.Messages)
	}
	cut := b[:len(b)/3]
	if v := Validate(context.Background(), bytes.NewReader(cut), int64(len(cut)), res); v.Outcome != Malformed {
		t.Errorf("a message cut to a third: %s %v", v.Outcome, v.Messages)
	}
}
