// Package ingest turns a finished case file into a verified AIP: scan the
// folder, persist the ingest record, package (one read of every input
// byte), store as a new OCFL object, verify the stored copy, commit the
// catalog and the audit event. The input folder is never modified.
package ingest

import (
	"context"
	"encoding/json"

	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/atomicfile"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
)

// Ingest states, recorded before each step is acted on.
const (
	StateDescribed = "described" // record persisted, nothing written yet
	StatePackaged  = "packaged"  // package spooled in staging
	StateStored    = "stored"    // committed to the location and verified
	StateCommitted = "committed" // catalog and audit trail committed
	StateFailed    = "failed"
)

// Recorder appends an event to the audit trail (and indexes it).
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) (audit.Entry, error)
}

// Ingester holds what an ingest needs.
type Ingester struct {
	Store        storage.Store
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
}

// record is the persisted ingest record (catalog ingests.record).
type record struct {
	ID       string    `json:"id"`
	Source   string    `json:"source"`
	Created  time.Time `json:"created"`
	EventIDs []string  `json:"event_ids"`
}

func (in *Ingester) now() time.Time {
	if in.Now != nil {
		return in.Now().UTC()
	}
	return time.Now().UTC()
}

// Ingest archives the case folder and returns the new AIP's id. Bad input
// is an *InputError naming each file; the folder is left as it was.
func (in *Ingester) Ingest(ctx context.Context, folder string) (aip.ID, error) {
	abs, err := filepath.Abs(folder)
	if err != nil {
		return aip.ID{}, err
	}
	input, err := Scan(abs, in.Defaults)
	if err != nil {
		in.fail(ctx, aip.ID{}, abs, err)
		return aip.ID{}, err
	}
	id, err := aip.NewID()
	if err != nil {
		return id, err
	}
	log := in.Log.With().Str("aip", id.String()).Str("case", abs).Logger()
	created := in.now().Truncate(time.Second)
	rec := record{ID: id.String(), Source: abs, Created: created,
		EventIDs: []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}}
	if err := in.saveState(ctx, rec, StateDescribed, nil); err != nil {
		return id, err
	}
	res, pkgPath, err := in.pack(ctx, rec, id, input)
	if err != nil {
		in.fail(ctx, id, abs, err)
		in.saveState(ctx, rec, StateFailed, err)
		return id, err
	}
	defer os.Remove(pkgPath)
	if err := in.saveState(ctx, rec, StatePackaged, nil); err != nil {
		return id, err
	}
	log.Info().Int64("bytes", res.Size).Int("files", len(input.Files)).Msg("packaged")

	invBytes, err := in.store(ctx, id, rec, input.Meta, res, pkgPath)
	if err != nil {
		in.fail(ctx, id, abs, err)
		in.saveState(ctx, rec, StateFailed, err)
		return id, err
	}
	if err := in.saveState(ctx, rec, StateStored, nil); err != nil {
		return id, err
	}
	var octets int64
	for _, f := range input.Files {
		octets += f.Size
	}
	// The event is on disk before the catalog believes in the AIP: should
	// the catalog commit fail, storage and the trail agree and a rebuild
	// restores the catalog.
	ev, err := in.Trail.Record(ctx, audit.Entry{
		EventID: rec.EventIDs[0], Type: "ingestion", AIP: id.String(), Location: in.Store.Name(), Outcome: "success",
		Detail: fmt.Sprintf("case folder %s: %d files, %d bytes; package %s sha512 %s", abs, len(input.Files), octets, id.PackageFile(1), res.Package.SHA512),
		Agent:  in.Software + " " + in.Version,
	})
	if err != nil {
		return id, fmt.Errorf("ingest %s: audit: %w", id, err)
	}
	if err := in.commitCatalog(ctx, id, rec, input.Meta, res, invBytes, ev.Time); err != nil {
		return id, err
	}
	if err := in.saveState(ctx, rec, StateCommitted, nil); err != nil {
		return id, err
	}
	log.Info().Str("location", in.Store.Name()).Msg("archived and verified")
	return id, nil
}

func (in *Ingester) saveState(ctx context.Context, rec record, state string, cause error) error {
	b, _ := json.Marshal(rec)
	msg := ""
	if cause != nil {
		msg = cause.Error()
	}
	return in.Catalog.PutIngest(ctx, catalog.Ingest{AIP: rec.ID, State: state, Source: rec.Source, Record: string(b), Error: msg})
}

// fail records a failed ingest in the audit trail.
func (in *Ingester) fail(ctx context.Context, id aip.ID, folder string, cause error) {
	e := audit.Entry{EventID: uuid.NewString(), Type: "ingestion", Outcome: "failure",
		Detail: fmt.Sprintf("case folder %s: %v", folder, cause), Agent: in.Software + " " + in.Version}
	if !id.IsZero() {
		e.AIP = id.String()
	}
	if _, err := in.Trail.Record(ctx, e); err != nil {
		in.Log.Error().Err(err).Msg("cannot record failed ingest in the audit trail")
	}
}

// pack writes the package into the staging folder, durably.
func (in *Ingester) pack(ctx context.Context, rec record, id aip.ID, input aip.Input) (*aip.Result, string, error) {
	if err := os.MkdirAll(in.Staging, 0o750); err != nil {
		return nil, "", err
	}
	r := aip.Record{ID: id, Version: 1, Created: rec.Created, Zone: in.Zone, Organization: in.Organization,
		Software: in.Software, SoftVersion: in.Version,
		Events: []aip.Event{
			{ID: rec.EventIDs[0], Type: "ingestion", Time: rec.Created, Outcome: "success", Detail: "case folder accepted for archiving"},
			{ID: rec.EventIDs[1], Type: "message digest calculation", Time: rec.Created, Outcome: "success", Detail: "SHA-512 and SHA-256 of every file, computed while packaging"},
			{ID: rec.EventIDs[2], Type: "information package creation", Time: rec.Created, Outcome: "success", Detail: fmt.Sprintf("AIP format %d: BagIt 1.0, pax tar, seekable zstd", aip.FormatVersion)},
		}}
	path := filepath.Join(in.Staging, id.PackageFile(1))
	var res *aip.Result
	err := atomicfile.Write(path, 0o640, func(w io.Writer) error {
		var err error
		res, err = aip.Write(ctx, w, r, input, in.Options)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return res, path, nil
}

// store commits v1 of the object and verifies the stored package.
func (in *Ingester) store(ctx context.Context, id aip.ID, rec record, meta aip.Metadata, res *aip.Result, pkgPath string) ([]byte, error) {
	root := id.PackageRoot(1)
	files := []storage.File{{Path: id.PackageFile(1), Source: pkgPath, Size: res.Size, Digests: res.Package}}
	for name, data := range res.Small {
		files = append(files, storage.File{Path: root + "/" + name, Data: data, Size: int64(len(data)), Digests: digest.Of(data)})
	}
	idx := aip.Index(res)
	files = append(files, storage.File{Path: root + ".index.tsv", Data: idx, Size: int64(len(idx)), Digests: digest.Of(idx)})
	msg := VersionMessage(meta)
	user := ocfl.User{Name: in.Software + " " + in.Version, Address: in.Contact}
	inv, err := storage.NextVersion(nil, id.String(), files, rec.Created, msg, user)
	if err != nil {
		return nil, err
	}
	if err := in.Store.Commit(ctx, &storage.Commit{Inventory: inv, Files: files}); err != nil {
		return nil, fmt.Errorf("store %s at %s: %w", id, in.Store.Name(), err)
	}
	// Believe no copy that was not read back.
	rc, err := in.Store.Open(ctx, id.String(), "v1/content/"+id.PackageFile(1))
	if err != nil {
		return nil, fmt.Errorf("verify %s at %s: %w", id, in.Store.Name(), err)
	}
	defer rc.Close()
	members := map[string]digest.Pair{}
	for _, m := range res.Members {
		if m.Kind != aip.KindDir {
			members[m.Path] = m.Digests
		}
	}
	rep, err := aip.Verify(ctx, rc, aip.Expect{Root: root, Package: &res.Package.SHA512, Size: res.Size, Members: members})
	if err != nil {
		return nil, fmt.Errorf("verify %s at %s: %w", id, in.Store.Name(), err)
	}
	if !rep.OK() {
		return nil, fmt.Errorf("verify %s at %s: stored copy is damaged: %v", id, in.Store.Name(), rep.Problems[0])
	}
	b, err := inv.Marshal()
	return b, err
}

// VersionMessage is the OCFL version message of an ingest.
func VersionMessage(meta aip.Metadata) string {
	if meta.Reference != "" {
		return "Ingest of case file " + meta.Reference
	}
	return "Ingest of case file"
}

func (in *Ingester) commitCatalog(ctx context.Context, id aip.ID, rec record, meta aip.Metadata, res *aip.Result, invBytes []byte, verifiedAt string) error {
	ts := rec.Created.Format(time.RFC3339)
	a, v, p, files := Rows(id, 1, ts, meta, res, digest.Of(invBytes).SHA512.String(), VersionMessage(meta))
	cp := catalog.Copy{AIP: id.String(), Version: 1, Location: in.Store.Name(), ObjectKey: ocfl.ObjectPath(id.String()) + "/v1/content/" + id.PackageFile(1),
		Size: res.Size, SHA512: res.Package.SHA512.String(), VerifiedAt: verifiedAt}
	if err := in.Catalog.PutVersionRows(ctx, a, v, p, files, cp); err != nil {
		return fmt.Errorf("catalog %s: %w", id, err)
	}
	return nil
}

// Rows turns a package's description into catalog rows; catalog rebuild
// uses the same function, so a rebuilt catalog equals the original.
func Rows(id aip.ID, version int, created string, meta aip.Metadata, res *aip.Result, invSHA512, message string) (catalog.AIP, catalog.Version, catalog.Package, []catalog.File) {
	a := catalog.AIP{ID: id.String(), Reference: meta.Reference, Title: meta.Title, Agency: meta.Agency,
		RecordClass: meta.RecordClass, Opened: meta.Opened, Closed: meta.Closed, Created: created, Head: version}
	v := catalog.Version{AIP: id.String(), Version: version, Created: created, Message: message, InventorySHA512: invSHA512}
	p := catalog.Package{AIP: id.String(), Version: version, Name: id.PackageFile(version), Size: res.Size,
		SHA512: res.Package.SHA512.String(), SHA256: res.Package.SHA256.String(), Frames: len(res.Frames), PayloadOxum: res.PayloadOxum}
	var files []catalog.File
	for _, m := range res.Members {
		files = append(files, catalog.File{AIP: id.String(), Version: version, Path: m.Path, Original: m.Original, Kind: m.Kind,
			Size: m.Size, SHA512: m.Digests.SHA512.String(), SHA256: m.Digests.SHA256.String(),
			MTime: m.ModTime.UTC().Format(time.RFC3339Nano), TarOffset: m.Offset, Frame: m.Frame})
	}
	return a, v, p, files
}
