package formats

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParsePattern: any pattern text either fails to parse or compiles to
// a pattern that matches within its step budget.
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"255044462D312E34", "'Word.Document.' ['6'-'7'] 00", "(22|27) '1.3' {2-*} [!&01]", "[30:37]{0-4}*'x'", "?? [00 C2 'A'-'Z']", "((", "[!", "{9-1}"} {
		f.Add(s, []byte("%PDF-1.4 Word.Document.6\x00 '1.3'"))
	}
	f.Fuzz(func(t *testing.T, pat string, data []byte) {
		p, err := parsePattern(pat)
		if err != nil {
			return
		}
		b := &budget{}
		for start := 0; start <= len(data) && start < 64; start++ {
			p.match(data, start, b, func(end int) bool {
				if end < start || end > len(data) {
					t.Fatalf("match of %q at %d ended at %d (len %d)", pat, start, end, len(data))
				}
				return false
			})
		}
		if b.steps > stepLimit+1000 {
			t.Fatalf("budget overrun: %d steps", b.steps)
		}
	})
}

// FuzzSignatureFile: the DROID signature file parser reports malformed
// input as an error, never a panic.
func FuzzSignatureFile(f *testing.F) {
	f.Add([]byte(`<FFSignatureFile Version="1"><InternalSignatureCollection><InternalSignature ID="1"><ByteSequence Reference="BOFoffset"><SubSequence Position="1" SubSeqMinOffset="0" SubSeqMaxOffset="0"><Sequence>25504446</Sequence><RightFragment Position="1" MinOffset="0" MaxOffset="2">2D</RightFragment></SubSequence></ByteSequence></InternalSignature></InternalSignatureCollection><FileFormatCollection><FileFormat ID="1" PUID="x/1" Name="X"><InternalSignatureID>1</InternalSignatureID><Extension>x</Extension><HasPriorityOverFileFormatID>1</HasPriorityOverFileFormatID></FileFormat></FileFormatCollection></FFSignatureFile>`))
	f.Add([]byte(`<FFSignatureFile><FileFormatCollection><FileFormat ID="2" PUID="y"/></FileFormatCollection></FFSignatureFile>`))
	f.Fuzz(func(t *testing.T, xml []byte) {
		ss, err := parseSignatureFile(bytes.NewReader(xml))
		if err != nil {
			return
		}
		id := &Identifier{sigs: ss}
		id.init()
		res, err := id.Identify(bytes.NewReader(xml), int64(len(xml)), "x.x")
		if err == nil && res.PUID == "" {
			t.Fatal("empty PUID")
		}
	})
}

// FuzzIdentify: the built-in matcher and container code on arbitrary bytes.
func FuzzIdentify(f *testing.F) {
	id := Builtin()
	for _, s := range []string{"%PDF-1.7\n%%EOF", "PK\x03\x04garbage", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "\x89PNG\r\n\x1a\n", "II*\x00\x08\x00\x00\x00", "<?xml version=\"1.0\"?><a/>"} {
		f.Add([]byte(s), "f.bin")
	}
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		res, err := id.Identify(bytes.NewReader(data), int64(len(data)), name)
		if err != nil {
			return
		}
		if res.PUID == "" || res.Basis == "" {
			t.Fatalf("incomplete result %+v", res)
		}
	})
}

// FuzzValidate: every validator ends with an outcome on arbitrary bytes
// behind each family's magic number, within its limits.
func FuzzValidate(f *testing.F) {
	pdf := "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Length 3 >>\nstream\nabc\nendstream\nendobj\n"
	xref := len(pdf)
	pdf += "xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n" + strconv.Itoa(xref) + "\n%%EOF\n"
	for _, s := range []string{pdf, "RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00",
		"GIF89a\x01\x00\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", "BM\x3e\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00",
		"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjp2 ", "\xff\x4f\xff\x51\x00\x29",
		"From: a@example.org\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\n\r\nhi\r\n--X--\r\n",
		"%PDF-1.4\nstartxref\n5\n%%EOF", "II*\x00\x08\x00\x00\x00\x01\x00", "\xff\xd8\xff\xe0\x00\x10JFIF", "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "PK\x05\x06" + strings.Repeat("\x00", 18), "<?xml version=\"1.0\"?><a>", "text \xff"} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		res := Result{}
		switch kind % 5 {
		case 1:
			res.MIME = "text/xml"
		case 2:
			res.PUID = plainTextPUID
		case 3:
			res.PUID = "fmt/950"
		case 4:
			res.MIME = "image/bmp"
		}
		start := time.Now()
		v := Validate(context.Background(), bytes.NewReader(data), int64(len(data)), res)
		if v.Outcome != WellFormed && v.Outcome != Malformed && v.Outcome != NotChecked {
			t.Fatalf("outcome %q", v.Outcome)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("validation of %d bytes took %v", len(data), time.Since(start))
		}
	})
}
