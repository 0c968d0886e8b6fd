package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The full fixity check, as the service runs it (archivd fixity run: the
// package's SHA-512 against the inventory and the catalog, every file in it
// against the bag manifests and the catalog, one streaming read), against
// the baseline `zstd -dc PACKAGE | sha512sum` over the same package, in the
// same run. Targets: at least 0.8× the baseline's throughput, peak RSS
// under 64 MiB.
//
//	go test ./bench -run '^$' -bench Fixity -benchtime 1x
//	ARCHIVD_BENCH_FIXITY_GIB=4 go test ./bench -run '^$' -bench FixityLarge -benchtime 1x

// fixityArchive ingests folder into a fresh data directory with the
// archivd binary and returns the configuration's path.
func fixityArchive(b *testing.B, folders ...string) (cfg string) {
	dir := b.TempDir()
	cfg = filepath.Join(dir, "archivd.yaml")
	os.WriteFile(cfg, []byte("data_dir: "+filepath.Join(dir, "var")+"\n"+acceptAll), 0o644)
	for _, f := range folders {
		cmd := exec.Command(archivdBinary(b), "ingest", "--config", cfg, f)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("ingest %s: %v\n%s", f, err, out)
		}
	}
	return cfg
}

// fixityRun runs archivd fixity run --all and returns its wall time and
// peak RSS.
func fixityRun(b *testing.B, cfg string, copies int) (time.Duration, int64) {
	cmd := exec.Command(archivdBinary(b), "fixity", "run", "--all", "--config", cfg)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		b.Fatalf("fixity run: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "OK          "); n != copies {
		b.Fatalf("fixity run: %d copies OK, want %d\n%s", n, copies, out)
	}
	return took, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
}

// baselineFixity times zstd -dc | sha512sum over every package.
func baselineFixity(b *testing.B, cfg string) (time.Duration, int64) {
	pkgs, _ := filepath.Glob(filepath.Join(filepath.Dir(cfg), "var", "storage", "*", "*", "*", "*", "v1", "content", "*.tar.zst"))
	if len(pkgs) == 0 {
		b.Fatal("no package found")
	}
	var size int64
	for _, p := range pkgs {
		st, _ := os.Stat(p)
		size += st.Size()
	}
	script := `set -o pipefail; for p in "$@"; do zstd -dc -- "$p" | sha512sum >/dev/null; done`
	start := time.Now()
	if out, err := exec.Command("bash", append([]string{"-c", script, "x"}, pkgs...)...).CombinedOutput(); err != nil {
		b.Fatalf("baseline: %v %s", err, out)
	}
	return time.Since(start), size
}

func reportFixity(b *testing.B, cfg string, copies int) {
	var took, base time.Duration
	var rss, size int64
	for i := 0; i < b.N; i++ {
		t, r := fixityRun(b, cfg, copies)
		bt, s := baselineFixity(b, cfg)
		took, base, rss, size = took+t, base+bt, max(rss, r), s
	}
	n := float64(b.N)
	mbs := float64(size) / 1e6 / (took.Seconds() / n)
	bmbs := float64(size) / 1e6 / (base.Seconds() / n)
	b.ReportMetric(mbs, "MB/s")
	b.ReportMetric(bmbs, "baseline_MB/s")
	b.ReportMetric(mbs/bmbs, "x_baseline_throughput")
	b.ReportMetric(float64(copies)/(took.Seconds()/n), "AIPs/s")
	b.ReportMetric(float64(rss)/(1<<20), "peakRSS_MiB")
	fmt.Printf("fixity full check: %d AIP(s), %.0f MB of packages: archivd %.2fs (%.0f MB/s, %.1f AIPs/s), zstd -dc | sha512sum %.2fs (%.0f MB/s): %.2f× the baseline's throughput (target ≥ 0.8), peak RSS %d MiB (target < 64)\n",
		copies, float64(size)/1e6, took.Seconds()/n, mbs, float64(copies)/(took.Seconds()/n), base.Seconds()/n, bmbs, mbs/bmbs, rss>>20)
}

// BenchmarkFixityLarge: one AIP holding ARCHIVD_BENCH_FIXITY_GIB gibibytes
// (2 by default) of random bytes, the worst case: nothing compresses, so
// the package is as large as its content and both digests cover every byte.
func BenchmarkFixityLarge(b *testing.B) {
	cfg := fixityArchive(b, scanFolder(b, envGiB("ARCHIVD_BENCH_FIXITY_GIB", 2), 5))
	b.ResetTimer()
	reportFixity(b, cfg, 1)
}

// BenchmarkFixityCycleSmallAIPs: a full cycle over many small AIPs (100
// cases of 40 files from the corpus), where per-AIP work (catalog, audit
// events, inventories) weighs more than bytes.
func BenchmarkFixityCycleSmallAIPs(b *testing.B) {
	var files []string
	filepath.WalkDir("../../shared/data/corpus", func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasSuffix(p, ".csv") {
			files = append(files, p)
		}
		return nil
	})
	root := b.TempDir()
	var cases []string
	for c := 0; c < 100; c++ {
		dir := filepath.Join(root, fmt.Sprintf("Akte-%03d", c))
		os.MkdirAll(dir, 0o755)
		for i := 0; i < 40; i++ {
			src := files[(c*40+i)%len(files)]
			data, _ := os.ReadFile(src)
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d-%s", i, filepath.Base(src))), data, 0o644)
		}
		cases = append(cases, dir)
	}
	cfg := fixityArchive(b, cases...)
	b.ResetTimer()
	reportFixity(b, cfg, len(cases))
}
