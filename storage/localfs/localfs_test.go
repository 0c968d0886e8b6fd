package localfs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
	"github.com/archivd/archivd/storage/storagetest"
)

func validateRoot(t *testing.T, root string) {
	t.Helper()
	r := ocfl.ValidateRoot(os.DirFS(root))
	if !r.Valid() {
		t.Fatalf("storage root %s is not valid OCFL: %v", root, r.Errors)
	}
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, storagetest.Env{
		Open: func(t *testing.T) storage.Store {
			s, err := Open("local", filepath.Join(t.TempDir(), "storage"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Validate: func(t *testing.T, s storage.Store) { validateRoot(t, s.(*Store).Root()) },
	})
}

var errCrash = errors.New("simulated crash")

// TestCrashAtEveryStep stops a commit before each of its steps, checks that
// the storage root is valid OCFL right then and after recovery, and that a
// retry succeeds, for a new object (v1) and for a later version (v2).
func TestCrashAtEveryStep(t *testing.T) {
	steps := []string{"stage-content", "stage-inventories", "sync-staged", "rename-object",
		"write-journal", "rename-version", "replace-inventory", "replace-sidecar", "remove-journal"}
	ctx := context.Background()
	id := "urn:uuid:01937a3b-6c2e-7cc0-8a1b-00000000c0de"
	one := []byte("version one")
	two := []byte("version two")
	f1 := storage.File{Path: "p", Data: one, Size: int64(len(one)), Digests: digest.Of(one)}
	f2 := storage.File{Path: "p", Data: two, Size: int64(len(two)), Digests: digest.Of(two)}
	for _, version := range []int{1, 2} {
		for _, step := range steps {
			t.Run(step+"/v"+string(rune('0'+version)), func(t *testing.T) {
				root := filepath.Join(t.TempDir(), "storage")
				s, err := Open("local", root)
				if err != nil {
					t.Fatal(err)
				}
				c1 := storagetest.NewCommit(t, nil, id, f1)
				commit := c1
				if version == 2 {
					if err := s.Commit(ctx, c1); err != nil {
						t.Fatal(err)
					}
					commit = storagetest.NewCommit(t, c1.Inventory, id, f2)
				}
				crashed := false
				s.crash = func(s string) error {
					if s == step {
						crashed = true
						return errCrash
					}
					return nil
				}
				err = s.Commit(ctx, commit)
				if crashed != (err != nil) {
					t.Fatalf("crashed=%v err=%v", crashed, err)
				}
				// A new object appears in one rename: the root is valid even
				// before recovery. A later version has a documented window
				// (docs/storage.md) that recovery closes.
				if version == 1 {
					validateRoot(t, root)
				}
				// Restart: recovery, then the commit again.
				s2, err := Open("local", root)
				if err != nil {
					t.Fatalf("reopen: %v", err)
				}
				validateRoot(t, root)
				if err := s2.Commit(ctx, commit); err != nil {
					t.Fatalf("retry after crash at %s: %v", step, err)
				}
				validateRoot(t, root)
				b, err := s2.Inventory(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				inv, _ := ocfl.ParseInventory(b)
				if inv.HeadNumber() != version {
					t.Fatalf("head after retry = %s, want v%d", inv.Head, version)
				}
				if ents, _ := os.ReadDir(s2.staging); len(ents) != 0 {
					t.Errorf("staging not empty after commit: %d entries", len(ents))
				}
			})
		}
	}
}
