package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/daemon"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// daemonSetup writes a configuration with one inbox (ready: marker).
func daemonSetup(t *testing.T) (cfg, dir, inbox string) {
	t.Helper()
	cfg, dir = setup(t)
	inbox = filepath.Join(dir, "inbox", "amt")
	b, _ := os.ReadFile(cfg)
	b = bytes.Replace(b, []byte("unidentified: reject"), []byte("unidentified: accept"), 1)
	b = bytes.Replace(b, []byte("path: ../inbox/bauamt"), []byte("path: ../inbox/amt"), 1)
	b = bytes.Replace(b, []byte("name: bauamt "), []byte("name: amt    "), 1)
	b = bytes.Replace(b, []byte("poll_interval: 10s"), []byte("poll_interval: 100ms"), 1)
	b = bytes.Replace(b, []byte("min_free_mib: 1024"), []byte("min_free_mib: 1"), 1)
	b = bytes.Replace(b, []byte(`replicate: "@every 6h"`), []byte(`replicate: ""`), 1)
	os.WriteFile(cfg, b, 0o644)
	if r := archivd(t, "config", "check", cfg); r.code != 0 {
		t.Fatalf("config: %s", r.stderr)
	}
	os.MkdirAll(inbox, 0o755)
	return cfg, dir, inbox
}

// deliverCase puts a case folder into the inbox as a DMS export would:
// written under a hidden name, renamed in, then the ready marker.
func deliverCase(t *testing.T, inbox, name string, size int, bad bool) {
	t.Helper()
	tmp := filepath.Join(inbox, "."+name)
	os.MkdirAll(filepath.Join(tmp, "Schriftverkehr"), 0o755)
	os.WriteFile(filepath.Join(tmp, "case.yaml"), []byte("title: Akte "+name+"\nreference: "+name+"\n"), 0o644)
	os.WriteFile(filepath.Join(tmp, "Schriftverkehr", "Brief.txt"), []byte("Sehr geehrte Damen und Herren, "+name+"\n"), 0o644)
	if size > 0 {
		b := make([]byte, size)
		r := rand.New(rand.NewPCG(uint64(len(name)), uint64(size)))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		os.WriteFile(filepath.Join(tmp, "Scan.bin"), b, 0o644)
	}
	if bad {
		os.Symlink("/etc/passwd", filepath.Join(tmp, "link"))
	}
	if err := os.Rename(tmp, filepath.Join(inbox, name)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(inbox, name+".ready"), nil, 0o644)
}

// startDaemon starts archivd run as its own process.
func startDaemon(t *testing.T, cfg string, env ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := proc("run", "--config", cfg)
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

func waitExit(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	within(t, "archivd run to end", func() { cmd.Wait() })
}

// waitRunning waits until archivd run (process pid) holds the data
// directory and works.
func waitRunning(t *testing.T, dir string, pid int) {
	t.Helper()
	within(t, "archivd run to start", func() {
		for {
			b, _ := os.ReadFile(filepath.Join(dir, "var", "lock"))
			if strings.HasPrefix(string(b), fmt.Sprintf("archivd run, pid %d,", pid)) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func empty(dir string) bool {
	ents, _ := os.ReadDir(dir)
	return len(ents) == 0
}

// drained: nothing left in the inbox (but markers of nothing) and work area.
func drained(inbox, work string) bool {
	ents, _ := os.ReadDir(inbox)
	for _, e := range ents {
		if e.IsDir() {
			return false
		}
	}
	return empty(work)
}

// TestDaemonCrashes kills archivd run at every step of a case and at many
// random moments over a stream of cases, restarting it each time, and
// proves for every case: archived exactly once (one AIP in catalog and
// storage, verified), or quarantined once if bad; nothing lost; the OCFL
// root valid, the audit chain intact and stored, no lock left behind.
func TestDaemonCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	cfg, dir, inbox := daemonSetup(t)
	work := filepath.Join(dir, "var", "work")
	good, bad := map[string]bool{}, map[string]bool{}
	n := 0
	deliver := func(isBad bool) {
		n++
		name := fmt.Sprintf("Akte-%03d", n)
		size := []int{0, 2 << 10, 300 << 10, 3 << 20}[n%4]
		deliverCase(t, inbox, name, size, isBad)
		if isBad {
			bad[name] = true
		} else {
			good[name] = true
		}
	}

	// Every step of a case, exactly.
	for _, step := range []string{"claim-recorded", "claimed", "ingest", "committed", "source-handled", "reason-written"} {
		deliver(step == "reason-written")
		cmd, out := startDaemon(t, cfg, "ARCHIVD_CRASH_AT="+step)
		waitExit(t, cmd)
		if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() {
			t.Fatalf("archivd run did not die at %s:\n%s", step, out)
		}
	}

	// Random moments over a stream of cases.
	kills := 200
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	for i := 0; i < kills; i++ {
		if i%5 == 0 {
			deliver(i%25 == 0)
		}
		cmd, _ := startDaemon(t, cfg)
		time.Sleep(time.Duration(rng.Int64N(int64(400 * time.Millisecond))))
		cmd.Process.Signal(syscall.SIGKILL)
		waitExit(t, cmd)
	}

	// Then one that may finish, stopped by SIGTERM once it works.
	cmd, out := startDaemon(t, cfg)
	waitRunning(t, dir, cmd.Process.Pid)
	for i := 0; i < 1200 && !drained(inbox, work); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, cmd)
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("archivd run after SIGTERM: exit %d\n%s", code, out)
	}
	if !drained(inbox, work) {
		t.Fatalf("cases left in the inbox or work area:\n%s", out)
	}
	t.Logf("%d cases (%d bad), %d random kills", len(good)+len(bad), len(bad), kills)

	// Every good case archived exactly once, every bad one quarantined once.
	db, err := sql.Open("sqlite", filepath.Join(dir, "var", "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	committed := map[string][]string{}
	rows, _ := db.Query(`SELECT origin, aip FROM ingests WHERE state = 'committed'`)
	for rows.Next() {
		var origin, id string
		rows.Scan(&origin, &id)
		committed[strings.TrimPrefix(origin, "inbox amt/")] = append(committed[strings.TrimPrefix(origin, "inbox amt/")], id)
	}
	rows.Close()
	for name := range good {
		if len(committed[name]) != 1 {
			t.Errorf("%s archived %d times", name, len(committed[name]))
		}
	}
	for name := range bad {
		if len(committed[name]) != 0 {
			t.Errorf("bad case %s archived", name)
		}
		q, _ := filepath.Glob(filepath.Join(dir, "var", "quarantine", "amt", name+"*", "case"))
		if len(q) != 1 {
			t.Errorf("bad case %s in quarantine %d times", name, len(q))
		}
	}
	all, _ := filepath.Glob(filepath.Join(dir, "var", "quarantine", "amt", "*"))
	if len(all) != len(bad) {
		t.Errorf("%d cases in quarantine, %d bad delivered: %v", len(all), len(bad), all)
	}
	var aips int
	db.QueryRow(`SELECT COUNT(*) FROM aips`).Scan(&aips)
	objs, _ := filepath.Glob(filepath.Join(dir, "var", "storage", "*", "*", "*", "*", "0=ocfl_object_1.1"))
	if aips != len(good) || len(objs) != len(good) {
		t.Errorf("%d AIPs in the catalog, %d objects in storage, %d good cases", aips, len(objs), len(good))
	}
	for _, ids := range committed {
		for _, id := range ids {
			if r := archivd(t, "verify", "--config", cfg, id); r.code != 0 {
				t.Errorf("verify %s: %s", id, r.stdout)
			}
		}
	}
	if r := archivd(t, "ocfl", "validate", filepath.Join(dir, "var", "storage")); r.code != 0 {
		t.Errorf("storage root: %s", r.stdout)
	}
	if r := archivd(t, "audit", "verify", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "OK stored trail at local") {
		t.Errorf("audit trail: %d %s", r.code, r.stdout)
	}
	if !empty(filepath.Join(dir, "var", "staging")) {
		t.Error("staging not empty")
	}
	f, _ := os.Open(filepath.Join(dir, "var", "lock"))
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Error("a lock is left behind")
	}
	f.Close()
}

// TestCommandsBesideTheDaemon: verify, export, status, audit verify and
// ingest work while archivd run is busy with a large case.
func TestCommandsBesideTheDaemon(t *testing.T) {
	cfg, dir, inbox := daemonSetup(t)
	r := archivd(t, "ingest", "--config", cfg, sampleCase(t, dir))
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	cmd, out := startDaemon(t, cfg)
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		waitExit(t, cmd)
	}()
	waitRunning(t, dir, cmd.Process.Pid)
	deliverCase(t, inbox, "Gross", 48<<20, false)

	if r := archivd(t, "verify", "--config", cfg, id); r.code != 0 {
		t.Errorf("verify beside the daemon: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "export", "--config", cfg, id, filepath.Join(dir, "out")); r.code != 0 {
		t.Errorf("export beside the daemon: %d %s", r.code, r.stderr)
	}
	if r := archivd(t, "status", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "archivd is running (archivd run, pid") {
		t.Errorf("status beside the daemon: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "ingest", "--config", cfg, sampleCase(t, t.TempDir())); r.code != 0 {
		t.Errorf("ingest beside the daemon: %d %s", r.code, r.stderr)
	}
	if r := archivd(t, "replicate", "--config", cfg); r.code != exitLocked || !strings.Contains(r.stderr, "the archivd service") {
		t.Errorf("replicate beside the daemon: %d %s", r.code, r.stderr)
	}
	within(t, "the large case to be archived", func() {
		for !drained(inbox, filepath.Join(dir, "var", "work")) {
			time.Sleep(50 * time.Millisecond)
		}
	})
	if r := archivd(t, "audit", "verify", "--config", cfg); r.code != 0 && r.code != exitUnavailable {
		t.Errorf("audit verify beside the daemon: %d %s", r.code, r.stdout)
	}
	_ = out
}

// TestServiceNotifiesSystemdAndReloads runs archivd run as systemd would:
// READY=1 after startup, the watchdog's heartbeat, RELOADING=1 and READY=1
// around a SIGHUP reload, a broken configuration refused with the old one
// kept, STOPPING=1 and exit 0 on SIGTERM.
func TestServiceNotifiesSystemdAndReloads(t *testing.T) {
	cfg, dir, _ := daemonSetup(t)
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var seen []string
	next := func(prefix string) string {
		t.Helper()
		for {
			conn.SetReadDeadline(time.Now().Add(time.Minute)) // a hang detector
			b := make([]byte, 4096)
			n, err := conn.Read(b)
			if err != nil {
				t.Fatalf("waiting for %q after %q: %v", prefix, seen, err)
			}
			msg := string(b[:n])
			seen = append(seen, msg)
			if strings.HasPrefix(msg, prefix) {
				return msg
			}
		}
	}
	cmd, out := startDaemon(t, cfg, "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=400000")
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	if msg := next("READY=1"); !strings.Contains(msg, "STATUS=archiving 0 case(s)") {
		t.Errorf("ready: %q", msg)
	}
	next("WATCHDOG=1")

	// A good reload: a second inbox, taken into use.
	b, _ := os.ReadFile(cfg)
	good := strings.Replace(string(b), "inboxes:\n", "inboxes:\n  - {name: zweit, path: ../inbox/zweit, ready: rename}\n", 1)
	os.WriteFile(cfg, []byte(good), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	next("RELOADING=1\nMONOTONIC_USEC=")
	if msg := next("READY=1"); strings.Contains(msg, "failed") {
		t.Fatalf("reload: %q\n%s", msg, out)
	}
	deliverCase(t, filepath.Join(dir, "inbox", "zweit"), "Neu", 0, false)
	within(t, "a case from the reloaded inbox", func() {
		for !drained(filepath.Join(dir, "inbox", "zweit"), filepath.Join(dir, "var", "work")) {
			time.Sleep(50 * time.Millisecond)
		}
	})

	// A broken configuration, and one that moves the data: refused, the
	// running configuration stays.
	os.WriteFile(cfg, []byte(good+"unknown_key: 1\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	next("RELOADING=1")
	if msg := next("READY=1"); !strings.Contains(msg, "configuration reload failed") || !strings.Contains(msg, "unknown_key") {
		t.Errorf("broken reload: %q", msg)
	}
	os.WriteFile(cfg, []byte(strings.Replace(good, "data_dir: ../var", "data_dir: ../elsewhere", 1)), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	next("RELOADING=1")
	if msg := next("READY=1"); !strings.Contains(msg, "data_dir changed, which needs a restart") {
		t.Errorf("data_dir reload: %q", msg)
	}
	deliverCase(t, filepath.Join(dir, "inbox", "zweit"), "Noch", 0, false)
	within(t, "a case after refused reloads", func() {
		for !drained(filepath.Join(dir, "inbox", "zweit"), filepath.Join(dir, "var", "work")) {
			time.Sleep(50 * time.Millisecond)
		}
	})

	cmd.Process.Signal(syscall.SIGTERM)
	next("STOPPING=1")
	waitExit(t, cmd)
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, out)
	}
}

// TestHTTP: health, readiness, metrics parsed as Prometheus text, and the
// API with and without its token, on the real binary over a unix socket.
func TestHTTP(t *testing.T) {
	cfg, dir, inbox := daemonSetup(t)
	sock := filepath.Join(dir, "http.sock")
	tokenFile := filepath.Join(dir, "etc", "api.token")
	token := "s3cret-token-of-some-length"
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)
	b, _ := os.ReadFile(cfg)
	b = bytes.Replace(b, []byte(`listen: ""`), []byte(`listen: "unix:`+sock+`"`), 1)
	b = bytes.Replace(b, []byte(`token_file: ""`), []byte(`token_file: api.token`), 1)
	os.WriteFile(cfg, b, 0o644)
	cmd, out := startDaemon(t, cfg)
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		waitExit(t, cmd)
	}()
	waitRunning(t, dir, cmd.Process.Pid)
	deliverCase(t, inbox, "Akte-1", 0, false)
	within(t, "the case archived", func() {
		for !drained(inbox, filepath.Join(dir, "var", "work")) {
			time.Sleep(50 * time.Millisecond)
		}
	})
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	get := func(path, tok string) (int, string) {
		t.Helper()
		var resp *http.Response
		within(t, "GET "+path, func() {
			for i := 0; ; i++ {
				req, _ := http.NewRequest("GET", "http://archivd"+path, nil)
				if tok != "" {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				var err error
				if resp, err = client.Do(req); err == nil || i > 100 {
					if err != nil {
						t.Fatalf("GET %s: %v\n%s", path, err, out)
					}
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/healthz", ""); code != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", code, body)
	}
	if code, body := get("/readyz", ""); code != 200 {
		t.Errorf("readyz: %d %q", code, body)
	}
	code, body := get("/metrics", "")
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	for _, name := range []string{"archivd_ingests_total", "archivd_ingest_bytes_total", "archivd_ingest_duration_seconds",
		"archivd_cases_in_flight", "archivd_inbox_cases", "archivd_quarantine_cases", "archivd_copies_missing",
		"archivd_config_last_reload_successful", "archivd_build_info", "archivd_data_dir_free_bytes", "archivd_ingest_stage_duration_seconds"} {
		if families[name] == nil {
			t.Errorf("metric %s missing", name)
		}
	}
	if f := families["archivd_ingests_total"]; f != nil && f.GetMetric()[0].GetCounter().GetValue() != 1 {
		t.Errorf("archivd_ingests_total: %v", f)
	}
	if code, _ := get("/api/v1/aips", ""); code != 401 {
		t.Errorf("API without a token: %d", code)
	}
	if code, _ := get("/api/v1/aips", "wrong-token-of-some-length"); code != 401 {
		t.Errorf("API with a wrong token: %d", code)
	}
	code, body = get("/api/v1/aips?reference=Akte-*", token)
	var list struct {
		Total int `json:"total"`
		AIPs  []struct {
			ID, Reference string
		} `json:"aips"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || list.Total != 1 || list.AIPs[0].Reference != "Akte-1" {
		t.Fatalf("aips: %d %s", code, body)
	}
	if code, body := get("/api/v1/aips/"+list.AIPs[0].ID, token); code != 200 || !strings.Contains(body, `"copies"`) || !strings.Contains(body, `"puid"`) {
		t.Errorf("aip: %d %s", code, body)
	}
	if code, _ := get("/api/v1/aips/urn:uuid:01937a3b-6c2e-7cc0-8a1b-3f4e5d6c7b8a", token); code != 404 {
		t.Errorf("unknown aip: %d", code)
	}
	if code, body := get("/api/v1/events?aip="+list.AIPs[0].ID, token); code != 200 || !strings.Contains(body, `"type": "ingestion"`) {
		t.Errorf("events: %d %s", code, body)
	}
	if code, body := get("/api/v1/status", token); code != 200 || !strings.Contains(body, `"status"`) {
		t.Errorf("status: %d %s", code, body)
	}
	if code, _ := get("/api/v1/aips?limit=x", token); code != 400 {
		t.Errorf("bad parameter: %d", code)
	}

	// A broken configuration on SIGHUP shows in the metrics.
	good, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(good, []byte("nonsense: 1\n")...), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	within(t, "the failed reload in the metrics", func() {
		for {
			_, body := get("/metrics", "")
			if strings.Contains(body, "archivd_config_last_reload_successful 0") {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestOpenAPIMatchesRoutes keeps docs/api.yaml and the server in step.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, err := os.ReadFile("../../docs/api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Read as YAML: a document a YAML parser refuses is no API description.
	var api struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(doc, &api); err != nil || api.OpenAPI == "" {
		t.Fatalf("docs/api.yaml is no OpenAPI document: %v", err)
	}
	documented := map[string]bool{}
	for p, ops := range api.Paths {
		documented[p] = true
		if _, ok := ops["get"]; !ok || len(ops) != 1 {
			t.Errorf("docs/api.yaml: %s: every route is GET only", p)
		}
	}
	served := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}
	for _, p := range (&daemon.Daemon{}).APIPaths() {
		served[p] = true
	}
	for p := range served {
		if !documented[p] {
			t.Errorf("%s is served but not in docs/api.yaml", p)
		}
	}
	for p := range documented {
		if !served[p] {
			t.Errorf("%s is in docs/api.yaml but not served", p)
		}
	}
}

// TestServiceStopsDuringALargeCase: SIGTERM while a large case is being
// archived ends archivd run with exit 0; the case resumes on the next
// start. A second instance meanwhile is refused with 75, naming the first.
func TestServiceStopsDuringALargeCase(t *testing.T) {
	cfg, dir, inbox := daemonSetup(t)
	cmd, out := startDaemon(t, cfg)
	waitRunning(t, dir, cmd.Process.Pid)
	second := archivd(t, "run", "--config", cfg)
	if second.code != exitLocked || !strings.Contains(second.stderr, "archivd run, pid") {
		t.Errorf("second instance: %d %s", second.code, second.stderr)
	}
	deliverCase(t, inbox, "Gross", 64<<20, false)
	within(t, "the large case to be claimed", func() {
		for !empty(inbox) {
			ents, _ := os.ReadDir(inbox)
			if len(ents) == 0 || (len(ents) == 1 && !ents[0].IsDir()) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, cmd)
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d after SIGTERM during a large case\n%s", code, out)
	}
	cmd, out = startDaemon(t, cfg)
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		waitExit(t, cmd)
	}()
	within(t, "the large case archived after the restart", func() {
		for !drained(inbox, filepath.Join(dir, "var", "work")) {
			time.Sleep(50 * time.Millisecond)
		}
	})
	db, _ := sql.Open("sqlite", filepath.Join(dir, "var", "catalog.db"))
	defer db.Close()
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM ingests WHERE origin = 'inbox amt/Gross' AND state = 'committed'`).Scan(&n)
	if n != 1 {
		t.Errorf("the large case is archived %d times\n%s", n, out)
	}
}

// TestServiceWaitsForACommand: archivd run starting while a command holds
// the data directory waits for it instead of failing.
func TestServiceWaitsForACommand(t *testing.T) {
	cfg, dir, _ := daemonSetup(t)
	os.MkdirAll(filepath.Join(dir, "var"), 0o750)
	lock := filepath.Join(dir, "var", "lock")
	f, _ := os.OpenFile(lock, os.O_CREATE|os.O_RDWR, 0o640)
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	f.WriteString("archivd verify, pid 1, since now\n")
	cmd, out := startDaemon(t, cfg)
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	}()
	select {
	case <-exited:
		t.Fatalf("archivd run gave up while a command held the lock (exit %d):\n%s", cmd.ProcessState.ExitCode(), out)
	case <-time.After(500 * time.Millisecond):
	}
	f.Close() // the command ends
	waitRunning(t, dir, cmd.Process.Pid)
}
