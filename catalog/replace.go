package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/archivd/archivd/atomicfile"
)

// Rebuild builds a new catalog beside this one and swaps it in only when
// fill succeeds, so a rebuild that fails half-way leaves the catalog as it
// was. The new catalog starts as a copy with the primary tables kept and
// the derived tables empty; fill writes the derived rows into it.
func (c *DB) Rebuild(ctx context.Context, fill func(ctx context.Context, next *DB) error) error {
	tmp := c.path + ".rebuild"
	removeDB(tmp)
	if _, err := c.db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return fmt.Errorf("catalog rebuild: copy %s: %w", c.path, err)
	}
	next, err := Open(ctx, tmp)
	if err == nil {
		err = next.ClearDerived(ctx)
	}
	if err == nil {
		err = fill(ctx, next)
	}
	if err == nil {
		err = next.closeClean(ctx)
	} else if next != nil {
		next.db.Close()
	}
	if err != nil {
		removeDB(tmp)
		return err
	}
	// The swap: the old catalog's WAL is checkpointed and emptied first, so
	// no stale WAL can meet the new file.
	if err := c.closeClean(ctx); err != nil {
		removeDB(tmp)
		return fmt.Errorf("catalog rebuild: %w", err)
	}
	errSwap := os.Rename(tmp, c.path)
	if errSwap == nil {
		errSwap = atomicfile.SyncDir(filepath.Dir(c.path))
	}
	db, err := open(c.path)
	if err != nil {
		return errors.Join(errSwap, err)
	}
	c.db = db
	return errSwap
}

// closeClean checkpoints the WAL into the database file, closes it and
// removes the (now empty) WAL and shared-memory files.
func (c *DB) closeClean(ctx context.Context) error {
	if _, err := c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		c.db.Close()
		return err
	}
	if err := c.db.Close(); err != nil {
		return err
	}
	for _, sfx := range []string{"-wal", "-shm"} {
		if err := os.Remove(c.path + sfx); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

func removeDB(path string) {
	for _, sfx := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + sfx)
	}
}

// CarryOver copies every derived row of the AIP id from the catalog file
// at from into this catalog: a rebuild keeps what it knew of an AIP whose
// stored copies it could not read, so verify still reports their damage.
// Rows this catalog already has are kept.
func (c *DB) CarryOver(ctx context.Context, from, id string) error {
	if _, err := c.db.ExecContext(ctx, `ATTACH DATABASE ? AS old`, from); err != nil {
		return err
	}
	defer c.db.ExecContext(context.Background(), `DETACH DATABASE old`)
	return c.Tx(ctx, func(tx *sql.Tx) error {
		// Parents first, for the foreign keys.
		for _, t := range []string{"aips", "versions", "packages", "files", "copies", "identifications"} {
			col := "aip"
			if t == "aips" {
				col = "id"
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+t+" SELECT * FROM old."+t+" WHERE "+col+" = ? ON CONFLICT DO NOTHING", id); err != nil {
				return fmt.Errorf("carry over %s rows of %s: %w", t, id, err)
			}
		}
		return nil
	})
}

// Path is the catalog's file.
func (c *DB) Path() string { return c.path }
