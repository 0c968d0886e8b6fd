// Package storagetest is the conformance suite every storage.Store must
// pass: local folders and S3 servers alike.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
)

// Env is what the suite needs from an implementation.
type Env struct {
	// Open returns a fresh, empty store.
	Open func(t *testing.T) storage.Store
	// Validate, if set, checks the location as a whole (e.g. OCFL validation
	// of a local storage root) after every step.
	Validate func(t *testing.T, s storage.Store)
}

func file(p, content string) storage.File {
	return storage.File{Path: p, Data: []byte(content), Size: int64(len(content)), Digests: digest.Of([]byte(content))}
}

var user = ocfl.User{Name: "archivd storagetest", Address: "mailto:archiv@example.org"}
var created = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// NewCommit builds a commit of the next version of id with files.
func NewCommit(t testing.TB, prev *ocfl.Inventory, id string, files ...storage.File) *storage.Commit {
	t.Helper()
	inv, err := storage.NextVersion(prev, id, files, created, "test", user)
	if err != nil {
		t.Fatal(err)
	}
	return &storage.Commit{Inventory: inv, Files: files}
}

func readAll(t *testing.T, s storage.Store, id, p string) string {
	t.Helper()
	rc, err := s.Open(context.Background(), id, p)
	if err != nil {
		t.Fatalf("Open %s %s: %v", id, p, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Run runs the whole suite.
func Run(t *testing.T, env Env) {
	ctx := context.Background()
	check := func(t *testing.T, s storage.Store) {
		if env.Validate != nil {
			env.Validate(t, s)
		}
	}
	t.Run("CommitAndRead", func(t *testing.T) {
		s := env.Open(t)
		id := "urn:uuid:01937a3b-6c2e-7cc0-8a1b-000000000001"
		c := NewCommit(t, nil, id, file("pkg.tar.zst", "package bytes"), file("meta/bagit.txt", "BagIt-Version: 1.0\n"), file("empty", ""))
		if err := s.Commit(ctx, c); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		check(t, s)
		b, err := s.Inventory(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := c.Inventory.Marshal()
		if !bytes.Equal(b, want) {
			t.Errorf("inventory differs from the committed one")
		}
		if got := readAll(t, s, id, "v1/content/pkg.tar.zst"); got != "package bytes" {
			t.Errorf("content = %q", got)
		}
		if got := readAll(t, s, id, "v1/content/empty"); got != "" {
			t.Errorf("empty file = %q", got)
		}
		ids, err := s.Objects(ctx)
		if err != nil || len(ids) != 1 || ids[0] != id {
			t.Errorf("Objects = %v, %v", ids, err)
		}
		// Idempotent retry.
		if err := s.Commit(ctx, c); err != nil {
			t.Errorf("repeated identical commit: %v", err)
		}
		// A different v1 conflicts.
		if err := s.Commit(ctx, NewCommit(t, nil, id, file("other", "x"))); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("second v1: want ErrConflict, got %v", err)
		}
		// v2 keeps v1.
		prev, _ := ocfl.ParseInventory(b)
		c2 := NewCommit(t, prev, id, file("pkg.tar.zst", "second package"))
		if err := s.Commit(ctx, c2); err != nil {
			t.Fatalf("Commit v2: %v", err)
		}
		check(t, s)
		if got := readAll(t, s, id, "v1/content/pkg.tar.zst"); got != "package bytes" {
			t.Errorf("v1 content after v2 = %q", got)
		}
		if got := readAll(t, s, id, "v2/content/pkg.tar.zst"); got != "second package" {
			t.Errorf("v2 content = %q", got)
		}
		b2, _ := s.Inventory(ctx, id)
		inv2, err := ocfl.ParseInventory(b2)
		if err != nil || inv2.Head != "v2" {
			t.Errorf("head after v2 = %v, %v", inv2, err)
		}
		// Committing v2 on top of v2 again with other content conflicts.
		if err := s.Commit(ctx, NewCommit(t, prev, id, file("x", "y"))); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("stale v2: want ErrConflict, got %v", err)
		}
	})
	t.Run("WrongDigestLeavesNothing", func(t *testing.T) {
		s := env.Open(t)
		id := "urn:uuid:01937a3b-6c2e-7cc0-8a1b-000000000002"
		f := file("pkg", "real bytes")
		f.Digests = digest.Of([]byte("other bytes"))
		err := s.Commit(ctx, NewCommit(t, nil, id, f))
		if !errors.Is(err, storage.ErrDigest) {
			t.Fatalf("want ErrDigest, got %v", err)
		}
		if _, err := s.Inventory(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("object visible after failed commit: %v", err)
		}
		check(t, s)
		// A retry with correct data succeeds.
		if err := s.Commit(ctx, NewCommit(t, nil, id, file("pkg", "real bytes"))); err != nil {
			t.Errorf("retry: %v", err)
		}
		check(t, s)
	})
	t.Run("CancelledLeavesNothing", func(t *testing.T) {
		s := env.Open(t)
		id := "urn:uuid:01937a3b-6c2e-7cc0-8a1b-000000000003"
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Commit(cctx, NewCommit(t, nil, id, file("a", "b"))); err == nil {
			t.Fatal("commit with a cancelled context succeeded")
		}
		if _, err := s.Inventory(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("object visible after cancelled commit: %v", err)
		}
		check(t, s)
	})
	t.Run("Restore", func(t *testing.T) {
		s := env.Open(t)
		id := "urn:uuid:01937a3b-6c2e-7cc0-8a1b-000000000005"
		if err := s.Commit(ctx, NewCommit(t, nil, id, file("a.txt", "alpha"))); err != nil {
			t.Fatal(err)
		}
		bad := file("v1/content/a.txt", "omega")
		bad.Digests = digest.Of([]byte("alpha"))
		if _, err := s.Restore(ctx, id, bad); !errors.Is(err, storage.ErrDigest) {
			t.Errorf("Restore with bytes that do not match their digests: %v", err)
		}
		if got := readAll(t, s, id, "v1/content/a.txt"); got != "alpha" {
			t.Fatalf("a refused Restore changed the file: %q", got)
		}
		if _, err := s.Restore(ctx, id, file("v1/content/a.txt", "alpha")); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s, id, "v1/content/a.txt"); got != "alpha" {
			t.Errorf("after Restore: %q", got)
		}
		if _, err := s.Restore(ctx, id, file("../escape", "x")); err == nil {
			t.Error("Restore accepted a path that escapes the object")
		}
		check(t, s)
	})
	t.Run("NotFound", func(t *testing.T) {
		s := env.Open(t)
		id := "urn:uuid:01937a3b-6c2e-7cc0-8a1b-000000000004"
		if _, err := s.Inventory(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Inventory of missing object: %v", err)
		}
		if _, err := s.Open(ctx, id, "v1/content/x"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Open of missing object: %v", err)
		}
		if _, err := s.GetExtension(ctx, "x"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetExtension of missing file: %v", err)
		}
		if _, err := s.Open(ctx, id, "../../0=ocfl_1.1"); err == nil {
			t.Errorf("Open accepted a path that escapes the object")
		}
	})
	t.Run("Extensions", func(t *testing.T) {
		s := env.Open(t)
		for i := 1; i <= 3; i++ {
			if err := s.PutExtension(ctx, fmt.Sprintf("segments/%06d.jsonl", i), []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutExtension(ctx, "segments/000001.jsonl", []byte("1")); err != nil {
			t.Errorf("identical re-put: %v", err)
		}
		if err := s.PutExtension(ctx, "segments/000001.jsonl", []byte("changed")); err == nil {
			t.Errorf("overwriting a write-once file succeeded")
		}
		names, err := s.ListExtension(ctx, "segments/")
		if err != nil || len(names) != 3 || names[0] != "segments/000001.jsonl" {
			t.Errorf("ListExtension = %v, %v", names, err)
		}
		b, err := s.GetExtension(ctx, "segments/000002.jsonl")
		if err != nil || string(b) != "2" {
			t.Errorf("GetExtension = %q, %v", b, err)
		}
		check(t, s)
	})
}
