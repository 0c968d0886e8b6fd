package daemon

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/fixity"
)

// Job is a piece of scheduled work: it returns a one-line summary.
type Job struct {
	Name string
	Spec string // cron expression from the configuration
	Run  func(ctx context.Context) (string, error)
}

// scheduler wraps cron: a job never overlaps itself, a panic is recovered
// and recorded, every run is logged and recorded (catalog and audit trail),
// and a run missed while the daemon was down is made up once at start.
type scheduler struct {
	d    *Daemon
	c    *cron.Cron
	ctx  context.Context
	jobs []Job
	wg   sync.WaitGroup // made-up runs
}

// Jobs are the scheduled jobs the configuration asks for.
func (d *Daemon) Jobs() []Job {
	var out []Job
	if s := d.conf().Schedule.Replicate; s != "" {
		out = append(out, Job{Name: "replicate", Spec: s, Run: func(ctx context.Context) (string, error) {
			st, err := d.a.Replicate(ctx)
			if err != nil {
				return "", err
			}
			sum := fmt.Sprintf("%d AIP version(s) checked, %d copy(ies) made, %d failed", st.Checked, st.Copied, len(st.Failed))
			if len(st.Failed) > 0 {
				return sum, fmt.Errorf("%s: %v", sum, st.Failed)
			}
			return sum, nil
		}})
	}
	for _, k := range []struct {
		name, spec string
		kind       fixity.Kind
	}{{"fixity", d.conf().Schedule.Fixity, fixity.Full}, {"fixity_quick", d.conf().Schedule.FixityQuick, fixity.Quick}} {
		if k.spec == "" {
			continue
		}
		out = append(out, Job{Name: k.name, Spec: k.spec, Run: func(ctx context.Context) (string, error) {
			run, err := d.a.Fixity(ctx, fixity.Options{Kind: k.kind, Interval: config.Interval(k.spec, d.conf().Zone)})
			if run != nil {
				d.Metrics.observeFixity(run)
			}
			if err != nil {
				return "", err
			}
			if run.Count(fixity.OutcomeDamaged) > 0 {
				return run.Summary(), fmt.Errorf("%s", run.Summary())
			}
			return run.Summary(), nil
		}})
	}
	if s := d.conf().Schedule.Retention; s != "" {
		out = append(out, Job{Name: "retention", Spec: s, Run: func(ctx context.Context) (string, error) {
			// Records what fell due; never deletes: disposal is a decision
			// of two people (dispose propose, approve).
			due, err := d.a.RetentionDue(ctx, time.Now())
			if err != nil {
				return "", err
			}
			held := 0
			for _, x := range due {
				if len(x.Holds) > 0 {
					held++
				}
			}
			d.Metrics.retentionDue.Set(float64(len(due)))
			return fmt.Sprintf("%d AIP(s) due for disposal (%d under legal hold); archivd retention due lists them", len(due), held), nil
		}})
	}
	return out
}

func (d *Daemon) startSchedule(ctx context.Context) (*scheduler, error) {
	if d.conf().Schedule.Fixity == "" {
		d.log.Warn().Msg("schedule.fixity is empty: stored copies are never checked by the service (docs/operations.md, Fixity)")
	}
	s := &scheduler{d: d, ctx: ctx, jobs: d.Jobs(), c: cron.New(cron.WithParser(config.CronParser), cron.WithLocation(d.conf().Zone))}
	last := map[string]time.Time{}
	runs, err := d.a.Catalog().ScheduleRuns(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		t, _ := time.Parse(time.RFC3339, r.Started)
		last[r.Job] = t
	}
	for _, j := range s.jobs {
		sched, err := config.CronParser.Parse(j.Spec)
		if err != nil {
			return nil, fmt.Errorf("schedule.%s: %w", j.Name, err)
		}
		job := cron.NewChain(cron.SkipIfStillRunning(cronLogger{d})).Then(cron.FuncJob(func() { s.run(j) }))
		s.c.Schedule(sched, job)
		// Made up once at start: never run, or the next run after the last
		// one fell into a time the daemon was down.
		if t, ok := last[j.Name]; !ok || sched.Next(t).Before(time.Now()) {
			d.log.Info().Str("job", j.Name).Msg("scheduled run missed while the daemon was down: running it now")
			s.wg.Add(1)
			go func() { defer s.wg.Done(); job.Run() }()
		}
	}
	s.c.Start()
	return s, nil
}

// run runs one job once, recording it.
func (s *scheduler) run(j Job) {
	d := s.d
	ctx := s.ctx
	if ctx.Err() != nil {
		return
	}
	start := time.Now().UTC()
	summary, err := func() (summary string, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return j.Run(ctx)
	}()
	outcome := audit.OutcomeSuccess
	detail := fmt.Sprintf("scheduled %s: %s", j.Name, summary)
	d.Metrics.runs.WithLabelValues(j.Name, map[bool]string{true: "failure", false: "success"}[err != nil]).Inc()
	if err == nil {
		d.Metrics.lastSuccess.WithLabelValues(j.Name).SetToCurrentTime()
	}
	if err != nil {
		outcome = audit.OutcomeFailure
		detail = fmt.Sprintf("scheduled %s failed: %v", j.Name, err)
		d.log.Error().Err(err).Str("job", j.Name).Msg("scheduled run failed")
	} else {
		d.log.Info().Str("job", j.Name).Str("result", summary).Dur("took", time.Since(start)).Msg("scheduled run done")
	}
	bg := context.WithoutCancel(ctx)
	if err := d.a.Catalog().PutScheduleRun(bg, catalog.ScheduleRun{Job: j.Name, Started: start.Format(time.RFC3339),
		Finished: time.Now().UTC().Format(time.RFC3339), Outcome: outcome, Detail: detail}); err != nil {
		d.log.Error().Err(err).Str("job", j.Name).Msg("cannot record the scheduled run in the catalog")
	}
	if _, err := d.a.Trail().Record(bg, audit.Entry{Type: audit.TypeScheduledRun, Outcome: outcome, Detail: detail}); err != nil {
		d.log.Error().Err(err).Str("job", j.Name).Msg("cannot record the scheduled run in the audit trail")
	}
}

// stop lets a running job finish, then stops.
func (s *scheduler) stop() {
	<-s.c.Stop().Done()
	s.wg.Wait()
}

// cronLogger passes cron's own messages (a skipped overlapping run) to
// the daemon's log.
type cronLogger struct{ d *Daemon }

func (l cronLogger) Info(msg string, kv ...any) {
	l.d.log.Info().Fields(kv).Msg("schedule: " + msg)
}
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.d.log.Error().Err(err).Fields(kv).Msg("schedule: " + msg)
}

// NextRuns says when each configured job runs next, for status.
func NextRuns(cfg *config.Config, now time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	for name, spec := range map[string]string{"replicate": cfg.Schedule.Replicate, "fixity": cfg.Schedule.Fixity, "fixity_quick": cfg.Schedule.FixityQuick, "retention": cfg.Schedule.Retention} {
		if spec == "" {
			continue
		}
		if s, err := config.CronParser.Parse(spec); err == nil {
			out[name] = s.Next(now.In(cfg.Zone))
		}
	}
	return out
}
