package catalog

import (
	"context"
	"time"
)

// Fixity rows: a run, the check of one copy (all versions of one AIP at
// one location), and one piece of damage with its repair.
type (
	FixityRun struct {
		ID, Kind, Started, Finished    string
		Complete                       bool
		Copies                         int
		Bytes                          int64
		Damaged, Repaired, Unavailable int
		Detail                         string
	}
	FixityCheck struct {
		Run, Time, AIP, Location, Kind, Outcome string
		Bytes                                   int64
		Detail                                  string
	}
	Damage struct {
		ID                              int64
		Run, FoundAt, AIP               string
		Version                         int
		Location, File, Member, Problem string
		Expected, Found, StoredVersion  string
		RepairedAt, Repair              string
	}
	// CopyState is one AIP's copy at one location, for planning checks.
	CopyState struct {
		AIP, Location string
		VerifiedAt    string // the oldest full verification of its versions; "" never
		Size          int64
	}
)

// PutFixityRun records a run (again, when it ends).
func (c *DB) PutFixityRun(ctx context.Context, r FixityRun) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO fixity_runs (id, kind, started, finished, complete, copies, bytes, damaged, repaired, unavailable, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET finished = excluded.finished, complete = excluded.complete,
		copies = excluded.copies, bytes = excluded.bytes, damaged = excluded.damaged, repaired = excluded.repaired,
		unavailable = excluded.unavailable, detail = excluded.detail`,
		r.ID, r.Kind, r.Started, r.Finished, r.Complete, r.Copies, r.Bytes, r.Damaged, r.Repaired, r.Unavailable, r.Detail)
	return err
}

// PutFixityCheck records the check of one copy.
func (c *DB) PutFixityCheck(ctx context.Context, k FixityCheck) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO fixity_checks (run, time, aip, location, kind, outcome, bytes, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.Run, k.Time, k.AIP, k.Location, k.Kind, k.Outcome, k.Bytes, k.Detail)
	return err
}

// PutDamage records damage found; it returns the row's id.
func (c *DB) PutDamage(ctx context.Context, d Damage) (int64, error) {
	r, err := c.db.ExecContext(ctx, `INSERT INTO damage (run, found_at, aip, version, location, file, member, problem, expected, found, stored_version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Run, d.FoundAt, d.AIP, d.Version, d.Location, d.File, d.Member, d.Problem, d.Expected, d.Found, d.StoredVersion)
	if err != nil {
		return 0, err
	}
	return r.LastInsertId()
}

// SetDamageRepaired closes the open damage of an AIP's copy at a location.
func (c *DB) SetDamageRepaired(ctx context.Context, aip, location, at, repair string) error {
	_, err := c.db.ExecContext(ctx, `UPDATE damage SET repaired_at = ?, repair = ? WHERE aip = ? AND location = ? AND repaired_at = ''`,
		at, repair, aip, location)
	return err
}

const damageCols = `id, run, found_at, aip, version, location, file, member, problem, expected, found, stored_version, repaired_at, repair`

func (c *DB) damage(ctx context.Context, query string, args ...any) ([]Damage, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT `+damageCols+` FROM damage `+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Damage
	for rows.Next() {
		var d Damage
		if err := rows.Scan(&d.ID, &d.Run, &d.FoundAt, &d.AIP, &d.Version, &d.Location, &d.File, &d.Member, &d.Problem,
			&d.Expected, &d.Found, &d.StoredVersion, &d.RepairedAt, &d.Repair); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// OpenDamage is every piece of damage not repaired yet.
func (c *DB) OpenDamage(ctx context.Context) ([]Damage, error) {
	return c.damage(ctx, `WHERE repaired_at = '' ORDER BY id`)
}

// DamageBetween is the damage found, or repaired, in [from, to).
func (c *DB) DamageBetween(ctx context.Context, from, to string) ([]Damage, error) {
	return c.damage(ctx, `WHERE (found_at >= ? AND found_at < ?) OR (repaired_at >= ? AND repaired_at < ?) ORDER BY id`, from, to, from, to)
}

// FixityChecksBetween are the checks done in [from, to), oldest first.
func (c *DB) FixityChecksBetween(ctx context.Context, from, to string) ([]FixityCheck, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT run, time, aip, location, kind, outcome, bytes, detail FROM fixity_checks
		WHERE time >= ? AND time < ? ORDER BY id`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FixityCheck
	for rows.Next() {
		var k FixityCheck
		if err := rows.Scan(&k.Run, &k.Time, &k.AIP, &k.Location, &k.Kind, &k.Outcome, &k.Bytes, &k.Detail); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// FixityRunsBetween are the runs started in [from, to).
func (c *DB) FixityRunsBetween(ctx context.Context, from, to string) ([]FixityRun, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT id, kind, started, finished, complete, copies, bytes, damaged, repaired, unavailable, detail
		FROM fixity_runs WHERE started >= ? AND started < ? ORDER BY started`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FixityRun
	for rows.Next() {
		var r FixityRun
		if err := rows.Scan(&r.ID, &r.Kind, &r.Started, &r.Finished, &r.Complete, &r.Copies, &r.Bytes, &r.Damaged, &r.Repaired, &r.Unavailable, &r.Detail); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Later reports whether RFC 3339 time a is after b ("" is never).
func Later(a, b string) bool {
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	return errA == nil && (errB != nil || ta.After(tb))
}

// CopyStates lists every AIP's copy at location with the oldest full
// verification of its versions: a full check verifies all versions at once.
// The last successful full check recorded in fixity_checks counts too, so a
// catalog rebuild (which forgets copies.verified_at) does not make every
// copy look unverified.
func (c *DB) CopyStates(ctx context.Context, location string) ([]CopyState, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT cp.aip, cp.location, MIN(cp.verified_at), SUM(cp.size),
		COALESCE((SELECT MAX(k.time) FROM fixity_checks k WHERE k.aip = cp.aip AND k.location = cp.location AND k.kind = 'full' AND k.outcome IN ('ok', 'repaired')), '')
		FROM copies cp WHERE cp.location = ? GROUP BY cp.aip, cp.location ORDER BY cp.aip`, location)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CopyState
	for rows.Next() {
		var s CopyState
		var last string
		if err := rows.Scan(&s.AIP, &s.Location, &s.VerifiedAt, &s.Size, &last); err != nil {
			return nil, err
		}
		if Later(last, s.VerifiedAt) {
			s.VerifiedAt = last
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CopyStatesAt is CopyStates as it stood at time to (RFC 3339): copies of
// AIPs created before it, each verified last by the newest full check
// before it or, failing that, by its ingest. Built from primary records
// (fixity checks, versions), so a report for a past period can be built
// again with the same figures.
func (c *DB) CopyStatesAt(ctx context.Context, location, to string) ([]CopyState, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT cp.aip, cp.location, SUM(cp.size), MIN(v.created),
		COALESCE((SELECT MAX(k.time) FROM fixity_checks k WHERE k.aip = cp.aip AND k.location = cp.location AND k.kind = 'full'
			AND k.outcome IN ('ok', 'repaired') AND k.time < ?), '')
		FROM copies cp JOIN versions v ON v.aip = cp.aip AND v.version = cp.version
		WHERE cp.location = ? GROUP BY cp.aip, cp.location ORDER BY cp.aip`, to, location)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	end, _ := time.Parse(time.RFC3339Nano, to)
	var out []CopyState
	for rows.Next() {
		var s CopyState
		var created, last string
		if err := rows.Scan(&s.AIP, &s.Location, &s.Size, &created, &last); err != nil {
			return nil, err
		}
		if t, err := time.Parse(time.RFC3339Nano, created); err != nil || !t.Before(end) {
			continue
		}
		s.VerifiedAt = created
		if Later(last, created) {
			s.VerifiedAt = last
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
