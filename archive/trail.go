package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/storage"
)

// Trail appends to the audit log, indexes each entry in the catalog, and
// stores sealed segments beside the AIPs.
type Trail struct {
	log    *audit.Log
	cat    *catalog.DB
	stores []storage.Store
	agent  string

	mu      sync.Mutex
	indexed int64 // the last seq this trail knows to be in the catalog
}

// Record appends an event (the agent filled in if empty) and indexes it.
// It returns once the entry is fsynced: the log is the record, the index
// catches up later if it cannot be written now.
func (t *Trail) Record(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	if e.Agent == "" {
		e.Agent = t.agent
	}
	if e.EventID == "" {
		e.EventID = audit.NewEventID()
	}
	e, err := t.log.Append(e)
	if err != nil {
		return e, err
	}
	t.mu.Lock()
	gap := e.Seq != t.indexed+1
	t.mu.Unlock()
	if gap {
		// Entries this process did not write (another process, or a
		// recovery entry the log added): index everything new.
		t.index(ctx)
		return e, nil
	}
	if err := t.cat.PutEvent(ctx, event(e)); err == nil {
		t.mu.Lock()
		t.indexed = max(t.indexed, e.Seq)
		t.mu.Unlock()
	}
	return e, nil
}

func event(e audit.Entry) catalog.Event {
	return catalog.Event{Seq: e.Seq, Hash: e.Hash(), Time: e.Time, Type: e.Type, AIP: e.AIP,
		Location: e.Location, Outcome: e.Outcome, Detail: e.Detail}
}

// index puts the log entries the catalog has not seen into it.
func (t *Trail) index(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	last, err := t.cat.LastEventSeq(ctx)
	if err != nil {
		return err
	}
	err = t.log.Since(last, func(e audit.Entry) error {
		if err := t.cat.PutEvent(ctx, event(e)); err != nil {
			return err
		}
		last = e.Seq
		return nil
	})
	t.indexed = last
	return err
}

// Log is the underlying audit log.
func (t *Trail) Log() *audit.Log { return t.log }

// sealSize seals an open segment that has grown this large, whatever its age.
const sealSize = 4 << 20

// SealIfDue seals the open segment if its first entry is older than after
// (0: always) or it passed sealSize, then stores every sealed segment a
// location lacks. So a day of commands is not a day of tiny objects.
func (t *Trail) SealIfDue(ctx context.Context, after time.Duration) error {
	size, first, err := t.log.OpenSegment()
	if err != nil {
		return err
	}
	if size > 0 && (after == 0 || size >= sealSize || time.Since(first) >= after) {
		return t.SealAndStore(ctx)
	}
	return t.store(ctx)
}

// SealAndStore closes the open audit segment and stores every sealed
// segment that a location does not hold yet.
func (t *Trail) SealAndStore(ctx context.Context) error {
	if _, err := t.log.Seal(); err != nil {
		return err
	}
	return t.store(ctx)
}

// store puts every sealed segment a location lacks there.
func (t *Trail) store(ctx context.Context) error {
	var errs []error
	for _, st := range t.stores {
		names, err := segmentStore{st}.SegmentNames(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("list audit segments at %s: %w", st.Name(), err))
			continue
		}
		missing, err := t.log.Unstored(names)
		if err != nil {
			return err
		}
		for _, s := range missing {
			b, err := os.ReadFile(s)
			if err != nil {
				return err
			}
			if err := st.PutExtension(ctx, "segments/"+filepath.Base(s), b); err != nil {
				errs = append(errs, fmt.Errorf("store audit segment %s at %s: %w", filepath.Base(s), st.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// segmentStore keeps sealed audit segments in a location's extension folder.
type segmentStore struct{ storage.Store }

func (s segmentStore) SegmentNames(ctx context.Context) ([]string, error) {
	names, err := s.ListExtension(ctx, "segments/")
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, "segments/")
	}
	return names, err
}

func (s segmentStore) Segment(ctx context.Context, name string) ([]byte, error) {
	return s.GetExtension(ctx, "segments/"+name)
}

func remotes(stores []storage.Store) []audit.Remote {
	var out []audit.Remote
	for _, st := range stores {
		out = append(out, segmentStore{st})
	}
	return out
}

// reconcileAudit compares the local trail with the one stored beside the
// AIPs: a local trail behind storage (lost, or restored from an older
// backup) is caught up and that is recorded; a fork is a *audit.ForkError
// before anything is appended.
func (a *Archive) reconcileAudit(ctx context.Context) error {
	rec, unreachable, err := a.trail.log.Reconcile(ctx, remotes(a.stores))
	if err != nil {
		return err
	}
	for name, err := range unreachable {
		a.log.Warn().Err(err).Str("location", name).Msg("stored audit trail not compared: location unreachable")
	}
	if rec != nil {
		detail := fmt.Sprintf("local audit log was behind the trail stored at %s (head seq %d, stored %d): caught up from %d stored segment(s)", rec.Location, rec.From, rec.To, rec.Segments)
		a.log.Warn().Str("location", rec.Location).Msg(detail)
		if _, err := a.trail.Record(ctx, audit.Entry{Type: audit.TypeRecovery, Location: rec.Location, Outcome: audit.OutcomeSuccess, Detail: detail}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	return nil
}

// AuditReport is what VerifyAudit found.
type AuditReport struct {
	Entries     int64
	Broken      error           // the local chain's first break, or nil
	Torn        *audit.TornTail // an unfinished last entry, if any
	Differences []audit.Difference
	Matching    []string         // locations whose stored trail matches
	Unreachable map[string]error // locations that could not be read
}

// VerifyAudit is the auditor's check of the audit trail: the local chain
// from first entry to last, then every stored copy of every segment. It
// takes no lock and changes nothing, so it runs beside a working archivd.
func VerifyAudit(ctx context.Context, cfg *config.Config) (*AuditReport, error) {
	log, err := audit.OpenReadOnly(filepath.Join(cfg.DataDir, "audit"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	r := &AuditReport{Torn: log.Torn, Unreachable: map[string]error{}}
	r.Entries, r.Broken = log.Verify(nil)
	if r.Broken != nil {
		return r, nil
	}
	var stores []storage.Store
	for _, loc := range cfg.Locations {
		st, err := OpenLocation(ctx, loc)
		if err != nil {
			r.Unreachable[loc.Name] = err
			continue
		}
		stores = append(stores, st)
	}
	diffs, unreachable, err := log.Compare(ctx, remotes(stores))
	if err != nil {
		return nil, err
	}
	r.Differences = diffs
	differs := map[string]bool{}
	for _, d := range diffs {
		if !d.Pending {
			differs[d.Location] = true
		}
	}
	for name, err := range unreachable {
		r.Unreachable[name] = err
	}
	for _, st := range stores {
		if _, ok := unreachable[st.Name()]; !ok && !differs[st.Name()] {
			r.Matching = append(r.Matching, st.Name())
		}
	}
	return r, nil
}
