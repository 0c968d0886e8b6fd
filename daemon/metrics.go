package daemon

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/archivd/archivd/fixity"
)

// Metrics are archivd run's Prometheus series, named by convention
// (archivd_..._total, _seconds, _bytes; build info as an _info gauge).
type Metrics struct {
	Registry     *prometheus.Registry
	ingests      *prometheus.CounterVec
	bytes        *prometheus.CounterVec
	duration     prometheus.Histogram
	stages       *prometheus.HistogramVec
	runs         *prometheus.CounterVec
	lastSuccess  *prometheus.GaugeVec
	reloadOK     prometheus.Gauge
	reloadTime   prometheus.Gauge
	checks       *prometheus.CounterVec
	retentionDue prometheus.Gauge
	checkedB     *prometheus.CounterVec
}

func newMetrics(d *Daemon, version string) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.ingests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "archivd_ingests_total",
		Help: "Cases the daemon finished, by result: archived, quarantined, retry (a passing failure)."}, []string{"result"})
	m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "archivd_ingest_bytes_total",
		Help: "Bytes of the cases' files, by result."}, []string{"result"})
	m.duration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "archivd_ingest_duration_seconds",
		Help: "Time to archive one case, from the start of its ingest to the catalog commit.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 16)})
	m.stages = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "archivd_ingest_stage_duration_seconds",
		Help: "Time of each stage of a case: formats, package, store, commit.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 18)}, []string{"stage"})
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "archivd_schedule_runs_total",
		Help: "Scheduled job runs, by job and result."}, []string{"job", "result"})
	m.lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "archivd_schedule_last_success_timestamp_seconds",
		Help: "When each scheduled job last succeeded (Unix time)."}, []string{"job"})
	m.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "archivd_config_last_reload_successful",
		Help: "Whether the last configuration reload (SIGHUP) succeeded (1) or was refused (0)."})
	m.reloadTime = prometheus.NewGauge(prometheus.GaugeOpts{Name: "archivd_config_last_reload_success_timestamp_seconds",
		Help: "When the configuration was last loaded successfully (Unix time)."})
	m.checks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "archivd_fixity_checks_total",
		Help: "Fixity checks of one AIP's copy at one location, by location, kind (full, quick) and result (ok, repaired, damaged, unavailable)."}, []string{"location", "kind", "result"})
	m.checkedB = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "archivd_fixity_verified_bytes_total",
		Help: "Bytes read and verified by fixity checks, by location."}, []string{"location"})
	m.retentionDue = prometheus.NewGauge(prometheus.GaugeOpts{Name: "archivd_retention_due_aips",
		Help: "AIPs whose retention period has ended, as of the last scheduled retention run (none is deleted without dispose propose and approve)."})
	m.reloadOK.Set(1)
	m.reloadTime.SetToCurrentTime()
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "archivd_build_info", Help: "archivd's version and Go version.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()}})
	info.Set(1)
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.Registry.MustRegister(m.ingests, m.bytes, m.duration, m.stages, m.runs, m.lastSuccess, m.reloadOK, m.reloadTime, info,
		m.checks, m.checkedB, &fixityCollector{d}, m.retentionDue,
		gauge("archivd_cases_in_flight", "Claimed cases being archived now.", func() float64 {
			d.mu.Lock()
			defer d.mu.Unlock()
			return float64(len(d.busy))
		}),
		gauge("archivd_cases_waiting_retry", "Claimed cases waiting to be tried again after a passing failure.", func() float64 {
			d.mu.Lock()
			defer d.mu.Unlock()
			return float64(len(d.retryAt))
		}),
		gauge("archivd_quarantine_cases", "Refused cases in quarantine.", func() float64 {
			q, _ := ListQuarantine(d.conf())
			return float64(len(q))
		}),
		gauge("archivd_copies_missing", "AIP versions lacking a copy the copy policy requires.", func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			n, err := d.a.Catalog().MissingCopies(ctx, d.conf().Copies.Required)
			if err != nil {
				return -1
			}
			return float64(n)
		}),
		gauge("archivd_data_dir_free_bytes", "Free space in the data directory.", func() float64 {
			var st syscall.Statfs_t
			if err := syscall.Statfs(d.conf().DataDir, &st); err != nil {
				return -1
			}
			return float64(st.Bavail) * float64(st.Bsize)
		}),
		&queueCollector{d},
		prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{PidFn: func() (int, error) { return os.Getpid(), nil }}),
		prometheus.NewGoCollector(),
	)
	return m
}

// queueCollector counts the case folders waiting in each inbox.
type queueCollector struct{ d *Daemon }

var queueDesc = prometheus.NewDesc("archivd_inbox_cases", "Deliveries waiting in an inbox, not claimed yet.", []string{"inbox"}, nil)

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	cfg := q.d.conf()
	for i := range cfg.Inboxes {
		n := len(waiting(&cfg.Inboxes[i]))
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), cfg.Inboxes[i].Name)
	}
}

// Reloaded records a configuration reload's outcome.
func (m *Metrics) Reloaded(ok bool) {
	if ok {
		m.reloadOK.Set(1)
		m.reloadTime.SetToCurrentTime()
	} else {
		m.reloadOK.Set(0)
	}
}

// observeFixity counts one fixity run's checks.
func (m *Metrics) observeFixity(run *fixity.Run) {
	for _, c := range run.Copies {
		m.checks.WithLabelValues(c.Location, string(c.Kind), c.Outcome).Inc()
		m.checkedB.WithLabelValues(c.Location).Add(float64(c.Bytes))
	}
}

// fixityCollector exports coverage, the oldest verification and open
// damage, read from the catalog at each scrape.
type fixityCollector struct{ d *Daemon }

var (
	coverageDesc = prometheus.NewDesc("archivd_fixity_coverage_ratio",
		"Share of the AIP copies at a location fully verified within fixity.cycle_days.", []string{"location"}, nil)
	oldestDesc = prometheus.NewDesc("archivd_fixity_oldest_verification_age_seconds",
		"Age of the oldest full verification of a copy at a location (never verified counts from 1970).", []string{"location"}, nil)
	damageDesc = prometheus.NewDesc("archivd_fixity_open_damage",
		"Damage found and not repaired yet (each damaged stored file counts).", nil, nil)
)

func (f *fixityCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- coverageDesc
	ch <- oldestDesc
	ch <- damageDesc
}

func (f *fixityCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := time.Now()
	st, err := f.d.a.FixityStatus(ctx, now)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(coverageDesc, err)
		return
	}
	for _, c := range st.Locations {
		ch <- prometheus.MustNewConstMetric(coverageDesc, prometheus.GaugeValue, c.Ratio, c.Location)
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, c.Age(now).Seconds(), c.Location)
	}
	ch <- prometheus.MustNewConstMetric(damageDesc, prometheus.GaugeValue, float64(len(st.OpenDamage)))
}
