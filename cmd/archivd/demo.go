package main

import (
	"bytes"
	"context"
	"errors"
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
	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/daemon"
	"github.com/archivd/archivd/ocfl"
)

// demoConfig is the embedded default with one inbox, written to a file so
// that the other commands can be tried on the demo's data afterwards.
const demoConfig = `# archivd demo: the embedded default (local storage, SQLite) and one inbox.
data_dir: data
archive:
  organization: "Kreis Musterland, Kreisarchiv (demo)"
  contact: "mailto:archiv@kreis-musterland.example"
inboxes:
  - name: bauamt
    path: inbox/bauamt
    ready: marker          # a DMS export writes <case>.ready when the case is complete
    after: remove
daemon:
  poll_interval: 200ms
  min_free_mib: 64
`

// demo runs the main job on the embedded default: archivd run collects
// case files from an inbox, as a DMS export delivers them, and archives
// them; then one AIP is verified and exported again, byte-identical.
func (c *cli) demo(ctx context.Context, args []string) int {
	var dir string
	var keep bool
	if _, ok := c.flags("demo", args, func(fs *flag.FlagSet) {
		fs.StringVar(&dir, "dir", "archivd-demo", "folder for the demo's configuration, inbox, data and export")
		fs.BoolVar(&keep, "keep-running", false, "keep the service running afterwards, to drop more case files in")
	}); !ok {
		return exitUsage
	}
	dir, _ = filepath.Abs(dir)
	cfgPath := filepath.Join(dir, "archivd.yaml")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(c.errw, "archivd demo: %v\n", err)
		return exitFailure
	}
	if err := os.WriteFile(cfgPath, []byte(demoConfig), 0o644); err != nil {
		fmt.Fprintf(c.errw, "archivd demo: %v\n", err)
		return exitFailure
	}
	cfg, code := c.loadConfig(cfgPath)
	if code != exitOK {
		return code
	}
	inbox := cfg.Inboxes[0].Path
	stamp := time.Now().UTC().Format("20060102T150405")
	samples := filepath.Join(dir, "samples", stamp)
	cases := []string{"Bauantrag-" + stamp, "Nachtrag-" + stamp, "Programm-" + stamp}
	for i, name := range cases {
		if err := writeSampleCase(filepath.Join(samples, name)); err != nil {
			fmt.Fprintf(c.errw, "archivd demo: %v\n", err)
			return exitFailure
		}
		if i == 1 {
			os.WriteFile(filepath.Join(samples, name, "Nachtrag.txt"), []byte("Nachtrag zur Baugenehmigung\n"), 0o644)
		}
		if i == 2 { // a program has no place in a case file: the policy refuses it
			os.WriteFile(filepath.Join(samples, name, "setup.exe"), append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 120)...), 0o644)
		}
	}
	fmt.Fprintf(c.out, "1. configuration written: %s\n   sample case files: %s\n", cfgPath, samples)
	listTree(c, filepath.Join(samples, cases[0]))

	fmt.Fprintf(c.out, "\n2. archivd run --config %s  (storage %s, catalog %s)\n", cfgPath, cfg.Locations[0].Path, filepath.Join(cfg.DataDir, "catalog.db"))
	a, err := archive.Open(ctx, cfg, archive.Options{Mode: archive.Writer, Log: c.log, Version: version, Purpose: "run"})
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		return exitCode(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	d := daemon.New(a, c.log)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	stopDaemon := func() error {
		stop()
		err := <-done
		return errors.Join(err, a.Close(context.WithoutCancel(ctx)))
	}

	fmt.Fprintf(c.out, "\n3. a DMS export delivers %d case files into %s (each copied under a hidden name, renamed in, then marked <case>.ready)\n", len(cases), inbox)
	for _, name := range cases {
		tmp := filepath.Join(inbox, "."+name)
		if err := copyTree(filepath.Join(samples, name), tmp); err == nil {
			err = os.Rename(tmp, filepath.Join(inbox, name))
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(inbox, name+daemon.MarkerSuffix), nil, 0o644)
		}
		if err != nil {
			stopDaemon()
			fmt.Fprintf(c.errw, "archivd demo: deliver %s: %v\n", name, err)
			return exitFailure
		}
	}
	ids := map[string]aip.ID{}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		for _, name := range cases[:2] {
			if got, _ := a.Catalog().CommittedIngests(ctx, "inbox bauamt/"+name); len(got) == 1 {
				ids[name], _ = aip.ParseID(got[0])
			}
		}
		q, _ := daemon.FindQuarantined(cfg, "bauamt/"+cases[2])
		if len(ids) == 2 && q != nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stopDaemon()
			fmt.Fprintln(c.errw, "archivd demo: the case files were not archived in time; see the log above")
			return exitFailure
		}
	}
	id := ids[cases[0]]
	fmt.Fprintf(c.out, "   %s archived as %s\n   %s archived as %s\n", cases[0], id, cases[1], ids[cases[1]])
	if idents, err := a.Catalog().Identifications(ctx, id.String(), 1); err == nil {
		fmt.Fprintf(c.out, "   formats of %s (built-in signature set; configure a DROID signature file for full PRONOM):\n", cases[0])
		for _, i := range idents {
			fmt.Fprintf(c.out, "     %-10s %-8s %-12s %s\n", i.PUID, i.Decision, i.Validity, strings.TrimPrefix(i.Path, aip.RepresentationDir))
		}
	}
	q, _ := daemon.FindQuarantined(cfg, "bauamt/"+cases[2])
	fmt.Fprintf(c.out, "   %s refused and quarantined in %s; its REASON.txt says:\n", cases[2], q.Dir)
	if b, err := os.ReadFile(filepath.Join(q.Dir, "REASON.txt")); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			fmt.Fprintf(c.out, "     | %s\n", l)
		}
	}
	obj := filepath.Join(cfg.Locations[0].Path, filepath.FromSlash(ocflPath(id)))
	fmt.Fprintf(c.out, "   the inbox is empty again; the AIP is stored as OCFL object %s\n", obj)
	listTree(c, obj)

	if keep {
		fmt.Fprintf(c.out, "\narchivd run keeps running. Drop case folders into %s and mark each with <case>.ready;\n"+
			"watch with: go run ./cmd/archivd status --config %s\nStop with Ctrl-C.\n", inbox, cfgPath)
		<-ctx.Done()
	}
	if err := stopDaemon(); err != nil {
		fmt.Fprintf(c.errw, "archivd demo: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(c.out, "   archivd run stopped cleanly")
	if keep {
		return exitOK
	}

	fmt.Fprintf(c.out, "\n4. archivd verify %s\n", id)
	if code := c.verifyWith(ctx, cfg, id); code != exitOK {
		return code
	}
	out := filepath.Join(dir, "export", id.Name())
	fmt.Fprintf(c.out, "\n5. archivd export %s %s\n", id, out)
	if code := c.exportWith(ctx, cfg, id, 0, out); code != exitOK {
		return code
	}
	same, err := sameTree(filepath.Join(samples, cases[0]), out)
	if err != nil || !same {
		fmt.Fprintf(c.errw, "archivd demo: exported files differ from the case file: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(c.out, "   exported files are byte-identical to the case file, names and modification times restored\n")
	fmt.Fprintf(c.out, "\nDone. Try on the demo's data:\n  go run ./cmd/archivd status --config %s\n  go run ./cmd/archivd quarantine list --config %s\n  go run ./cmd/archivd audit verify --config %s\n  go run ./cmd/archivd ocfl validate %s\n",
		cfgPath, cfgPath, cfgPath, cfg.Locations[0].Path)
	fmt.Fprintf(c.out, "An auditor can check the package without archivd: see docs/verify-without-archivd.md\n")
	return exitOK
}

// copyTree copies a case folder with its modification times, as an export
// from a DMS would.
func copyTree(from, to string) error {
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
