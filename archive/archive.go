// Package archive is the opened archive: configuration, locations, catalog,
// audit trail and the data directory's lock, and the operations that both
// the commands and the daemon call (ingest, verify, export, replicate,
// hold, rebuild). Neither cmd/archivd nor the daemon holds behaviour the
// other would have to copy.
package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/ingest"
	"github.com/archivd/archivd/storage"
	"github.com/archivd/archivd/storage/localfs"
	"github.com/archivd/archivd/storage/s3"
)

// Mode says what an opened archive may do.
type Mode int

const (
	// Writer holds the data directory's lock exclusively: ingest,
	// replicate, hold, rebuild and the daemon. On open it cleans the
	// staging area and reconciles the audit trail with storage.
	Writer Mode = iota
	// Shared works beside a running daemon: verify and export. It takes
	// the data directory's lock if it is free and then does a writer's
	// duties too (staging, audit reconciliation, sealing); if another
	// process holds it, it only reads the catalog and storage and appends
	// its audit events under the log's own lock, trusting the holder with
	// the rest.
	Shared
)

// Options tune Open.
type Options struct {
	Mode Mode
	// Wait makes a writer wait for the lock instead of failing with
	// *LockedError.
	Wait bool
	Log  zerolog.Logger
	// Software and Version name the agent in audit events and PREMIS.
	Software, Version string
	// Purpose names the holder in the lock file ("run", "replicate"), so
	// a refused command can say who holds the data directory.
	Purpose string
	// WaitForCommands makes a writer wait while a command holds the lock
	// (a verify that took it because it was free), but not while another
	// archivd run does: the service starting beside a short command.
	WaitForCommands bool
}

// LockedError: another archivd holds the data directory.
type LockedError struct {
	Path  string
	Owner string // what the holder wrote into the lock file, if anything
}

func (e *LockedError) Error() string {
	if strings.HasPrefix(e.Owner, "archivd run") {
		return fmt.Sprintf("the archivd service (%s) holds this data directory (lock %s): ingest, verify, export and status work beside it, but this command needs it alone; stop the service for it (the schedule runs replicate by itself)", e.Owner, e.Path)
	}
	who := "another archivd"
	if e.Owner != "" {
		who += " (" + e.Owner + ")"
	}
	return fmt.Sprintf("%s is working on this data directory (lock %s held); try again when it has finished, or use --wait", who, e.Path)
}

// Archive is an opened data directory with its locations.
type Archive struct {
	cfg     atomic.Pointer[config.Config] // swapped whole by SetConfig
	opts    Options
	log     zerolog.Logger
	lock    *os.File
	cat     *catalog.DB
	trail   *Trail
	stores  []storage.Store // in configuration order
	crashes int             // steps reached, for fault injection (crash)
}

// Open opens the archive a configuration describes. A Writer takes the
// data directory's lock (a *LockedError if another process has it), removes
// dead staging spools and reconciles the audit trail with the copies stored
// beside the AIPs before anything is appended.
func Open(ctx context.Context, cfg *config.Config, opts Options) (*Archive, error) {
	if opts.Software == "" {
		opts.Software = "archivd"
	}
	a := &Archive{opts: opts, log: opts.Log}
	a.cfg.Store(cfg)
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	switch opts.Mode {
	case Writer:
		if err := a.takeLock(ctx, opts.Wait); err != nil {
			return nil, err
		}
	case Shared:
		var locked *LockedError
		if err := a.takeLock(ctx, false); err != nil && !errors.As(err, &locked) {
			return nil, err
		}
	}
	ok := false
	defer func() {
		if !ok {
			a.close()
		}
	}()
	var err error
	if a.cat, err = catalog.Open(ctx, filepath.Join(cfg.DataDir, "catalog.db")); err != nil {
		return nil, err
	}
	if a.lock != nil {
		if err := a.cleanStaging(ctx); err != nil {
			return nil, err
		}
	}
	for _, loc := range cfg.Locations {
		st, err := OpenLocation(ctx, loc)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
		}
		if s3st, ok := st.(*s3.Store); ok {
			s3st.SetUploadJournal(filepath.Join(cfg.DataDir, "uploads", loc.Name))
		}
		if s3st, ok := st.(*s3.Store); ok && a.lock != nil {
			// Leftovers of crashed uploads; best effort, the server may be down.
			if n, err := s3st.AbortStaleUploads(ctx, loc.MultipartAge); err == nil && n > 0 {
				a.log.Info().Str("location", loc.Name).Int("aborted", n).Msg("aborted stale multipart uploads")
			}
		}
		a.stores = append(a.stores, storage.Limit(st, loc.MaxUploads))
	}
	log, err := audit.Open(filepath.Join(cfg.DataDir, "audit"))
	if err != nil {
		return nil, err
	}
	a.trail = &Trail{log: log, cat: a.cat, stores: a.stores, agent: a.Agent()}
	if torn := log.Torn; torn != nil {
		a.log.Warn().Int64("bytes", torn.Bytes).Str("kept", torn.Kept).Msg("cut off an unfinished last audit entry (a crash while it was written); the next entry records it")
	}
	if a.lock != nil {
		if err := a.reconcileAudit(ctx); err != nil {
			return nil, err
		}
	}
	if err := a.trail.index(ctx); err != nil {
		a.log.Warn().Err(err).Msg("audit index behind the log")
	}
	ok = true
	return a, nil
}

// takeLock locks the data directory for this writer and notes who holds it.
func (a *Archive) takeLock(ctx context.Context, wait bool) error {
	path := filepath.Join(a.conf().DataDir, "lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return err
	}
	waited := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return fmt.Errorf("lock %s: %w", path, err)
		}
		if !wait {
			b, _ := os.ReadFile(path)
			owner := strings.TrimSpace(string(b))
			if !a.opts.WaitForCommands || strings.HasPrefix(owner, "archivd run") {
				f.Close()
				return &LockedError{Path: path, Owner: owner}
			}
			if !waited {
				a.log.Info().Str("holder", owner).Msg("waiting for a command to finish with the data directory")
				waited = true
			}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	// Say who holds it, for the message another process prints.
	f.Truncate(0)
	f.WriteAt([]byte(strings.TrimSpace("archivd "+a.opts.Purpose)+", pid "+strconv.Itoa(os.Getpid())+", since "+time.Now().UTC().Format(time.RFC3339)+"\n"), 0)
	a.lock = f
	return nil
}

func (a *Archive) cleanStaging(ctx context.Context) error {
	removed, waiting, err := ingest.CleanStaging(ctx, a.cat, a.StagingDir())
	if err != nil {
		return err
	}
	if len(removed) > 0 {
		a.log.Info().Strs("spools", removed).Msg("removed the staging leftovers of interrupted ingests")
	}
	for _, w := range waiting {
		a.log.Info().Str("aip", w.AIP).Str("case", w.Source).Int64("bytes", w.Bytes).Msg("an interrupted ingest waits in staging; it resumes with the next ingest of its case folder")
	}
	return nil
}

// Close seals the open audit segment and stores the sealed segments beside
// the AIPs (a writer), then lets go of everything. A segment that cannot be
// stored now is stored by a later close; that is logged, not an error.
func (a *Archive) Close(ctx context.Context) error {
	if a.lock != nil && a.trail != nil {
		if err := a.trail.SealIfDue(ctx, a.conf().Audit.SealAfterD); err != nil {
			a.log.Warn().Err(err).Msg("audit segment not yet stored; the next command retries")
		}
	}
	return a.close()
}

func (a *Archive) close() error {
	var errs []error
	if a.trail != nil {
		errs = append(errs, a.trail.log.Close())
	}
	if a.cat != nil {
		errs = append(errs, a.cat.Close())
	}
	if a.lock != nil {
		a.lock.Truncate(0)
		errs = append(errs, a.lock.Close())
	}
	return errors.Join(errs...)
}

// Config is the configuration in force.
func (a *Archive) Config() *config.Config { return a.conf() }

func (a *Archive) conf() *config.Config { return a.cfg.Load() }

// SetConfig swaps in a reloaded configuration. Its data directory,
// locations and copy policy must be those the archive was opened with
// (the daemon checks); format policy, case defaults and package settings
// apply to the next ingest.
func (a *Archive) SetConfig(cfg *config.Config) { a.cfg.Store(cfg) }

// Catalog is the archive's catalog.
func (a *Archive) Catalog() *catalog.DB { return a.cat }

// Trail is the archive's audit trail.
func (a *Archive) Trail() *Trail { return a.trail }

// Stores are the configured locations, in configuration order.
func (a *Archive) Stores() []storage.Store { return a.stores }

// Store returns the location named name, or nil.
func (a *Archive) Store(name string) storage.Store {
	for _, s := range a.stores {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

// Agent names this software in audit events.
func (a *Archive) Agent() string { return strings.TrimSpace(a.opts.Software + " " + a.opts.Version) }

// StagingDir is where ingests spool their packages.
func (a *Archive) StagingDir() string { return filepath.Join(a.conf().DataDir, "staging") }

// OpenLocation opens one configured location. S3 locations are not
// contacted here: an unreachable server shows up when it is used.
func OpenLocation(ctx context.Context, loc config.Location) (storage.Store, error) {
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
