package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/access"
	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/catalog/rebuild"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/fixity"
	"github.com/archivd/archivd/ingest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
	"github.com/archivd/archivd/storage/localfs"
	"github.com/archivd/archivd/storage/s3"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes (sysexits.h), as documented in docs/operations.md.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 64
	exitDataErr     = 65 // bad input, or damage found
	exitUnavailable = 69 // storage unavailable
	exitLocked      = 75 // another archivd holds the data directory
	exitConfig      = 78
)

const usage = `archivd: ingest finished case files into verified archival packages.

Usage:
  archivd demo [--dir DIR]                       build a sample case file, ingest, verify and export it
  archivd ingest --config FILE [--again] FOLDER  archive a case folder; prints the new AIP id
  archivd verify --config FILE AIP-ID            re-read every copy and version, check every digest
  archivd export --config FILE [--version vN] AIP-ID TARGET
                                                 restore the original files into an empty folder
  archivd config check FILE                      report every configuration problem with its line
  archivd ocfl validate PATH                     OCFL 1.1 validation of an object or a storage root
  archivd catalog rebuild --config FILE          rebuild the catalog from storage and the audit log
  archivd audit verify --config FILE             check the hash chain of the audit log
  archivd identify [--format table|csv|json] [--signatures DROID.xml] [--container-signatures C.xml] FILE|DIR...
                                                 PUID, format, version, MIME, basis, warnings, validity
  archivd policy check --config FILE DIR         what the format policy would do with each file
  archivd locations check --config FILE          is each location reachable, writable, versioned, locked?
  archivd replicate --config FILE                make every copy the copy policy requires (idempotent)
  archivd hold set|clear --config FILE AIP-ID    legal hold on every copy (Object Lock locations)
  archivd version

Exit codes: 0 ok, 1 failure, 64 usage, 65 bad input or damage found,
69 storage unavailable, 75 data directory locked, 78 bad configuration.
`

// cli carries the output streams of one invocation.
type cli struct {
	out, errw io.Writer
	log       zerolog.Logger
	again     bool // ingest --again
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{out: stdout, errw: stderr,
		log: zerolog.New(zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.RFC3339}).With().Timestamp().Logger()}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "demo":
		return c.demo(ctx, args[1:])
	case "ingest":
		return c.ingest(ctx, args[1:])
	case "verify":
		return c.verify(ctx, args[1:])
	case "export":
		return c.export(ctx, args[1:])
	case "config":
		if len(args) == 3 && args[1] == "check" {
			return c.configCheck(args[2])
		}
	case "ocfl":
		if len(args) == 3 && args[1] == "validate" {
			return c.ocflValidate(args[2])
		}
	case "catalog":
		if len(args) >= 2 && args[1] == "rebuild" {
			return c.catalogRebuild(ctx, args[2:])
		}
	case "audit":
		if len(args) >= 2 && args[1] == "verify" {
			return c.auditVerify(ctx, args[2:])
		}
	case "identify":
		return c.identify(ctx, args[1:])
	case "policy":
		if len(args) >= 2 && args[1] == "check" {
			return c.policyCheck(ctx, args[2:])
		}
	case "locations":
		if len(args) >= 2 && args[1] == "check" {
			return c.locationsCheck(ctx, args[2:])
		}
	case "replicate":
		return c.replicateCmd(ctx, args[1:])
	case "hold":
		return c.hold(ctx, args[1:])
	case "version", "--version":
		fmt.Fprintln(stdout, "archivd", version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "archivd: unknown command %q\n\n%s", strings.Join(args, " "), usage)
	return exitUsage
}

// flags parses "--config FILE" and others; positional arguments may come
// before or after flags.
func (c *cli) flags(name string, args []string, setup func(fs *flag.FlagSet)) ([]string, bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.errw)
	setup(fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// env is an opened data directory: lock, catalog, audit log, storage.
type env struct {
	cfg    *config.Config
	lock   *os.File
	cat    *catalog.DB
	trail  *trail
	stores []storage.Store // in configuration order
}

// store returns the location named name.
func (e *env) store(name string) storage.Store {
	for _, s := range e.stores {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

func (e *env) close() {
	if e.trail != nil {
		e.trail.log.Close()
	}
	if e.cat != nil {
		e.cat.Close()
	}
	if e.lock != nil {
		e.lock.Close()
	}
}

// errLocked: another archivd holds the data directory.
var errLocked = errors.New("locked")

// open takes the data directory's lock (exclusive for writers) and opens
// everything. It prints the problem and returns an exit code on failure.
func (c *cli) open(ctx context.Context, cfg *config.Config) (*env, int) {
	e := &env{cfg: cfg}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		fmt.Fprintf(c.errw, "archivd: data directory %s: %v\n", cfg.DataDir, err)
		return nil, exitFailure
	}
	lockPath := filepath.Join(cfg.DataDir, "lock")
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o640)
	if err == nil {
		if ferr := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); ferr != nil {
			f.Close()
			fmt.Fprintf(c.errw, "archivd: another archivd is working on %s (lock %s held); try again when it has finished\n", cfg.DataDir, lockPath)
			return nil, exitLocked
		}
		e.lock = f
	} else {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		return nil, exitFailure
	}
	if e.cat, err = catalog.Open(ctx, filepath.Join(cfg.DataDir, "catalog.db")); err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		e.close()
		return nil, exitFailure
	}
	removed, waiting, err := ingest.CleanStaging(ctx, e.cat, filepath.Join(cfg.DataDir, "staging"))
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		e.close()
		return nil, exitFailure
	}
	if len(removed) > 0 {
		c.log.Info().Strs("spools", removed).Msg("removed the staging leftovers of interrupted ingests")
	}
	for _, w := range waiting {
		c.log.Info().Str("aip", w.AIP).Str("case", w.Source).Int64("bytes", w.Bytes).Msg("an interrupted ingest waits in staging; ingest the case folder again to finish it")
	}
	for _, loc := range cfg.Locations {
		st, err := openLocation(ctx, loc)
		if err != nil {
			fmt.Fprintf(c.errw, "archivd: %v\n", err)
			e.close()
			return nil, exitUnavailable
		}
		if s3st, ok := st.(*s3.Store); ok {
			// Leftovers of crashed uploads; best effort, the server may be down.
			if n, err := s3st.AbortStaleUploads(ctx, loc.MultipartAge); err == nil && n > 0 {
				c.log.Info().Str("location", loc.Name).Int("aborted", n).Msg("aborted stale multipart uploads")
			}
		}
		e.stores = append(e.stores, st)
	}
	log, err := audit.Open(filepath.Join(cfg.DataDir, "audit"))
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		e.close()
		return nil, exitFailure
	}
	e.trail = &trail{log: log, cat: e.cat, stores: e.stores}
	if code := c.reconcileAudit(ctx, e); code != exitOK {
		e.close()
		return nil, code
	}
	if err := e.trail.catchUp(ctx); err != nil {
		c.log.Warn().Err(err).Msg("audit index behind the log")
	}
	return e, exitOK
}

// reconcileAudit records a torn last entry that Open cut off, and compares
// the local trail with the one stored beside the AIPs: a local trail behind
// storage (lost, or restored from an older backup) is caught up; a fork
// stops the command before anything is appended.
func (c *cli) reconcileAudit(ctx context.Context, e *env) int {
	t := e.trail
	var remotes []audit.Remote
	for _, st := range e.stores {
		remotes = append(remotes, segmentStore{st})
	}
	rec, unreachable, err := t.log.Reconcile(ctx, remotes)
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		var fork *audit.ForkError
		if errors.As(err, &fork) {
			return exitDataErr
		}
		return exitFailure
	}
	for name, err := range unreachable {
		c.log.Warn().Err(err).Str("location", name).Msg("stored audit trail not compared: location unreachable")
	}
	if torn := t.log.Torn; torn != nil {
		detail := fmt.Sprintf("cut off an unfinished last entry of %d bytes at the end of the audit log (a crash while it was written; never fsynced, so the action it was to record did not count as done); the bytes are kept in %s", torn.Bytes, torn.Kept)
		c.log.Warn().Msg(detail)
		if _, err := t.Record(ctx, audit.Entry{Type: "recovery", Outcome: "success", Detail: detail, Agent: "archivd " + version, EventID: newEventID()}); err != nil {
			fmt.Fprintf(c.errw, "archivd: audit: %v\n", err)
			return exitFailure
		}
	}
	if rec != nil {
		detail := fmt.Sprintf("local audit log was behind the trail stored at %s (head seq %d, stored %d): caught up from %d stored segment(s)", rec.Location, rec.From, rec.To, rec.Segments)
		c.log.Warn().Str("location", rec.Location).Msg(detail)
		if _, err := t.Record(ctx, audit.Entry{Type: "recovery", Location: rec.Location, Outcome: "success", Detail: detail, Agent: "archivd " + version, EventID: newEventID()}); err != nil {
			fmt.Fprintf(c.errw, "archivd: audit: %v\n", err)
			return exitFailure
		}
	}
	return exitOK
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

// trail appends to the audit log, indexes the entry in the catalog, and
// stores sealed segments beside the AIPs.
type trail struct {
	log    *audit.Log
	cat    *catalog.DB
	stores []storage.Store
}

func (t *trail) Record(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	e, err := t.log.Append(e)
	if err != nil {
		return e, err
	}
	// The log is the record; the index can be caught up later.
	t.cat.PutEvent(ctx, catalog.Event{Seq: e.Seq, Hash: e.Hash(), Time: e.Time, Type: e.Type, AIP: e.AIP,
		Location: e.Location, Outcome: e.Outcome, Detail: e.Detail})
	return e, nil
}

// catchUp indexes log entries the catalog has not seen.
func (t *trail) catchUp(ctx context.Context) error {
	last, err := t.cat.LastEventSeq(ctx)
	if err != nil {
		return err
	}
	_, err = t.log.Verify(func(e audit.Entry) error {
		if e.Seq <= last {
			return nil
		}
		return t.cat.PutEvent(ctx, catalog.Event{Seq: e.Seq, Hash: e.Hash(), Time: e.Time, Type: e.Type, AIP: e.AIP,
			Location: e.Location, Outcome: e.Outcome, Detail: e.Detail})
	})
	return err
}

// seal closes the current audit segment and stores every sealed segment
// that a location does not hold yet.
func (t *trail) seal(ctx context.Context) error {
	if _, err := t.log.Seal(); err != nil {
		return err
	}
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

// configured parses --config FILE (and any extra flags) and loads the
// configuration; a non-zero code means the command must stop with it.
func (c *cli) configured(name string, args []string, extra func(*flag.FlagSet)) (*config.Config, []string, int) {
	var cfgPath string
	pos, ok := c.flags(name, args, func(fs *flag.FlagSet) {
		fs.StringVar(&cfgPath, "config", "", "configuration file")
		if extra != nil {
			extra(fs)
		}
	})
	if !ok {
		return nil, nil, exitUsage
	}
	cfg, code := c.loadConfig(cfgPath)
	return cfg, pos, code
}

// withEnv opens the data directory for fn, then closes it and stores the
// sealed audit segment beside the AIPs.
func (c *cli) withEnv(ctx context.Context, cfg *config.Config, fn func(e *env) int) int {
	e, code := c.open(ctx, cfg)
	if e == nil {
		return code
	}
	defer e.close()
	defer func() {
		if err := e.trail.seal(ctx); err != nil {
			c.log.Warn().Err(err).Msg("audit segment not yet stored; the next command retries")
		}
	}()
	return fn(e)
}

func (c *cli) loadConfig(path string) (*config.Config, int) {
	if path == "" {
		fmt.Fprintln(c.errw, "archivd: --config FILE is required")
		return nil, exitUsage
	}
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: bad configuration:\n%v\n", err)
		return nil, exitConfig
	}
	return cfg, exitOK
}

func (c *cli) ingester(e *env) (*ingest.Ingester, error) {
	cfg := e.cfg
	a, err := analyzer(cfg, "", "")
	if err != nil {
		return nil, err
	}
	return &ingest.Ingester{
		Analyzer: a,
		Again:    c.again,
		Stores:   e.stores, Required: cfg.Copies.Required, AllowMissing: cfg.Copies.AllowMissing, Catalog: e.cat, Trail: e.trail, Staging: filepath.Join(cfg.DataDir, "staging"),
		Defaults:     aip.Metadata{Agency: cfg.CaseDefaults.Agency, RecordClass: cfg.CaseDefaults.RecordClass},
		Organization: cfg.Archive.Organization, Contact: cfg.Archive.Contact, Zone: cfg.Zone,
		Options:  aip.Options{Level: cfg.Package.CompressionLevel, FrameSize: cfg.Package.FrameSizeMiB << 20},
		Software: "archivd", Version: version, Log: c.log,
	}, nil
}

func (c *cli) ingest(ctx context.Context, args []string) int {
	cfg, pos, code := c.configured("ingest", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&c.again, "again", false, "archive a case folder that was already archived unchanged")
	})
	if code != exitOK {
		return code
	}
	if len(pos) != 1 || pos[0] == "" {
		fmt.Fprintln(c.errw, "usage: archivd ingest --config FILE FOLDER (the case folder, not empty)")
		return exitUsage
	}
	return c.ingestWith(ctx, cfg, pos[0], nil)
}

func (c *cli) ingestWith(ctx context.Context, cfg *config.Config, folder string, idOut *aip.ID) int {
	return c.withEnv(ctx, cfg, func(e *env) int { return c.ingestIn(ctx, e, folder, idOut) })
}

func (c *cli) ingestIn(ctx context.Context, e *env, folder string, idOut *aip.ID) int {
	ing, err := c.ingester(e)
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		return exitConfig
	}
	id, err := ing.Ingest(ctx, folder)
	if err != nil && ctx.Err() != nil {
		fmt.Fprintf(c.errw, "archivd: interrupted: the ingest of %s stopped (%v); the case folder is untouched and the next ingest of it resumes\n", folder, err)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		var ie *ingest.InputError
		var pe *aip.PathError
		var inc *ingest.IncompleteError
		switch {
		case errors.As(err, &ie), errors.As(err, &pe):
			return exitDataErr
		case errors.As(err, &inc), errors.Is(err, storage.ErrUnavailable):
			return exitUnavailable
		}
		return exitFailure
	}
	if idOut != nil {
		*idOut = id
	}
	fmt.Fprintln(c.out, id)
	return exitOK
}

func (c *cli) verify(ctx context.Context, args []string) int {
	cfg, pos, code := c.configured("verify", args, nil)
	if code != exitOK {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(c.errw, "usage: archivd verify --config FILE AIP-ID")
		return exitUsage
	}
	id, err := aip.ParseID(pos[0])
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		return exitUsage
	}
	return c.verifyWith(ctx, cfg, id)
}

func (c *cli) verifyWith(ctx context.Context, cfg *config.Config, id aip.ID) int {
	return c.withEnv(ctx, cfg, func(e *env) int { return c.verifyIn(ctx, e, id) })
}

func (c *cli) verifyIn(ctx context.Context, e *env, id aip.ID) int {
	a, err := e.cat.GetAIP(ctx, id.String())
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: verify %s: %v\n", id, err)
		return exitDataErr
	}
	copies, err := e.cat.Copies(ctx, id.String(), 1)
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: verify %s: %v\n", id, err)
		return exitFailure
	}
	damaged, unavailable := false, false
	for _, cp := range copies {
		st := e.store(cp.Location)
		if st == nil {
			fmt.Fprintf(c.out, "UNCHECKED %s at %s: location no longer configured\n", id, cp.Location)
			unavailable = true
			continue
		}
		res, err := fixity.VerifyAIP(ctx, st, e.cat, id)
		entry := audit.Entry{Type: "fixity check", AIP: id.String(), Location: st.Name(), Agent: "archivd " + version, EventID: newEventID()}
		switch {
		case err != nil:
			unavailable = true
			entry.Outcome, entry.Detail = "failure", "copy could not be checked: "+err.Error()
			fmt.Fprintf(c.out, "UNAVAILABLE %s at %s: %v\n", id, st.Name(), err)
		case res.OK():
			entry.Outcome = "success"
			entry.Detail = fmt.Sprintf("checked %s: %d bytes read, every digest matches", strings.Join(res.Checked, ", "), res.Bytes)
		default:
			damaged = true
			var lines []string
			for _, f := range res.Findings {
				lines = append(lines, f.String())
			}
			entry.Outcome, entry.Detail = "failure", "damage found: "+strings.Join(lines, "; ")
			fmt.Fprintf(c.out, "DAMAGED %s at %s\n", id, st.Name())
			for _, f := range res.Findings {
				fmt.Fprintf(c.out, "  %s\n", f)
			}
		}
		ev, aerr := e.trail.Record(ctx, entry)
		if aerr != nil {
			fmt.Fprintf(c.errw, "archivd: audit: %v\n", aerr)
			return exitFailure
		}
		if err == nil && res.OK() {
			for v := 1; v <= a.Head; v++ {
				e.cat.SetCopyVerified(ctx, id.String(), v, st.Name(), ev.Time)
			}
			fmt.Fprintf(c.out, "OK %s at %s (%s; %d bytes read)\n", id, st.Name(), strings.Join(res.Checked, ", "), res.Bytes)
		}
	}
	for _, name := range e.cfg.Copies.Required {
		found := false
		for _, cp := range copies {
			found = found || cp.Location == name
		}
		if !found {
			fmt.Fprintf(c.out, "MISSING %s at %s: no copy yet (run archivd replicate)\n", id, name)
			unavailable = true
		}
	}
	switch {
	case damaged:
		return exitDataErr
	case unavailable:
		return exitUnavailable
	}
	return exitOK
}

func (c *cli) export(ctx context.Context, args []string) int {
	var ver string
	cfg, pos, code := c.configured("export", args, func(fs *flag.FlagSet) {
		fs.StringVar(&ver, "version", "", "version to export, e.g. v1 (default: the newest)")
	})
	if code != exitOK {
		return code
	}
	if len(pos) != 2 {
		fmt.Fprintln(c.errw, "usage: archivd export --config FILE [--version vN] AIP-ID TARGET")
		return exitUsage
	}
	id, err := aip.ParseID(pos[0])
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		return exitUsage
	}
	v := 0
	if ver != "" {
		n, _, ok := ocfl.ParseVersionName(ver)
		if !ok {
			fmt.Fprintf(c.errw, "archivd: --version %q: want v1, v2, ...\n", ver)
			return exitUsage
		}
		v = n
	}
	return c.exportWith(ctx, cfg, id, v, pos[1])
}

func (c *cli) exportWith(ctx context.Context, cfg *config.Config, id aip.ID, v int, target string) int {
	return c.withEnv(ctx, cfg, func(e *env) int { return c.exportIn(ctx, e, id, v, target) })
}

func (c *cli) exportIn(ctx context.Context, e *env, id aip.ID, v int, target string) int {
	a, err := e.cat.GetAIP(ctx, id.String())
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		return exitDataErr
	}
	if v == 0 {
		v = a.Head
	}
	if v < 1 || v > a.Head {
		fmt.Fprintf(c.errw, "archivd: export %s: there is no version v%d; this AIP has %s\n", id, v, versionList(a.Head))
		return exitUsage
	}
	copies, err := e.cat.Copies(ctx, id.String(), v)
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: export %s v%d: %v\n", id, v, err)
		return exitFailure
	}
	if len(copies) == 0 {
		fmt.Fprintf(c.errw, "archivd: export %s v%d: the catalog records no copy of this version (run archivd catalog rebuild)\n", id, v)
		return exitDataErr
	}
	var sum *access.Summary
	var from storage.Store
	var unknown []string
	for _, cp := range copies {
		st := e.store(cp.Location)
		if st == nil {
			unknown = append(unknown, cp.Location)
			c.log.Warn().Str("location", cp.Location).Msg("a copy is recorded at a location that is no longer configured; trying the next copy")
			continue
		}
		from = st
		sum, err = access.Export(ctx, from, e.cat, id, v, target)
		var te *access.TargetError
		if err == nil || errors.As(err, &te) {
			break
		}
		// Export removed what it wrote: the next copy starts from the same target.
		c.log.Warn().Err(err).Str("location", from.Name()).Msg("export from this copy failed; trying the next")
	}
	if from == nil {
		err = fmt.Errorf("export %s v%d: every recorded copy is at a location no longer configured (%s)", id, v, strings.Join(unknown, ", "))
	}
	entry := audit.Entry{Type: "dissemination", AIP: id.String(), Agent: "archivd " + version, EventID: newEventID()}
	if from != nil {
		entry.Location = from.Name()
	}
	if err != nil {
		entry.Outcome, entry.Detail = "failure", fmt.Sprintf("export of v%d to %s: %v", v, target, err)
		code := exitFailure
		switch {
		case errors.Is(err, access.ErrTargetNotEmpty), errors.Is(err, access.ErrTargetNotFolder):
			code = exitUsage
		case errors.Is(err, storage.ErrDigest), errors.Is(err, storage.ErrNotFound):
			code = exitDataErr
		case from == nil, errors.Is(err, storage.ErrUnavailable):
			code = exitUnavailable
		}
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		if _, aerr := e.trail.Record(ctx, entry); aerr != nil {
			fmt.Fprintf(c.errw, "archivd: audit: %v\n", aerr)
			return exitFailure
		}
		return code
	}
	entry.Outcome, entry.Detail = "success", fmt.Sprintf("export of v%d to %s: %d files, %d folders, %d bytes, every digest checked", v, target, sum.Files, sum.Dirs, sum.Bytes)
	if _, err := e.trail.Record(ctx, entry); err != nil {
		fmt.Fprintf(c.errw, "archivd: audit: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(c.out, "exported %s v%d to %s: %d files, %d empty folders, %d bytes\n", id, v, target, sum.Files, sum.Dirs, sum.Bytes)
	return exitOK
}

// versionList names an AIP's versions: "v1", "v1 and v2", "v1 to v5".
func versionList(head int) string {
	switch head {
	case 1:
		return "v1 only"
	case 2:
		return "v1 and v2"
	}
	return fmt.Sprintf("v1 to v%d", head)
}

func (c *cli) configCheck(path string) int {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(c.errw, err)
		return exitConfig
	}
	fmt.Fprintf(c.out, "%s: ok (data_dir %s, %d location(s))\n", path, cfg.DataDir, len(cfg.Locations))
	return exitOK
}

func (c *cli) ocflValidate(path string) int {
	fsys := os.DirFS(path)
	var r *ocfl.Result
	if _, err := os.Stat(filepath.Join(path, ocfl.RootDeclaration)); err == nil {
		r = ocfl.ValidateRoot(fsys)
	} else {
		r = ocfl.ValidateObject(fsys, ".")
	}
	for _, f := range r.Errors {
		fmt.Fprintf(c.out, "ERROR   %s\n", f)
	}
	for _, f := range r.Warnings {
		fmt.Fprintf(c.out, "WARNING %s\n", f)
	}
	if !r.Valid() {
		fmt.Fprintf(c.out, "INVALID %s: %d error(s), %d warning(s)\n", path, len(r.Errors), len(r.Warnings))
		return exitDataErr
	}
	fmt.Fprintf(c.out, "VALID %s: %d object(s), %d warning(s)\n", path, max(r.Objects, 1), len(r.Warnings))
	return exitOK
}

func (c *cli) catalogRebuild(ctx context.Context, args []string) int {
	cfg, _, code := c.configured("catalog rebuild", args, nil)
	if code != exitOK {
		return code
	}
	return c.withEnv(ctx, cfg, func(e *env) int {
		st, err := rebuild.Run(ctx, e.stores, e.cat, e.trail.log)
		if err != nil {
			fmt.Fprintf(c.errw, "archivd: catalog rebuild: %v\nThe catalog is as it was before.\n", err)
			if errors.Is(err, storage.ErrUnavailable) {
				return exitUnavailable
			}
			return exitFailure
		}
		fmt.Fprintf(c.out, "catalog rebuilt: %d AIP(s), %d version(s), %d audit event(s)\n", st.AIPs, st.Versions, st.Events)
		for _, s := range st.Skipped {
			fmt.Fprintf(c.out, "SKIPPED %s\n", s)
		}
		for _, id := range st.Kept {
			fmt.Fprintf(c.out, "KEPT %s: no location could give it; its rows are carried over from the previous catalog (archivd verify %s reports the damage)\n", id, id)
		}
		if len(st.Skipped) > 0 {
			return exitDataErr
		}
		return exitOK
	})
}

// auditVerify checks the local log's chain and compares every stored copy
// of every segment with it. It changes nothing and takes no lock, so it
// runs beside a working archivd.
func (c *cli) auditVerify(ctx context.Context, args []string) int {
	cfg, _, code := c.configured("audit verify", args, nil)
	if code != exitOK {
		return code
	}
	log, err := audit.OpenReadOnly(filepath.Join(cfg.DataDir, "audit"))
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		return exitFailure
	}
	defer log.Close()
	n, err := log.Verify(nil)
	if err != nil {
		fmt.Fprintf(c.out, "BROKEN after %d intact entries: %v\n", n, err)
		return exitDataErr
	}
	fmt.Fprintf(c.out, "OK: %d entries, hash chain intact\n", n)
	if log.Torn != nil {
		fmt.Fprintf(c.out, "NOTE: the open segment ends in an unfinished entry of %d bytes (a crash while it was written, or a write under way); the next command cuts it off and records that\n", log.Torn.Bytes)
	}
	var remotes []audit.Remote
	for _, loc := range cfg.Locations {
		st, err := openLocation(ctx, loc)
		if err != nil {
			fmt.Fprintf(c.out, "UNAVAILABLE stored trail at %s: %v\n", loc.Name, err)
			code = exitUnavailable
			continue
		}
		remotes = append(remotes, segmentStore{st})
	}
	diffs, unreachable, err := log.Compare(ctx, remotes)
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		return exitFailure
	}
	differs := map[string]bool{}
	for _, d := range diffs {
		if d.Pending {
			fmt.Fprintf(c.out, "PENDING %s\n", d)
			code = exitUnavailable
			continue
		}
		fmt.Fprintf(c.out, "DIFFERS %s\n", d)
		differs[d.Location] = true
	}
	for _, r := range remotes {
		if err, ok := unreachable[r.Name()]; ok {
			fmt.Fprintf(c.out, "UNAVAILABLE stored trail at %s: %v\n", r.Name(), err)
			code = exitUnavailable
		} else if !differs[r.Name()] {
			fmt.Fprintf(c.out, "OK stored trail at %s matches the local log\n", r.Name())
		}
	}
	if len(differs) > 0 {
		return exitDataErr
	}
	return code
}

// openLocation opens one configured location. S3 locations are not
// contacted here: an unreachable server shows up when it is used.
func openLocation(ctx context.Context, loc config.Location) (storage.Store, error) {
	switch loc.Type {
	case "local":
		return localfs.Open(loc.Name, loc.Path)
	case "s3":
		cfg := s3.Config{Name: loc.Name, Endpoint: loc.Endpoint, Bucket: loc.Bucket, Prefix: loc.Prefix,
			Region: loc.Region, PathStyle: loc.Addressing == "path", CAFile: loc.CAFile,
			AccessKey: loc.AccessKey, SecretKey: loc.SecretKey, PartSize: int64(loc.PartSizeMiB) << 20}
		if loc.ObjectLock != nil {
			cfg.Lock = &s3.LockConfig{Mode: strings.ToUpper(loc.ObjectLock.Mode), Days: loc.ObjectLock.Days}
		}
		return s3.New(cfg)
	}
	return nil, fmt.Errorf("location %s: unknown type %q", loc.Name, loc.Type)
}
