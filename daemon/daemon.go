// Package daemon is archivd's long-running service: it collects finished
// case files from the configured inboxes, claims each by one rename into
// the data directory's work area (the AIP id fixed and written down
// before), archives it through the same archive core the commands use,
// quarantines what is refused with a reason in German and English, retries
// what failed for a passing cause, and runs the scheduled work. Every step
// is durable before it is acted on: a daemon killed at any moment resumes
// each case from where it stopped.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/config"
)

// Daemon runs on an archive opened as a writer.
type Daemon struct {
	a   *archive.Archive
	cfg *config.Config
	log zerolog.Logger

	// Crash, if set, is called at each step of a case with the step's
	// name; tests use it to stop the process exactly there.
	Crash func(step string)
	// Ready, if set, is called once recovery is done and the daemon works.
	Ready func()

	mu       sync.Mutex
	busy     map[string]bool      // work folders being processed
	retryAt  map[string]time.Time // work folders waiting after a transient failure
	attempts map[string]int
	settle   map[string]snapshot // inbox path/name -> what it looked like, and since when
	warned   map[string]bool     // things said once
	lowSpace bool
}

// New prepares a daemon; Run starts it.
func New(a *archive.Archive, log zerolog.Logger) *Daemon {
	return &Daemon{a: a, cfg: a.Config(), log: log,
		busy: map[string]bool{}, retryAt: map[string]time.Time{}, attempts: map[string]int{},
		settle: map[string]snapshot{}, warned: map[string]bool{}}
}

func (d *Daemon) crash(step string) {
	if d.Crash != nil {
		d.Crash(step)
	}
}

// Run works until ctx ends, then finishes the step each case is in and
// returns. An error means the daemon cannot go on (a fatal failure); the
// service manager should restart it.
func (d *Daemon) Run(ctx context.Context) error {
	for _, p := range []string{workDir(d.cfg), QuarantineDir(d.cfg), DoneDir(d.cfg)} {
		if err := os.MkdirAll(p, 0o750); err != nil {
			return err
		}
	}
	for _, in := range d.cfg.Inboxes {
		if err := os.MkdirAll(in.Path, 0o750); err != nil {
			return fmt.Errorf("inbox %s: %w", in.Name, err)
		}
	}
	sched, err := d.startSchedule(ctx)
	if err != nil {
		return err
	}
	defer sched.stop()
	d.log.Info().Int("inboxes", len(d.cfg.Inboxes)).Str("settings", d.cfg.Daemon.String()).Msg("archivd run: collecting case files")

	jobs := make(chan *Claim)
	fatal := make(chan error, 1)
	var wg sync.WaitGroup
	for i := 0; i < d.cfg.Daemon.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				if err := d.process(ctx, c); err != nil {
					select {
					case fatal <- err:
					default:
					}
				}
				d.mu.Lock()
				delete(d.busy, c.dir)
				d.mu.Unlock()
			}
		}()
	}
	defer func() {
		close(jobs)
		wg.Wait()
	}()

	seal := time.NewTicker(d.cfg.Daemon.SealD)
	defer seal.Stop()
	poll := time.NewTimer(0)
	defer poll.Stop()
	ready := d.Ready
	for {
		select {
		case <-ctx.Done():
			d.log.Info().Msg("archivd run: stopping; cases in progress stop at their next safe point and resume on the next start")
			return nil
		case err := <-fatal:
			return err
		case <-seal.C:
			if err := d.a.Trail().SealAndStore(ctx); err != nil {
				d.log.Warn().Err(err).Msg("audit segment not yet stored; retried at the next seal")
			}
		case <-poll.C:
			if err := d.claimReady(ctx); err != nil {
				return err
			}
			d.dispatch(ctx, jobs)
			if ready != nil {
				ready()
				ready = nil
			}
			poll.Reset(d.cfg.Daemon.PollD)
		}
	}
}

// dispatch hands every claimed case that is not being processed and not
// waiting for a retry to a free worker, oldest claim first.
func (d *Daemon) dispatch(ctx context.Context, jobs chan<- *Claim) {
	claims, err := d.claimed()
	if err != nil {
		d.log.Error().Err(err).Msg("cannot list the work area")
		return
	}
	now := time.Now()
	for _, c := range claims {
		d.mu.Lock()
		skip := d.busy[c.dir] || now.Before(d.retryAt[c.dir])
		if !skip {
			d.busy[c.dir] = true
		}
		d.mu.Unlock()
		if skip {
			continue
		}
		select {
		case jobs <- c:
		case <-ctx.Done():
			d.mu.Lock()
			delete(d.busy, c.dir)
			d.mu.Unlock()
			return
		default:
			// Every worker is busy: the rest waits for the next poll.
			d.mu.Lock()
			delete(d.busy, c.dir)
			d.mu.Unlock()
			return
		}
	}
}

// backoff schedules the next attempt of a case after a transient failure:
// doubling from 10 s up to retry_max, with jitter so that many cases
// waiting on one storage outage do not all return at once.
func (d *Daemon) backoff(c *Claim) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.attempts[c.dir]
	d.attempts[c.dir] = n + 1
	wait := 10 * time.Second << min(n, 16)
	if wait > d.cfg.Daemon.RetryMaxD || wait <= 0 {
		wait = d.cfg.Daemon.RetryMaxD
	}
	wait = wait*4/5 + time.Duration(rand.Int64N(int64(wait/5)+1))
	d.retryAt[c.dir] = time.Now().Add(wait)
	return wait
}

func (d *Daemon) forget(c *Claim) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.retryAt, c.dir)
	delete(d.attempts, c.dir)
}

// spaceLow reports whether the data directory's free space is under the
// floor: new claims pause rather than fail halfway.
func (d *Daemon) spaceLow() bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.cfg.DataDir, &st); err != nil {
		return false
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	low := free < int64(d.cfg.Daemon.MinFreeMiB)<<20
	if low != d.lowSpace {
		if low {
			d.log.Warn().Int64("free_mib", free>>20).Int("floor_mib", d.cfg.Daemon.MinFreeMiB).Msg("free space in the data directory is below daemon.min_free_mib: no new case is claimed until there is room")
		} else {
			d.log.Info().Int64("free_mib", free>>20).Msg("free space is back above daemon.min_free_mib: claiming again")
		}
		d.lowSpace = low
	}
	return low
}

// claimed lists the cases in the work area, oldest claim first. A work
// folder without its case is a claim that never happened (a crash between
// writing the claim and the rename): the case is still in its inbox, and
// the folder goes.
func (d *Daemon) claimed() ([]*Claim, error) {
	ents, err := os.ReadDir(workDir(d.cfg))
	if err != nil {
		return nil, err
	}
	var out []*Claim
	for _, e := range ents {
		dir := filepath.Join(workDir(d.cfg), e.Name())
		c, err := loadClaim(dir)
		if errors.Is(err, os.ErrNotExist) {
			os.RemoveAll(dir) // a claim interrupted before claim.json was written
			continue
		} else if err != nil {
			d.once(dir, func() { d.log.Error().Err(err).Str("work", dir).Msg("unreadable claim; left for a human") })
			continue
		}
		if _, err := os.Lstat(c.Delivery()); errors.Is(err, os.ErrNotExist) {
			// The case was archived and moved on, or quarantined, or never
			// left its inbox: in each case only the work folder remains.
			if c.Quarantine == "" && !d.committed(c) {
				d.unclaim(c)
			}
			os.RemoveAll(dir)
			continue
		}
		out = append(out, c)
	}
	sortClaims(out)
	return out, nil
}

func (d *Daemon) once(key string, fn func()) {
	d.mu.Lock()
	said := d.warned[key]
	d.warned[key] = true
	d.mu.Unlock()
	if !said {
		fn()
	}
}
