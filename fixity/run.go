package fixity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
)

// Kind of check: full re-reads every byte of a copy; quick asks the
// location whether every stored file is there with its size and stored
// digest, reading no content.
type Kind string

const (
	Full  Kind = "full"
	Quick Kind = "quick"
)

// QuickDetailPrefix starts the audit detail of a quick check, which
// verifies no content: a catalog rebuild does not count it as a full
// verification.
const QuickDetailPrefix = "quick check of "

// Outcomes of one copy's check, as recorded and reported.
const (
	OutcomeOK          = "ok"
	OutcomeDamaged     = "damaged"  // damage found and not repaired
	OutcomeRepaired    = "repaired" // damage found, rewritten from a good copy, verified
	OutcomeUnavailable = "unavailable"
)

// Recorder is the audit trail.
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) (audit.Entry, error)
}

// Checker runs fixity checks over the archive's locations.
type Checker struct {
	Stores  []storage.Store
	Catalog *catalog.DB
	Trail   Recorder
	Log     zerolog.Logger
	Staging string // temporary files of repairs
	Repair  bool   // rewrite damaged copies from a good one
}

// Options choose what one run checks and within which budget.
type Options struct {
	Kind     Kind
	AIPs     []string // only these AIPs (every copy), whatever their age
	Location string   // only copies at this location
	All      bool     // every copy now, whatever the cycle
	// Cycle is the time within which every copy is fully re-read; Interval
	// the time between scheduled runs. A run takes the copies verified
	// longest ago: every copy older than the cycle, and at least an even
	// share (copies × Interval / Cycle), so the work spreads over the cycle.
	Cycle, Interval time.Duration
	MaxRun          time.Duration // 0: no limit; the run ends incomplete, the rest waits
	BytesPerSec     int64         // reading budget over all copies at once; 0: none
	Parallel        int           // copies checked at once
	Now             time.Time     // planning time (zero: now)
	// Progress is called after each copy (from one goroutine at a time).
	Progress func(done, total int, bytes int64)
}

// CopyResult is the outcome for one AIP's copy at one location.
type CopyResult struct {
	AIP, Location string
	Kind          Kind
	Outcome       string
	Bytes         int64
	Findings      []Finding
	Repair        string // what the repair did, or why there was none
	Note          string // e.g. a mismatch that a second read did not show
	Err           error  // why the copy could not be checked (unavailable)
}

// Run is one run's outcome.
type Run struct {
	ID             string
	Kind           Kind
	Started, Ended time.Time
	Planned        int
	Copies         []CopyResult
	Bytes          int64
	Complete       bool
	Incomplete     string // why not every planned copy was checked
}

// Count returns how many copies had outcome o.
func (r *Run) Count(o string) int {
	n := 0
	for _, c := range r.Copies {
		if c.Outcome == o {
			n++
		}
	}
	return n
}

// Summary is the run in one line.
func (r *Run) Summary() string {
	s := fmt.Sprintf("%s check: %d of %d copies checked, %d bytes read; %d ok, %d damaged and repaired, %d damaged and NOT repaired, %d unavailable",
		r.Kind, len(r.Copies), r.Planned, r.Bytes, r.Count(OutcomeOK), r.Count(OutcomeRepaired), r.Count(OutcomeDamaged), r.Count(OutcomeUnavailable))
	if !r.Complete {
		s += "; INCOMPLETE: " + r.Incomplete
	}
	return s
}

// task is one copy to check.
type task struct {
	aip   string
	store storage.Store
}

// Plan returns the copies a run with o checks, oldest verification first.
func (c *Checker) Plan(ctx context.Context, o Options) ([]task, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	want := map[string]bool{}
	for _, id := range o.AIPs {
		want[id] = true
	}
	var out []task
	for _, st := range c.Stores {
		if o.Location != "" && st.Name() != o.Location {
			continue
		}
		states, err := c.Catalog.CopyStates(ctx, st.Name())
		if err != nil {
			return nil, err
		}
		sort.SliceStable(states, func(i, j int) bool { return catalog.Later(states[j].VerifiedAt, states[i].VerifiedAt) })
		take := len(states)
		if len(want) == 0 && !o.All && o.Kind == Full {
			take = due(states, o.Cycle, o.Interval, now)
		}
		for _, s := range states {
			if len(want) > 0 && !want[s.AIP] {
				continue
			}
			if take == 0 {
				break
			}
			take--
			out = append(out, task{s.AIP, st})
		}
	}
	if o.Location != "" && len(out) == 0 {
		found := false
		for _, st := range c.Stores {
			found = found || st.Name() == o.Location
		}
		if !found {
			return nil, fmt.Errorf("no location %q is configured", o.Location)
		}
	}
	return out, nil
}

// due is how many of states (oldest first) a scheduled full run takes:
// all that are older than the cycle (catch-up after downtime), and at least
// an even share of the cycle.
func due(states []catalog.CopyState, cycle, interval time.Duration, now time.Time) int {
	if cycle <= 0 {
		return len(states)
	}
	overdue := 0
	for _, s := range states {
		t, err := time.Parse(time.RFC3339Nano, s.VerifiedAt)
		if err != nil || now.Sub(t) >= cycle {
			overdue++
		}
	}
	share := len(states)
	if interval > 0 && interval < cycle {
		share = int(math.Ceil(float64(len(states)) * float64(interval) / float64(cycle)))
	}
	return min(len(states), max(overdue, share))
}

// Run checks the planned copies, records every check (catalog and audit
// trail), and repairs damage from a good copy. The error is non-nil only
// when a check could not be recorded or ctx ended; damage and unavailable
// locations are in the Run.
func (c *Checker) Run(ctx context.Context, o Options) (*Run, error) {
	if o.Kind == "" {
		o.Kind = Full
	}
	tasks, err := c.Plan(ctx, o)
	if err != nil {
		return nil, err
	}
	run := &Run{ID: uuid.NewString(), Kind: o.Kind, Started: time.Now().UTC(), Planned: len(tasks)}
	if err := c.putRun(ctx, run); err != nil {
		return nil, err
	}
	work := ctx
	if o.MaxRun > 0 {
		var cancel context.CancelFunc
		work, cancel = context.WithTimeout(ctx, o.MaxRun)
		defer cancel()
	}
	var limit *limiter
	if o.BytesPerSec > 0 {
		limit = newLimiter(o.BytesPerSec)
	}
	par := max(o.Parallel, 1)
	next := make(chan task)
	results := make(chan CopyResult)
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range next {
				results <- c.checkCopy(work, run.ID, o.Kind, t, limit)
			}
		}()
	}
	go func() {
		defer close(next)
		for _, t := range tasks {
			select {
			case next <- t:
			case <-work.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	var recErr error
	for r := range results {
		if work.Err() != nil && ctx.Err() == nil && r.Outcome == OutcomeUnavailable {
			continue // cut by max_run: checked in the next run, not called unavailable
		}
		if ctx.Err() != nil && r.Outcome == OutcomeUnavailable {
			continue
		}
		if err := c.record(context.WithoutCancel(ctx), run.ID, r); err != nil && recErr == nil {
			recErr = err
		}
		run.Copies = append(run.Copies, r)
		run.Bytes += r.Bytes
		if o.Progress != nil {
			o.Progress(len(run.Copies), len(tasks), run.Bytes)
		}
	}
	run.Ended = time.Now().UTC()
	run.Complete = true
	switch {
	case ctx.Err() != nil:
		run.Complete, run.Incomplete = false, fmt.Sprintf("stopped (%v) after %d of %d copies", ctx.Err(), len(run.Copies), len(tasks))
	case len(run.Copies) < len(tasks):
		run.Complete, run.Incomplete = false, fmt.Sprintf("max_run %v reached after %d of %d copies; the next run goes on with the rest", o.MaxRun, len(run.Copies), len(tasks))
	case run.Count(OutcomeUnavailable) > 0:
		var locs []string
		for _, r := range run.Copies {
			if r.Outcome == OutcomeUnavailable && !contains(locs, r.Location) {
				locs = append(locs, r.Location)
			}
		}
		run.Complete, run.Incomplete = false, fmt.Sprintf("%d copies could not be checked (location unavailable: %s); none of them is called damaged", run.Count(OutcomeUnavailable), strings.Join(locs, ", "))
	}
	bg := context.WithoutCancel(ctx)
	if err := c.putRun(bg, run); err != nil && recErr == nil {
		recErr = err
	}
	if _, err := c.Trail.Record(bg, audit.Entry{Type: audit.TypeFixityCheck, Outcome: runOutcome(run), Detail: "fixity run " + run.ID + ": " + run.Summary()}); err != nil && recErr == nil {
		recErr = fmt.Errorf("audit: %w", err)
	}
	if recErr != nil {
		return run, recErr
	}
	return run, ctx.Err()
}

func runOutcome(r *Run) string {
	if r.Complete && r.Count(OutcomeDamaged) == 0 {
		return audit.OutcomeSuccess
	}
	return audit.OutcomeFailure
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func (c *Checker) putRun(ctx context.Context, r *Run) error {
	end := ""
	if !r.Ended.IsZero() {
		end = r.Ended.Format(time.RFC3339Nano)
	}
	return c.Catalog.PutFixityRun(ctx, catalog.FixityRun{ID: r.ID, Kind: string(r.Kind), Started: r.Started.Format(time.RFC3339Nano), Finished: end,
		Complete: r.Complete, Copies: len(r.Copies), Bytes: r.Bytes, Damaged: r.Count(OutcomeDamaged), Repaired: r.Count(OutcomeRepaired),
		Unavailable: r.Count(OutcomeUnavailable), Detail: r.Summary()})
}

// record writes one copy's check to the catalog and the audit trail; an
// intact copy gets its verification time.
func (c *Checker) record(ctx context.Context, runID string, r CopyResult) error {
	detail := fmt.Sprintf("%s check of %s at %s: %s, %d bytes read", r.Kind, r.AIP, r.Location, r.Outcome, r.Bytes)
	if r.Note != "" {
		detail += "; " + r.Note
	}
	for _, f := range r.Findings {
		detail += "; " + f.String()
	}
	if r.Repair != "" {
		detail += "; repair: " + r.Repair
	}
	if r.Err != nil {
		detail += "; " + r.Err.Error()
	}
	outcome := audit.OutcomeSuccess
	if r.Outcome != OutcomeOK {
		outcome = audit.OutcomeFailure
	}
	ev, err := c.Trail.Record(ctx, audit.Entry{Type: audit.TypeFixityCheck, AIP: r.AIP, Location: r.Location, Outcome: outcome, Detail: detail})
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := c.Catalog.PutFixityCheck(ctx, catalog.FixityCheck{Run: runID, Time: ev.Time, AIP: r.AIP, Location: r.Location,
		Kind: string(r.Kind), Outcome: r.Outcome, Bytes: r.Bytes, Detail: detail}); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if r.Kind == Full && (r.Outcome == OutcomeOK || r.Outcome == OutcomeRepaired) {
		a, err := c.Catalog.GetAIP(ctx, r.AIP)
		if err != nil {
			return err
		}
		for v := 1; v <= a.Head; v++ {
			if err := c.Catalog.SetCopyVerified(ctx, r.AIP, v, r.Location, ev.Time); err != nil {
				return fmt.Errorf("catalog: record the verified copy of %s at %s: %w", r.AIP, r.Location, err)
			}
		}
	}
	return nil
}

// checkCopy checks one copy; damage is read a second time before it is
// believed, then recorded and repaired.
func (c *Checker) checkCopy(ctx context.Context, runID string, kind Kind, t task, lim *limiter) CopyResult {
	r := CopyResult{AIP: t.aip, Location: t.store.Name(), Kind: kind}
	id, err := aip.ParseID(t.aip)
	if err != nil {
		r.Outcome, r.Err = OutcomeUnavailable, err
		return r
	}
	store := t.store
	if lim != nil {
		store = &throttled{Store: store, lim: lim}
	}
	var findings []Finding
	if kind == Quick {
		findings, err = QuickCheck(ctx, store, c.Catalog, id)
		if err == nil && len(findings) > 0 {
			// What a quick check finds is confirmed by reading the copy.
			r.Note = fmt.Sprintf("the quick check found %d problem(s); the copy was read in full", len(findings))
			kind, r.Kind = Full, Full
		}
	}
	if kind == Full {
		var res *Result
		res, err = VerifyAIP(ctx, store, c.Catalog, id)
		if err == nil {
			r.Bytes += res.Bytes
			findings = res.Findings
			if len(findings) > 0 {
				again, err2 := VerifyAIP(ctx, store, c.Catalog, id)
				switch {
				case err2 != nil:
					err = err2
				case again.OK():
					r.Bytes += again.Bytes
					r.Note = strings.TrimPrefix(r.Note+"; a mismatch on the first read was not found on a second read (a read error, not damage): "+findings[0].String(), "; ")
					findings = nil
				default:
					r.Bytes += again.Bytes
					findings = again.Findings
				}
			}
		}
	}
	switch {
	case err != nil:
		r.Outcome, r.Err = OutcomeUnavailable, err
		return r
	case len(findings) == 0:
		r.Outcome = OutcomeOK
		return r
	}
	r.Findings = findings
	r.Outcome = OutcomeDamaged
	c.Log.Error().Str("aip", t.aip).Str("location", r.Location).Int("findings", len(findings)).Str("first", findings[0].String()).Msg("fixity: damage found")
	bg := context.WithoutCancel(ctx)
	for _, f := range findings {
		sv := ""
		if f.File != "" {
			if info, err := t.store.Stat(bg, t.aip, f.File); err == nil {
				sv = info.VersionID
			}
		}
		if _, err := c.Catalog.PutDamage(bg, catalog.Damage{Run: runID, FoundAt: time.Now().UTC().Format(time.RFC3339Nano), AIP: t.aip, Version: f.Version,
			Location: r.Location, File: f.File, Member: f.Member, Problem: f.Problem, Expected: f.Expected, Found: f.Found, StoredVersion: sv}); err != nil {
			r.Err = fmt.Errorf("catalog: record damage: %w", err)
		}
	}
	if !c.Repair {
		r.Repair = "not attempted (fixity.repair is off)"
		return r
	}
	desc, err := c.repair(ctx, id, t.store, findings)
	if err != nil {
		r.Repair = "FAILED: " + err.Error()
		c.Log.Error().Err(err).Str("aip", t.aip).Str("location", r.Location).Msg("fixity: damage NOT repaired")
		return r
	}
	r.Repair, r.Outcome = desc, OutcomeRepaired
	if err := c.Catalog.SetDamageRepaired(bg, t.aip, r.Location, time.Now().UTC().Format(time.RFC3339Nano), desc); err != nil {
		r.Err = fmt.Errorf("catalog: record the repair: %w", err)
	}
	c.Log.Warn().Str("aip", t.aip).Str("location", r.Location).Str("repair", desc).Msg("fixity: damage repaired from a good copy")
	return r
}

// repair rewrites the damaged files of id at dst from a copy that verifies
// in full, then verifies dst in full. It returns what it did.
func (c *Checker) repair(ctx context.Context, id aip.ID, dst storage.Store, findings []Finding) (string, error) {
	files := map[string]bool{}
	for _, f := range findings {
		if f.File == "" {
			return "", fmt.Errorf("%s is not damage of one stored file; repair it by hand", f.Problem)
		}
		files[f.File] = true
		if strings.HasSuffix(f.File, ocfl.InventoryFile) {
			files[f.File+".sha512"] = true // the sidecar goes with its inventory
		}
	}
	var src storage.Store
	var tried []string
	for _, st := range c.Stores {
		if st.Name() == dst.Name() {
			continue
		}
		if cps, err := c.Catalog.Copies(ctx, id.String(), 1); err != nil || !hasCopy(cps, st.Name()) {
			continue
		}
		res, err := VerifyAIP(ctx, st, c.Catalog, id)
		switch {
		case err != nil:
			tried = append(tried, fmt.Sprintf("%s unavailable (%v)", st.Name(), err))
		case !res.OK():
			tried = append(tried, fmt.Sprintf("%s damaged too (%s)", st.Name(), res.Findings[0]))
		default:
			src = st
		}
		if src != nil {
			break
		}
	}
	if src == nil {
		if len(tried) == 0 {
			return "", errors.New("no other location holds a copy")
		}
		return "", fmt.Errorf("no good copy to repair from: %s", strings.Join(tried, "; "))
	}
	var names, replaced []string
	done := map[string]bool{}
	for round := 0; ; round++ {
		if files[ocfl.InventoryFile] && round == 0 {
			// A copy without its root inventory may have lost everything:
			// every file the good copy's inventory names is looked at.
			all, err := objectFiles(ctx, src, id)
			if err != nil {
				return "", err
			}
			for _, p := range all {
				if _, err := dst.Stat(ctx, id.String(), p); storage.IsDamage(err) {
					files[p] = true
				}
			}
		}
		for _, p := range sortedKeys(files) {
			if done[p] {
				continue
			}
			done[p] = true
			old, err := c.restoreFile(ctx, id, src, dst, p)
			if err != nil {
				return "", fmt.Errorf("restore %s from %s: %w", p, src.Name(), err)
			}
			names = append(names, p)
			if old != "" {
				replaced = append(replaced, p+" version "+old)
			}
		}
		res, err := VerifyAIP(ctx, dst, c.Catalog, id)
		if err != nil {
			return "", fmt.Errorf("verify after the repair: %w", err)
		}
		if res.OK() {
			break
		}
		// What the first damage hid (a version inventory behind a lost root
		// inventory) shows now; a file rewritten once and still wrong stops.
		more := false
		for _, f := range res.Findings {
			if f.File != "" && !done[f.File] {
				files[f.File], more = true, true
			}
		}
		if !more || round >= 3 {
			return "", fmt.Errorf("still damaged after rewriting %s: %s", strings.Join(names, ", "), res.Findings[0])
		}
	}
	// The rewritten versions get the AIP's retention, as its first copies did.
	if l, ok := dst.(storage.Locker); ok {
		var due time.Time
		mode := ""
		if r, err := c.Catalog.GetRetention(ctx, id.String()); err == nil {
			due, _ = time.Parse(time.RFC3339, r.Due)
			mode = r.LockMode
		}
		a, err := c.Catalog.GetAIP(ctx, id.String())
		if err != nil {
			return "", err
		}
		for v := 1; v <= a.Head; v++ {
			if err := storage.Retain(ctx, l, id.String(), v, due, mode, time.Now()); err != nil {
				return "", fmt.Errorf("retention of the repaired copy: %w", err)
			}
		}
	}
	desc := fmt.Sprintf("rewrote %s from the copy at %s (verified in full before and after)", strings.Join(names, ", "), src.Name())
	if len(replaced) > 0 {
		desc += "; the damaged object versions stay in the bucket: " + strings.Join(replaced, ", ")
	}
	if _, err := c.Trail.Record(context.WithoutCancel(ctx), audit.Entry{Type: audit.TypeReplication, AIP: id.String(), Location: dst.Name(),
		Outcome: audit.OutcomeSuccess, Detail: "repair of a damaged copy: " + desc}); err != nil {
		return "", fmt.Errorf("audit: %w", err)
	}
	return desc, nil
}

func hasCopy(cps []catalog.Copy, loc string) bool {
	for _, c := range cps {
		if c.Location == loc {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// restoreFile copies one stored file from src to dst through a temporary
// file, hashing it on the way; Restore verifies it again while writing.
func (c *Checker) restoreFile(ctx context.Context, id aip.ID, src, dst storage.Store, p string) (string, error) {
	rc, err := src.Open(ctx, id.String(), p)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	if err := os.MkdirAll(c.Staging, 0o750); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(c.Staging, "repair-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := digest.NewHasher()
	if _, err := io.Copy(io.MultiWriter(tmp, h), rc); err != nil {
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return dst.Restore(ctx, id.String(), storage.File{Path: p, Source: tmp.Name(), Size: h.Size(), Digests: h.Sum()})
}

// objectFiles lists every stored file of an object as the good copy's
// inventory names it: declaration, inventories with sidecars, content.
func objectFiles(ctx context.Context, src storage.Store, id aip.ID) ([]string, error) {
	b, err := src.Inventory(ctx, id.String())
	if err != nil {
		return nil, err
	}
	inv, err := ocfl.ParseInventory(b)
	if err != nil {
		return nil, err
	}
	out := []string{ocfl.ObjectDeclaration, ocfl.InventoryFile, ocfl.SidecarFile}
	for v := 1; v <= inv.HeadNumber(); v++ {
		out = append(out, ocfl.VersionName(v)+"/"+ocfl.InventoryFile, ocfl.VersionName(v)+"/"+ocfl.SidecarFile)
	}
	for _, paths := range inv.Manifest {
		out = append(out, paths...)
	}
	sort.Strings(out[3+2*inv.HeadNumber():])
	return out, nil
}
