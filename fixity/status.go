package fixity

import (
	"context"
	"time"

	"github.com/archivd/archivd/catalog"
)

// Coverage is how well one location's copies are verified within the cycle.
type Coverage struct {
	Location string
	Copies   int     // AIPs with a copy here
	Verified int     // of those, fully verified within the cycle
	Ratio    float64 // Verified / Copies (1 with no copies)
	Bytes    int64
	// Oldest is the copy verified longest ago ("never" counts as oldest),
	// with the time of its last full verification ("" never).
	OldestAIP, OldestVerified string
}

// Status is what `archivd fixity status` shows and the metrics export.
type Status struct {
	Cycle      time.Duration
	Locations  []Coverage
	OpenDamage []catalog.Damage
}

// StatusOf reads coverage per location and the open damage from the
// catalog; it reads no storage.
func StatusOf(ctx context.Context, cat *catalog.DB, locations []string, cycle time.Duration, now time.Time) (*Status, error) {
	st := &Status{Cycle: cycle}
	for _, loc := range locations {
		states, err := cat.CopyStates(ctx, loc)
		if err != nil {
			return nil, err
		}
		c := Coverage{Location: loc, Copies: len(states), Ratio: 1}
		first := true
		for _, s := range states {
			c.Bytes += s.Size
			t, err := time.Parse(time.RFC3339Nano, s.VerifiedAt)
			if err == nil && now.Sub(t) < cycle {
				c.Verified++
			}
			if first || catalog.Later(c.OldestVerified, s.VerifiedAt) {
				c.OldestAIP, c.OldestVerified, first = s.AIP, s.VerifiedAt, false
			}
		}
		if c.Copies > 0 {
			c.Ratio = float64(c.Verified) / float64(c.Copies)
		}
		st.Locations = append(st.Locations, c)
	}
	var err error
	st.OpenDamage, err = cat.OpenDamage(ctx)
	return st, err
}

// Age is how long ago the oldest copy was verified (0 if there is none;
// never verified counts from the Unix epoch, so it shows loudly).
func (c Coverage) Age(now time.Time) time.Duration {
	if c.Copies == 0 {
		return 0
	}
	t, err := time.Parse(time.RFC3339Nano, c.OldestVerified)
	if err != nil {
		t = time.Unix(0, 0)
	}
	return now.Sub(t)
}
