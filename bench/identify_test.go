package bench

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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
// `file --mime-type` over the same files and siegfried's `sf` (built from
// tools/siegfried, its own default.sig; as users run it, and with -multi
// 16, its fastest here), in the same run. Targets: at most file's time,
// at least twice siegfried's speed.
//
//	go test ./bench -run '^$' -bench IdentifyCommand -benchtime 3x
func BenchmarkIdentifyCommand(b *testing.B) {
	files, _ := corpusFiles(b)
	bin := archivdBinary(b)
	sf, sfHome := siegfried(b)
	exec.Command(bin, "identify", files[0]).Run() // compile the signatures once
	timed := func(name string, args ...string) time.Duration {
		start := time.Now()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil && len(out) == 0 {
			b.Fatalf("%s: %v", name, err)
		}
		return time.Since(start)
	}
	var own, base, sfDefault, sfMulti time.Duration
	for i := 0; i < b.N; i++ {
		own += timed(bin, "identify", "--format", "csv", allCorpora)
		start := time.Now()
		for j := 0; j < len(files); j += 500 {
			if err := exec.Command("file", append([]string{"--mime-type", "-b"}, files[j:min(j+500, len(files))]...)...).Run(); err != nil {
				b.Fatal(err)
			}
		}
		base += time.Since(start)
		if sf != "" {
			sfDefault += timed(sf, "-home", sfHome, "-sig", "default.sig", "-csv", allCorpora)
			sfMulti += timed(sf, "-home", sfHome, "-sig", "default.sig", "-multi", "16", "-csv", allCorpora)
		}
	}
	n := float64(b.N)
	b.ReportMetric(own.Seconds()/n, "archivd_s")
	b.ReportMetric(base.Seconds()/n, "file_s")
	b.ReportMetric(own.Seconds()/base.Seconds(), "x_file")
	fmt.Printf("identify %d files: archivd identify %.2fs (identification and validation), file --mime-type %.2fs: %.2f× (target ≤ 1)\n",
		len(files), own.Seconds()/n, base.Seconds()/n, own.Seconds()/base.Seconds())
	if sf == "" {
		fmt.Println("siegfried: not measured (tools/siegfried did not build)")
		return
	}
	b.ReportMetric(sfDefault.Seconds()/n, "sf_s")
	b.ReportMetric(sfMulti.Seconds()/n, "sf_multi16_s")
	fmt.Printf("siegfried (identification only): sf %.2fs, archivd %.2f× its speed; sf -multi 16 %.2fs, archivd %.2f× (target ≥ 2)\n",
		sfDefault.Seconds()/n, sfDefault.Seconds()/own.Seconds(), sfMulti.Seconds()/n, sfMulti.Seconds()/own.Seconds())
}

// siegfried builds sf from tools/siegfried (once) and finds the folder
// with its signature files; "" when it does not build.
func siegfried(b *testing.B) (bin, home string) {
	sfOnce.Do(func() {
		dir, err := os.MkdirTemp("", "archivd-bench-sf")
		if err != nil {
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "sf"), "github.com/richardlehane/siegfried/cmd/sf")
		build.Dir = "../tools/siegfried"
		if out, err := build.CombinedOutput(); err != nil {
			b.Logf("siegfried does not build: %v: %s", err, out)
			return
		}
		list := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/richardlehane/siegfried")
		list.Dir = "../tools/siegfried"
		out, err := list.Output()
		if err != nil {
			return
		}
		sfBin, sfHome = filepath.Join(dir, "sf"), filepath.Join(strings.TrimSpace(string(out)), "cmd", "roy", "data")
	})
	return sfBin, sfHome
}

var (
	sfOnce        sync.Once
	sfBin, sfHome string
)

// BenchmarkIdentifyOneFile: the start-up of `archivd identify FILE` for
// one file (the compiled signatures cached, as after the first run), beside
// `archivd help` (the process, the Go runtime and package initialisation:
// the floor any archivd command pays), `file --mime-type` on the same file
// and a Go program that does nothing, all in the same run. Target: under
// 20 ms for identify.
//
//	go test ./bench -run '^$' -bench IdentifyOneFile -benchtime 50x
func BenchmarkIdentifyOneFile(b *testing.B) {
	files, _ := corpusFiles(b)
	one := files[0]
	for _, f := range files {
		if strings.HasSuffix(f, ".pdf") {
			one = f
			break
		}
	}
	bin := archivdBinary(b)
	empty := filepath.Join(b.TempDir(), "empty")
	src := filepath.Join(b.TempDir(), "empty.go")
	os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644)
	if out, err := exec.Command("go", "build", "-o", empty, src).CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	cache := b.TempDir()
	env := append(os.Environ(), "XDG_CACHE_HOME="+cache, "HOME="+cache)
	faults := map[string]int64{} // minor page faults of the last run, by program
	run := func(name string, args ...string) time.Duration {
		c := exec.Command(name, args...)
		c.Env = env
		start := time.Now()
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v: %s", name, args, err, out)
		}
		d := time.Since(start)
		if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
			faults[strings.Join(append([]string{filepath.Base(name)}, args...), " ")] = ru.Minflt
		}
		return d
	}
	run(bin, "identify", one) // compiles the signatures into the cache
	var ident, help, file, nothing time.Duration
	for i := 0; i < b.N; i++ {
		ident += run(bin, "identify", one)
		help += run(bin, "help")
		file += run("file", "--mime-type", "-b", one)
		nothing += run(empty)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(ident), "identify_ms")
	b.ReportMetric(ms(help), "help_ms")
	b.ReportMetric(ms(file), "file_ms")
	b.ReportMetric(ms(nothing), "empty_go_ms")
	// Fresh memory is what a start costs on a virtual machine whose page
	// faults are slow: the fault counts say where the time goes.
	fmt.Printf("one file (%s): archivd identify %.1f ms (target < 20; %d page faults), archivd help %.1f ms (%d), file --mime-type %.1f ms (%d), an empty Go program %.1f ms (%d)\n",
		filepath.Base(one), ms(ident), faults["archivd identify "+one], ms(help), faults["archivd help"],
		ms(file), faults["file --mime-type -b "+one], ms(nothing), faults["empty"])
}
