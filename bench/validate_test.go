package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/formats"
)

// BenchmarkValidatePDF: archivd's PDF structure check (formats.Validate,
// in this process, one file after another on one core) against
// `qpdf --check` (Debian package qpdf, the validator it is tested against)
// over every 10th PDF of the corpus, in the same run. qpdf checks one file
// per process, so `qpdf --version` is run as often and reported beside it:
// its start-up is not checking work. No target: the figures say what a
// validator costs beside packaging (docs/performance.md).
//
//	go test ./bench -run '^$' -bench ValidatePDF -benchtime 3x
func BenchmarkValidatePDF(b *testing.B) {
	if _, err := exec.LookPath("qpdf"); err != nil {
		b.Fatalf("the baseline needs qpdf (Debian package qpdf): %v", err)
	}
	all, _ := corpusFiles(b)
	var pdfs []string
	var data [][]byte
	for _, f := range all {
		if strings.EqualFold(filepath.Ext(f), ".pdf") {
			pdfs = append(pdfs, f)
		}
	}
	var sample []string
	for i := 0; i < len(pdfs); i += 10 {
		sample = append(sample, pdfs[i])
		d, err := os.ReadFile(pdfs[i])
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d)
	}
	var own, qpdf, start time.Duration
	malformed, damaged := 0, 0
	for i := 0; i < b.N; i++ {
		malformed, damaged = 0, 0
		t := time.Now()
		for _, d := range data {
			v := formats.Validate(context.Background(), bytes.NewReader(d), int64(len(d)), formats.Result{MIME: "application/pdf"})
			if v.Outcome == "malformed" {
				malformed++
			}
		}
		own += time.Since(t)
		t = time.Now()
		for _, f := range sample {
			if exec.Command("qpdf", "--check", f).Run() != nil {
				damaged++
			}
		}
		qpdf += time.Since(t)
		t = time.Now()
		for range sample {
			if err := exec.Command("qpdf", "--version").Run(); err != nil {
				b.Fatal(err)
			}
		}
		start += time.Since(t)
	}
	n := float64(b.N)
	b.ReportMetric(own.Seconds()/n, "archivd_s")
	b.ReportMetric(qpdf.Seconds()/n, "qpdf_s")
	b.ReportMetric(start.Seconds()/n, "qpdf_startup_s")
	fmt.Printf("validate %d PDFs: archivd %.3fs (%d malformed), qpdf --check %.2fs (%d not clean: errors or warnings; %.2fs of it are %d process starts): archivd %.0f× qpdf's checking work\n",
		len(sample), own.Seconds()/n, malformed, qpdf.Seconds()/n, damaged, start.Seconds()/n, len(sample), (qpdf-start).Seconds()/own.Seconds())
}
