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
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/config"
)

// Daemon runs on an archive opened as a writer.
type Daemon struct {
	a   *archive.Archive
	cfg atomic.Pointer[config.Config] // swapped whole by Reload
	log zerolog.Logger

	// Crash, if set, is called at each step of a case with the step's
	// name; tests use it to stop the process exactly there.
	Crash func(step string)
	// Ready, if set, is called once recovery is done and the daemon works.
	Ready func()
	// Tick, if set, is called on every turn of the main loop: a sign of
	// life (the systemd watchdog) and a moment to report status.
	Tick func()
	// Metrics are the daemon's Prometheus series.
	Metrics *Metrics

	reload chan reloadReq

	mu       sync.Mutex
	busy     map[string]bool      // work folders being processed
	retryAt  map[string]time.Time // work folders waiting after a transient failure
	attempts map[string]int
	settle   map[string]snapshot // inbox path/name -> what it looked like, and since when
	warned   map[string]bool     // things said once
	lowSpace bool
	last     string // the last case archived, for the status line
	lastAt   time.Time

	readiness readiness
}

// StatusLine says in a few words what the daemon does, for systemctl
// status.
func (d *Daemon) StatusLine() string {
	d.mu.Lock()
	busy, waiting, last, lastAt, low := len(d.busy), len(d.retryAt), d.last, d.lastAt, d.lowSpace
	d.mu.Unlock()
	s := fmt.Sprintf("archiving %d case(s)", busy)
	if waiting > 0 {
		s += fmt.Sprintf(", %d waiting to retry", waiting)
	}
	if q, err := ListQuarantine(d.conf()); err == nil && len(q) > 0 {
		s += fmt.Sprintf(", %d quarantined", len(q))
	}
	if low {
		s += "; claims paused: free space below daemon.min_free_mib"
	}
	if last != "" {
		s += fmt.Sprintf("; last archived %s at %s", last, lastAt.Format("15:04:05"))
	}
	return s
}

// New prepares a daemon; Run starts it.
func New(a *archive.Archive, log zerolog.Logger) *Daemon {
	d := &Daemon{a: a, log: log, reload: make(chan reloadReq),
		busy: map[string]bool{}, retryAt: map[string]time.Time{}, attempts: map[string]int{},
		settle: map[string]snapshot{}, warned: map[string]bool{}}
	d.cfg.Store(a.Config())
	d.Metrics = newMetrics(d, strings.TrimPrefix(a.Agent(), "archivd "))
	return d
}

// conf is the configuration in force.
func (d *Daemon) conf() *config.Config { return d.cfg.Load() }

type reloadReq struct {
	cfg  *config.Config
	done chan error
}

// RestartOnly names the settings a reload cannot change: where the data
// lives and where the copies go. Changing them needs a restart.
func RestartOnly(old, next *config.Config) []string {
	var out []string
	if old.DataDir != next.DataDir {
		out = append(out, "data_dir")
	}
	if !reflect.DeepEqual(old.Locations, next.Locations) {
		out = append(out, "locations")
	}
	if !reflect.DeepEqual(old.Copies, next.Copies) {
		out = append(out, "copies")
	}
	return out
}

// Reload swaps in a new configuration (already loaded and checked): the
// inboxes, their rules and policies, the daemon settings, the schedule and
// the format policy change at the next turn of the main loop; cases in
// flight finish under the old one. A change Reload cannot make (see
// RestartOnly) is an error, and the old configuration stays.
func (d *Daemon) Reload(ctx context.Context, next *config.Config) error {
	if fields := RestartOnly(d.conf(), next); len(fields) > 0 {
		return fmt.Errorf("reload refused: %s changed, which needs a restart; the running configuration stays", strings.Join(fields, ", "))
	}
	req := reloadReq{cfg: next, done: make(chan error, 1)}
	select {
	case d.reload <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.done
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
	for _, p := range []string{workDir(d.conf()), QuarantineDir(d.conf()), DoneDir(d.conf())} {
		if err := os.MkdirAll(p, 0o750); err != nil {
			return err
		}
	}
	for _, in := range d.conf().Inboxes {
		if err := os.MkdirAll(in.Path, 0o750); err != nil {
			return fmt.Errorf("inbox %s: %w", in.Name, err)
		}
	}
	// Last of all, once every worker is done: the trail of this run sealed
	// and stored beside the AIPs, whatever its age.
	defer func() {
		if err := d.a.Trail().SealAndStore(context.WithoutCancel(ctx)); err != nil {
			d.log.Warn().Err(err).Msg("audit segment not yet stored; the next start retries")
		}
	}()
	sched, err := d.startSchedule(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if sched != nil {
			sched.stop()
		}
	}()
	d.log.Info().Int("inboxes", len(d.conf().Inboxes)).Str("settings", d.conf().Daemon.String()).Msg("archivd run: collecting case files")

	jobs := make(chan *Claim)
	fatal := make(chan error, 1)
	var wg sync.WaitGroup
	for i := 0; i < d.conf().Daemon.Workers; i++ {
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

	seal := time.NewTicker(time.Minute)
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
		case req := <-d.reload:
			sched.stop()
			d.cfg.Store(req.cfg)
			d.a.SetConfig(req.cfg)
			for _, in := range req.cfg.Inboxes {
				if err := os.MkdirAll(in.Path, 0o750); err != nil {
					d.log.Error().Err(err).Str("inbox", in.Name).Msg("cannot create the inbox")
				}
			}
			sched, err = d.startSchedule(ctx)
			d.log.Info().Int("inboxes", len(req.cfg.Inboxes)).Str("settings", req.cfg.Daemon.String()).Msg("configuration reloaded")
			req.done <- err
			if err != nil {
				return err
			}
		case <-seal.C:
			if err := d.a.Trail().SealIfDue(ctx, d.conf().Audit.SealAfterD); err != nil {
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
			if d.Tick != nil {
				d.Tick()
			}
			poll.Reset(d.conf().Daemon.PollD)
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
	if wait > d.conf().Daemon.RetryMaxD || wait <= 0 {
		wait = d.conf().Daemon.RetryMaxD
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
	if err := syscall.Statfs(d.conf().DataDir, &st); err != nil {
		return false
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	low := free < int64(d.conf().Daemon.MinFreeMiB)<<20
	if low != d.lowSpace {
		if low {
			d.log.Warn().Int64("free_mib", free>>20).Int("floor_mib", d.conf().Daemon.MinFreeMiB).Msg("free space in the data directory is below daemon.min_free_mib: no new case is claimed until there is room")
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
	ents, err := os.ReadDir(workDir(d.conf()))
	if err != nil {
		return nil, err
	}
	var out []*Claim
	for _, e := range ents {
		dir := filepath.Join(workDir(d.conf()), e.Name())
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
