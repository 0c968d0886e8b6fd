package main

import (
	"bytes"
	"database/sql"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/demo"
	_ "modernc.org/sqlite"
)

// TestMain lets the crash tests run this test binary as archivd itself.
func TestMain(m *testing.M) {
	if os.Getenv("ARCHIVD_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// proc starts archivd as a separate process.
func proc(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ARCHIVD_TEST_MAIN=1", "NO_COLOR=1")
	return cmd
}

// bigCase is a case folder whose packaging takes a while: a kill has time
// to land in the middle of it.
func bigCase(t *testing.T, dir string, seed uint64) string {
	t.Helper()
	if err := demo.WriteSampleCase(dir); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 24<<20)
	for i := 0; i < len(b); i += 8 {
		v := r.Uint64()
		for k := 0; k < 8; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "Scan.bin"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "Notiz.txt"), []byte("Nr. "+time.Now().String()+"\n"), 0o644)
	return dir
}

// TestCrashDuringIngest kills archivd at random moments of ingests,
// packaging included, and retries each case until it is archived. In the
// end no spool is left, every case is archived exactly once, and the audit
// trail verifies and is stored.
func TestCrashDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	cfg, dir := setup(t)
	// The random scan is an unidentified format; accept it.
	b, _ := os.ReadFile(cfg)
	if !bytes.Contains(b, []byte("unidentified: reject")) {
		t.Fatal("example configuration changed; adjust the test")
	}
	os.WriteFile(cfg, bytes.Replace(b, []byte("unidentified: reject"), []byte("unidentified: accept"), 1), 0o644)

	// One undisturbed run measures how long an ingest takes here.
	start := time.Now()
	out, err := proc("ingest", "--config", cfg, bigCase(t, filepath.Join(dir, "case-0"), 0)).CombinedOutput()
	if err != nil {
		t.Fatalf("calibration ingest: %v\n%s", err, out)
	}
	full := time.Since(start)
	t.Logf("one ingest takes %v", full)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	const cases, killsPerCase = 4, 4
	kills := 0
	for i := 1; i <= cases; i++ {
		c := bigCase(t, filepath.Join(dir, "case-"+string(rune('0'+i))), uint64(i))
		for k := 0; k < killsPerCase; k++ {
			cmd := proc("ingest", "--config", cfg, c)
			var buf bytes.Buffer
			cmd.Stdout, cmd.Stderr = &buf, &buf
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(rng.Int64N(int64(full))))
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			kills++
		}
		// Then until it is archived: a run that finds it archived already
		// names the earlier AIP (exit 65), which is the same outcome.
		out, err := proc("ingest", "--config", cfg, c).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "already archived unchanged") {
			t.Fatalf("case %d after %d kills: %v\n%s", i, killsPerCase, err, out)
		}
	}
	t.Logf("%d kills", kills)

	// A reading command after the last ingest: nothing may wait in staging.
	if out, err := proc("audit", "verify", "--config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	} else if !strings.Contains(string(out), "OK stored trail at local") {
		t.Fatalf("audit trail not stored:\n%s", out)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "var", "staging")); len(ents) != 0 {
		t.Errorf("staging holds %d spools after all cases were archived", len(ents))
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "var", "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT source, COUNT(*) FROM ingests WHERE state = 'committed' GROUP BY source`)
	if err != nil {
		t.Fatal(err)
	}
	sources := 0
	for rows.Next() {
		var src string
		var n int
		rows.Scan(&src, &n)
		sources++
		if n != 1 {
			t.Errorf("%s archived %d times", src, n)
		}
	}
	rows.Close()
	var aips int
	db.QueryRow(`SELECT COUNT(*) FROM aips`).Scan(&aips)
	if sources != cases+1 || aips != cases+1 {
		t.Errorf("%d sources committed, %d AIPs in the catalog; want %d each", sources, aips, cases+1)
	}
	objs, _ := filepath.Glob(filepath.Join(dir, "var", "storage", "*", "*", "*", "*", "0=ocfl_object_1.1"))
	if len(objs) != cases+1 {
		t.Errorf("%d objects in storage, want %d", len(objs), cases+1)
	}
	if r := archivd(t, "ocfl", "validate", filepath.Join(dir, "var", "storage")); r.code != 0 {
		t.Errorf("storage root: %s", r.stdout)
	}
}
