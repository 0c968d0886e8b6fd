package catalog

import (
	"context"
	"fmt"
	"strings"
)

// AIPFilter selects AIPs for a listing; empty fields select everything.
type AIPFilter struct {
	Reference, Agency, RecordClass string // exact; Reference also as a prefix ending in *
	ClosedFrom, ClosedTo           string // civil dates YYYY-MM-DD, inclusive
	Limit, Offset                  int
}

// ListAIPs returns one page of the AIPs the filter selects, by reference
// and id, and how many it selects in all.
func (c *DB) ListAIPs(ctx context.Context, f AIPFilter) ([]AIP, int, error) {
	var where []string
	var args []any
	if f.Reference != "" {
		if p, ok := strings.CutSuffix(f.Reference, "*"); ok {
			where, args = append(where, "reference LIKE ? ESCAPE '\\'"), append(args, likeEscape(p)+"%")
		} else {
			where, args = append(where, "reference = ?"), append(args, f.Reference)
		}
	}
	for _, x := range []struct{ col, v string }{{"agency = ?", f.Agency}, {"record_class = ?", f.RecordClass},
		{"closed >= ?", f.ClosedFrom}, {"closed <= ?", f.ClosedTo}} {
		if x.v != "" {
			where, args = append(where, x.col), append(args, x.v)
		}
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := c.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM aips"+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := c.db.QueryContext(ctx, `SELECT id, reference, title, agency, record_class, opened, closed, created, head, extra FROM aips`+
		cond+` ORDER BY reference, id LIMIT ? OFFSET ?`, append(args, f.Limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []AIP
	for rows.Next() {
		var a AIP
		var extra string
		if err := rows.Scan(&a.ID, &a.Reference, &a.Title, &a.Agency, &a.RecordClass, &a.Opened, &a.Closed, &a.Created, &a.Head, &extra); err != nil {
			return nil, 0, err
		}
		if a.Extra, err = decodeExtra(extra); err != nil {
			return nil, 0, fmt.Errorf("aip %s: extra metadata: %w", a.ID, err)
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Events returns up to limit audit events after seq, oldest first; with
// aip set, only that AIP's.
func (c *DB) Events(ctx context.Context, aip string, after int64, limit int) ([]Event, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := `SELECT seq, hash, time, type, aip, location, outcome, detail FROM events WHERE seq > ?`
	args := []any{after}
	if aip != "" {
		q += ` AND aip = ?`
		args = append(args, aip)
	}
	return c.events(ctx, q+` ORDER BY seq LIMIT ?`, append(args, limit)...)
}

// MissingCopies counts the AIP versions that lack a copy at one of the
// required locations: copies below the copy policy.
func (c *DB) MissingCopies(ctx context.Context, required []string) (int, error) {
	total := 0
	for _, loc := range required {
		var n int
		err := c.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM versions v WHERE NOT EXISTS
			(SELECT 1 FROM copies c WHERE c.aip = v.aip AND c.version = v.version AND c.location = ?)`, loc).Scan(&n)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// Ping checks the catalog answers.
func (c *DB) Ping(ctx context.Context) error { return c.db.PingContext(ctx) }
