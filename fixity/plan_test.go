package fixity

import (
	"testing"
	"time"

	"github.com/archivd/archivd/catalog"
)

func TestDueSpreadsTheCycleAndCatchesUp(t *testing.T) {
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	states := func(ages ...time.Duration) []catalog.CopyState {
		var out []catalog.CopyState
		for _, a := range ages {
			s := catalog.CopyState{}
			if a >= 0 {
				s.VerifiedAt = now.Add(-a).Format(time.RFC3339Nano)
			}
			out = append(out, s)
		}
		return out
	}
	var fresh []time.Duration
	for i := range 365 {
		fresh = append(fresh, time.Duration(i)*day)
	}
	for _, c := range []struct {
		name     string
		ages     []time.Duration
		interval time.Duration
		want     int
	}{
		{"365 copies, a daily run, none overdue: one a day", fresh, day, 1},
		{"hourly runs take a share each, at least one", fresh, time.Hour, 1},
		{"a weekly run takes a week's share", fresh, 7 * day, 7},
		{"catch-up: every copy over the cycle", append(fresh[:300:300], 400*day, 500*day, 366*day), day, 3},
		{"no schedule: everything", fresh, 0, 365},
	} {
		var st []catalog.CopyState
		if c.ages != nil {
			st = states(c.ages...)
		}
		if got := due(st, 365*day, c.interval, now); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if got := due(states(-1, -1, 0, time.Hour), 365*day, day, now); got != 2 {
		t.Errorf("two never verified copies: %d, want 2", got)
	}
}
