package demo

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CopyTree copies a case folder with its modification times, as an export
// from a DMS would.
func CopyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		} else {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				return err
			}
		}
		return os.Chtimes(dst, info.ModTime(), info.ModTime())
	})
}

// WriteSampleCase writes a small municipal case file (a building permit)
// with a case.yaml, text, PNG, SVG and PDF files, an empty file and an
// empty folder, all with a fixed modification time.
func WriteSampleCase(dir string) error {
	mt := time.Date(2024, 6, 14, 10, 30, 0, 0, time.UTC)
	files := map[string]string{
		"case.yaml": `title: Bauantrag Neubau Einfamilienhaus, Musterweg 1
reference: 63-01/2024-017
agency: Bauordnungsamt
record_class: "63.01"
opened: 2024-02-01
closed: 2024-06-14
extra:
  Gemarkung: Musterdorf
`,
		"01 Antrag/Bauantrag.txt":                   "Antrag auf Baugenehmigung\nBauherr: Erika Mustermann\n",
		"01 Antrag/Lageplan.svg":                    `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>` + "\n",
		"02 Prüfung/Stellungnahme Statik.txt":       "Statik geprüft, keine Einwände.\n",
		"03 Bescheid/Baugenehmigung 2024-06-14.txt": "Die Baugenehmigung wird erteilt.\n",
		"03 Bescheid/Zustellnachweis.txt":           "",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			return err
		}
	}
	for name, data := range map[string][]byte{"01 Antrag/Lageplan.png": SamplePNG(), "03 Bescheid/Bescheid.pdf": SamplePDF()} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			return err
		}
	}
	return os.MkdirAll(filepath.Join(dir, "04 Anlagen (leer)"), 0o755)
}

// SamplePNG draws a small plan.
func SamplePNG() []byte {
	img := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := 4; i < 28; i++ {
		img.SetGray(i, 4, color.Gray{Y: 255})
		img.SetGray(i, 27, color.Gray{Y: 255})
		img.SetGray(4, i, color.Gray{Y: 255})
		img.SetGray(27, i, color.Gray{Y: 255})
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// SamplePDF writes a one-page PDF 1.7 with a correct cross-reference table.
func SamplePDF() []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"<< /Length 58 >>\nstream\nBT /F1 14 Tf 72 770 Td (Baugenehmigung 63-01/2024-017) Tj ET\nendstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// ListTree prints a folder's tree with file sizes.
func ListTree(w io.Writer, root string) {
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		depth := strings.Count(rel, string(filepath.Separator))
		if depth > 3 {
			return nil
		}
		info, _ := d.Info()
		if d.IsDir() {
			fmt.Fprintf(w, "   %s%s/\n", strings.Repeat("  ", depth), d.Name())
		} else {
			fmt.Fprintf(w, "   %s%s (%d bytes)\n", strings.Repeat("  ", depth), d.Name(), info.Size())
		}
		return nil
	})
}

// SameTree compares two folders: names, contents and modification times.
func SameTree(a, b string) (bool, error) {
	list := func(root string) (map[string]string, error) {
		m := map[string]string{}
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() {
				m[rel] = "dir"
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			info, _ := d.Info()
			m[rel] = string(b) + "|" + info.ModTime().UTC().String()
			return nil
		})
		return m, err
	}
	ma, err := list(a)
	if err != nil {
		return false, err
	}
	mb, err := list(b)
	if err != nil {
		return false, err
	}
	if len(ma) != len(mb) {
		return false, fmt.Errorf("%d entries vs %d", len(ma), len(mb))
	}
	for k, v := range ma {
		if mb[k] != v {
			return false, fmt.Errorf("%s differs", k)
		}
	}
	return true, nil
}
