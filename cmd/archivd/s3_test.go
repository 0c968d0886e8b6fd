package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/demo"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage/s3/s3test"
	"github.com/minio/minio-go/v7"
)

// onEveryS3Server runs a fault test against each kind of S3 server the
// harness starts.
func onEveryS3Server(t *testing.T, test func(t *testing.T, srv *s3test.Server)) {
	for _, kind := range s3test.Servers() {
		t.Run(kind, func(t *testing.T) { test(t, s3test.StartKind(t, kind)) })
	}
}

// s3Config writes a configuration with a local location and an S3 one on
// srv, credentials in a file beside it.
func s3Config(t *testing.T, srv *s3test.Server, bucket string, extra string) (cfg, dir string) {
	t.Helper()
	dir = t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	cred := filepath.Join(dir, "etc", "s3.cred")
	os.WriteFile(cred, []byte(fmt.Sprintf("# test keys\naccess_key_id = %s\nsecret_access_key = %s\n", srv.AccessKey, srv.SecretKey)), 0o600)
	cfg = filepath.Join(dir, "etc", "archivd.yaml")
	body := fmt.Sprintf(`data_dir: ../var
archive:
  organization: Testarchiv
  contact: mailto:test@example.org
formats:
  policy:
    unidentified: warn
locations:
  - name: local
    type: local
    path: ../var/storage
  - name: site-b
    type: s3
    endpoint: %s
    bucket: %s
    prefix: archivd
    ca_file: %s
    part_size_mib: 5
    credentials:
      file: s3.cred
%s`, srv.Endpoint, bucket, srv.CAFile, extra)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, dir
}

func TestS3TwoCopiesVerifyExportRebuild(t *testing.T) {
	onEveryS3Server(t, testS3TwoCopiesVerifyExportRebuild)
}

func testS3TwoCopiesVerifyExportRebuild(t *testing.T, srv *s3test.Server) {
	srv.MakeBucket(t, "archiv", true)
	cfg, dir := s3Config(t, srv, "archiv", "    object_lock:\n      mode: governance\n      days: 1\n")
	if r := archivd(t, "locations", "check", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "object lock: on") {
		t.Fatalf("locations check: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	caseDir := demo2Case(t, dir) // a package over 128 KiB: MinIO stores it in a part file
	r := archivd(t, "ingest", "--config", cfg, caseDir)
	if r.code != 0 {
		t.Fatalf("ingest: %d %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	r = archivd(t, "verify", "--config", cfg, id)
	if r.code != 0 || !strings.Contains(r.stdout, "OK "+id+" at local") || !strings.Contains(r.stdout, "OK "+id+" at site-b") {
		t.Fatalf("verify: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The S3 prefix is a valid OCFL storage root.
	if res := ocfl.ValidateRoot(os.DirFS(srv.Download(t, "archiv", "archivd"))); !res.Valid() {
		t.Fatalf("S3 storage root invalid: %v", res.Errors)
	}
	// Export from S3 when the local copy is gone.
	os.RemoveAll(filepath.Join(dir, "var", "storage"))
	out := filepath.Join(dir, "out")
	if r := archivd(t, "export", "--config", cfg, id, out); r.code != 0 {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	if same, err := demo.SameTree(caseDir, out); !same {
		t.Fatalf("export from S3 differs: %v", err)
	}
	// replicate restores the lost local copy from S3.
	ctx := context.Background()
	db, _ := catalog.Open(ctx, filepath.Join(dir, "var", "catalog.db"))
	db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM copies WHERE location = 'local'`)
		return err
	})
	db.Close()
	r = archivd(t, "replicate", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "1 copy(ies) made") {
		t.Fatalf("replicate: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = archivd(t, "replicate", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "0 copy(ies) made") {
		t.Fatalf("second replicate is not a no-op: %d %s", r.code, r.stdout)
	}
	if r := archivd(t, "verify", "--config", cfg, id); r.code != 0 {
		t.Fatalf("verify after replicate: %d %s", r.code, r.stdout)
	}
	// Legal hold on and off, on every copy.
	if r := archivd(t, "hold", "set", "--config", cfg, "--reason", "Auskunftsersuchen 12/2026", id); r.code != 0 || !strings.Contains(r.stdout, "site-b: legal hold set") {
		t.Fatalf("hold set: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "hold", "clear", "--config", cfg, "--reason", "erledigt", id); r.code != 0 {
		t.Fatalf("hold clear: %d %s", r.code, r.stdout)
	}
	// Rebuild from both locations gives the same catalog.
	rebuildKeeps(t, cfg, dir, "catalog.db", "catalog.db-wal", "catalog.db-shm")
	// Damage on the S3 copy is found and named.
	srv.Damage(t, "archiv", "archivd/"+ocfl.ObjectPath(id)+"/v1/content/"+aip.MustParseID(id).PackageFile(1))
	r = archivd(t, "verify", "--config", cfg, id)
	if r.code != exitDataErr || !strings.Contains(r.stdout, "DAMAGED "+id+" at site-b") {
		t.Fatalf("verify of damaged S3 copy: %d %s", r.code, r.stdout)
	}
}

func TestS3DownAtStartThenResume(t *testing.T) { onEveryS3Server(t, testS3DownAtStartThenResume) }

func testS3DownAtStartThenResume(t *testing.T, srv *s3test.Server) {
	srv.MakeBucket(t, "archiv", false)
	cfg, dir := s3Config(t, srv, "archiv", "")
	caseDir := sampleCase(t, dir)
	before := snapshot(t, caseDir)
	srv.Stop()
	r := archivd(t, "ingest", "--config", cfg, caseDir)
	if r.code != exitUnavailable || !strings.Contains(r.stderr, "site-b") || !strings.Contains(r.stderr, "unreachable") {
		t.Fatalf("ingest with the server down: %d %s", r.code, r.stderr)
	}
	if snapshot(t, caseDir) != before {
		t.Fatal("the case folder changed")
	}
	firstID := strings.Fields(strings.SplitN(r.stderr, "ingest ", 2)[1])[0]
	srv.Restart(t)
	r = archivd(t, "ingest", "--config", cfg, caseDir)
	if r.code != 0 {
		t.Fatalf("retry: %d %s", r.code, r.stderr)
	}
	if id := strings.TrimSpace(r.stdout); id != firstID {
		t.Fatalf("retry made a new AIP %s instead of resuming %s", id, firstID)
	}
	if r := archivd(t, "verify", "--config", cfg, firstID); r.code != 0 {
		t.Fatalf("verify: %d %s", r.code, r.stdout)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "var", "staging")); len(ents) != 0 {
		t.Errorf("staging not cleaned after the resumed ingest: %v", ents)
	}
}

func TestS3WrongCredentialsAndMissingBucket(t *testing.T) {
	onEveryS3Server(t, testS3WrongCredentialsAndMissingBucket)
}

func testS3WrongCredentialsAndMissingBucket(t *testing.T, srv *s3test.Server) {
	srv.MakeBucket(t, "archiv", false)
	for _, tc := range []struct{ name, bucket, want string }{
		{"missing bucket", "no-such-bucket", `bucket "no-such-bucket" does not exist`},
		{"wrong credentials", "archiv", "credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, dir := s3Config(t, srv, tc.bucket, "")
			if tc.name == "wrong credentials" {
				os.WriteFile(filepath.Join(dir, "etc", "s3.cred"), []byte("access_key_id = nobody\nsecret_access_key = wrong\n"), 0o600)
			}
			if r := archivd(t, "locations", "check", "--config", cfg); r.code != exitUnavailable || !strings.Contains(r.stdout, tc.want) {
				t.Errorf("locations check: %d %s", r.code, r.stdout)
			}
			caseDir := sampleCase(t, dir)
			before := snapshot(t, caseDir)
			r := archivd(t, "ingest", "--config", cfg, caseDir)
			if r.code != exitUnavailable || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("ingest: %d %s", r.code, r.stderr)
			}
			if snapshot(t, caseDir) != before {
				t.Fatal("the case folder changed")
			}
		})
	}
}

func TestS3OneLocationDownAllowMissing(t *testing.T) {
	onEveryS3Server(t, testS3OneLocationDownAllowMissing)
}

func testS3OneLocationDownAllowMissing(t *testing.T, srv *s3test.Server) {
	srv.MakeBucket(t, "archiv", false)
	cfg, dir := s3Config(t, srv, "archiv", "copies:\n  required: [local, site-b]\n  allow_missing: true\n")
	srv.Stop()
	r := archivd(t, "ingest", "--config", cfg, sampleCase(t, dir))
	if r.code != 0 {
		t.Fatalf("ingest with allow_missing: %d %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	r = archivd(t, "verify", "--config", cfg, id)
	if r.code != exitUnavailable || !strings.Contains(r.stdout, "MISSING "+id+" at site-b") {
		t.Fatalf("verify with a missing copy: %d %s", r.code, r.stdout)
	}
	srv.Restart(t)
	if r := archivd(t, "replicate", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "1 copy(ies) made") {
		t.Fatalf("replicate: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "verify", "--config", cfg, id); r.code != 0 {
		t.Fatalf("verify after replicate: %d %s", r.code, r.stdout)
	}
	// The gap and its repair are in the audit trail.
	ctx := context.Background()
	db, _ := catalog.Open(ctx, filepath.Join(dir, "var", "catalog.db"))
	defer db.Close()
	dump, _ := db.Dump(ctx)
	if !strings.Contains(dump, "type=replication aip="+id+" location=site-b outcome=failure") ||
		!strings.Contains(dump, "type=replication aip="+id+" location=site-b outcome=success") {
		t.Errorf("replication events missing from the trail:\n%s", dump)
	}
}

// TestS3ServerKilledMidUpload kills the server while a multipart upload is
// under way, restarts it, and checks that the retry resumes the same AIP,
// creates no second object and leaves a valid storage root.
// TestS3ServerKilledMidUpload: the server dies while a package is
// uploaded; the retry after its restart makes exactly one object, and the
// cut-off upload stays noted until it is aborted (MinIO would never list
// it under the prefix).
func TestS3ServerKilledMidUpload(t *testing.T) { onEveryS3Server(t, testS3ServerKilledMidUpload) }

func testS3ServerKilledMidUpload(t *testing.T, srv *s3test.Server) {
	srv.MakeBucket(t, "archiv", false)
	cfg, dir := s3Config(t, srv, "archiv", "")
	caseDir := filepath.Join(dir, "big-case")
	os.MkdirAll(caseDir, 0o755)
	big := make([]byte, 48<<20) // random: zstd cannot shrink it, so the upload takes several parts
	rand.Read(big)
	os.WriteFile(filepath.Join(caseDir, "scan.tif"), big, 0o644)

	done := make(chan result, 1)
	go func() { done <- archivd(t, "ingest", "--config", cfg, caseDir) }()
	// Wait until the upload has begun on the server, then kill it.
	journal := filepath.Join(dir, "var", "uploads", "site-b")
	client := srv.Client(t)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && !uploadStarted(client, journal) {
		time.Sleep(5 * time.Millisecond)
	}
	srv.Stop()
	r := <-done
	if r.code != exitUnavailable {
		t.Fatalf("ingest with the server killed: %d %s", r.code, r.stderr)
	}
	srv.Restart(t)
	r = archivd(t, "ingest", "--config", cfg, caseDir)
	if r.code != 0 {
		t.Fatalf("retry: %d %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	root := srv.Download(t, "archiv", "archivd")
	objects, _ := filepath.Glob(filepath.Join(root, "*", "*", "*", "urn*"))
	if len(objects) != 1 {
		t.Fatalf("want exactly one object on S3, found %v", objects)
	}
	if res := ocfl.ValidateRoot(os.DirFS(root)); !res.Valid() {
		t.Fatalf("S3 storage root invalid: %v", res.Errors)
	}
	// The cut-off upload is still on the server, and still noted: the
	// retry's success did not forget it.
	if !uploadStarted(client, journal) {
		t.Error("the cut-off upload is no longer noted (or no longer on the server): nothing would abort it")
	}
	if r := archivd(t, "verify", "--config", cfg, id); r.code != 0 {
		t.Fatalf("verify: %d %s", r.code, r.stdout)
	}
}

// uploadStarted reports whether an upload archivd noted in its journal
// is on the server, asked for by exact key (which every server answers).
func uploadStarted(client *minio.Client, journal string) bool {
	notes, _ := os.ReadDir(journal)
	for _, n := range notes {
		key, err := os.ReadFile(filepath.Join(journal, n.Name()))
		if err != nil {
			continue
		}
		for u := range client.ListIncompleteUploads(context.Background(), "archiv", string(key), false) {
			if u.Err == nil && u.Key == string(key) {
				return true
			}
		}
	}
	return false
}

// TestS3DamageFoundByMinIO: MinIO answers a package whose stored bytes
// fail its own check with 503 SlowDownRead. verify says DAMAGED and exits
// 65 naming the package, not UNAVAILABLE/69 ("retry later"), because the
// server answers for everything else.
func TestS3DamageFoundByMinIO(t *testing.T) {
	srv := s3test.StartMinIO(t)
	srv.MakeBucket(t, "archiv", true)
	cfg, dir := s3Config(t, srv, "archiv", "")
	r := archivd(t, "ingest", "--config", cfg, demo2Case(t, dir))
	if r.code != 0 {
		t.Fatalf("ingest: %d %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	if r := archivd(t, "verify", "--config", cfg, id); r.code != 0 {
		t.Fatalf("verify before the damage: %d %s %s", r.code, r.stdout, r.stderr)
	}
	srv.Damage(t, "archiv", "archivd/"+ocfl.ObjectPath(id)+"/v1/content/"+aip.MustParseID(id).PackageFile(1))
	r = archivd(t, "verify", "--config", cfg, id)
	if r.code != exitDataErr || !strings.Contains(r.stdout, ".tar.zst") || !strings.Contains(r.stdout, "answers for other objects") {
		t.Fatalf("verify of a package MinIO finds damaged: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// demo2Case writes a case whose package is larger than MinIO keeps inline
// (128 KiB): the sample case plus 512 KiB of random bytes.
func demo2Case(t *testing.T, dir string) string {
	t.Helper()
	c := sampleCase(t, dir)
	noise := make([]byte, 512<<10)
	rand.Read(noise)
	if err := os.WriteFile(filepath.Join(c, "Scan.bin"), noise, 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}
