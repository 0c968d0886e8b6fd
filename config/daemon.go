package config

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// CronParser reads the schedule's expressions: five fields or descriptors
// such as @daily and @every 6h.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Interval is the time between two runs of a cron spec (0 for none or an
// unreadable spec): the share of the fixity cycle one scheduled run takes.
func Interval(spec string, zone *time.Location) time.Duration {
	s, err := CronParser.Parse(spec)
	if err != nil {
		return 0
	}
	next := s.Next(time.Now().In(zone))
	return s.Next(next).Sub(next)
}

// checkDaemon checks inboxes, daemon settings and the schedule.
func (c *Config) checkDaemon(root *yaml.Node, add func(l int, format string, args ...any), line func(...string) int) {
	names := map[string]bool{}
	for i := range c.Inboxes {
		in := &c.Inboxes[i]
		l := lineOfIndex(root, "inboxes", i)
		switch {
		case in.Name == "":
			add(l, "inboxes[%d]: name is required", i)
		case names[in.Name]:
			add(l, "inboxes[%d]: name %q is used twice", i, in.Name)
		case !safeName(in.Name):
			add(l, "inboxes[%d]: name %q: use letters, digits, '-' and '_' (it names folders)", i, in.Name)
		}
		names[in.Name] = true
		if in.Path == "" {
			add(l, "inboxes[%d] (%s): path is required", i, in.Name)
		} else if why := usableDir(in.Path); why != "" {
			add(l, "inboxes[%d] (%s): path: %s", i, in.Name, why)
		} else if c.DataDir != "" {
			p, dd := realPath(in.Path), realPath(c.DataDir)
			switch {
			case within(p, dd) || within(dd, p):
				add(l, "inboxes[%d] (%s): path %s and the data directory %s must not contain each other", i, in.Name, in.Path, c.DataDir)
			case !sameDevice(in.Path, c.DataDir):
				add(l, "inboxes[%d] (%s): path %s is on another filesystem than the data directory %s; a case is claimed by one atomic rename, so both must be on the same filesystem", i, in.Name, in.Path, c.DataDir)
			}
			for _, loc := range c.Locations {
				if loc.Type == "local" && loc.Path != "" && (within(p, realPath(loc.Path)) || within(realPath(loc.Path), p)) {
					add(l, "inboxes[%d] (%s): path %s and location %s must not contain each other", i, in.Name, in.Path, loc.Name)
				}
			}
		}
		if in.Kind != "folder" && in.Kind != "bag" && in.Kind != "zip" && in.Kind != "xdomea" {
			add(l, "inboxes[%d] (%s): kind %q: folder (a case folder with an optional case.yaml), bag (a BagIt bag), zip (a .zip of either) or xdomea (xdomea 0503 transfer zips)", i, in.Name, in.Kind)
		}
		if in.Kind == "xdomea" {
			if in.Outbox == "" {
				add(l, "inboxes[%d] (%s): an xdomea inbox needs an outbox: the folder the 0507 and 0506 answers go to", i, in.Name)
			} else if why := usableDir(in.Outbox); why != "" {
				add(l, "inboxes[%d] (%s): outbox: %s", i, in.Name, why)
			}
			if in.Schemas != "" {
				if st, err := os.Stat(in.Schemas); err != nil || !st.IsDir() {
					add(l, "inboxes[%d] (%s): schemas %s is not a folder of xdomea XSDs", i, in.Name, in.Schemas)
				}
			}
		}
		switch in.Ready {
		case "marker", "rename":
		case "settle":
			d, err := time.ParseDuration(in.Settle)
			if err != nil || d < time.Second {
				add(l, "inboxes[%d] (%s): settle %q: a duration of at least 1s, e.g. 2m", i, in.Name, in.Settle)
			}
			in.SettleD = d
		default:
			add(l, "inboxes[%d] (%s): ready %q: marker, rename or settle", i, in.Name, in.Ready)
		}
		if in.After != "remove" && in.After != "keep" {
			add(l, "inboxes[%d] (%s): after %q: remove or keep", i, in.Name, in.After)
		}
		for _, p := range in.Policy.Check() {
			add(l, "inboxes[%d] (%s): policy.%s", i, in.Name, p)
		}
	}
	d := &c.Daemon
	if d.Workers < 1 || d.Workers > 64 {
		add(line("daemon", "workers"), "daemon.workers %d: 1 to 64", d.Workers)
	}
	for _, x := range []struct {
		key string
		v   string
		min time.Duration
		dst *time.Duration
	}{{"poll_interval", d.PollInterval, 100 * time.Millisecond, &d.PollD}, {"retry_max", d.RetryMax, time.Second, &d.RetryMaxD}} {
		v, err := time.ParseDuration(x.v)
		if err != nil || v < x.min {
			add(line("daemon", x.key), "daemon.%s %q: a duration of at least %v", x.key, x.v, x.min)
		}
		*x.dst = v
	}
	if v, err := time.ParseDuration(c.Audit.SealAfter); err != nil || v < 0 {
		add(line("audit", "seal_after"), "audit.seal_after %q: a duration such as 1h, or 0s to seal at the end of every command", c.Audit.SealAfter)
	} else {
		c.Audit.SealAfterD = v
	}
	if d.ZipMaxMiB < 1 {
		add(line("daemon", "zip_max_mib"), "daemon.zip_max_mib %d: at least 1", d.ZipMaxMiB)
	}
	if d.MinFreeMiB < 0 {
		add(line("daemon", "min_free_mib"), "daemon.min_free_mib %d: must not be negative", d.MinFreeMiB)
	}
	for key, s := range map[string]string{"replicate": c.Schedule.Replicate, "fixity": c.Schedule.Fixity, "fixity_quick": c.Schedule.FixityQuick, "retention": c.Schedule.Retention} {
		if s == "" {
			continue
		}
		if _, err := CronParser.Parse(s); err != nil {
			add(line("schedule", key), "schedule.%s %q: %v", key, s, err)
		}
	}
	f := &c.Fixity
	if f.CycleDays < 1 {
		add(line("fixity", "cycle_days"), "fixity.cycle_days %d: at least 1", f.CycleDays)
	}
	if v, err := time.ParseDuration(f.MaxRun); err != nil || v < time.Minute {
		add(line("fixity", "max_run"), "fixity.max_run %q: a duration of at least 1m, such as 4h", f.MaxRun)
	} else {
		f.MaxRunD = v
	}
	if f.BandwidthMiB < 0 {
		add(line("fixity", "bandwidth_mib"), "fixity.bandwidth_mib %d: MiB/s, 0 for unlimited", f.BandwidthMiB)
	}
	if f.Parallel < 1 || f.Parallel > 32 {
		add(line("fixity", "parallel"), "fixity.parallel %d: 1 to 32", f.Parallel)
	}
	seen := map[string]bool{}
	for i := range c.Retention.Classes {
		rc := &c.Retention.Classes[i]
		l := line("retention", "classes")
		if why := rc.Check(); why != "" {
			add(l, "retention.classes[%d] (%s): %s", i, rc.Name, why)
		}
		if seen[rc.Name] {
			add(l, "retention.classes[%d]: name %q is used twice", i, rc.Name)
		}
		seen[rc.Name] = true
	}
	if c.Signing.KeyFile != "" && c.Signing.Systemd != "" {
		add(line("signing"), "signing: key_file or systemd, not both")
	}
}

func safeName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return s != ""
}

// sameDevice reports whether a and the nearest existing folder of b are on
// one filesystem.
func sameDevice(a, b string) bool {
	dev := func(p string) (uint64, bool) {
		for {
			var st syscall.Stat_t
			if err := syscall.Stat(p, &st); err == nil {
				return uint64(st.Dev), true
			}
			parent := filepath.Dir(p)
			if parent == p {
				return 0, false
			}
			p = parent
		}
	}
	da, okA := dev(a)
	db, okB := dev(b)
	return okA && okB && da == db
}

// String is a short description of the daemon settings, for logs.
func (d Daemon) String() string {
	return fmt.Sprintf("%d worker(s), poll every %v, claims pause below %d MiB free", d.Workers, d.PollD, d.MinFreeMiB)
}
