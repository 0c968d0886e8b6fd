package ingest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
)

func TestCleanStaging(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := catalog.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	staging := filepath.Join(dir, "staging")
	spool := map[string]string{} // state -> spool name
	for _, state := range []string{StateDescribed, StatePackaged, StatePartial, StateCommitted, StateFailed, "unknown"} {
		id, _ := aip.NewID()
		if state != "unknown" {
			if err := cat.PutIngest(ctx, catalog.Ingest{AIP: id.String(), State: state, Source: "/in/" + state, Record: "{}"}); err != nil {
				t.Fatal(err)
			}
		}
		os.MkdirAll(filepath.Join(staging, id.Name(), "content"), 0o750)
		os.WriteFile(filepath.Join(staging, id.Name(), "content", "x"), []byte("spooled"), 0o640)
		spool[state] = id.Name()
	}
	os.WriteFile(filepath.Join(staging, "not-an-id.tmp"), []byte("x"), 0o640)

	removed, waiting, err := CleanStaging(ctx, cat, staging)
	if err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{StateDescribed, StateCommitted, StateFailed, "unknown"} {
		if !slices.Contains(removed, spool[state]) {
			t.Errorf("spool of a %s ingest kept", state)
		}
	}
	if !slices.Contains(removed, "not-an-id.tmp") {
		t.Error("stray file kept")
	}
	if len(waiting) != 2 || waiting[0].Bytes != 7 {
		t.Errorf("waiting: %+v", waiting)
	}
	left, _ := os.ReadDir(staging)
	if len(left) != 2 {
		t.Errorf("left in staging: %v", left)
	}
}
