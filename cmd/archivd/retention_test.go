package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/report"
	"github.com/archivd/archivd/storage/s3/s3test"
)

const retentionClasses = `retention:
  classes:
    - name: kurz
      match: {record_class: "10.*"}
      years: 1
      action: destroy
    - name: anbieten
      match: {record_class: "20.*"}
      years: 5
      action: offer
    - name: lang
      match: {record_class: "30.*"}
      years: 30
      action: review
      lock_mode: compliance
`

// retentionCase writes a case folder with a case.yaml of record class rc
// closed on closed.
func retentionCase(t *testing.T, dir, name, rc, closed string) string {
	t.Helper()
	c := filepath.Join(dir, name)
	os.MkdirAll(filepath.Join(c, "Schriftverkehr"), 0o755)
	os.WriteFile(filepath.Join(c, "Schriftverkehr", "Brief.txt"), []byte("Sehr geehrte Damen und Herren, "+name+"\n"), 0o644)
	os.WriteFile(filepath.Join(c, "Vermerk.txt"), []byte("Vermerk "+name+"\n"), 0o644)
	os.WriteFile(filepath.Join(c, "case.yaml"), []byte(fmt.Sprintf("title: Akte %s\nreference: %s/2019\nrecord_class: %q\nclosed: %s\n", name, name, rc, closed)), 0o644)
	return c
}

// asOtherAccount runs archivd as the account nobody: the second pair of
// eyes. The test runs as root (CI does); the data directory is opened up
// for the other account first.
func asOtherAccount(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("a second account is needed for four eyes: this test must run as root (CI does) to act as nobody")
	}
	bin := filepath.Join(os.TempDir(), fmt.Sprintf("archivd-test-%d", os.Getpid()))
	if _, err := os.Stat(bin); err != nil {
		if out, err := exec.Command("cp", os.Args[0], bin).CombinedOutput(); err != nil {
			t.Fatalf("copy the test binary: %v %s", err, out)
		}
		os.Chmod(bin, 0o755)
		t.Cleanup(func() { os.Remove(bin) })
	}
	for p := dir; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		os.Chmod(p, 0o777)
	}
	exec.Command("chmod", "-R", "a+rwX", dir).Run()
	// The other account approves; it needs no signing key, and the key
	// stays its owner's alone.
	keys, _ := filepath.Glob(filepath.Join(dir, "var", "keys", "*.pem"))
	for _, k := range keys {
		os.Chmod(k, 0o600)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "ARCHIVD_TEST_MAIN=1", "NO_COLOR=1", "HOME=/")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

func TestRetentionDisposalFourEyes(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "archivd.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir: %[1]s/var\narchive: {organization: Kreisarchiv Test}\nlocations:\n  - {name: a, type: local, path: %[1]s/a}\n  - {name: b, type: local, path: %[1]s/b}\n%s", dir, retentionClasses)), 0o644)
	ingest := func(name, rc, closed string) string {
		r := archivd(t, "ingest", "--config", cfg, retentionCase(t, dir, name, rc, closed))
		if r.code != 0 {
			t.Fatalf("ingest %s: %d %s", name, r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	a, b, c, d := ingest("A", "10.1", "2020-03-01"), ingest("B", "10.2", "2020-03-01"), ingest("C", "20.1", "2010-01-01"), ingest("D", "30.1", "2020-03-01")
	if r := archivd(t, "keygen", "--config", cfg); r.code != 0 {
		t.Fatalf("keygen: %s", r.stderr)
	}
	if r := archivd(t, "verify", "--config", cfg, "--all"); r.code != 0 || strings.Count(r.stdout, "OK ") != 8 {
		t.Fatalf("verify --all: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The retention is recorded in the package's bag-info.txt.
	infos, _ := filepath.Glob(filepath.Join(dir, "a", "*", "*", "*", "*", "v1", "content", "*", "bag-info.txt"))
	recorded := 0
	for _, p := range infos {
		bi, _ := os.ReadFile(p)
		if strings.Contains(string(bi), "Retention-Class: kurz") && strings.Contains(string(bi), "Retention-Ends: 2021-12-31") {
			recorded++
		}
	}
	if recorded != 2 {
		t.Errorf("bag-info.txt of the two kurz AIPs should record their retention; %d of %d do", recorded, len(infos))
	}
	if r := archivd(t, "retention", "classes", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "kurz") || !strings.Contains(r.stdout, "30 years") {
		t.Errorf("retention classes: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r := archivd(t, "retention", "due", "--config", cfg, "--format", "json")
	var due []struct{ AIP, Class, Ended string }
	if err := json.Unmarshal([]byte(r.stdout), &due); err != nil || len(due) != 3 {
		t.Fatalf("retention due: %v %s", err, r.stdout)
	}
	for _, x := range due {
		if x.AIP == d {
			t.Errorf("D (30 years) is listed as due")
		}
	}

	// A hold blocks the proposal; proposals need reasons; four eyes.
	if r := archivd(t, "hold", "set", "--config", cfg, "--reason", "Klage anhängig, Az. 5 K 12/26", b); r.code != 0 {
		t.Fatalf("hold set: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "hold", "list", "--config", cfg); !strings.Contains(r.stdout, "Klage anhängig") {
		t.Errorf("hold list: %s", r.stdout)
	}
	if r := archivd(t, "dispose", "propose", "--config", cfg, "--reason", "Frist abgelaufen", a, b); r.code != exitDataErr || !strings.Contains(r.stderr, "under legal hold") {
		t.Fatalf("a proposal with a held AIP: %d %s", r.code, r.stderr)
	}
	if r := archivd(t, "dispose", "propose", "--config", cfg, "--reason", "Frist abgelaufen", d); r.code != exitDataErr || !strings.Contains(r.stderr, "not due") {
		t.Fatalf("a proposal of an AIP not due: %d %s", r.code, r.stderr)
	}
	r = archivd(t, "dispose", "propose", "--config", cfg, "--reason", "Aufbewahrungsfrist abgelaufen", "--name", "Frau Meier", a)
	if r.code != 0 {
		t.Fatalf("propose: %d %s", r.code, r.stderr)
	}
	batch := strings.Fields(r.stdout)[1]
	if r := archivd(t, "dispose", "execute", "--config", cfg, batch); r.code == 0 {
		t.Fatal("an unapproved batch was executed")
	}
	if r := archivd(t, "dispose", "approve", "--config", cfg, "--name", "Herr Schulz", batch); r.code != exitDataErr || !strings.Contains(r.stderr, "another account") {
		t.Fatalf("the proposer approved under another display name: %d %s", r.code, r.stderr)
	}
	if code, out := asOtherAccount(t, dir, "dispose", "approve", "--config", cfg, "--name", "Herr Schulz", batch); code != 0 {
		t.Fatalf("approval by another account: %d %s", code, out)
	}
	// Killed after the third stored file is deleted; run again, it resumes.
	kill := proc("dispose", "execute", "--config", cfg, batch)
	kill.Env = append(kill.Env, "ARCHIVD_CRASH_AT=dispose-object-deleted:3")
	if out, err := kill.CombinedOutput(); err == nil || !kill.ProcessState.Sys().(syscall.WaitStatus).Signaled() {
		t.Fatalf("the execution was not killed: %v %s", err, out)
	}
	r = archivd(t, "dispose", "execute", "--config", cfg, batch)
	if r.code != 0 || !strings.Contains(r.stdout, "DESTROYED "+a) {
		t.Fatalf("execute after the kill: %d %s %s", r.code, r.stdout, r.stderr)
	}
	cert := filepath.Join(dir, "var", "reports", "deletion-"+batch+".json")
	if r := archivd(t, "report", "verify", cert); r.code != 0 {
		t.Fatalf("certificate verify: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// An auditor checks it with openssl alone, as docs/verify-reports.md says.
	pub := filepath.Join(dir, "var", "keys", "archivd-signing.pub.pem")
	if out, err := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", cert, "-sigfile", cert+".sig").CombinedOutput(); err != nil {
		t.Errorf("openssl does not verify the certificate: %v %s", err, out)
	}
	var cc report.Certificate
	cb, _ := os.ReadFile(cert)
	json.Unmarshal(cb, &cc)
	// Every stored file of A on both locations, each exactly once.
	seen := map[string]int{}
	for _, o := range cc.Objects {
		seen[o.Location+" "+o.Path]++
	}
	perLoc := map[string]int{}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", k, n)
		}
		perLoc[strings.Fields(k)[0]]++
	}
	if perLoc["a"] < 6 || perLoc["a"] != perLoc["b"] || len(cc.AIPs) != 1 || cc.AIPs[0].Reference != "A/2019" ||
		!strings.Contains(cc.ProposedBy, "Frau Meier") || !strings.Contains(cc.ApprovedBy, "nobody") {
		t.Errorf("certificate: %d objects per location %v, AIPs %+v, proposed %q approved %q", len(cc.Objects), perLoc, cc.AIPs, cc.ProposedBy, cc.ApprovedBy)
	}
	objs, _ := filepath.Glob(filepath.Join(dir, "[ab]", "*", "*", "*", "*"+strings.TrimPrefix(a, "urn:uuid:")))
	if len(objs) != 0 {
		t.Errorf("A's objects remain: %v", objs)
	}
	if r := archivd(t, "verify", "--config", cfg, a); r.code == 0 {
		t.Error("verify still finds the destroyed AIP")
	}
	// A catalog rebuild keeps the tombstone and does not bring A back.
	if r := archivd(t, "catalog", "rebuild", "--config", cfg); r.code != 0 {
		t.Fatalf("rebuild: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "list", "--config", cfg, "--format", "csv"); strings.Contains(r.stdout, a) || !strings.Contains(r.stdout, b) {
		t.Errorf("list after the rebuild: %s", r.stdout)
	}
	if r := archivd(t, "retention", "due", "--config", cfg); !strings.Contains(r.stdout, "HOLD: Klage") {
		t.Errorf("the held AIP's hold is not shown after the rebuild: %s", r.stdout)
	}

	// Offer: exported as bags, destroyed only once the archive confirms.
	r = archivd(t, "dispose", "propose", "--config", cfg, "--reason", "dem Kreisarchiv anbieten", c)
	if r.code != 0 {
		t.Fatalf("propose offer: %d %s", r.code, r.stderr)
	}
	ob := strings.Fields(r.stdout)[1]
	if code, out := asOtherAccount(t, dir, "dispose", "approve", "--config", cfg, ob); code != 0 {
		t.Fatalf("approve offer: %d %s", code, out)
	}
	if r := archivd(t, "dispose", "execute", "--config", cfg, ob); r.code == 0 || !strings.Contains(r.stderr, "offer") {
		t.Fatalf("an offer batch executed without the transfer: %d %s", r.code, r.stderr)
	}
	out := filepath.Join(dir, "transfer")
	if r := archivd(t, "offer", "export", "--config", cfg, ob, out); r.code != 0 {
		t.Fatalf("offer export: %d %s %s", r.code, r.stdout, r.stderr)
	}
	bags, _ := filepath.Glob(filepath.Join(out, "*", "bagit.txt"))
	if len(bags) != 1 {
		t.Fatalf("offer export wrote %d bags", len(bags))
	}
	check := exec.Command("sha512sum", "--quiet", "-c", "manifest-sha512.txt")
	check.Dir = filepath.Dir(bags[0])
	if o, err := check.CombinedOutput(); err != nil {
		t.Errorf("the exported bag's manifest does not check: %v %s", err, o)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(bags[0]), "data")); err != nil {
		t.Errorf("the bag has no payload: %v", err)
	}
	if r := archivd(t, "offer", "confirm", "--config", cfg, ob); r.code != 0 || !strings.Contains(r.stdout, "DESTROYED "+c) {
		t.Fatalf("offer confirm: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "audit", "verify", "--config", cfg); r.code != 0 {
		t.Errorf("audit verify: %d %s", r.code, r.stdout)
	}
}

// TestS3RetentionObjectLock: on each real S3 server with Object Lock, a
// long class sets retain-until to the end of its period on the stored
// versions, which the server then refuses to delete; a hold sets the legal
// hold on every copy and blocks disposal; an approved disposal of an AIP
// whose copies the location's floor still locks stops with the reason and
// deletes nothing of it, not even the unlocked local copy.
func TestS3RetentionObjectLock(t *testing.T) { onEveryS3Server(t, testS3RetentionObjectLock) }

func testS3RetentionObjectLock(t *testing.T, srv *s3test.Server) {
	srv.MakeBucket(t, "archiv", true)
	cfg, dir := s3Config(t, srv, "archiv", "    object_lock:\n      mode: governance\n      days: 1\n"+retentionClasses)
	ingest := func(name, rc string) string {
		r := archivd(t, "ingest", "--config", cfg, retentionCase(t, dir, name, rc, "2020-03-01"))
		if r.code != 0 {
			t.Fatalf("ingest %s: %d %s", name, r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	short, long := ingest("K", "10.1"), ingest("L", "30.1")
	if r := archivd(t, "keygen", "--config", cfg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	ctx := context.Background()
	client := srv.Client(t)
	pkgKey := func(id string) string {
		return "archivd/" + ocfl.ObjectPath(id) + "/v1/content/" + aip.MustParseID(id).PackageFile(1)
	}
	// 30 years from the end of 2020, in Europe/Berlin: kept to 2050-12-31,
	// due at 2051-01-01 00:00 CET.
	info, err := client.StatObject(ctx, "archiv", pkgKey(long), minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	until := info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date")
	if until == "" {
		if _, u, err := client.GetObjectRetention(ctx, "archiv", pkgKey(long), info.VersionID); err == nil && u != nil {
			until = u.UTC().Format(time.RFC3339)
		}
	}
	if !strings.HasPrefix(until, "2050-12-31T23:00:00") {
		t.Errorf("retain-until of the 30-year AIP's package: %q, want 2050-12-31T23:00:00Z", until)
	}
	mode := info.Metadata.Get("X-Amz-Object-Lock-Mode")
	if mode == "" {
		if m, _, err := client.GetObjectRetention(ctx, "archiv", pkgKey(long), info.VersionID); err == nil && m != nil {
			mode = string(*m)
		}
	}
	if !strings.EqualFold(mode, "compliance") {
		t.Errorf("Object Lock mode of the 30-year AIP (class lock_mode compliance): %q", mode)
	}
	if err := client.RemoveObject(ctx, "archiv", pkgKey(long), minio.RemoveObjectOptions{VersionID: info.VersionID}); err == nil {
		t.Fatal("the server deleted a version before its retain-until")
	}
	// A hold: legal hold on every copy, no proposal.
	if r := archivd(t, "hold", "set", "--config", cfg, "--reason", "Prüfung Rechnungsprüfungsamt", short); r.code != 0 || !strings.Contains(r.stdout, "site-b: legal hold set") {
		t.Fatalf("hold set: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if st, err := client.GetObjectLegalHold(ctx, "archiv", pkgKey(short), minio.GetObjectLegalHoldOptions{}); err != nil || st == nil || *st != minio.LegalHoldEnabled {
		t.Errorf("legal hold on the S3 copy: %v %v", st, err)
	}
	if r := archivd(t, "dispose", "propose", "--config", cfg, "--reason", "Frist abgelaufen", short); r.code == 0 || !strings.Contains(r.stderr, "legal hold") {
		t.Fatalf("propose under hold: %d %s", r.code, r.stderr)
	}
	if r := archivd(t, "hold", "clear", "--config", cfg, "--reason", "Prüfung beendet", short); r.code != 0 {
		t.Fatalf("hold clear: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// Due by its class, but still under the location's one-day floor.
	r := archivd(t, "dispose", "propose", "--config", cfg, "--reason", "Frist abgelaufen", short)
	if r.code != 0 {
		t.Fatalf("propose: %d %s", r.code, r.stderr)
	}
	batch := strings.Fields(r.stdout)[1]
	for p := srv.CAFile; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		os.Chmod(p, 0o755) // the other account trusts the test server's CA too
	}
	os.Chmod(srv.CAFile, 0o644)
	if code, out := asOtherAccount(t, dir, "dispose", "approve", "--config", cfg, batch); code != 0 {
		t.Fatalf("approve: %d %s", code, out)
	}
	r = archivd(t, "dispose", "execute", "--config", cfg, batch)
	if r.code != exitDataErr || !strings.Contains(r.stdout, "KEPT      "+short) || !strings.Contains(r.stdout, "Object Lock at site-b still protects") {
		t.Fatalf("execute against Object Lock: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "verify", "--config", cfg, short); r.code != 0 {
		t.Fatalf("the AIP Object Lock protects lost a copy: %d %s", r.code, r.stdout)
	}
}
