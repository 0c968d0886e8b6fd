package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The whole ingest, as a user runs it (archivd ingest: identification,
// validation, policy, packaging, a verified copy on a local location,
// catalog, audit trail), against the baseline a packager is measured by:
// tar c | zstd -3 -T1, plus sha512sum and sha256sum over the same bytes,
// run in the same benchmark run.
//
//	go test ./bench -run '^$' -bench Ingest -benchtime 1x
//	ARCHIVD_BENCH_LARGE_GIB=4 go test ./bench -run '^$' -bench 'Ingest.*Large' -benchtime 1x
//
// Each reports MB/s (or files/s), the archivd binary's peak RSS, and the
// ratio to the baseline's wall time.

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// archivdBinary builds archivd once for the benchmarks.
func archivdBinary(b *testing.B) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "archivd-bench-bin")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "archivd")
		out, err := exec.Command("go", "build", "-o", binary, "../cmd/archivd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binary
}

// acceptAll is a format policy that accepts everything: the corpus holds
// what a policy refuses (executables, encrypted documents), and a benchmark
// measures the work.
const acceptAll = `formats:
  policy:
    unidentified: accept
    malformed: accept
    encrypted: accept
    executable: accept
    rules:
      - {puids: [fmt/494, x-fmt/409, x-fmt/410, x-fmt/411, x-fmt/413, fmt/692, fmt/693, fmt/694, fmt/695, fmt/1070, fmt/1466, fmt/1089, x-fmt/428], action: accept, reason: bench, grund: bench}
`

// ingestOnce runs archivd ingest on folder in a fresh data directory and
// returns its wall time and peak RSS in bytes.
func ingestOnce(b *testing.B, folder string) (time.Duration, int64) {
	dir := b.TempDir()
	cfg := filepath.Join(dir, "archivd.yaml")
	os.WriteFile(cfg, []byte("data_dir: "+filepath.Join(dir, "var")+"\n"+acceptAll), 0o644)
	cmd := exec.Command(archivdBinary(b), "ingest", "--config", cfg, folder)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("archivd ingest: %v\n%s", err, out)
	}
	took := time.Since(start)
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	return took, rss
}

// baseline is tar | zstd plus both digests over the folder's files.
func baseline(b *testing.B, folder string) time.Duration {
	for _, tool := range []string{"tar", "zstd", "sha512sum", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Fatalf("%s needed for the baseline: %v", tool, err)
		}
	}
	start := time.Now()
	for _, script := range []string{
		`tar -cf - -C "$1" . | zstd -3 -T1 -q -c > /dev/null`,
		`find "$1" -type f -print0 | xargs -0 sha512sum > /dev/null`,
		`find "$1" -type f -print0 | xargs -0 sha256sum > /dev/null`,
	} {
		if out, err := exec.Command("bash", "-c", script, "x", folder).CombinedOutput(); err != nil {
			b.Fatalf("baseline %s: %v %s", script, err, out)
		}
	}
	return time.Since(start)
}

func treeStats(folder string) (files int, bytes int64) {
	filepath.WalkDir(folder, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			info, _ := d.Info()
			files++
			bytes += info.Size()
		}
		return nil
	})
	return
}

// compare runs archivd and the baseline b.N times each and reports.
func compare(b *testing.B, folder string) {
	files, size := treeStats(folder)
	if files == 0 {
		b.Fatalf("%s is empty", folder)
	}
	var took, base time.Duration
	var rss int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, r := ingestOnce(b, folder)
		took += t
		rss = max(rss, r)
		b.StopTimer()
		base += baseline(b, folder)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(size)/(took.Seconds()/n)/1e6, "MB/s")
	b.ReportMetric(float64(files)/(took.Seconds()/n), "files/s")
	b.ReportMetric(float64(rss)/(1<<20), "peakRSS_MiB")
	b.ReportMetric(took.Seconds()/base.Seconds(), "x_baseline")
	b.Logf("%d files, %d bytes: archivd ingest %.2fs, baseline (tar|zstd -3, sha512sum, sha256sum) %.2fs, peak RSS %d MiB",
		files, size, took.Seconds()/n, base.Seconds()/n, rss>>20)
}

// BenchmarkIngestCorpus: the real files of ../shared/data/corpus.
func BenchmarkIngestCorpus(b *testing.B) { compare(b, "../../shared/data/corpus") }

// BenchmarkIngestSmallFiles: 100,000 small generated files.
func BenchmarkIngestSmallFiles(b *testing.B) {
	dir := b.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100_000; i++ {
		p := filepath.Join(dir, fmt.Sprintf("%03d", i/1000), fmt.Sprintf("Vermerk-%06d.txt", i))
		if i%1000 == 0 {
			os.MkdirAll(filepath.Dir(p), 0o755)
		}
		body := strings.Repeat(fmt.Sprintf("Vermerk %d: %x\n", i, r.Uint64()), 1+r.IntN(60))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	compare(b, dir)
}

// BenchmarkIngestLargeFile: one large file of random bytes (a scan):
// ARCHIVD_BENCH_LARGE_GIB gibibytes, 4 by default. Memory must stay flat.
func BenchmarkIngestLargeFile(b *testing.B) {
	compare(b, scanFolder(b, envGiB("ARCHIVD_BENCH_LARGE_GIB", 4), 3))
}

// envGiB reads a size in GiB from the environment variable name.
func envGiB(name string, def int) int {
	if s := os.Getenv(name); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return def
}

// scanFolder writes a folder holding one file of gib GiB of random bytes
// (seeded: the same bytes every run), the worst case for compression.
func scanFolder(b *testing.B, gib int, seed uint64) string {
	dir := b.TempDir()
	f, err := os.Create(filepath.Join(dir, "Scan.bin"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r := rand.New(rand.NewPCG(seed, seed+1))
	buf := make([]byte, 8<<20)
	for written := int64(0); written < int64(gib)<<30; written += int64(len(buf)) {
		for i := 0; i < len(buf); i += 8 {
			v := r.Uint64()
			for k := 0; k < 8; k++ {
				buf[i+k] = byte(v >> (8 * k))
			}
		}
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}
