package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
	"github.com/archivd/archivd/storage/s3"
	"github.com/archivd/archivd/storage/s3/s3test"
	"github.com/archivd/archivd/storage/storagetest"
)

var bucketN atomic.Int32

func newBucket(t *testing.T, srv *s3test.Server, lock bool) (*s3.Store, string) {
	t.Helper()
	name := fmt.Sprintf("b%03d", bucketN.Add(1))
	srv.MakeBucket(t, name, lock)
	cfg := srv.Config(name)
	cfg.Prefix = "archiv/aips"
	st, err := s3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st, name
}

// onEveryServer runs a test against each kind of S3 server the harness
// starts: what must hold must hold on all of them.
func onEveryServer(t *testing.T, test func(t *testing.T, srv *s3test.Server)) {
	for _, kind := range s3test.Servers() {
		t.Run(kind, func(t *testing.T) { test(t, s3test.StartKind(t, kind)) })
	}
}

func TestConformance(t *testing.T) { onEveryServer(t, testConformance) }

// testConformance runs the storage contract on a plain bucket, on one
// with versioning only, and on one with Object Lock (and so versioning).
func testConformance(t *testing.T, srv *s3test.Server) {
	for _, kind := range []string{"plain", "versioned", "object-lock"} {
		t.Run(kind, func(t *testing.T) { testConformanceOn(t, srv, kind) })
	}
}

func testConformanceOn(t *testing.T, srv *s3test.Server, kind string) {
	buckets := map[storage.Store]string{}
	storagetest.Run(t, storagetest.Env{
		Open: func(t *testing.T) storage.Store {
			st, b := newBucket(t, srv, kind == "object-lock")
			if kind == "versioned" {
				if err := srv.Client(t).EnableVersioning(context.Background(), b); err != nil {
					t.Fatalf("enable versioning on %s: %v", b, err)
				}
			}
			buckets[st] = b
			return st
		},
		// The bucket prefix, as any S3 client sees it, is a valid OCFL
		// storage root.
		Validate: func(t *testing.T, s storage.Store) {
			dir := srv.Download(t, buckets[s], "archiv/aips")
			if ents, _ := os.ReadDir(dir); len(ents) == 0 {
				return // nothing written yet
			}
			r := ocfl.ValidateRoot(os.DirFS(dir))
			if !r.Valid() {
				t.Fatalf("S3 storage root is not valid OCFL: %v", r.Errors)
			}
		},
	})
}

func TestProbe(t *testing.T) { onEveryServer(t, testProbe) }

func testProbe(t *testing.T, srv *s3test.Server) {
	ctx := context.Background()
	st, lockBucket := newBucket(t, srv, true)
	c := st.Probe(ctx)
	if !c.Reachable || !c.BucketFound || !c.Writable || !c.ObjectLock || len(c.Problems) > 0 || len(c.Warnings) > 0 {
		t.Errorf("probe of a lock bucket: %+v", c)
	}
	// The writability probe leaves nothing behind.
	client := srv.Client(t)
	for o := range client.ListObjects(ctx, lockBucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		t.Errorf("probe left an object behind: %s %v", o.Key, o.Err)
	}
	for u := range client.ListIncompleteUploads(ctx, lockBucket, "", true) {
		t.Errorf("probe left an upload behind: %s", u.Key)
	}
	// A default retention on the bucket is warned about.
	mode, days, unit := minio.Governance, uint(1), minio.Days
	if err := client.SetObjectLockConfig(ctx, lockBucket, &mode, &days, &unit); err != nil {
		t.Fatal(err)
	}
	if c := st.Probe(ctx); len(c.Warnings) == 0 || !strings.Contains(c.Warnings[0], "default retention") {
		t.Errorf("default retention not warned about: %+v", c)
	}
	cfg := srv.Config("no-such-bucket")
	missing, _ := s3.New(cfg)
	if c := missing.Probe(ctx); c.BucketFound || c.Checked || !c.Reachable || len(c.Problems) == 0 || !strings.Contains(c.Problems[0], "does not exist") {
		t.Errorf("probe of a missing bucket: %+v", c)
	}
	cfg = srv.Config(lockBucket)
	cfg.SecretKey = "wrong"
	bad, _ := s3.New(cfg)
	if c := bad.Probe(ctx); len(c.Problems) == 0 || !strings.Contains(c.Problems[0], "credentials") || !c.Reachable || c.Checked {
		t.Errorf("probe with wrong credentials: %+v", c)
	}
	cfg = srv.Config(lockBucket)
	cfg.CAFile = ""
	untrusted, _ := s3.New(cfg)
	if c := untrusted.Probe(ctx); len(c.Problems) == 0 || !strings.Contains(c.Problems[0], "TLS certificate is not trusted (set the location's ca_file") || c.Checked {
		t.Errorf("probe without the CA: %+v", c)
	}
}

func TestObjectLock(t *testing.T) { onEveryServer(t, testObjectLock) }

func testObjectLock(t *testing.T, srv *s3test.Server) {
	ctx := context.Background()
	st, bucket := newBucket(t, srv, true)
	_ = bucket
	id := "urn:uuid:01937a3b-6c2e-7cc0-8a1b-00000000a0c1"
	body := []byte("package bytes under retention")
	c := storagetest.NewCommit(t, nil, id, storage.File{Path: "pkg.tar.zst", Data: body, Size: int64(len(body)), Digests: digestOf(body)})
	if err := st.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := st.Retain(ctx, id, 1, time.Now().Add(24*time.Hour)); err == nil {
		t.Fatal("Retain without object_lock configured succeeded")
	}
	cfg := srv.Config(bucket)
	cfg.Prefix = "archiv/aips"
	cfg.Lock = &s3.LockConfig{Mode: "GOVERNANCE", Days: 1}
	locked, err := s3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := locked.RetainFor(ctx, id, 1, time.Now()); err != nil {
		t.Fatalf("RetainFor: %v", err)
	}
	info, err := locked.Stat(ctx, id, "v1/content/pkg.tar.zst")
	if err != nil || info.VersionID == "" {
		t.Fatalf("Stat: %+v %v", info, err)
	}
	if err := locked.Delete(ctx, id, "v1/content/pkg.tar.zst", info.VersionID); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("deleting a retained version: want ErrLocked, got %v", err)
	}
	// A sealed audit segment and the storage root's own files are locked
	// with the location's retention as they are written.
	if err := locked.PutExtension(ctx, "segments/000001.jsonl", []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	client := srv.Client(t)
	for _, key := range []string{"archiv/aips/extensions/archivd-audit-log/segments/000001.jsonl"} {
		info, err := client.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		err = client.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: info.VersionID})
		if err == nil {
			t.Errorf("the stored audit segment %s could be deleted", key)
		}
	}
	fresh, freshBucket := newBucket(t, srv, true)
	fcfg := srv.Config(freshBucket)
	fcfg.Prefix = "archiv/aips"
	fcfg.Lock = &s3.LockConfig{Mode: "GOVERNANCE", Days: 1}
	if fresh, err = s3.New(fcfg); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Init(ctx); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"archiv/aips/0=ocfl_1.1", "archiv/aips/ocfl_layout.json"} {
		info, err := client.StatObject(ctx, freshBucket, key, minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.RemoveObject(ctx, freshBucket, key, minio.RemoveObjectOptions{VersionID: info.VersionID}); err == nil {
			t.Errorf("the storage root's %s could be deleted", key)
		}
	}
	// Without its root inventory, sidecar and declaration no reader finds
	// the versions: they are locked too.
	for _, p := range []string{"inventory.json", "inventory.json.sha512", "0=ocfl_object_1.1"} {
		info, err := locked.Stat(ctx, id, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := locked.Delete(ctx, id, p, info.VersionID); !errors.Is(err, storage.ErrLocked) {
			t.Errorf("deleting the retained %s: want ErrLocked, got %v", p, err)
		}
	}
	if err := locked.LegalHold(ctx, id, true); err != nil {
		t.Fatalf("legal hold on: %v", err)
	}
	if err := locked.LegalHold(ctx, id, false); err != nil {
		t.Fatalf("legal hold off: %v", err)
	}
	// Still readable and intact.
	rc, err := locked.Open(ctx, id, "v1/content/pkg.tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != string(body) {
		t.Fatalf("content = %q", got)
	}
	// A delete without a version id succeeds but only hides the locked
	// version behind a delete marker: "missing" says so.
	if err := locked.Delete(ctx, id, "v1/content/pkg.tar.zst", ""); err != nil {
		t.Fatalf("delete without a version id: %v", err)
	}
	_, err = locked.Open(ctx, id, "v1/content/pkg.tar.zst")
	if !errors.Is(err, storage.ErrNotFound) || !strings.Contains(err.Error(), "hidden behind delete marker") || !strings.Contains(err.Error(), info.VersionID) {
		t.Fatalf("opening an object behind a delete marker: %v", err)
	}
}

func digestOf(b []byte) digest.Pair { return digest.Of(b) }

// TestAbortStaleUploads: an upload cut off mid-way (the server went down,
// so the client could not abort it either, as after a crash) leaves parts
// on the server; the next start aborts them. MinIO lists incomplete
// uploads only for an exact key, so there the journal of uploads in
// flight is what finds them.
func TestAbortStaleUploads(t *testing.T) { onEveryServer(t, testAbortStaleUploads) }

func testAbortStaleUploads(t *testing.T, srv *s3test.Server) {
	ctx := context.Background()
	st, bucket := newBucket(t, srv, false)
	journal := t.TempDir()
	st.SetUploadJournal(journal)
	id := "urn:uuid:01937a3b-6c2e-7cc0-8a1b-00000000ab07"
	big := make([]byte, 24<<20) // parts of 5 MiB
	for i := range big {
		big[i] = byte(i * 7)
	}
	src := t.TempDir() + "/big.bin"
	os.WriteFile(src, big, 0o644)
	key := "archiv/aips/" + ocfl.ObjectPath(id) + "/v1/content/big.bin"
	client := srv.Client(t)
	uploading := func() int {
		n := 0
		for u := range client.ListIncompleteUploads(ctx, bucket, key, true) {
			if u.Err == nil && u.Key == key {
				n++
			}
		}
		return n
	}
	stopped := make(chan struct{})
	go func() { // the server goes down once the upload has begun
		defer close(stopped)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && uploading() == 0; {
			time.Sleep(2 * time.Millisecond)
		}
		srv.Stop()
	}()
	c := storagetest.NewCommit(t, nil, id, storage.File{Path: "big.bin", Source: src, Size: int64(len(big)), Digests: digestOf(big)})
	if err := st.Commit(ctx, c); err == nil {
		t.Fatal("the commit succeeded while its server went down")
	}
	<-stopped
	srv.Restart(t)
	if uploading() == 0 {
		t.Fatal("the upload cut off left nothing behind; the test proves nothing")
	}
	if notes, _ := os.ReadDir(journal); len(notes) != 1 {
		t.Fatalf("journal holds %d notes, want 1", len(notes))
	}
	if n, err := st.AbortStaleUploads(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("a fresh upload was aborted: %d %v", n, err)
	}
	if srv.Kind == s3test.MinIO {
		// Without the journal nothing finds it: MinIO does not list by prefix.
		st.SetUploadJournal("")
		if n, err := st.AbortStaleUploads(ctx, 0); err != nil || n != 0 {
			t.Fatalf("MinIO listed an upload under a prefix (%d, %v): the journal may no longer be needed", n, err)
		}
		st.SetUploadJournal(journal)
	}
	time.Sleep(10 * time.Millisecond)
	if n, err := st.AbortStaleUploads(ctx, 0); err != nil || n != 1 {
		t.Fatalf("AbortStaleUploads = %d, %v; want 1", n, err)
	}
	if n := uploading(); n != 0 {
		t.Errorf("%d uploads still there", n)
	}
	if notes, _ := os.ReadDir(journal); len(notes) != 0 {
		t.Errorf("journal still holds %d notes", len(notes))
	}
	// A commit that completes leaves no note.
	if err := st.Commit(ctx, storagetest.NewCommit(t, nil, id, storage.File{Path: "big.bin", Source: src, Size: int64(len(big)), Digests: digestOf(big)})); err != nil {
		t.Fatal(err)
	}
	if notes, _ := os.ReadDir(journal); len(notes) != 0 {
		t.Errorf("a finished upload left %d notes", len(notes))
	}
}

// TestServerFoundDamageIsDamage: MinIO checks its stored bytes on every
// read and answers a damaged object with 503 SlowDownRead. While the
// server answers for other objects that is damage of this copy (exit 65),
// not an outage to retry later; a server that is down stays an outage.
func TestServerFoundDamageIsDamage(t *testing.T) {
	srv := s3test.StartMinIO(t)
	ctx := context.Background()
	st, bucket := newBucket(t, srv, false)
	id := "urn:uuid:01937a3b-6c2e-7cc0-8a1b-00000000da7a"
	body := make([]byte, 1<<20) // stored in a part file of its own, not inline
	for i := range body {
		body[i] = byte(i * 13)
	}
	if err := st.Commit(ctx, storagetest.NewCommit(t, nil, id, storage.File{Path: "pkg.tar.zst", Data: body, Size: int64(len(body)), Digests: digestOf(body)})); err != nil {
		t.Fatal(err)
	}
	srv.Damage(t, bucket, "archiv/aips/"+ocfl.ObjectPath(id)+"/v1/content/pkg.tar.zst")
	read := func() error {
		rc, err := st.Open(ctx, id, "v1/content/pkg.tar.zst")
		if err != nil {
			return err
		}
		defer rc.Close()
		got, err := io.ReadAll(rc)
		if err == nil && !bytes.Equal(got, body) {
			return fmt.Errorf("read %d bytes that differ: %w", len(got), storage.ErrDigest)
		}
		return err
	}
	err := read()
	if !errors.Is(err, storage.ErrUnreadable) || !strings.Contains(err.Error(), "answers for other objects") {
		t.Fatalf("reading an object MinIO finds damaged: want ErrUnreadable, got %v", err)
	}
	if !storage.IsDamage(err) || errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("damage reported as an outage: %v", err)
	}
	srv.Stop()
	if err := read(); !errors.Is(err, storage.ErrUnavailable) || storage.IsDamage(err) {
		t.Errorf("reading while the server is down: want ErrUnavailable, got %v", err)
	}
}
