package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDaemonCorpus: archivd run with its default workers (2) takes
// ARCHIVD_BENCH_CASES (6 by default) copies of ../shared/data/corpus,
// renamed into its inbox at once, and archives them; against the
// baseline (tar | zstd -3, sha512sum, sha256sum) over the same cases one
// after another, measured in the same run. The time includes up to one
// poll interval (100 ms) before the first claim.
//
//	go test ./bench -run '^$' -bench DaemonCorpus -benchtime 1x
func BenchmarkDaemonCorpus(b *testing.B) {
	const corpusDir = "../../shared/data/corpus"
	n := 6
	if s := os.Getenv("ARCHIVD_BENCH_CASES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	files, size := treeStats(corpusDir)
	var took, base time.Duration
	var rss int64
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		inbox, outside := filepath.Join(dir, "inbox"), filepath.Join(dir, "outside")
		cfg := filepath.Join(dir, "archivd.yaml")
		os.WriteFile(cfg, []byte("data_dir: "+filepath.Join(dir, "var")+`
inboxes:
  - {name: bench, path: `+inbox+`, kind: folder, ready: rename, after: remove}
daemon:
  poll_interval: 100ms
  min_free_mib: 1
`+acceptAll), 0o644)
		os.MkdirAll(inbox, 0o755)
		os.MkdirAll(outside, 0o755)
		for c := 0; c < n; c++ {
			if out, err := exec.Command("cp", "-a", corpusDir, filepath.Join(outside, fmt.Sprintf("case-%02d", c))).CombinedOutput(); err != nil {
				b.Fatalf("copy the corpus: %v %s", err, out)
			}
		}
		cmd := exec.Command(archivdBinary(b), "run", "--config", cfg)
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		log, _ := os.Create(filepath.Join(dir, "run.log"))
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		waitFor(b, func() bool { // the service holds the data directory
			l, _ := os.ReadFile(filepath.Join(dir, "var", "lock"))
			return len(l) > 0
		})
		start := time.Now()
		for c := 0; c < n; c++ {
			name := fmt.Sprintf("case-%02d", c)
			if err := os.Rename(filepath.Join(outside, name), filepath.Join(inbox, name)); err != nil {
				b.Fatal(err)
			}
		}
		waitFor(b, func() bool { // every case archived and removed from the inbox
			left, _ := os.ReadDir(inbox)
			work, _ := os.ReadDir(filepath.Join(dir, "var", "work"))
			quarantined, _ := os.ReadDir(filepath.Join(dir, "var", "quarantine"))
			if len(quarantined) > 0 {
				out, _ := os.ReadFile(filepath.Join(dir, "run.log"))
				b.Fatalf("a corpus copy was quarantined:\n%s", out)
			}
			return len(left) == 0 && len(work) == 0
		})
		took += time.Since(start)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		log.Close()
		rss = max(rss, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss<<10)
		for c := 0; c < n; c++ {
			base += baseline(b, corpusDir)
		}
	}
	per := took.Seconds() / float64(b.N)
	b.ReportMetric(float64(n)*float64(size)/per/1e6, "MB/s")
	b.ReportMetric(float64(n*files)/per, "files/s")
	b.ReportMetric(float64(rss)/(1<<20), "peakRSS_MiB")
	b.ReportMetric(took.Seconds()/base.Seconds(), "x_baseline")
	b.Logf("%d cases of %d files, %d bytes each: archivd run (2 workers) %.2fs, baseline one after another %.2fs, peak RSS %d MiB",
		n, files, size, per, base.Seconds()/float64(b.N), rss>>20)
}

// waitFor polls cond every 20 ms for at most ten minutes.
func waitFor(b *testing.B, cond func() bool) {
	deadline := time.Now().Add(10 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatal("gave up waiting")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
