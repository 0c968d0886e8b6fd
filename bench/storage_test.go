package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// format1Commit is the last archivd that wrote AIP format 1: the baseline
// for what is stored beside each package.
const format1Commit = "9393c15"

// storedBytes ingests folder with the given archivd binary and returns the
// package's size and the bytes of every other file of the version's content.
func storedBytes(b *testing.B, bin, folder string) (pkg, beside int64, files int) {
	dir := b.TempDir()
	cfg := filepath.Join(dir, "archivd.yaml")
	os.WriteFile(cfg, []byte("data_dir: "+filepath.Join(dir, "var")+"\n"+acceptAll), 0o644)
	cmd := exec.Command(bin, "ingest", "--config", cfg, folder)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s ingest: %v\n%s", bin, err, out)
	}
	contents, _ := filepath.Glob(filepath.Join(dir, "var", "storage", "*", "*", "*", "*", "v1", "content"))
	if len(contents) != 1 {
		b.Fatalf("want one stored version, found %v", contents)
	}
	filepath.WalkDir(contents[0], func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, _ := d.Info()
		if strings.HasSuffix(p, ".tar.zst") {
			pkg += info.Size()
		} else {
			beside += info.Size()
			files++
		}
		return nil
	})
	return pkg, beside, files
}

// format1Binary builds the archivd of format1Commit from this checkout's
// history, or skips when there is none (a source tarball).
func format1Binary(b *testing.B) string {
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	script := `set -e; mkdir -p "$2"; git -C .. archive "$1" | tar -x -C "$2"`
	if out, err := exec.Command("bash", "-c", script, "x", format1Commit, src).CombinedOutput(); err != nil {
		b.Skipf("format 1 baseline needs the git history (commit %s): %v %s", format1Commit, err, out)
	}
	bin := filepath.Join(dir, "archivd-format1")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/archivd")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build format 1 archivd: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkStorageCost: what each AIP stores beside its package, for
// ../shared/data/corpus as one case (thousands of mostly tiny files: the
// worst case), against format 1 (built from git history in the same run).
// Target: everything beside the package at most 10 % of the package.
//
//	go test ./bench -run '^$' -bench StorageCost -benchtime 1x
func BenchmarkStorageCost(b *testing.B) {
	const folder = "../../shared/data/corpus"
	old := format1Binary(b)
	bin := archivdBinary(b)
	for i := 0; i < b.N; i++ {
		pkg, beside, files := storedBytes(b, bin, folder)
		opkg, obeside, ofiles := storedBytes(b, old, folder)
		share := 100 * float64(beside) / float64(pkg)
		oshare := 100 * float64(obeside) / float64(opkg)
		b.ReportMetric(float64(pkg)/1e6, "package_MB")
		b.ReportMetric(float64(beside)/1e6, "beside_MB")
		b.ReportMetric(share, "beside_%")
		b.ReportMetric(oshare, "format1_beside_%")
		b.Log(fmt.Sprintf("format 2: package %.1f MB, beside it %.2f MB in %d files (%.1f %%); format 1: package %.1f MB, beside it %.1f MB in %d files (%.1f %%)",
			float64(pkg)/1e6, float64(beside)/1e6, files, share, float64(opkg)/1e6, float64(obeside)/1e6, ofiles, oshare))
	}
}
