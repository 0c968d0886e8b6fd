package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/ocfl"
)

// demo runs the main job on the embedded default configuration: it writes
// a small sample case file, ingests it, verifies the AIP and exports it.
func (c *cli) demo(ctx context.Context, args []string) int {
	var dir string
	if _, ok := c.flags("demo", args, func(fs *flag.FlagSet) {
		fs.StringVar(&dir, "dir", "archivd-demo", "folder for the demo's case file, data and export")
	}); !ok {
		return exitUsage
	}
	dir, _ = filepath.Abs(dir)
	cfg := config.Default(filepath.Join(dir, "data"))
	cfg.Archive.Organization = "Kreis Musterland, Kreisarchiv (demo)"
	cfg.Archive.Contact = "mailto:archiv@kreis-musterland.example"
	caseDir := filepath.Join(dir, "inbox", fmt.Sprintf("case-%s", time.Now().UTC().Format("20060102T150405")))
	if err := writeSampleCase(caseDir); err != nil {
		fmt.Fprintf(c.errw, "archivd demo: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(c.out, "1. sample case file written: %s\n", caseDir)
	listTree(c, caseDir)

	var id aip.ID
	fmt.Fprintf(c.out, "\n2. archivd ingest (storage %s, catalog %s)\n", cfg.Locations[0].Path, filepath.Join(cfg.DataDir, "catalog.db"))
	if code := c.ingestWith(ctx, cfg, caseDir, &id); code != exitOK {
		return code
	}
	if db, err := catalog.Open(ctx, filepath.Join(cfg.DataDir, "catalog.db")); err == nil {
		if ids, err := db.Identifications(ctx, id.String(), 1); err == nil {
			fmt.Fprintf(c.out, "   formats (built-in signature set; configure a DROID signature file for full PRONOM):\n")
			for _, i := range ids {
				fmt.Fprintf(c.out, "     %-10s %-8s %-12s %s\n", i.PUID, i.Decision, i.Validity, strings.TrimPrefix(i.Path, aip.RepresentationDir))
			}
		}
		db.Close()
	}
	obj := filepath.Join(cfg.Locations[0].Path, filepath.FromSlash(ocflPath(id)))
	fmt.Fprintf(c.out, "   AIP stored as OCFL object %s\n", obj)
	listTree(c, obj)

	fmt.Fprintf(c.out, "\n3. archivd verify %s\n", id)
	if code := c.verifyWith(ctx, cfg, id); code != exitOK {
		return code
	}
	out := filepath.Join(dir, "export", id.Name())
	fmt.Fprintf(c.out, "\n4. archivd export %s %s\n", id, out)
	if code := c.exportWith(ctx, cfg, id, 0, out); code != exitOK {
		return code
	}
	same, err := sameTree(caseDir, out)
	if err != nil || !same {
		fmt.Fprintf(c.errw, "archivd demo: exported files differ from the case file: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(c.out, "   exported files are byte-identical to the case file, names and modification times restored\n")
	fmt.Fprintf(c.out, "\nDone. Try: go run ./cmd/archivd ocfl validate %s\n", cfg.Locations[0].Path)
	fmt.Fprintf(c.out, "An auditor can check the package without archivd: see docs/verify-without-archivd.md\n")
	return exitOK
}

func writeSampleCase(dir string) error {
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
	for name, data := range map[string][]byte{"01 Antrag/Lageplan.png": samplePNG(), "03 Bescheid/Bescheid.pdf": samplePDF()} {
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

// samplePNG draws a small plan.
func samplePNG() []byte {
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

// samplePDF writes a one-page PDF 1.7 with a correct cross-reference table.
func samplePDF() []byte {
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

func listTree(c *cli, root string) {
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
			fmt.Fprintf(c.out, "   %s%s/\n", strings.Repeat("  ", depth), d.Name())
		} else {
			fmt.Fprintf(c.out, "   %s%s (%d bytes)\n", strings.Repeat("  ", depth), d.Name(), info.Size())
		}
		return nil
	})
}

// sameTree compares two folders: names, contents and modification times.
func sameTree(a, b string) (bool, error) {
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

func ocflPath(id aip.ID) string { return ocfl.ObjectPath(id.String()) }
