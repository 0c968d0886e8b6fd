package fixity_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/fixity"
)

// TestMaxRunAndBudget: with a reading budget, max_run ends a run
// incomplete; what it did not reach is not called unavailable, and the
// next run takes it first.
func TestMaxRunAndBudget(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default(filepath.Join(dir, "var"))
	ctx := context.Background()
	a, err := archive.Open(ctx, cfg, archive.Options{Mode: archive.Writer, Log: zerolog.Nop(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	var ids []string
	for i := range 3 {
		c := filepath.Join(dir, fmt.Sprintf("case%d", i))
		os.MkdirAll(c, 0o755)
		os.WriteFile(filepath.Join(c, "Vermerk.txt"), []byte(strings.Repeat(fmt.Sprintf("Vermerk %d\n", i), 2000)), 0o644)
		id, err := a.Ingest(ctx, c, archive.IngestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id.String())
	}
	run, err := a.Fixity(ctx, fixity.Options{Kind: fixity.Full, All: true, BytesPerSec: 20 << 10, MaxRun: 600 * time.Millisecond, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	if run.Complete || !strings.Contains(run.Incomplete, "max_run") || len(run.Copies) >= run.Planned || run.Count(fixity.OutcomeUnavailable) != 0 {
		t.Fatalf("run within a budget and max_run: %s (copies %+v)", run.Summary(), run.Copies)
	}
	checked := map[string]bool{}
	for _, c := range run.Copies {
		checked[c.AIP] = true
	}
	// The next scheduled run's share is one copy: one not reached before.
	next, err := a.Fixity(ctx, fixity.Options{Kind: fixity.Full, Cycle: time.Hour, Interval: 20 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Copies) != 1 || checked[next.Copies[0].AIP] || next.Copies[0].Outcome != fixity.OutcomeOK || !next.Complete {
		t.Errorf("next run: %s %+v (checked before: %v)", next.Summary(), next.Copies, checked)
	}
}
