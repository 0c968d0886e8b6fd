// Package bench holds archivd's benchmarks. Each prints its figures beside a
// baseline measured in the same run; none of them is a pass/fail test.
//
//	go test ./bench -run '^$' -bench . -benchtime 3x
package bench

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/ingest"
)

// corpus is a real, mixed folder of files (PDF, office, images, ...).
const corpus = "../../shared/data/corpus/opf-format-corpus"

func corpusSize(b *testing.B) int64 {
	var n int64
	filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			info, _ := d.Info()
			n += info.Size()
		}
		return nil
	})
	if n == 0 {
		b.Fatalf("corpus %s is missing or empty", corpus)
	}
	return n
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkPackage builds a complete AIP package (hashing every file with
// SHA-512 and SHA-256, tar, seekable zstd, METS, PREMIS, manifests) from
// the corpus folder in one read of every byte.
func BenchmarkPackage(b *testing.B) {
	size := corpusSize(b)
	rec := aip.Record{ID: aip.MustParseID("01937a3b-6c2e-7cc0-8a1b-3f4e5d6c7b8a"), Version: 1,
		Created: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), Software: "archivd", SoftVersion: "bench"}
	b.SetBytes(size)
	b.ReportAllocs()
	var out counter
	for i := 0; i < b.N; i++ {
		in, err := ingest.Scan(corpus, aip.Metadata{})
		if err != nil {
			b.Fatal(err)
		}
		out = counter{}
		if _, err := aip.Write(context.Background(), &out, rec, in, aip.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(out.n)/float64(size)*100, "%size")
}

// BenchmarkBaselineTarZstd is the same corpus through GNU tar and the zstd
// command line (level 3, one thread), without any hashing: the floor a
// packager that also hashes twice and writes metadata is compared with.
func BenchmarkBaselineTarZstd(b *testing.B) {
	size := corpusSize(b)
	for _, tool := range []string{"tar", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Fatalf("%s needed for the baseline: %v", tool, err)
		}
	}
	b.SetBytes(size)
	var out counter
	for i := 0; i < b.N; i++ {
		out = counter{}
		cmd := exec.Command("bash", "-c", `tar -cf - -C "$1" . | zstd -3 -T1 -q -c`, "x", corpus)
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(out.n)/float64(size)*100, "%size")
}

// BenchmarkBaselineSHA512 reads the corpus and hashes it with sha512sum:
// the cost of the digests alone.
func BenchmarkBaselineSHA512(b *testing.B) {
	b.SetBytes(corpusSize(b))
	for i := 0; i < b.N; i++ {
		cmd := exec.Command("bash", "-c", `find "$1" -type f -print0 | xargs -0 sha512sum`, "x", corpus)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
}
