// Package catalog is archivd's index of what it keeps: AIPs, their
// versions, packages, files and copies, format identifications and an index
// of the audit log, in SQLite. Storage is the source of truth: all tables
// but "ingests" are derived and can be rebuilt from storage and the audit
// log (see docs/catalog.md). The SQL here is kept portable so a PostgreSQL
// catalog can follow.
package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite"
)

// ErrNotFound: no such row.
var ErrNotFound = errors.New("not in the catalog")

// migrations are applied in order; each runs once, in a transaction.
// Never edit a migration that has shipped: add a new one.
var migrations = []string{
	// 1: the initial schema.
	`CREATE TABLE ingests (
		aip TEXT PRIMARY KEY, state TEXT NOT NULL, source TEXT NOT NULL,
		record TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL);
	CREATE TABLE aips (
		id TEXT PRIMARY KEY, reference TEXT NOT NULL, title TEXT NOT NULL, agency TEXT NOT NULL,
		record_class TEXT NOT NULL, opened TEXT NOT NULL, closed TEXT NOT NULL,
		created TEXT NOT NULL, head INTEGER NOT NULL);
	CREATE TABLE versions (
		aip TEXT NOT NULL REFERENCES aips(id), version INTEGER NOT NULL, created TEXT NOT NULL,
		message TEXT NOT NULL, inventory_sha512 TEXT NOT NULL, PRIMARY KEY (aip, version));
	CREATE TABLE packages (
		aip TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL,
		sha512 TEXT NOT NULL, sha256 TEXT NOT NULL, frames INTEGER NOT NULL, payload_oxum TEXT NOT NULL,
		PRIMARY KEY (aip, version), FOREIGN KEY (aip, version) REFERENCES versions(aip, version));
	CREATE TABLE files (
		aip TEXT NOT NULL, version INTEGER NOT NULL, path TEXT NOT NULL, original TEXT NOT NULL,
		kind TEXT NOT NULL, size INTEGER NOT NULL, sha512 TEXT NOT NULL, sha256 TEXT NOT NULL,
		mtime TEXT NOT NULL, tar_offset INTEGER NOT NULL, frame INTEGER NOT NULL,
		PRIMARY KEY (aip, version, path), FOREIGN KEY (aip, version) REFERENCES versions(aip, version));
	CREATE TABLE copies (
		aip TEXT NOT NULL, version INTEGER NOT NULL, location TEXT NOT NULL, object_key TEXT NOT NULL,
		version_id TEXT NOT NULL, size INTEGER NOT NULL, sha512 TEXT NOT NULL, verified_at TEXT NOT NULL,
		PRIMARY KEY (aip, version, location), FOREIGN KEY (aip, version) REFERENCES versions(aip, version));
	CREATE TABLE events (
		seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, time TEXT NOT NULL, type TEXT NOT NULL,
		aip TEXT NOT NULL, location TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL);
	CREATE INDEX events_aip ON events(aip, seq);`,
	// 2: format identification results (filled by the formats work).
	`CREATE TABLE identifications (
		aip TEXT NOT NULL, version INTEGER NOT NULL, path TEXT NOT NULL, tool TEXT NOT NULL,
		tool_version TEXT NOT NULL, signature_file TEXT NOT NULL, signature_sha256 TEXT NOT NULL,
		puid TEXT NOT NULL, mime TEXT NOT NULL, format_name TEXT NOT NULL, format_version TEXT NOT NULL,
		basis TEXT NOT NULL, candidates TEXT NOT NULL, warnings TEXT NOT NULL,
		PRIMARY KEY (aip, version, path, tool));`,
	// 3: what validation and the format policy said about each file.
	`ALTER TABLE identifications ADD COLUMN pdfa_claim TEXT NOT NULL DEFAULT '';
	ALTER TABLE identifications ADD COLUMN validity TEXT NOT NULL DEFAULT '';
	ALTER TABLE identifications ADD COLUMN validity_notes TEXT NOT NULL DEFAULT '';
	ALTER TABLE identifications ADD COLUMN decision TEXT NOT NULL DEFAULT '';
	ALTER TABLE identifications ADD COLUMN decision_reason TEXT NOT NULL DEFAULT '';`,
	// 4: where a case came from, for once-only across claims (an inbox
	// case is read from the work area, but delivered as inbox/name), and
	// the daemon's scheduled runs.
	`ALTER TABLE ingests ADD COLUMN origin TEXT NOT NULL DEFAULT '';
	UPDATE ingests SET origin = source;
	CREATE INDEX ingests_origin ON ingests(origin, state);
	CREATE TABLE schedule_runs (
		job TEXT PRIMARY KEY, started TEXT NOT NULL, finished TEXT NOT NULL,
		outcome TEXT NOT NULL, detail TEXT NOT NULL);`,
	// 5: fixity: every run, every check of a copy, every damage found and
	// its repair. Primary records (a rebuild keeps them): what an auditor's
	// report is built from.
	`CREATE TABLE fixity_runs (
		id TEXT PRIMARY KEY, kind TEXT NOT NULL, started TEXT NOT NULL, finished TEXT NOT NULL,
		complete INTEGER NOT NULL, copies INTEGER NOT NULL, bytes INTEGER NOT NULL,
		damaged INTEGER NOT NULL, repaired INTEGER NOT NULL, unavailable INTEGER NOT NULL, detail TEXT NOT NULL);
	CREATE TABLE fixity_checks (
		id INTEGER PRIMARY KEY, run TEXT NOT NULL, time TEXT NOT NULL, aip TEXT NOT NULL, location TEXT NOT NULL,
		kind TEXT NOT NULL, outcome TEXT NOT NULL, bytes INTEGER NOT NULL, detail TEXT NOT NULL);
	CREATE INDEX fixity_checks_time ON fixity_checks(time);
	CREATE INDEX fixity_checks_copy ON fixity_checks(aip, location, kind, outcome, time);
	CREATE TABLE damage (
		id INTEGER PRIMARY KEY, run TEXT NOT NULL, found_at TEXT NOT NULL, aip TEXT NOT NULL, version INTEGER NOT NULL,
		location TEXT NOT NULL, file TEXT NOT NULL, member TEXT NOT NULL, problem TEXT NOT NULL,
		expected TEXT NOT NULL, found TEXT NOT NULL, stored_version TEXT NOT NULL,
		repaired_at TEXT NOT NULL DEFAULT '', repair TEXT NOT NULL DEFAULT '');
	CREATE INDEX damage_open ON damage(repaired_at, aip);`,
	// 6: retention and disposition. Primary: a recompute changes what
	// bag-info.txt recorded at ingest, holds and disposals happen after it.
	`CREATE TABLE retention (
		aip TEXT PRIMARY KEY, class TEXT NOT NULL, period TEXT NOT NULL, trigger TEXT NOT NULL, trigger_date TEXT NOT NULL,
		ends TEXT NOT NULL, due TEXT NOT NULL, action TEXT NOT NULL, lock_mode TEXT NOT NULL, basis TEXT NOT NULL, decided TEXT NOT NULL);
	CREATE INDEX retention_due ON retention(due);
	CREATE TABLE holds (
		id INTEGER PRIMARY KEY, aip TEXT NOT NULL, set_at TEXT NOT NULL, set_by TEXT NOT NULL, reason TEXT NOT NULL,
		cleared_at TEXT NOT NULL DEFAULT '', cleared_by TEXT NOT NULL DEFAULT '', clear_reason TEXT NOT NULL DEFAULT '');
	CREATE INDEX holds_open ON holds(aip, cleared_at);
	CREATE TABLE disposal_batches (
		id TEXT PRIMARY KEY, action TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,
		proposed_by TEXT NOT NULL, proposed_at TEXT NOT NULL, approved_by TEXT NOT NULL DEFAULT '', approved_at TEXT NOT NULL DEFAULT '',
		executed_at TEXT NOT NULL DEFAULT '', certificate TEXT NOT NULL DEFAULT '');
	CREATE TABLE disposal_items (
		batch TEXT NOT NULL, aip TEXT NOT NULL, state TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', PRIMARY KEY (batch, aip));
	CREATE TABLE disposal_objects (
		batch TEXT NOT NULL, aip TEXT NOT NULL, location TEXT NOT NULL, path TEXT NOT NULL, version_id TEXT NOT NULL,
		size INTEGER NOT NULL, state TEXT NOT NULL, deleted_at TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (batch, location, aip, path, version_id));
	CREATE TABLE tombstones (
		aip TEXT PRIMARY KEY, reference TEXT NOT NULL, title TEXT NOT NULL, agency TEXT NOT NULL, record_class TEXT NOT NULL,
		opened TEXT NOT NULL, closed TEXT NOT NULL, created TEXT NOT NULL, class TEXT NOT NULL, ends TEXT NOT NULL,
		package_sha512 TEXT NOT NULL, batch TEXT NOT NULL, proposed_by TEXT NOT NULL, approved_by TEXT NOT NULL, executed_at TEXT NOT NULL);`,
	// 7: the case's further metadata (a JSON object: sidecar extra fields,
	// an xdomea record's Aufbewahrungsdauer and Aussonderungsart), which
	// retention classes match on. Derived: bag-info.txt records it.
	`ALTER TABLE aips ADD COLUMN extra TEXT NOT NULL DEFAULT '';`,
}

// DerivedTables can be rebuilt from storage; "ingests" is primary.
var DerivedTables = []string{"identifications", "copies", "files", "packages", "versions", "aips", "events"}

// DB is an open catalog.
type DB struct {
	db   *sql.DB
	path string
}

// Open opens or creates the catalog at path and applies pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	db, err := open(path)
	if err != nil {
		return nil, err
	}
	c := &DB{db, path}
	if err := c.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	return c, nil
}

func open(path string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// Close closes the database.
func (c *DB) Close() error { return c.db.Close() }

// SchemaVersion is the number of applied migrations.
func (c *DB) SchemaVersion(ctx context.Context) (int, error) {
	var n int
	err := c.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&n)
	return n, err
}

func (c *DB) migrate(ctx context.Context) error {
	if _, err := c.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)`); err != nil {
		return err
	}
	have, err := c.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if have > len(migrations) {
		return fmt.Errorf("catalog schema version %d is newer than this archivd (%d): refusing to touch it", have, len(migrations))
	}
	for i := have; i < len(migrations); i++ {
		err := c.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, i+1, now())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }

// Tx runs fn in a transaction, committing if it returns nil.
func (c *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Rows of the tables.
type (
	AIP struct {
		ID, Reference, Title, Agency, RecordClass, Opened, Closed, Created string
		Head                                                               int
		Extra                                                              map[string]string
	}
	Version struct {
		AIP             string
		Version         int
		Created         string
		Message         string
		InventorySHA512 string
	}
	Package struct {
		AIP            string
		Version        int
		Name           string
		Size           int64
		SHA512, SHA256 string
		Frames         int
		PayloadOxum    string
	}
	File struct {
		AIP            string
		Version        int
		Path           string
		Original       string
		Kind           string
		Size           int64
		SHA512, SHA256 string
		MTime          string
		TarOffset      int64
		Frame          int
	}
	Copy struct {
		AIP        string
		Version    int
		Location   string
		ObjectKey  string
		VersionID  string
		Size       int64
		SHA512     string
		VerifiedAt string
	}
	Event struct {
		Seq                                              int64
		Hash, Time, Type, AIP, Location, Outcome, Detail string
	}
	Ingest struct {
		AIP, State, Source, Record, Error, Updated string
		// Origin identifies the delivery for once-only: the case folder's
		// path for a command, "inbox <name>/<case>" for the daemon.
		Origin string
	}
)

// Execer is a *sql.Tx or *sql.DB.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// PutVersionRows records a committed AIP version with its package, files
// and copy in one transaction.
func (c *DB) PutVersionRows(ctx context.Context, a AIP, v Version, p Package, files []File, copies ...Copy) error {
	return c.Tx(ctx, func(tx *sql.Tx) error { return PutVersionRows(ctx, tx, a, v, p, files, copies...) })
}

// PutVersionRows is the transaction body of DB.PutVersionRows.
func PutVersionRows(ctx context.Context, tx Execer, a AIP, v Version, p Package, files []File, copies ...Copy) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO aips (id, reference, title, agency, record_class, opened, closed, created, head, extra)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET head = excluded.head, extra = excluded.extra`,
		a.ID, a.Reference, a.Title, a.Agency, a.RecordClass, a.Opened, a.Closed, a.Created, a.Head, encodeExtra(a.Extra)); err != nil {
		return fmt.Errorf("catalog aip %s: %w", a.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO versions (aip, version, created, message, inventory_sha512) VALUES (?, ?, ?, ?, ?)`,
		v.AIP, v.Version, v.Created, v.Message, v.InventorySHA512); err != nil {
		return fmt.Errorf("catalog version %s v%d: %w", v.AIP, v.Version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO packages (aip, version, name, size, sha512, sha256, frames, payload_oxum) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.AIP, p.Version, p.Name, p.Size, p.SHA512, p.SHA256, p.Frames, p.PayloadOxum); err != nil {
		return fmt.Errorf("catalog package %s: %w", p.Name, err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO files (aip, version, path, original, kind, size, sha512, sha256, mtime, tar_offset, frame)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("catalog files of %s: %w", a.ID, err)
	}
	defer ins.Close()
	for _, f := range files {
		if _, err := ins.ExecContext(ctx, f.AIP, f.Version, f.Path, f.Original, f.Kind, f.Size, f.SHA512, f.SHA256, f.MTime, f.TarOffset, f.Frame); err != nil {
			return fmt.Errorf("catalog file %s: %w", f.Path, err)
		}
	}
	for _, cp := range copies {
		if err := PutCopy(ctx, tx, cp); err != nil {
			return err
		}
	}
	return nil
}

// Identification is one file's format identification, validation and
// policy decision.
type Identification struct {
	AIP                                                     string
	Version                                                 int
	Path, Tool, ToolVersion, SignatureFile, SignatureSHA256 string
	PUID, MIME, FormatName, FormatVersion, Basis            string
	Candidates, Warnings, PDFAClaim, Validity               string
	ValidityNotes, Decision, DecisionReason                 string
}

// PutIdentifications records the identifications of a version; rows it
// has already are kept (an ingest resumed after a crash writes them again).
func (c *DB) PutIdentifications(ctx context.Context, ids []Identification) error {
	return c.Tx(ctx, func(tx *sql.Tx) error { return PutIdentifications(ctx, tx, ids) })
}

// PutIdentifications is the transaction body of DB.PutIdentifications.
func PutIdentifications(ctx context.Context, tx Execer, ids []Identification) error {
	ins, err := tx.PrepareContext(ctx, `INSERT INTO identifications (aip, version, path, tool, tool_version, signature_file,
			signature_sha256, puid, mime, format_name, format_version, basis, candidates, warnings, pdfa_claim, validity,
			validity_notes, decision, decision_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (aip, version, path, tool) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("catalog identifications: %w", err)
	}
	defer ins.Close()
	for _, i := range ids {
		if _, err := ins.ExecContext(ctx, i.AIP, i.Version, i.Path, i.Tool, i.ToolVersion, i.SignatureFile, i.SignatureSHA256, i.PUID, i.MIME,
			i.FormatName, i.FormatVersion, i.Basis, i.Candidates, i.Warnings, i.PDFAClaim, i.Validity,
			i.ValidityNotes, i.Decision, i.DecisionReason); err != nil {
			return fmt.Errorf("catalog identification %s: %w", i.Path, err)
		}
	}
	return nil
}

// Identifications returns the identifications of an AIP version by path.
func (c *DB) Identifications(ctx context.Context, aip string, version int) ([]Identification, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT aip, version, path, tool, tool_version, signature_file, signature_sha256, puid, mime,
		format_name, format_version, basis, candidates, warnings, pdfa_claim, validity, validity_notes, decision, decision_reason
		FROM identifications WHERE aip = ? AND version = ? ORDER BY path`, aip, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Identification
	for rows.Next() {
		var i Identification
		if err := rows.Scan(&i.AIP, &i.Version, &i.Path, &i.Tool, &i.ToolVersion, &i.SignatureFile, &i.SignatureSHA256, &i.PUID,
			&i.MIME, &i.FormatName, &i.FormatVersion, &i.Basis, &i.Candidates, &i.Warnings, &i.PDFAClaim, &i.Validity,
			&i.ValidityNotes, &i.Decision, &i.DecisionReason); err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// PutCopyRow records or updates one copy outside a version commit.
func (c *DB) PutCopyRow(ctx context.Context, cp Copy) error { return PutCopy(ctx, c.db, cp) }

// PutCopy records (or updates) a verified copy.
func PutCopy(ctx context.Context, tx Execer, cp Copy) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO copies (aip, version, location, object_key, version_id, size, sha512, verified_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (aip, version, location) DO UPDATE SET
		object_key = excluded.object_key, version_id = excluded.version_id, size = excluded.size,
		sha512 = excluded.sha512, verified_at = excluded.verified_at`,
		cp.AIP, cp.Version, cp.Location, cp.ObjectKey, cp.VersionID, cp.Size, cp.SHA512, cp.VerifiedAt)
	if err != nil {
		return fmt.Errorf("catalog copy %s v%d at %s: %w", cp.AIP, cp.Version, cp.Location, err)
	}
	return nil
}

// PutEvent indexes one audit log entry; indexing the same entry again is a no-op.
func (c *DB) PutEvent(ctx context.Context, e Event) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO events (seq, hash, time, type, aip, location, outcome, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING`,
		e.Seq, e.Hash, e.Time, e.Type, e.AIP, e.Location, e.Outcome, e.Detail)
	if err != nil {
		return fmt.Errorf("catalog event %d: %w", e.Seq, err)
	}
	return nil
}

// LastEventSeq is the highest indexed audit sequence number (0 if none).
func (c *DB) LastEventSeq(ctx context.Context) (int64, error) {
	var n int64
	err := c.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&n)
	return n, err
}

// SetCopyVerified records a successful verification of a copy.
func (c *DB) SetCopyVerified(ctx context.Context, aip string, version int, location, at string) error {
	_, err := c.db.ExecContext(ctx, `UPDATE copies SET verified_at = ? WHERE aip = ? AND version = ? AND location = ?`, at, aip, version, location)
	return err
}

// PutIngest creates or updates the ingest record of an AIP (primary data).
func (c *DB) PutIngest(ctx context.Context, in Ingest) error {
	if in.Origin == "" {
		in.Origin = in.Source
	}
	_, err := c.db.ExecContext(ctx, `INSERT INTO ingests (aip, state, source, record, error, updated, origin) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (aip) DO UPDATE SET state = excluded.state, record = excluded.record, error = excluded.error, updated = excluded.updated`,
		in.AIP, in.State, in.Source, in.Record, in.Error, now(), in.Origin)
	if err != nil {
		return fmt.Errorf("catalog ingest %s: %w", in.AIP, err)
	}
	return nil
}

// RestoreIngest records, during a rebuild from storage, that an AIP was
// committed from a delivery (origin), unless the catalog knows its ingest
// already: once-only survives the loss of the catalog.
func (c *DB) RestoreIngest(ctx context.Context, aip, origin, created string) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO ingests (aip, state, source, record, error, updated, origin) VALUES (?, 'committed', ?, '{}', '', ?, ?)
		ON CONFLICT (aip) DO NOTHING`, aip, origin, created, origin)
	return err
}

// UnfinishedIngest returns the newest ingest of source that was begun
// (described, packaged or partly stored) but not committed or failed
// (ErrNotFound if none).
func (c *DB) UnfinishedIngest(ctx context.Context, source string) (Ingest, error) {
	var in Ingest
	err := c.db.QueryRowContext(ctx, `SELECT aip, state, source, record, error, updated FROM ingests
		WHERE source = ? AND state IN ('described', 'packaged', 'stored-partial') ORDER BY updated DESC LIMIT 1`, source).
		Scan(&in.AIP, &in.State, &in.Source, &in.Record, &in.Error, &in.Updated)
	if errors.Is(err, sql.ErrNoRows) {
		return in, fmt.Errorf("unfinished ingest of %s: %w", source, ErrNotFound)
	}
	return in, err
}

// CommittedIngests returns the AIP ids committed from a delivery (its
// origin), newest first.
func (c *DB) CommittedIngests(ctx context.Context, origin string) ([]string, error) {
	return c.strings(ctx, `SELECT aip FROM ingests WHERE origin = ? AND state = 'committed' ORDER BY updated DESC`, origin)
}

// strings runs a query that yields one text column.
func (c *DB) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := c.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// GetIngest returns the ingest record of an AIP.
func (c *DB) GetIngest(ctx context.Context, aip string) (Ingest, error) {
	var in Ingest
	err := c.db.QueryRowContext(ctx, `SELECT aip, state, source, record, error, updated FROM ingests WHERE aip = ?`, aip).
		Scan(&in.AIP, &in.State, &in.Source, &in.Record, &in.Error, &in.Updated)
	if errors.Is(err, sql.ErrNoRows) {
		return in, fmt.Errorf("ingest %s: %w", aip, ErrNotFound)
	}
	return in, err
}

// GetAIP returns one AIP.
func (c *DB) GetAIP(ctx context.Context, id string) (AIP, error) {
	var a AIP
	var extra string
	err := c.db.QueryRowContext(ctx, `SELECT id, reference, title, agency, record_class, opened, closed, created, head, extra FROM aips WHERE id = ?`, id).
		Scan(&a.ID, &a.Reference, &a.Title, &a.Agency, &a.RecordClass, &a.Opened, &a.Closed, &a.Created, &a.Head, &extra)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("aip %s: %w", id, ErrNotFound)
	}
	if err == nil {
		a.Extra, err = decodeExtra(extra)
		if err != nil {
			err = fmt.Errorf("aip %s: extra metadata: %w", id, err)
		}
	}
	return a, err
}

// encodeExtra stores further metadata as a JSON object ("" for none).
func encodeExtra(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m) // map keys are sorted: the same metadata, the same text
	return string(b)
}

func decodeExtra(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	return m, json.Unmarshal([]byte(s), &m)
}

// AIPs lists all AIP ids in order.
func (c *DB) AIPs(ctx context.Context) ([]string, error) {
	return c.strings(ctx, `SELECT id FROM aips ORDER BY id`)
}

// GetPackage returns the package of an AIP version.
func (c *DB) GetPackage(ctx context.Context, aip string, version int) (Package, error) {
	var p Package
	err := c.db.QueryRowContext(ctx, `SELECT aip, version, name, size, sha512, sha256, frames, payload_oxum FROM packages WHERE aip = ? AND version = ?`, aip, version).
		Scan(&p.AIP, &p.Version, &p.Name, &p.Size, &p.SHA512, &p.SHA256, &p.Frames, &p.PayloadOxum)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("package %s v%d: %w", aip, version, ErrNotFound)
	}
	return p, err
}

// GetVersion returns one version row.
func (c *DB) GetVersion(ctx context.Context, aip string, version int) (Version, error) {
	var v Version
	err := c.db.QueryRowContext(ctx, `SELECT aip, version, created, message, inventory_sha512 FROM versions WHERE aip = ? AND version = ?`, aip, version).
		Scan(&v.AIP, &v.Version, &v.Created, &v.Message, &v.InventorySHA512)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("version %s v%d: %w", aip, version, ErrNotFound)
	}
	return v, err
}

// Files returns the files of an AIP version in package order.
func (c *DB) Files(ctx context.Context, aip string, version int) ([]File, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT aip, version, path, original, kind, size, sha512, sha256, mtime, tar_offset, frame
		FROM files WHERE aip = ? AND version = ? ORDER BY tar_offset, path`, aip, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []File
	for rows.Next() {
		var f File
		if err := rows.Scan(&f.AIP, &f.Version, &f.Path, &f.Original, &f.Kind, &f.Size, &f.SHA512, &f.SHA256, &f.MTime, &f.TarOffset, &f.Frame); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Copies returns the copies of an AIP version.
func (c *DB) Copies(ctx context.Context, aip string, version int) ([]Copy, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT aip, version, location, object_key, version_id, size, sha512, verified_at
		FROM copies WHERE aip = ? AND version = ? ORDER BY location`, aip, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Copy
	for rows.Next() {
		var cp Copy
		if err := rows.Scan(&cp.AIP, &cp.Version, &cp.Location, &cp.ObjectKey, &cp.VersionID, &cp.Size, &cp.SHA512, &cp.VerifiedAt); err != nil {
			return nil, err
		}
		out = append(out, cp)
	}
	return out, rows.Err()
}

// ClearDerived empties the derived tables before a rebuild.
func (c *DB) ClearDerived(ctx context.Context) error {
	return c.Tx(ctx, func(tx *sql.Tx) error {
		for _, t := range DerivedTables {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return err
			}
		}
		return nil
	})
}

// Dump renders every derived table as sorted text lines, to compare two
// catalogs (for example before and after a rebuild).
func (c *DB) Dump(ctx context.Context) (string, error) {
	var out []string
	for _, t := range DerivedTables {
		rows, err := c.db.QueryContext(ctx, "SELECT * FROM "+t)
		if err != nil {
			return "", err
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return "", err
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				parts[i] = fmt.Sprintf("%s=%v", cols[i], v)
			}
			lines = append(lines, t+": "+strings.Join(parts, " "))
		}
		rows.Close()
		sort.Strings(lines)
		out = append(out, lines...)
	}
	return strings.Join(out, "\n"), nil
}

// ScheduleRun is the last run of a scheduled job.
type ScheduleRun struct {
	Job, Started, Finished, Outcome, Detail string
}

// PutScheduleRun records the latest run of a job.
func (c *DB) PutScheduleRun(ctx context.Context, r ScheduleRun) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO schedule_runs (job, started, finished, outcome, detail) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (job) DO UPDATE SET started = excluded.started, finished = excluded.finished, outcome = excluded.outcome, detail = excluded.detail`,
		r.Job, r.Started, r.Finished, r.Outcome, r.Detail)
	return err
}

// ScheduleRuns returns the latest run of every job that ran.
func (c *DB) ScheduleRuns(ctx context.Context) ([]ScheduleRun, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT job, started, finished, outcome, detail FROM schedule_runs ORDER BY job`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ScheduleRun
	for rows.Next() {
		var r ScheduleRun
		if err := rows.Scan(&r.Job, &r.Started, &r.Finished, &r.Outcome, &r.Detail); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// OpenIngests returns the ingests that are neither committed nor failed.
func (c *DB) OpenIngests(ctx context.Context) ([]Ingest, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT aip, state, source, record, error, updated, origin FROM ingests
		WHERE state NOT IN ('committed', 'failed') ORDER BY updated`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Ingest
	for rows.Next() {
		var in Ingest
		if err := rows.Scan(&in.AIP, &in.State, &in.Source, &in.Record, &in.Error, &in.Updated, &in.Origin); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// RecentFailures returns the newest audit events whose outcome is failure.
func (c *DB) RecentFailures(ctx context.Context, n int) ([]Event, error) {
	return c.events(ctx, `SELECT seq, hash, time, type, aip, location, outcome, detail FROM events
		WHERE outcome = 'failure' ORDER BY seq DESC LIMIT ?`, n)
}

// events runs a query for whole event rows.
func (c *DB) events(ctx context.Context, query string, args ...any) ([]Event, error) {
	rows, err := c.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.Seq, &e.Hash, &e.Time, &e.Type, &e.AIP, &e.Location, &e.Outcome, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
