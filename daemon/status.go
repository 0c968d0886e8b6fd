package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/archivd/archivd/atomicfile"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/config"
)

// CaseStatus is a claimed case and how far its ingest got.
type CaseStatus struct {
	Claim
	State   string // the ingest's state, "claimed" before it began
	Updated string
	Error   string
}

// Quarantined is one refused case.
type Quarantined struct {
	Ref    string // <inbox>/<folder>, as quarantine show and retry take it
	Dir    string
	Reason Reason
	Case   string // the refused delivery inside Dir: case/ or delivery.zip
}

// ReasonText is the case's REASON.txt, in German and English.
func (q *Quarantined) ReasonText() ([]byte, error) {
	return os.ReadFile(filepath.Join(q.Dir, reasonFile))
}

// Status is what archivd status shows.
type Status struct {
	Running     string // who holds the data directory ("pid 12, since ..."), "" if nobody
	InFlight    []CaseStatus
	Queued      map[string][]string // inbox -> case folders not claimed yet
	Quarantined []Quarantined
	Runs        []catalog.ScheduleRun
	Next        map[string]time.Time
	Failures    []catalog.Event
}

// ReadStatus gathers the status from the data directory without the lock:
// it works beside a running daemon.
// StatusOf reads the status from the data directory's catalog, beside a
// running daemon or without one; it takes no lock.
func StatusOf(ctx context.Context, cfg *config.Config) (*Status, error) {
	cat, err := catalog.Open(ctx, filepath.Join(cfg.DataDir, "catalog.db"))
	if err != nil {
		return nil, err
	}
	defer cat.Close()
	return ReadStatus(ctx, cfg, cat)
}

func ReadStatus(ctx context.Context, cfg *config.Config, cat *catalog.DB) (*Status, error) {
	st := &Status{Queued: map[string][]string{}, Next: NextRuns(cfg, time.Now())}
	st.Running = lockHolder(cfg)
	ents, _ := os.ReadDir(workDir(cfg))
	for _, e := range ents {
		c, err := loadClaim(filepath.Join(workDir(cfg), e.Name()))
		if err != nil {
			continue
		}
		cs := CaseStatus{Claim: *c, State: "claimed"}
		if in, err := cat.GetIngest(ctx, c.ID); err == nil {
			cs.State, cs.Updated, cs.Error = in.State, in.Updated, in.Error
		}
		st.InFlight = append(st.InFlight, cs)
	}
	sort.Slice(st.InFlight, func(i, j int) bool { return st.InFlight[i].Claimed.Before(st.InFlight[j].Claimed) })
	for i := range cfg.Inboxes {
		if q := waiting(&cfg.Inboxes[i]); len(q) > 0 {
			st.Queued[cfg.Inboxes[i].Name] = q
		}
	}
	var err error
	if st.Quarantined, err = ListQuarantine(cfg); err != nil {
		return nil, err
	}
	if st.Runs, err = cat.ScheduleRuns(ctx); err != nil {
		return nil, err
	}
	if st.Failures, err = cat.RecentFailures(ctx, 5); err != nil {
		return nil, err
	}
	return st, nil
}

// lockHolder says who holds the data directory's lock, without taking it
// for longer than a moment.
func lockHolder(cfg *config.Config) string {
	p := filepath.Join(cfg.DataDir, "lock")
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return ""
	}
	b, _ := os.ReadFile(p)
	if s := strings.TrimSpace(string(b)); s != "" {
		return s
	}
	return "another archivd"
}

// ListQuarantine lists the refused cases, oldest first.
func ListQuarantine(cfg *config.Config) ([]Quarantined, error) {
	var out []Quarantined
	inboxes, err := os.ReadDir(QuarantineDir(cfg))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	for _, ib := range inboxes {
		cases, _ := os.ReadDir(filepath.Join(QuarantineDir(cfg), ib.Name()))
		for _, c := range cases {
			dir := filepath.Join(QuarantineDir(cfg), ib.Name(), c.Name())
			b, err := os.ReadFile(filepath.Join(dir, "reason.json"))
			if err != nil {
				continue
			}
			q := Quarantined{Ref: ib.Name() + "/" + c.Name(), Dir: dir}
			if err := json.Unmarshal(b, &q.Reason); err != nil {
				continue
			}
			// The reasons are written before the delivery is moved in:
			// until it lies there the daemon is still quarantining it.
			if q.Case = quarantinedCase(dir); q.Case == "" {
				continue
			}
			if q.Reason.RawName != nil {
				q.Reason.Name = string(q.Reason.RawName)
			}
			out = append(out, q)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Reason.Quarantined.Before(out[j].Reason.Quarantined) })
	return out, nil
}

// quarantinedCase is the delivery lying in a quarantine folder, or ""
// while there is none yet.
func quarantinedCase(dir string) string {
	for _, zip := range []bool{false, true} {
		p := filepath.Join(dir, quarantinedName(zip))
		if _, err := os.Lstat(p); err == nil {
			return p
		}
	}
	return ""
}

// FindQuarantined returns the quarantined case ref names (<inbox>/<folder>).
func FindQuarantined(cfg *config.Config, ref string) (*Quarantined, error) {
	all, err := ListQuarantine(cfg)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Ref == ref {
			return &all[i], nil
		}
	}
	return nil, fmt.Errorf("no quarantined case %q (archivd quarantine list names them as <inbox>/<folder>)", ref)
}

// overrideName is the hidden file beside a retried case that carries an
// override into its claim.
func overrideName(name string) string { return "." + name + ".override" }

// Retry puts a quarantined case back into its inbox, as it lies in the
// quarantine folder (fixed by hand, or not). With override, the format
// policy's refusals of that case become warnings, and the override (who
// and why) is recorded with the case. The daemon claims it again.
func Retry(ctx context.Context, cfg *config.Config, trail interface {
	Record(context.Context, audit.Entry) (audit.Entry, error)
}, ref, override string) (string, error) {
	q, err := FindQuarantined(cfg, ref)
	if err != nil {
		return "", err
	}
	in := cfg.Inbox(q.Reason.Inbox)
	if in == nil {
		return "", fmt.Errorf("inbox %q of %s is no longer configured", q.Reason.Inbox, ref)
	}
	if override != "" && !q.Reason.PolicyOnly {
		return "", fmt.Errorf("%s was refused for more than its formats (%s); an override cannot accept that: fix the case in %s, then retry without --accept-formats",
			ref, strings.Join(q.Reason.Problems, "; "), q.Case)
	}
	dst := filepath.Join(in.Path, q.Reason.Name)
	if _, err := os.Lstat(dst); err == nil {
		return "", fmt.Errorf("a case named %q already waits in inbox %s", q.Reason.Name, in.Name)
	}
	if override != "" {
		if err := atomicfile.WriteFile(filepath.Join(in.Path, overrideName(q.Reason.Name)), []byte(override+"\n"), 0o640); err != nil {
			return "", err
		}
	}
	if err := os.Rename(q.Case, dst); err != nil {
		return "", err
	}
	if in.Ready == "marker" {
		if err := atomicfile.WriteFile(dst+MarkerSuffix, nil, 0o640); err != nil {
			return "", err
		}
	}
	detail := fmt.Sprintf("quarantined case %s put back into inbox %s", ref, in.Name)
	if override != "" {
		detail += "; format policy refusals accepted by override: " + override
	}
	if _, err := trail.Record(ctx, audit.Entry{Type: audit.TypeUnquarantine, Outcome: audit.OutcomeSuccess, Detail: detail}); err != nil {
		return "", fmt.Errorf("audit: %w", err)
	}
	if err := os.RemoveAll(q.Dir); err != nil {
		return "", err
	}
	return dst, nil
}
