package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Retention rows: an AIP's retention, a legal hold, a disposal batch with
// its AIPs and every stored object version it removes, and the tombstone
// a disposed AIP leaves.
type (
	Retention struct {
		AIP, Class, Period, Trigger, TriggerDate, Ends string
		Due                                            string // RFC 3339: the first moment it may be disposed of; "" never
		Action, LockMode, Basis, Decided               string
	}
	Hold struct {
		ID                                int64
		AIP, SetAt, SetBy, Reason         string
		ClearedAt, ClearedBy, ClearReason string
	}
	Batch struct {
		ID, Action, State, Reason                      string
		ProposedBy, ProposedAt, ApprovedBy, ApprovedAt string
		ExecutedAt, Certificate                        string
	}
	BatchItem struct {
		Batch, AIP, State, Detail string
	}
	DisposalObject struct {
		Batch, AIP, Location, Path, VersionID string
		Size                                  int64
		State, DeletedAt                      string
	}
	Tombstone struct {
		AIP, Reference, Title, Agency, RecordClass, Opened, Closed, Created   string
		Class, Ends, PackageSHA512, Batch, ProposedBy, ApprovedBy, ExecutedAt string
	}
)

// PutRetention records (or replaces) an AIP's retention.
func PutRetention(ctx context.Context, tx Execer, r Retention) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO retention (aip, class, period, trigger, trigger_date, ends, due, action, lock_mode, basis, decided)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (aip) DO UPDATE SET class = excluded.class, period = excluded.period,
		trigger = excluded.trigger, trigger_date = excluded.trigger_date, ends = excluded.ends, due = excluded.due,
		action = excluded.action, lock_mode = excluded.lock_mode, basis = excluded.basis, decided = excluded.decided`,
		r.AIP, r.Class, r.Period, r.Trigger, r.TriggerDate, r.Ends, r.Due, r.Action, r.LockMode, r.Basis, r.Decided)
	return err
}

// PutRetention records an AIP's retention.
func (c *DB) PutRetention(ctx context.Context, r Retention) error { return PutRetention(ctx, c.db, r) }

const retentionCols = `aip, class, period, trigger, trigger_date, ends, due, action, lock_mode, basis, decided`

func (c *DB) retentions(ctx context.Context, where string, args ...any) ([]Retention, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT `+retentionCols+` FROM retention `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Retention
	for rows.Next() {
		var r Retention
		if err := rows.Scan(&r.AIP, &r.Class, &r.Period, &r.Trigger, &r.TriggerDate, &r.Ends, &r.Due, &r.Action, &r.LockMode, &r.Basis, &r.Decided); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// GetRetention returns an AIP's retention (ErrNotFound: no class).
func (c *DB) GetRetention(ctx context.Context, aip string) (Retention, error) {
	rs, err := c.retentions(ctx, `WHERE aip = ?`, aip)
	if err != nil {
		return Retention{}, err
	}
	if len(rs) == 0 {
		return Retention{}, fmt.Errorf("retention of %s: %w", aip, ErrNotFound)
	}
	return rs[0], nil
}

// Retentions lists every AIP's retention (of one class, if class is set),
// oldest due first; permanent ones last.
func (c *DB) Retentions(ctx context.Context, class string) ([]Retention, error) {
	if class != "" {
		return c.retentions(ctx, `WHERE class = ? AND aip IN (SELECT id FROM aips) ORDER BY due = '', due, aip`, class)
	}
	return c.retentions(ctx, `WHERE aip IN (SELECT id FROM aips) ORDER BY due = '', due, aip`)
}

// DueBefore lists the AIPs whose retention ended before t (RFC 3339).
func (c *DB) DueBefore(ctx context.Context, t string) ([]Retention, error) {
	return c.retentions(ctx, `WHERE due != '' AND due <= ? AND aip IN (SELECT id FROM aips) ORDER BY due, aip`, t)
}

// AIPsWithoutRetention lists AIPs that have no retention row.
func (c *DB) AIPsWithoutRetention(ctx context.Context) ([]string, error) {
	return c.strings(ctx, `SELECT id FROM aips WHERE id NOT IN (SELECT aip FROM retention) ORDER BY id`)
}

// PutHold records a legal hold set on an AIP.
func (c *DB) PutHold(ctx context.Context, h Hold) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO holds (aip, set_at, set_by, reason) VALUES (?, ?, ?, ?)`, h.AIP, h.SetAt, h.SetBy, h.Reason)
	return err
}

// ClearHolds clears every open hold of an AIP.
func (c *DB) ClearHolds(ctx context.Context, aip, at, by, reason string) error {
	_, err := c.db.ExecContext(ctx, `UPDATE holds SET cleared_at = ?, cleared_by = ?, clear_reason = ? WHERE aip = ? AND cleared_at = ''`, at, by, reason, aip)
	return err
}

// OpenHolds lists the holds in force (of one AIP, if aip is set).
func (c *DB) OpenHolds(ctx context.Context, aip string) ([]Hold, error) {
	q := `SELECT id, aip, set_at, set_by, reason, cleared_at, cleared_by, clear_reason FROM holds WHERE cleared_at = ''`
	args := []any{}
	if aip != "" {
		q += ` AND aip = ?`
		args = append(args, aip)
	}
	rows, err := c.db.QueryContext(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Hold
	for rows.Next() {
		var h Hold
		if err := rows.Scan(&h.ID, &h.AIP, &h.SetAt, &h.SetBy, &h.Reason, &h.ClearedAt, &h.ClearedBy, &h.ClearReason); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// PutBatch records a disposal batch and its AIPs.
func (c *DB) PutBatch(ctx context.Context, b Batch, aips []string) error {
	return c.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO disposal_batches (id, action, state, reason, proposed_by, proposed_at) VALUES (?, ?, ?, ?, ?, ?)`,
			b.ID, b.Action, b.State, b.Reason, b.ProposedBy, b.ProposedAt); err != nil {
			return err
		}
		for _, a := range aips {
			if _, err := tx.ExecContext(ctx, `INSERT INTO disposal_items (batch, aip, state) VALUES (?, ?, 'pending')`, b.ID, a); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateBatch writes a batch's state and its approval/execution fields.
func (c *DB) UpdateBatch(ctx context.Context, b Batch) error {
	_, err := c.db.ExecContext(ctx, `UPDATE disposal_batches SET state = ?, approved_by = ?, approved_at = ?, executed_at = ?, certificate = ? WHERE id = ?`,
		b.State, b.ApprovedBy, b.ApprovedAt, b.ExecutedAt, b.Certificate, b.ID)
	return err
}

// GetBatch returns a batch and its AIPs.
func (c *DB) GetBatch(ctx context.Context, id string) (Batch, []BatchItem, error) {
	var b Batch
	err := c.db.QueryRowContext(ctx, `SELECT id, action, state, reason, proposed_by, proposed_at, approved_by, approved_at, executed_at, certificate
		FROM disposal_batches WHERE id = ?`, id).Scan(&b.ID, &b.Action, &b.State, &b.Reason, &b.ProposedBy, &b.ProposedAt, &b.ApprovedBy, &b.ApprovedAt, &b.ExecutedAt, &b.Certificate)
	if errors.Is(err, sql.ErrNoRows) {
		return b, nil, fmt.Errorf("disposal batch %s: %w", id, ErrNotFound)
	} else if err != nil {
		return b, nil, err
	}
	rows, err := c.db.QueryContext(ctx, `SELECT batch, aip, state, detail FROM disposal_items WHERE batch = ? ORDER BY aip`, id)
	if err != nil {
		return b, nil, err
	}
	defer rows.Close()
	var items []BatchItem
	for rows.Next() {
		var it BatchItem
		if err := rows.Scan(&it.Batch, &it.AIP, &it.State, &it.Detail); err != nil {
			return b, nil, err
		}
		items = append(items, it)
	}
	return b, items, rows.Err()
}

// Batches lists every disposal batch, newest first.
func (c *DB) Batches(ctx context.Context) ([]Batch, error) {
	ids, err := c.strings(ctx, `SELECT id FROM disposal_batches ORDER BY proposed_at DESC`)
	if err != nil {
		return nil, err
	}
	var out []Batch
	for _, id := range ids {
		b, _, err := c.GetBatch(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// PendingBatchOf names an unfinished batch holding aip, or "".
func (c *DB) PendingBatchOf(ctx context.Context, aip string) (string, error) {
	ids, err := c.strings(ctx, `SELECT b.id FROM disposal_batches b JOIN disposal_items i ON i.batch = b.id
		WHERE i.aip = ? AND b.state NOT IN ('executed', 'rejected')`, aip)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}

// SetItem records an AIP's outcome in a batch.
func (c *DB) SetItem(ctx context.Context, batch, aip, state, detail string) error {
	_, err := c.db.ExecContext(ctx, `UPDATE disposal_items SET state = ?, detail = ? WHERE batch = ? AND aip = ?`, state, detail, batch, aip)
	return err
}

// PlanObjects records the stored object versions a batch will remove from
// one location (planned before anything is deleted, so an interrupted
// execution knows every object it was removing).
func (c *DB) PlanObjects(ctx context.Context, objs []DisposalObject) error {
	return c.Tx(ctx, func(tx *sql.Tx) error {
		for _, o := range objs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO disposal_objects (batch, aip, location, path, version_id, size, state) VALUES (?, ?, ?, ?, ?, ?, 'planned')
				ON CONFLICT DO NOTHING`, o.Batch, o.AIP, o.Location, o.Path, o.VersionID, o.Size); err != nil {
				return err
			}
		}
		return nil
	})
}

// ObjectDeleted marks one planned object version removed.
func (c *DB) ObjectDeleted(ctx context.Context, o DisposalObject, at string) error {
	_, err := c.db.ExecContext(ctx, `UPDATE disposal_objects SET state = 'deleted', deleted_at = ? WHERE batch = ? AND location = ? AND aip = ? AND path = ? AND version_id = ?`,
		at, o.Batch, o.Location, o.AIP, o.Path, o.VersionID)
	return err
}

// DisposalObjects lists a batch's object versions (of one AIP, if set).
func (c *DB) DisposalObjects(ctx context.Context, batch, aip string) ([]DisposalObject, error) {
	q := `SELECT batch, aip, location, path, version_id, size, state, deleted_at FROM disposal_objects WHERE batch = ?`
	args := []any{batch}
	if aip != "" {
		q += ` AND aip = ?`
		args = append(args, aip)
	}
	rows, err := c.db.QueryContext(ctx, q+` ORDER BY aip, location, path, version_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DisposalObject
	for rows.Next() {
		var o DisposalObject
		if err := rows.Scan(&o.Batch, &o.AIP, &o.Location, &o.Path, &o.VersionID, &o.Size, &o.State, &o.DeletedAt); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Bury replaces a disposed AIP's rows by its tombstone, in one transaction.
func (c *DB) Bury(ctx context.Context, t Tombstone) error {
	return c.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tombstones (aip, reference, title, agency, record_class, opened, closed, created, class, ends,
			package_sha512, batch, proposed_by, approved_by, executed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			t.AIP, t.Reference, t.Title, t.Agency, t.RecordClass, t.Opened, t.Closed, t.Created, t.Class, t.Ends,
			t.PackageSHA512, t.Batch, t.ProposedBy, t.ApprovedBy, t.ExecutedAt); err != nil {
			return err
		}
		for _, tbl := range []string{"identifications", "copies", "files", "packages", "versions"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+tbl+` WHERE aip = ?`, t.AIP); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM aips WHERE id = ?`, t.AIP)
		return err
	})
}

// Tombstones lists the disposed AIPs.
func (c *DB) Tombstones(ctx context.Context) ([]Tombstone, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT aip, reference, title, agency, record_class, opened, closed, created, class, ends,
		package_sha512, batch, proposed_by, approved_by, executed_at FROM tombstones ORDER BY executed_at, aip`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Tombstone
	for rows.Next() {
		var t Tombstone
		if err := rows.Scan(&t.AIP, &t.Reference, &t.Title, &t.Agency, &t.RecordClass, &t.Opened, &t.Closed, &t.Created, &t.Class, &t.Ends,
			&t.PackageSHA512, &t.Batch, &t.ProposedBy, &t.ApprovedBy, &t.ExecutedAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
