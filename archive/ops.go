package archive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/archivd/archivd/access"
	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/catalog/rebuild"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/fixity"
	"github.com/archivd/archivd/formats"
	"github.com/archivd/archivd/ingest"
	"github.com/archivd/archivd/replicate"
	"github.com/archivd/archivd/storage"
)

// Analyzer builds the identifier, validators and format policy the
// configuration asks for; without signature files, the built-in set.
func (a *Archive) Analyzer() (*formats.Analyzer, error) { return NewAnalyzer(a.conf(), "", "") }

// IngestOptions tune one ingest.
type IngestOptions struct {
	// Again archives a case folder that was already archived unchanged.
	Again bool
	// Defaults (agency, record class) win over the configured ones; an
	// inbox's own defaults.
	Defaults *aip.Metadata
	// Policy is layered over the configured format policy; an inbox's own.
	Policy *formats.Policy
	// ID fixes the AIP id (the daemon assigns it at claim); Origin names
	// the delivery for once-only; Override accepts format policy refusals,
	// saying who did and why.
	ID       aip.ID
	Origin   string
	Override string
	// Kind of delivery: ingest.KindFolder (default) or ingest.KindBag.
	Kind string
	// Progress is told how far the ingest is (see ingest.Progress).
	Progress func(ingest.Progress)
	// Stage is told how long each stage took (see ingest.Ingester.Stage).
	Stage func(stage string, took time.Duration)
}

// Ingester is an ingest.Ingester wired to this archive.
func (a *Archive) Ingester(o IngestOptions) (*ingest.Ingester, error) {
	cfg := a.conf()
	an, err := a.Analyzer()
	if err != nil {
		return nil, err
	}
	if o.Policy != nil {
		an.Policy = an.Policy.Merge(o.Policy)
	}
	defaults := caseDefaults(cfg, o.Defaults)
	return &ingest.Ingester{
		Analyzer: an,
		Again:    o.Again,
		ID:       o.ID, Origin: o.Origin, Override: o.Override, Kind: o.Kind, Progress: o.Progress, Stage: o.Stage,
		Stores: a.stores, Required: cfg.Copies.Required, AllowMissing: cfg.Copies.AllowMissing,
		Catalog: a.cat, Trail: a.trail, Staging: a.StagingDir(),
		Defaults:     defaults,
		Organization: cfg.Archive.Organization, Contact: cfg.Archive.Contact, Zone: cfg.Zone,
		Options:  aip.Options{Level: cfg.Package.CompressionLevel, FrameSize: cfg.Package.FrameSizeMiB << 20},
		Software: a.opts.Software, Version: a.opts.Version, Log: a.log,
		Classes: cfg.Retention.Classes,
	}, nil
}

// Ingest archives a case folder and returns the new AIP's id. Errors are
// an *ingest.InputError or *aip.PathError for bad input, an
// *ingest.IncompleteError when required copies are missing.
func (a *Archive) Ingest(ctx context.Context, folder string, o IngestOptions) (aip.ID, error) {
	ing, err := a.Ingester(o)
	if err != nil {
		return aip.ID{}, err
	}
	return ing.Ingest(ctx, folder)
}

// Copy states of a verification.
const (
	CopyOK          = "OK"
	CopyDamaged     = "DAMAGED"
	CopyUnavailable = "UNAVAILABLE"
	CopyUnchecked   = "UNCHECKED" // at a location no longer configured
	CopyMissing     = "MISSING"   // required, never made yet
)

// CopyCheck is the outcome for one copy.
type CopyCheck struct {
	Location string
	State    string
	Checked  []string // "location vN"
	Bytes    int64
	Findings []fixity.Finding
	Err      error
}

// VerifyReport is the outcome for every copy of an AIP.
type VerifyReport struct {
	AIP    aip.ID
	Copies []CopyCheck
}

// Damaged reports whether any copy was found damaged.
func (r *VerifyReport) Damaged() bool { return r.has(CopyDamaged) }

// Unavailable reports whether some copy could not be checked or is missing.
func (r *VerifyReport) Unavailable() bool {
	return r.has(CopyUnavailable) || r.has(CopyUnchecked) || r.has(CopyMissing)
}

func (r *VerifyReport) has(state string) bool {
	for _, c := range r.Copies {
		if c.State == state {
			return true
		}
	}
	return false
}

// Verify re-reads every version of the AIP on every copy and checks every
// digest; each checked copy is an audit event, and a copy found intact
// gets its verification time in the catalog. An error means the check
// could not be recorded (or the AIP is unknown: catalog.ErrNotFound).
func (a *Archive) Verify(ctx context.Context, id aip.ID) (*VerifyReport, error) {
	rec, err := a.cat.GetAIP(ctx, id.String())
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", id, err)
	}
	copies, err := a.cat.Copies(ctx, id.String(), 1)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", id, err)
	}
	rep := &VerifyReport{AIP: id}
	have := map[string]bool{}
	for _, cp := range copies {
		have[cp.Location] = true
		st := a.Store(cp.Location)
		if st == nil {
			rep.Copies = append(rep.Copies, CopyCheck{Location: cp.Location, State: CopyUnchecked})
			continue
		}
		res, err := fixity.VerifyAIP(ctx, st, a.cat, id)
		check := CopyCheck{Location: st.Name(), Err: err}
		entry := audit.Entry{Type: audit.TypeFixityCheck, AIP: id.String(), Location: st.Name()}
		switch {
		case err != nil:
			check.State = CopyUnavailable
			entry.Outcome, entry.Detail = audit.OutcomeFailure, "copy could not be checked: "+err.Error()
		case res.OK():
			check.State, check.Checked, check.Bytes = CopyOK, res.Checked, res.Bytes
			entry.Outcome = audit.OutcomeSuccess
			entry.Detail = fmt.Sprintf("checked %s: %d bytes read, every digest matches", strings.Join(res.Checked, ", "), res.Bytes)
		default:
			check.State, check.Findings, check.Checked, check.Bytes = CopyDamaged, res.Findings, res.Checked, res.Bytes
			var lines []string
			for _, f := range res.Findings {
				lines = append(lines, f.String())
			}
			entry.Outcome, entry.Detail = audit.OutcomeFailure, "damage found: "+strings.Join(lines, "; ")
		}
		ev, err := a.trail.Record(ctx, entry)
		if err != nil {
			return rep, fmt.Errorf("audit: %w", err)
		}
		if check.State == CopyOK {
			for v := 1; v <= rec.Head; v++ {
				if err := a.cat.SetCopyVerified(ctx, id.String(), v, st.Name(), ev.Time); err != nil {
					return rep, fmt.Errorf("catalog: record the verified copy at %s: %w", st.Name(), err)
				}
			}
		}
		rep.Copies = append(rep.Copies, check)
	}
	for _, name := range a.conf().Copies.Required {
		if !have[name] {
			rep.Copies = append(rep.Copies, CopyCheck{Location: name, State: CopyMissing})
		}
	}
	return rep, nil
}

// NoVersionError: the AIP has no such version.
type NoVersionError struct {
	AIP       aip.ID
	Want, Has int
}

func (e *NoVersionError) Error() string {
	has := fmt.Sprintf("v1 to v%d", e.Has)
	switch e.Has {
	case 1:
		has = "v1 only"
	case 2:
		has = "v1 and v2"
	}
	return fmt.Sprintf("export %s: there is no version v%d; this AIP has %s", e.AIP, e.Want, has)
}

// ExportReport describes a finished export.
type ExportReport struct {
	Version  int
	Location string
	*access.Summary
}

// Export restores version v (0: the newest) of an AIP into target, an
// empty or new folder, from the first copy that works; each attempt that
// fails is logged and the next copy tried. Errors: *NoVersionError,
// *access.TargetError (the target is untouched), storage.ErrDigest or
// storage.ErrNotFound (damage), storage.ErrUnavailable.
func (a *Archive) Export(ctx context.Context, id aip.ID, v int, target string) (*ExportReport, error) {
	rec, err := a.cat.GetAIP(ctx, id.String())
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", id, err)
	}
	if v == 0 {
		v = rec.Head
	}
	if v < 1 || v > rec.Head {
		return nil, &NoVersionError{AIP: id, Want: v, Has: rec.Head}
	}
	copies, err := a.cat.Copies(ctx, id.String(), v)
	if err != nil {
		return nil, fmt.Errorf("export %s v%d: %w", id, v, err)
	}
	if len(copies) == 0 {
		return nil, fmt.Errorf("export %s v%d: the catalog records no copy of this version (run archivd catalog rebuild): %w", id, v, catalog.ErrNotFound)
	}
	rep := &ExportReport{Version: v}
	var unknown []string
	var from storage.Store
	for _, cp := range copies {
		st := a.Store(cp.Location)
		if st == nil {
			unknown = append(unknown, cp.Location)
			a.log.Warn().Str("aip", id.String()).Str("location", cp.Location).Msg("a copy is recorded at a location that is no longer configured; trying the next copy")
			continue
		}
		from = st
		rep.Summary, err = access.Export(ctx, from, a.cat, id, v, target)
		var te *access.TargetError
		if err == nil || errors.As(err, &te) {
			break
		}
		// Export removed what it wrote: the next copy starts from the same target.
		a.log.Warn().Err(err).Str("aip", id.String()).Str("location", from.Name()).Msg("export from this copy failed; trying the next")
	}
	if from == nil {
		err = fmt.Errorf("export %s v%d: every recorded copy is at a location no longer configured (%s): %w", id, v, strings.Join(unknown, ", "), storage.ErrUnavailable)
	}
	entry := audit.Entry{Type: audit.TypeDissemination, AIP: id.String()}
	if from != nil {
		entry.Location, rep.Location = from.Name(), from.Name()
	}
	if err != nil {
		entry.Outcome, entry.Detail = audit.OutcomeFailure, fmt.Sprintf("export of v%d to %s: %v", v, target, err)
	} else {
		entry.Outcome, entry.Detail = audit.OutcomeSuccess, fmt.Sprintf("export of v%d to %s: %d files, %d folders, %d bytes, every digest checked", v, target, rep.Files, rep.Dirs, rep.Bytes)
	}
	if _, aerr := a.trail.Record(ctx, entry); aerr != nil {
		return nil, errors.Join(err, fmt.Errorf("audit: %w", aerr))
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// Replicate makes every copy the copy policy requires, from a verified
// copy; idempotent.
func (a *Archive) Replicate(ctx context.Context) (*replicate.Stats, error) {
	r := &replicate.Replicator{Stores: a.stores, Required: a.conf().Copies.Required, Catalog: a.cat, Trail: a.trail,
		Staging: a.StagingDir(), Agent: a.Agent()}
	return r.Run(ctx)
}

// HoldResult is the outcome of a legal hold change at one location.
type HoldResult struct {
	Location string
	Locked   bool // the location has Object Lock (else nothing to hold)
	Err      error
}

// Hold sets (on) or clears the legal hold on every copy of an AIP; each
// location's outcome is an audit event. The hold, with its reason and who
// set it, is recorded in the catalog first: it blocks disposal whether or
// not a location has Object Lock.
func (a *Archive) Hold(ctx context.Context, id aip.ID, on bool, reason string, who Actor) ([]HoldResult, error) {
	copies, err := a.cat.Copies(ctx, id.String(), 1)
	if err != nil {
		return nil, err
	}
	if len(copies) == 0 {
		return nil, fmt.Errorf("hold %s: no copy recorded: %w", id, catalog.ErrNotFound)
	}
	if strings.TrimSpace(reason) == "" {
		return nil, fmt.Errorf("hold %s: a reason is required (--reason)", id)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	if on {
		err = a.cat.PutHold(ctx, catalog.Hold{AIP: id.String(), SetAt: now, SetBy: who.String(), Reason: reason})
	} else {
		err = a.cat.ClearHolds(ctx, id.String(), now, who.String(), reason)
	}
	if err != nil {
		return nil, err
	}
	if b, err := a.cat.PendingBatchOf(ctx, id.String()); err == nil && b != "" && on {
		a.log.Warn().Str("aip", id.String()).Str("batch", b).Msg("the AIP is in a disposal batch: the hold keeps it from being destroyed")
	}
	typ := map[bool]string{true: audit.TypeLegalHoldSet, false: audit.TypeLegalHoldClear}[on]
	if _, err := a.trail.Record(ctx, audit.Entry{Type: typ, AIP: id.String(), Outcome: audit.OutcomeSuccess,
		Detail: fmt.Sprintf("by %s: %s (recorded in the catalog: no disposal while it holds)", who, reason)}); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	var out []HoldResult
	for _, cp := range copies {
		locker, ok := a.Store(cp.Location).(storage.Locker)
		if !ok || !locker.ObjectLock() {
			out = append(out, HoldResult{Location: cp.Location})
			continue
		}
		r := HoldResult{Location: cp.Location, Locked: true, Err: locker.LegalHold(ctx, id.String(), on)}
		entry := audit.Entry{Type: typ, AIP: id.String(), Location: cp.Location, Outcome: audit.OutcomeSuccess, Detail: fmt.Sprintf("by %s: %s", who, reason)}
		if r.Err != nil {
			entry.Outcome, entry.Detail = audit.OutcomeFailure, entry.Detail+"; "+r.Err.Error()
		}
		if _, err := a.trail.Record(ctx, entry); err != nil {
			return out, fmt.Errorf("audit: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// RebuildCatalog builds a new catalog from storage and the audit log and
// swaps it in when complete (see catalog/rebuild).
func (a *Archive) RebuildCatalog(ctx context.Context) (*rebuild.Stats, error) {
	return rebuild.Run(ctx, a.stores, a.cat, a.trail.log, a.conf().Zone)
}

// caseDefaults are the agency and record class a case gets where its
// sidecar has none: the inbox's (or command's) own, else the configured.
func caseDefaults(cfg *config.Config, own *aip.Metadata) aip.Metadata {
	d := aip.Metadata{Agency: cfg.CaseDefaults.Agency, RecordClass: cfg.CaseDefaults.RecordClass}
	if own != nil {
		if own.Agency != "" {
			d.Agency = own.Agency
		}
		if own.RecordClass != "" {
			d.RecordClass = own.RecordClass
		}
	}
	return d
}
