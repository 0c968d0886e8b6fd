package fixity

import (
	"context"
	"io"

	"golang.org/x/time/rate"

	"github.com/archivd/archivd/storage"
)

// limiter is the reading budget of one run, shared by every copy checked
// at once, so fixity never takes the bandwidth ingest needs.
type limiter struct{ l *rate.Limiter }

// newLimiter allows bytesPerSec, in reads of at most a tenth of a second's
// budget (4 KiB to 1 MiB each).
func newLimiter(bytesPerSec int64) *limiter {
	burst := int(min(max(bytesPerSec/10, 4<<10), 1<<20))
	return &limiter{rate.NewLimiter(rate.Limit(bytesPerSec), burst)}
}

// throttled reads a location within the budget.
type throttled struct {
	storage.Store
	lim *limiter
}

func (t *throttled) Open(ctx context.Context, id, p string) (io.ReadCloser, error) {
	rc, err := t.Store.Open(ctx, id, p)
	if err != nil {
		return nil, err
	}
	return &throttledReader{rc, t.lim, ctx}, nil
}

type throttledReader struct {
	io.ReadCloser
	lim *limiter
	ctx context.Context
}

func (r *throttledReader) Read(p []byte) (int, error) {
	if b := r.lim.l.Burst(); len(p) > b {
		p = p[:b]
	}
	n, err := r.ReadCloser.Read(p)
	if n > 0 {
		if werr := r.lim.l.WaitN(r.ctx, n); werr != nil && err == nil {
			// The budget would outlast the run's deadline: the run ends there.
			<-r.ctx.Done()
			err = r.ctx.Err()
		}
	}
	return n, err
}
