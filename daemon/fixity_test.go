package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/archive"
)

// TestScheduledFixity: the fixity jobs run from the daemon's scheduler
// (made up at start, as they never ran), are recorded as scheduled runs
// and fixity runs, and fill the fixity metrics.
func TestScheduledFixity(t *testing.T) {
	dir := t.TempDir()
	cfg := configAt(t, dir, fmt.Sprintf("data_dir: %s/var\ndaemon: {min_free_mib: 1}\nschedule:\n  fixity: \"@every 1h\"\n  fixity_quick: \"@every 1h\"\n", dir))
	ctx := context.Background()
	a := openWriter(t, ctx, cfg)
	c := filepath.Join(dir, "case")
	os.MkdirAll(c, 0o755)
	os.WriteFile(filepath.Join(c, "Antrag.txt"), []byte("Antrag\n"), 0o644)
	if _, err := a.Ingest(ctx, c, archive.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	d, stop := startDaemon(t, a)
	waitFor(t, "both fixity jobs ran", func() bool {
		runs, _ := a.Catalog().ScheduleRuns(ctx)
		n := 0
		for _, r := range runs {
			if strings.HasPrefix(r.Job, "fixity") && r.Outcome == "success" && strings.Contains(r.Detail, "1 of 1 copies checked") {
				n++
			}
		}
		return n == 2
	})
	mf, err := d.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range mf {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.Gauge != nil:
				got[key] = m.GetGauge().GetValue()
			case m.Counter != nil:
				got[key] = m.GetCounter().GetValue()
			}
		}
	}
	for key, want := range map[string]float64{
		"archivd_fixity_coverage_ratio,location=local":                    1,
		"archivd_fixity_open_damage":                                      0,
		"archivd_fixity_checks_total,kind=full,location=local,result=ok":  1,
		"archivd_fixity_checks_total,kind=quick,location=local,result=ok": 1,
		"archivd_schedule_runs_total,job=fixity,result=success":           1,
		"archivd_schedule_runs_total,job=fixity_quick,result=success":     1,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	if got["archivd_fixity_verified_bytes_total,location=local"] <= 0 {
		t.Error("no verified bytes counted")
	}
	stop()
}
