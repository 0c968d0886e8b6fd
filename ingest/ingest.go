// Package ingest turns a finished case file into a verified AIP: scan the
// folder, persist the ingest record, package into the staging area (one read
// of every input byte; every compressed frame checked against its input),
// store it as a new OCFL object on every location the copy policy requires,
// each copy verified against the package's digests, commit the catalog and
// the audit event. The input folder is never modified. An ingest interrupted after
// packaging resumes with the same AIP id and the same spool.
package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/atomicfile"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/catalog/rows"
	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/formats"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/retention"
	"github.com/archivd/archivd/storage"
)

// Ingest states, recorded before each step is acted on.
const (
	StateDescribed = "described" // record persisted, nothing written yet
	StatePackaged  = "packaged"  // package spooled and verified in staging
	StatePartial   = "stored-partial"
	StateCommitted = "committed" // catalog and audit trail committed
	StateFailed    = "failed"
)

// Recorder appends an event to the audit trail (and indexes it).
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) (audit.Entry, error)
}

// Ingester holds what an ingest needs.
type Ingester struct {
	Stores       []storage.Store   // every configured location
	Required     []string          // names of the locations that must hold a copy
	AllowMissing bool              // complete with at least one copy; replicate fills the rest
	Analyzer     *formats.Analyzer // format identification, validation and policy; nil: none
	Catalog      *catalog.DB
	Trail        Recorder
	Staging      string // data directory's staging folder
	Defaults     aip.Metadata
	Organization string
	Contact      string
	Zone         *time.Location
	Options      aip.Options
	Software     string
	Version      string
	Log          zerolog.Logger
	Now          func() time.Time
	// Again archives a case folder that was already archived unchanged;
	// without it such a second delivery is refused (once-only).
	Again bool
	// ID, if set, is the AIP id this ingest must use: fixed when the
	// daemon claimed the case, so a retry writes the same OCFL object.
	ID aip.ID
	// Origin names the delivery for once-only ("inbox bauamt/case-17");
	// empty: the case folder's absolute path.
	Origin string
	// Override, if set, says who accepted this case's format policy
	// refusals and why: they become warnings, recorded with this text.
	Override string
	// Kind of delivery: KindFolder (the default) or KindBag.
	Kind string
	// Progress, if set, is told how far the ingest is: a few times a
	// second at most, and at the end of each phase.
	Progress func(Progress)
	// Stage, if set, is told how long each stage took: "formats",
	// "package", "store", "commit".
	Stage func(stage string, took time.Duration)
	// Classes are the retention classes; the first that matches decides
	// the AIP's retention (none: the locations' Object Lock floor).
	Classes []retention.Class
}

// retention decides the job's retention from its metadata, its inbox and
// its ingest time.
func (in *Ingester) retention(j *job) *retention.Decision {
	inbox := ""
	if rest, ok := strings.CutPrefix(j.rec.Origin, "inbox "); ok {
		inbox, _, _ = strings.Cut(rest, "/")
	}
	zone := in.Zone
	if zone == nil {
		zone = time.UTC
	}
	return retention.Decide(in.Classes, j.meta, inbox, j.rec.Created, zone)
}

// timed reports a stage's duration to Stage.
func (in *Ingester) timed(stage string, start time.Time) {
	if in.Stage != nil {
		in.Stage(stage, time.Since(start))
	}
}

// Kinds of delivery.
const (
	KindFolder = "folder" // a case folder with an optional case.yaml
	KindBag    = "bag"    // a BagIt bag, checked against its manifests first
)

// record is the persisted ingest record (catalog ingests.record).
type record struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Origin string `json:"origin,omitempty"`
	// BagEventID names the PREMIS event of a delivered bag's check.
	BagEventID string    `json:"bag_event_id,omitempty"`
	Created    time.Time `json:"created"`
	EventIDs   []string  `json:"event_ids"`
	Stored     []string  `json:"stored,omitempty"` // locations holding a verified copy
	// Recorded holds, per location, the time of the audit event that
	// recorded its verified copy: set once the events are in the trail, so
	// an ingest resumed after a crash does not record them again.
	Recorded map[string]string `json:"recorded,omitempty"`
}

// job is one ingest in progress: its record and its spool.
type job struct {
	rec      record
	id       aip.ID
	dir      string // staging/<name>/: content/ and inventory.json
	inv      *ocfl.Inventory
	invBytes []byte
	res      *aip.Result
	meta     aip.Metadata
	files    int
	octets   int64
	formats  *rows.FormatReport
	fresh    bool   // the record exists, the package must be built
	bag      *Bag   // the delivered bag, checked before packaging
	unlock   func() // lets go of the spool's lock
}

// IncompleteError says which required copies could not be made; the case
// folder stays, and the next ingest of it resumes.
type IncompleteError struct {
	ID      aip.ID
	Missing map[string]error
}

func (e *IncompleteError) Error() string {
	var parts []string
	for _, name := range mapsKeys(e.Missing) {
		parts = append(parts, fmt.Sprintf("%s: %v", name, e.Missing[name]))
	}
	return fmt.Sprintf("ingest %s is not archived: required copies missing (%s); the case folder is untouched and the next ingest of it resumes", e.ID, strings.Join(parts, "; "))
}

func (e *IncompleteError) Unwrap() []error {
	var out []error
	for _, err := range e.Missing {
		out = append(out, err)
	}
	return out
}

func mapsKeys(m map[string]error) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (in *Ingester) now() time.Time {
	if in.Now != nil {
		return in.Now().UTC()
	}
	return time.Now().UTC()
}

func (in *Ingester) agent() string { return in.Software + " " + in.Version }

// Ingest archives the case folder and returns the AIP's id. Bad input is an
// *InputError naming each file; missing copies an *IncompleteError. The
// folder is left as it was in every case.
func (in *Ingester) Ingest(ctx context.Context, folder string) (aip.ID, error) {
	if folder == "" {
		// filepath.Abs would make "" the current directory.
		return aip.ID{}, &InputError{Folder: folder, Problems: []string{"the case folder name is empty"}}
	}
	abs, err := filepath.Abs(folder)
	if err != nil {
		return aip.ID{}, err
	}
	var input aip.Input
	var bag *Bag
	if in.Kind == KindBag {
		if bag, err = ReadBag(abs, in.Defaults); err == nil {
			input, err = ScanBag(bag)
		}
	} else {
		input, err = Scan(abs, in.Defaults)
	}
	if err != nil {
		in.fail(ctx, aip.ID{}, abs, err)
		return aip.ID{}, err
	}
	if !in.Again {
		origin := in.Origin
		if origin == "" {
			origin = abs
		}
		if prev, err := in.alreadyArchived(ctx, origin, input); err != nil {
			return aip.ID{}, err
		} else if prev != "" {
			err := &InputError{Folder: abs, Problems: []string{fmt.Sprintf("this case folder was already archived unchanged as %s (same files, sizes and modification times); use --again to archive it a second time", prev)}}
			in.fail(ctx, aip.ID{}, abs, err)
			return aip.ID{}, err
		}
	}
	root := abs // where the payload's files lie
	if bag != nil {
		root = filepath.Join(abs, "data")
	}
	j, err := in.resume(ctx, abs, input)
	if err != nil {
		return aip.ID{}, err
	}
	if j != nil {
		defer j.unlock()
	}
	var report *rows.FormatReport
	if j != nil && !j.fresh && in.Analyzer != nil {
		// Packaged before an interruption: the policy as it is now decides
		// whether the ingest goes on.
		start := time.Now()
		report, err = in.analyze(ctx, root, &input)
		in.timed("formats", start)
		if err != nil {
			in.fail(ctx, aip.ID{}, abs, err)
			return aip.ID{}, err
		}
	}
	// Otherwise formats are identified beside the packaging, on the same
	// read; a refusal discards the spool before anything was recorded.
	if j == nil || j.fresh {
		start := time.Now()
		if j == nil {
			j, err = in.prepare(ctx, abs, root, input, bag)
			if j != nil {
				defer j.unlock()
			}
		} else {
			j.bag = bag
			err = in.build(ctx, j, root, input)
		}
		in.timed("package", start)
		if refused(err) {
			in.fail(ctx, aip.ID{}, abs, err)
			return aip.ID{}, err
		} else if err != nil {
			return j.idOrZero(), err
		}
		report = j.formats
	}
	j.files, j.octets = len(input.Files), 0
	for _, f := range input.Files {
		j.octets += f.Size
	}
	log := in.Log.With().Str("aip", j.id.String()).Str("case", abs).Logger()
	if report != nil {
		log.Info().Int64("bytes_read_again", report.BytesReread).Int64("bytes", j.octets).Msg("formats identified and validated")
	}

	start := time.Now()
	missing, err := in.distribute(ctx, j, log)
	in.timed("store", start)
	if err != nil {
		return j.id, err
	}
	var required []string
	for _, name := range in.Required {
		if !slices.Contains(j.rec.Stored, name) {
			required = append(required, name)
		}
	}
	if len(required) > 0 && (!in.AllowMissing || len(j.rec.Stored) == 0) {
		err := &IncompleteError{ID: j.id, Missing: missing}
		in.fail(ctx, j.id, abs, err)
		if serr := in.saveState(ctx, j.rec, j.state(), err); serr != nil {
			return j.id, errors.Join(err, serr)
		}
		return j.id, err
	}
	start = time.Now()
	defer in.timed("commit", start)
	if err := in.complete(ctx, j, missing, log); err != nil {
		return j.id, err
	}
	return j.id, nil
}

func (j *job) idOrZero() aip.ID {
	if j == nil {
		return aip.ID{}
	}
	return j.id
}

func (j *job) state() string {
	if len(j.rec.Stored) > 0 {
		return StatePartial
	}
	return StatePackaged
}

// refused reports whether err is the verdict on the case's content
// (format policy, unreadable files) found while packing: nothing was
// recorded, and the case is refused as a whole.
func refused(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// prepare assigns the id and builds the spool; the record is persisted
// once the package is built. A crash while packing leaves a spool without
// a record, which the next start removes; nothing else was written.
func (in *Ingester) prepare(ctx context.Context, abs, root string, input aip.Input, bag *Bag) (*job, error) {
	id := in.ID
	var err error
	if id.IsZero() {
		if id, err = aip.NewID(); err != nil {
			return nil, err
		}
	}
	j := &job{id: id, meta: input.Meta, dir: filepath.Join(in.Staging, id.Name()), bag: bag}
	if j.unlock, err = LockSpool(in.Staging, id); err != nil {
		return nil, err
	}
	j.rec = record{ID: id.String(), Source: abs, Origin: in.Origin, Created: in.now().Truncate(time.Second),
		EventIDs: []string{uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()}}
	if bag != nil {
		j.rec.BagEventID = uuid.NewString()
	}
	return j, in.build(ctx, j, root, input)
}

// build writes the spool. A spool left by a crash is replaced; a failed
// build leaves none: refused content is returned as it is, any other
// failure marks the ingest failed.
func (in *Ingester) build(ctx context.Context, j *job, root string, input aip.Input) error {
	if err := os.RemoveAll(j.dir); err != nil {
		return err
	}
	if err := in.pack(ctx, j, root, input); err != nil {
		os.RemoveAll(j.dir)
		if refused(err) {
			return err
		}
		in.fail(ctx, j.id, j.rec.Source, err)
		if serr := in.saveState(ctx, j.rec, StateFailed, err); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	}
	return in.saveState(ctx, j.rec, StatePackaged, nil)
}

// pack writes the package, the files stored beside it and the v1
// inventory into the spool, identifying formats beside the packaging.
func (in *Ingester) pack(ctx context.Context, j *job, root string, input aip.Input) error {
	content := filepath.Join(j.dir, "content")
	if err := os.MkdirAll(content, 0o750); err != nil {
		return err
	}
	origin := j.rec.Origin
	if origin == "" {
		origin = j.rec.Source
	}
	r := aip.Record{ID: j.id, Version: 1, Created: j.rec.Created, Zone: in.Zone, Organization: in.Organization, Origin: origin,
		Software: in.Software, SoftVersion: in.Version, Retention: in.retention(j).Record(),
		Events: []aip.Event{
			{ID: j.rec.EventIDs[0], Type: audit.TypeIngestion, Time: j.rec.Created, Outcome: audit.OutcomeSuccess, Detail: "case folder accepted for archiving"},
			{ID: j.rec.EventIDs[1], Type: audit.TypeDigest, Time: j.rec.Created, Outcome: audit.OutcomeSuccess, Detail: "SHA-512 and SHA-256 of every file, computed while packaging"},
			{ID: j.rec.EventIDs[2], Type: audit.TypePackageCreated, Time: j.rec.Created, Outcome: audit.OutcomeSuccess, Detail: fmt.Sprintf("AIP format %d: BagIt 1.0, pax tar, seekable zstd", aip.FormatVersion)},
		}}
	if in.Analyzer != nil {
		start := time.Now()
		an := in.startAnalysis(ctx, root, input.Files, nil)
		defer an.stop()
		input.Seen = an.seen
		input.Identified = func(files []aip.InputFile) ([]aip.Event, error) {
			results, err := an.finish()
			if err != nil {
				return nil, err
			}
			if j.formats, err = in.judge(root, files, results); err != nil {
				return nil, err
			}
			in.timed("formats", start) // from the first file to the last verdict
			ident, valid := summary(j.formats)
			return []aip.Event{
				{ID: j.rec.EventIDs[3], Type: audit.TypeFormatID, Time: j.rec.Created, Outcome: audit.OutcomeSuccess, Detail: ident},
				{ID: j.rec.EventIDs[4], Type: audit.TypeValidation, Time: j.rec.Created, Outcome: audit.OutcomeSuccess, Detail: valid},
			}, nil
		}
	}
	if j.bag != nil {
		if j.rec.BagEventID == "" {
			j.rec.BagEventID = uuid.NewString()
		}
		r.Events = append(r.Events, aip.Event{ID: j.rec.BagEventID, Type: audit.TypeFixityCheck, Time: j.rec.Created,
			Outcome: audit.OutcomeSuccess, Detail: j.bag.Summary()})
	}
	pkgPath := filepath.Join(content, j.id.PackageFile(1))
	if in.Progress != nil {
		var total int64
		for _, f := range input.Files {
			total += f.Size
		}
		m := in.meter(PhasePackage, len(input.Files), total)
		defer m.done()
		files := make([]aip.InputFile, len(input.Files))
		for i, f := range input.Files {
			open := f.Open
			f.Open = func() (io.ReadCloser, error) {
				rc, err := open()
				if err != nil {
					return nil, err
				}
				return &counting{ReadCloser: rc, m: m}, nil
			}
			files[i] = f
		}
		input.Files = files
	}
	opts := in.Options
	opts.TempDir = j.dir // PREMIS and METS are written here before they are packed
	err := atomicfile.Write(pkgPath, 0o640, func(w io.Writer) error {
		var err error
		j.res, err = aip.Write(ctx, w, r, input, opts)
		return err
	})
	if err != nil {
		return err
	}
	pkgRoot := j.id.PackageRoot(1)
	files := []storage.File{{Path: j.id.PackageFile(1), Source: pkgPath, Size: j.res.Size, Digests: j.res.Package}}
	// Beside the package: what a rebuild, a quick check or a one-document
	// read needs, compressed (docs/aip-format.md §6).
	small := map[string][]byte{j.id.IndexFile(1): aip.Compress(aip.Index(j.res))}
	if j.formats != nil {
		small[j.id.FormatsFile(1)] = aip.Compress(j.formats.Marshal())
	}
	for name, data := range j.res.Small {
		small[pkgRoot+"/"+name] = data
	}
	for _, p := range slices.Sorted(maps.Keys(small)) {
		data := small[p]
		dst := filepath.Join(content, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(dst, data, 0o640); err != nil {
			return err
		}
		files = append(files, storage.File{Path: p, Source: dst, Size: int64(len(data)), Digests: digest.Of(data)})
	}
	user := ocfl.User{Name: in.agent(), Address: in.Contact}
	if j.inv, err = storage.NextVersion(nil, j.id.String(), files, j.rec.Created, rows.VersionMessage(j.meta), user); err != nil {
		return err
	}
	if j.invBytes, err = j.inv.Marshal(); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(j.dir, ocfl.InventoryFile), j.invBytes, 0o640); err != nil {
		return err
	}
	// The package is not read back: the writer decoded every compressed
	// frame and compared it with the bytes it hashed, and each location
	// proves its copy has the package's digest. The bag is checked whole
	// by verify and the fixity checks (docs/design-notes.md).
	return nil
}

// resume finds an interrupted ingest of the same folder whose spool is
// intact and whose input has not changed since.
func (in *Ingester) resume(ctx context.Context, abs string, input aip.Input) (*job, error) {
	old, err := in.Catalog.UnfinishedIngest(ctx, abs)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal([]byte(old.Record), &rec); err != nil {
		return nil, fmt.Errorf("ingest record of %s: %w", old.AIP, err)
	}
	id, err := aip.ParseID(rec.ID)
	if err != nil {
		return nil, err
	}
	j := &job{rec: rec, id: id, dir: filepath.Join(in.Staging, id.Name()), meta: input.Meta}
	if j.unlock, err = LockSpool(in.Staging, id); err != nil {
		return nil, err
	}
	if old.State == StateDescribed {
		// Interrupted while the package was built: build it again under
		// the id the record already gave it.
		in.Log.Info().Str("aip", rec.ID).Msg("resuming an ingest interrupted while packaging: building its package again")
		j.fresh = true
		return j, nil
	}
	abandon := func(why string) (*job, error) {
		in.Log.Warn().Str("aip", rec.ID).Msg("not resuming the interrupted ingest: " + why)
		os.RemoveAll(j.dir)
		j.unlock()
		return nil, in.saveState(ctx, rec, StateFailed, errors.New("abandoned: "+why))
	}
	if j.invBytes, err = os.ReadFile(filepath.Join(j.dir, ocfl.InventoryFile)); err != nil {
		return abandon("its staging area is gone")
	}
	if j.inv, err = ocfl.ParseInventory(j.invBytes); err != nil {
		return abandon("its spooled inventory is unreadable")
	}
	// A spool written before an upgrade holds the format 1 (plain) names.
	idx, err := readSpooled(j.dir, id.BesideNames(1, aip.ExtIndex))
	if err != nil {
		return abandon("its member index is gone")
	}
	if j.res, err = aip.ParseIndex(idx); err != nil {
		return abandon(err.Error())
	}
	if !sameInput(j.res, input) {
		return abandon("the case folder changed since")
	}
	if b, err := readSpooled(j.dir, id.BesideNames(1, aip.ExtFormats)); err == nil {
		if j.formats, err = rows.ParseFormatReport(b); err != nil {
			return abandon(err.Error())
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return abandon(err.Error())
	}
	if _, err := storage.SpoolFiles(j.inv, 1, filepath.Join(j.dir, "content")); err != nil {
		return abandon(err.Error())
	}
	in.Log.Info().Str("aip", rec.ID).Strs("stored", rec.Stored).Msg("resuming interrupted ingest")
	return j, nil
}

// readSpooled reads the first of names found in a spool's content folder.
func readSpooled(dir string, names []string) ([]byte, error) {
	for _, name := range names {
		f, err := os.Open(filepath.Join(dir, "content", name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		defer f.Close()
		return aip.ReadBeside(name, f)
	}
	return nil, fs.ErrNotExist
}

// alreadyArchived returns the id of a committed AIP made from the same
// folder with the same files, sizes and modification times, or "".
func (in *Ingester) alreadyArchived(ctx context.Context, abs string, input aip.Input) (string, error) {
	ids, err := in.Catalog.CommittedIngests(ctx, abs)
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		files, err := in.Catalog.Files(ctx, id, 1)
		if err != nil {
			return "", err
		}
		res := &aip.Result{}
		for _, f := range files {
			mt, _ := time.Parse(time.RFC3339Nano, f.MTime)
			var d digest.Pair
			if f.Kind == aip.KindMetadata {
				d.SHA512, _ = digest.ParseSHA512(f.SHA512)
				d.SHA256, _ = digest.ParseSHA256(f.SHA256)
			}
			res.Members = append(res.Members, aip.Member{Path: f.Path, Original: f.Original, Kind: f.Kind, Size: f.Size, ModTime: mt, Digests: d})
		}
		if sameInput(res, input) {
			return id, nil
		}
	}
	return "", nil
}

// sameInput compares the spooled members with a fresh scan.
func sameInput(res *aip.Result, input aip.Input) bool {
	type fm struct {
		size  int64
		mtime time.Time
	}
	have := map[string]fm{}
	for _, m := range res.Members {
		if m.Kind == aip.KindPayload {
			have[m.Original] = fm{m.Size, m.ModTime}
		}
	}
	if len(have) != len(input.Files) {
		return false
	}
	for _, f := range input.Files {
		if h, ok := have[f.Path]; !ok || h.size != f.Size || !h.mtime.Equal(f.ModTime.UTC()) {
			return false
		}
	}
	for _, m := range res.Members {
		if m.Kind == aip.KindMetadata && strings.HasPrefix(m.Path, aip.PathDescriptive) {
			if input.Sidecar == nil || digest.Of(input.Sidecar.Data) != m.Digests {
				return false
			}
		}
	}
	return true
}

// distribute commits the spool to every location that lacks it and
// returns the failures by location. An error means the ingest record could
// not be saved: the ingest stops there and resumes on the next try.
func (in *Ingester) distribute(ctx context.Context, j *job, log zerolog.Logger) (map[string]error, error) {
	missing := map[string]error{}
	files, err := storage.SpoolFiles(j.inv, 1, filepath.Join(j.dir, "content"))
	if err != nil {
		for _, st := range in.Stores {
			missing[st.Name()] = err
		}
		return missing, nil
	}
	for _, st := range in.Stores {
		if slices.Contains(j.rec.Stored, st.Name()) {
			continue
		}
		if err := st.Commit(ctx, &storage.Commit{Inventory: j.inv, Files: files}); err != nil {
			log.Error().Err(err).Str("location", st.Name()).Msg("copy not stored")
			missing[st.Name()] = err
			continue
		}
		j.rec.Stored = append(j.rec.Stored, st.Name())
		if err := in.saveState(ctx, j.rec, StatePartial, nil); err != nil {
			return missing, fmt.Errorf("ingest %s: record the copy at %s: %w", j.id, st.Name(), err)
		}
		log.Info().Str("location", st.Name()).Msg("copy stored and verified")
	}
	return missing, nil
}

// complete sets retention, records the events and commits the catalog.
func (in *Ingester) complete(ctx context.Context, j *job, missing map[string]error, log zerolog.Logger) error {
	for _, st := range in.Stores {
		if r, ok := st.(storage.Locker); ok && slices.Contains(j.rec.Stored, st.Name()) {
			var due time.Time
			mode := ""
			if d := in.retention(j); d != nil {
				due, mode = d.Due(in.Zone), d.LockMode
			}
			if err := storage.Retain(ctx, r, j.id.String(), 1, due, mode, in.now()); err != nil {
				return fmt.Errorf("ingest %s: set retention at %s: %w", j.id, st.Name(), err)
			}
		}
	}
	// The events are on disk before the catalog believes in the AIP: should
	// the catalog commit fail, storage and the trail agree and a rebuild
	// restores the catalog.
	detail := fmt.Sprintf("case folder %s: %d files, %d bytes; package %s sha512 %s; verified copies at %s",
		j.rec.Source, j.files, j.octets, j.id.PackageFile(1), j.res.Package.SHA512, strings.Join(j.rec.Stored, ", "))
	if j.bag != nil {
		detail += "; " + j.bag.Summary()
	}
	if j.formats != nil {
		ident, _ := summary(j.formats)
		detail += "; " + ident
		var warned []string
		for _, f := range j.formats.Files {
			if f.Decision == formats.Warn {
				warned = append(warned, fmt.Sprintf("%s (%s): %s", f.Original, f.PUID, f.Reason))
			}
		}
		if len(warned) > 0 {
			detail += "; accepted with a warning: " + strings.Join(warned, "; ")
		}
	}
	verified := j.rec.Recorded
	if verified == nil {
		var err error
		if verified, err = in.recordEvents(ctx, j, detail, missing); err != nil {
			return err
		}
	}
	if err := in.commitRows(ctx, j, verified); err != nil {
		return err
	}
	if err := in.saveState(ctx, j.rec, StateCommitted, nil); err != nil {
		return err
	}
	os.RemoveAll(j.dir)
	log.Info().Strs("copies", j.rec.Stored).Msg("archived and verified")
	return nil
}

// recordEvents writes the ingest's audit events and notes in the ingest
// record that they are written.
func (in *Ingester) recordEvents(ctx context.Context, j *job, detail string, missing map[string]error) (map[string]string, error) {
	verified := map[string]string{}
	for i, loc := range j.rec.Stored {
		e := audit.Entry{EventID: audit.NewEventID(), Type: audit.TypeReplication, AIP: j.id.String(), Location: loc, Outcome: audit.OutcomeSuccess,
			Detail: "verified copy of v1 stored at " + loc, Agent: in.agent()}
		if i == 0 {
			e.EventID, e.Type, e.Detail = j.rec.EventIDs[0], audit.TypeIngestion, detail
		}
		ev, err := in.Trail.Record(ctx, e)
		if err != nil {
			return nil, fmt.Errorf("ingest %s: audit: %w", j.id, err)
		}
		verified[loc] = ev.Time
	}
	for _, loc := range mapsKeys(missing) {
		_, err := in.Trail.Record(ctx, audit.Entry{EventID: audit.NewEventID(), Type: audit.TypeReplication, AIP: j.id.String(), Location: loc,
			Outcome: audit.OutcomeFailure, Detail: fmt.Sprintf("copy of v1 missing (%v); archivd replicate will make it", missing[loc]), Agent: in.agent()})
		if err != nil {
			return nil, fmt.Errorf("ingest %s: audit: %w", j.id, err)
		}
	}
	j.rec.Recorded = verified
	if err := in.saveState(ctx, j.rec, j.state(), nil); err != nil {
		return nil, err
	}
	return verified, nil
}

// commitRows puts the AIP into the catalog, unless a run interrupted after
// doing so already did.
func (in *Ingester) commitRows(ctx context.Context, j *job, verified map[string]string) error {
	invSHA := digest.Of(j.invBytes).SHA512.String()
	if v, err := in.Catalog.GetVersion(ctx, j.id.String(), 1); err == nil && v.InventorySHA512 == invSHA {
		return in.putIdentifications(ctx, j) // the rows were committed before a crash
	}
	ts := j.rec.Created.Format(time.RFC3339)
	a, v, p, files := rows.Rows(j.id, 1, ts, j.meta, j.res, invSHA, rows.VersionMessage(j.meta))
	var copies []catalog.Copy
	for _, st := range in.Stores {
		at, ok := verified[st.Name()]
		if !ok {
			continue
		}
		info, err := st.Stat(ctx, j.id.String(), "v1/content/"+j.id.PackageFile(1))
		if err != nil {
			return fmt.Errorf("ingest %s: %w", j.id, err)
		}
		copies = append(copies, catalog.Copy{AIP: j.id.String(), Version: 1, Location: st.Name(),
			ObjectKey: ocfl.ObjectPath(j.id.String()) + "/v1/content/" + j.id.PackageFile(1), VersionID: info.VersionID,
			Size: j.res.Size, SHA512: j.res.Package.SHA512.String(), VerifiedAt: at})
	}
	// The AIP's rows and its identifications in one transaction: one
	// commit (and one fsync) for the whole AIP.
	var ids []catalog.Identification
	if j.formats != nil {
		ids = rows.IdentificationRows(j.id.String(), 1, j.formats)
	}
	err := in.Catalog.Tx(ctx, func(tx *sql.Tx) error {
		if err := catalog.PutVersionRows(ctx, tx, a, v, p, files, copies...); err != nil {
			return err
		}
		if d := in.retention(j); d != nil {
			if err := catalog.PutRetention(ctx, tx, rows.RetentionRow(j.id.String(), d.Record(), in.Zone, ts)); err != nil {
				return err
			}
		}
		return catalog.PutIdentifications(ctx, tx, ids)
	})
	if err != nil {
		return fmt.Errorf("catalog %s: %w", j.id, err)
	}
	return nil
}

func (in *Ingester) putIdentifications(ctx context.Context, j *job) error {
	if j.formats == nil {
		return nil
	}
	if err := in.Catalog.PutIdentifications(ctx, rows.IdentificationRows(j.id.String(), 1, j.formats)); err != nil {
		return fmt.Errorf("catalog %s: %w", j.id, err)
	}
	return nil
}

// saveState records the ingest's state. Bookkeeping finishes even when the
// work was interrupted (SIGTERM cancels ctx): the record must say where the
// ingest stopped.
func (in *Ingester) saveState(ctx context.Context, rec record, state string, cause error) error {
	ctx = context.WithoutCancel(ctx)
	b, _ := json.Marshal(rec)
	msg := ""
	if cause != nil {
		msg = cause.Error()
	}
	return in.Catalog.PutIngest(ctx, catalog.Ingest{AIP: rec.ID, State: state, Source: rec.Source, Origin: rec.Origin, Record: string(b), Error: msg})
}

// fail records a failed ingest in the audit trail, also when interrupted.
func (in *Ingester) fail(ctx context.Context, id aip.ID, folder string, cause error) {
	ctx = context.WithoutCancel(ctx)
	detail := fmt.Sprintf("case folder %s: %v", folder, cause)
	var ie *InputError
	if errors.As(cause, &ie) {
		detail = ie.Error() // it names the folder itself
	}
	e := audit.Entry{EventID: audit.NewEventID(), Type: audit.TypeIngestion, Outcome: audit.OutcomeFailure, Detail: detail, Agent: in.agent()}
	if !id.IsZero() {
		e.AIP = id.String()
	}
	if _, err := in.Trail.Record(ctx, e); err != nil {
		in.Log.Error().Err(err).Msg("cannot record failed ingest in the audit trail")
	}
}
