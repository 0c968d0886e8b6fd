package formats

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var (
	// qpdf's lines that report nothing: progress and document facts.
	qpdfInfo = regexp.MustCompile(`^(checking |PDF Version|R = |P = |User password|extract for|print low|print high|modify |File is not|File is linearized|No syntax or stream encoding errors|qpdf: operation succeeded|qpdf: errors detected|Supplemental|Supplied password|[a-z]+ encryption method|[A-Za-z ]+: (allowed|not allowed))`)
	// What this validator leaves alone by design: linearization hint
	// tables (the issue excludes them), the syntax of page content
	// streams (drawing operators, not file structure), and passwords.
	qpdfOutOfScope = regexp.MustCompile(`(?i)hint table|lineariz|shared identifier|shared object|first page|page length mismatch|object count mismatch for page|content stream|\(content, offset|invalid password`)
)

// qpdfDamage says what qpdf --check reports as damage of path's structure,
// or nil.
func qpdfDamage(path string) []string {
	out, err := exec.Command("qpdf", "--check", path).CombinedOutput()
	if err == nil {
		return nil
	}
	var damage []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || qpdfInfo.MatchString(line) || qpdfOutOfScope.MatchString(line) {
			continue
		}
		damage = append(damage, line)
	}
	return damage
}

// TestNativePDFAtLeastAsStrictAsQPDF runs qpdf --check (Debian package
// qpdf) beside the native PDF validator over every PDF of the corpus:
// wherever qpdf reports damage to the file's structure, the native
// validator must call the file malformed too.
func TestNativePDFAtLeastAsStrictAsQPDF(t *testing.T) {
	if _, err := exec.LookPath("qpdf"); err != nil {
		t.Fatalf("qpdf is needed (Debian package qpdf; scripts/test.sh installs it): %v", err)
	}
	var pdfs []string
	filepath.WalkDir(filepath.Join(dataDir, "corpus"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.EqualFold(filepath.Ext(p), ".pdf") {
			pdfs = append(pdfs, p)
		}
		return nil
	})
	if len(pdfs) < 1000 {
		t.Fatalf("corpus: %d PDF files", len(pdfs))
	}
	type miss struct {
		path   string
		damage []string
	}
	var mu sync.Mutex
	var misses []miss
	damaged, caught := 0, 0
	work := make(chan string)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				dmg := qpdfDamage(p)
				if dmg == nil {
					continue
				}
				f, err := os.Open(p)
				if err != nil {
					t.Error(err)
					continue
				}
				st, _ := f.Stat()
				v := Validate(context.Background(), f, st.Size(), Result{MIME: "application/pdf"})
				f.Close()
				mu.Lock()
				damaged++
				if v.Outcome == Malformed {
					caught++
				} else {
					misses = append(misses, miss{p, dmg})
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range pdfs {
		work <- p
	}
	close(work)
	wg.Wait()
	t.Logf("%d PDFs: qpdf reports structural damage in %d, the native validator calls %d of them malformed", len(pdfs), damaged, caught)
	if damaged < 50 {
		t.Errorf("qpdf found damage in only %d files: is the classification of its output still right?", damaged)
	}
	for i, m := range misses {
		if i == 10 {
			t.Errorf("... and %d more", len(misses)-10)
			break
		}
		t.Errorf("qpdf reports damage the native validator does not: %s: %s", strings.TrimPrefix(m.path, dataDir), strings.Join(m.damage, " | "))
	}
}
