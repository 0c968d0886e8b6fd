package bench

import (
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/formats"
)

const allCorpora = "../../shared/data/corpus"

func corpusFiles(b *testing.B) ([]string, int64) {
	var files []string
	var size int64
	filepath.WalkDir(allCorpora, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && filepath.Ext(p) != ".csv" {
			files = append(files, p)
			info, _ := d.Info()
			size += info.Size()
		}
		return nil
	})
	if len(files) == 0 {
		b.Fatal("no corpus files")
	}
	return files, size
}

// BenchmarkIdentify identifies every corpus file with the DROID V122 and
// container signature files (PUID, containers, PDF/A claim), and beside it
// runs `file --mime-type` (libmagic) over the same files in the same run.
// It reports per-file time and how many bytes identification read
// compared with the corpus size.
func BenchmarkIdentify(b *testing.B) {
	files, size := corpusFiles(b)
	b.Run("load-signature-files", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := formats.LoadDROID("../../shared/data/pronom/DROID_SignatureFile_V122.xml", "../../shared/data/pronom/container-signature-20260119.xml"); err != nil {
				b.Fatal(err)
			}
		}
	})
	id, err := formats.LoadDROID("../../shared/data/pronom/DROID_SignatureFile_V122.xml", "../../shared/data/pronom/container-signature-20260119.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("archivd-puid", func(b *testing.B) {
		var read int64
		for i := 0; i < b.N; i++ {
			read = 0
			for _, f := range files {
				r, err := id.IdentifyFile(f)
				if err != nil {
					b.Fatal(err)
				}
				read += r.BytesRead
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(files)), "µs/file")
		b.ReportMetric(float64(read)/float64(size)*100, "%bytes-read")
	})
	b.Run("baseline-file-mime-type", func(b *testing.B) {
		if _, err := exec.LookPath("file"); err != nil {
			b.Fatalf("the baseline needs file(1) (Debian package file): %v", err)
		}
		for i := 0; i < b.N; i++ {
			for j := 0; j < len(files); j += 500 {
				cmd := exec.Command("file", append([]string{"--mime-type", "-b"}, files[j:min(j+500, len(files))]...)...)
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(files)), "µs/file")
	})
}

// BenchmarkIdentifyCommand runs `archivd identify` (identification and
// validation, on every core) over the corpus as a user does, and beside it
// `file --mime-type` over the same files, in the same run. Target: at most
// file's time. siegfried, the third tool the target names, is not on the
// Go module proxy here (403) and is not measured.
//
//	go test ./bench -run '^$' -bench IdentifyCommand -benchtime 3x
func BenchmarkIdentifyCommand(b *testing.B) {
	files, _ := corpusFiles(b)
	bin := archivdBinary(b)
	exec.Command(bin, "identify", files[0]).Run() // compile the signatures once
	var own, base time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if out, err := exec.Command(bin, "identify", "--format", "csv", allCorpora).CombinedOutput(); err != nil && len(out) == 0 {
			b.Fatal(err)
		}
		own += time.Since(start)
		start = time.Now()
		for j := 0; j < len(files); j += 500 {
			if err := exec.Command("file", append([]string{"--mime-type", "-b"}, files[j:min(j+500, len(files))]...)...).Run(); err != nil {
				b.Fatal(err)
			}
		}
		base += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(own.Seconds()/n, "archivd_s")
	b.ReportMetric(base.Seconds()/n, "file_s")
	b.ReportMetric(own.Seconds()/base.Seconds(), "x_file")
	fmt.Printf("identify %d files: archivd identify %.2fs (identification and validation), file --mime-type %.2fs: %.2f× (target ≤ 1)\n",
		len(files), own.Seconds()/n, base.Seconds()/n, own.Seconds()/base.Seconds())
}
