package catalog

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

func TestMigrateOldDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	// Build a database as the first release left it: migration 1 only.
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)`,
		migrations[0],
		`INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00Z')`,
		`INSERT INTO ingests VALUES ('urn:uuid:x', 'committed', '/in/x', '{}', '', '2026-01-01T00:00:00Z')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open old database: %v", err)
	}
	defer db.Close()
	if v, _ := db.SchemaVersion(ctx); v != len(migrations) {
		t.Errorf("schema version %d, want %d", v, len(migrations))
	}
	in, err := db.GetIngest(ctx, "urn:uuid:x")
	if err != nil || in.State != "committed" {
		t.Errorf("old row lost: %+v %v", in, err)
	}
	if _, err := db.db.Exec(`INSERT INTO identifications (aip, version, path, tool, tool_version, signature_file, signature_sha256, puid, mime, format_name, format_version, basis, candidates, warnings) VALUES ('a',1,'p','t','v','s','d','fmt/354','application/pdf','PDF/A','1b','signature','','')`); err != nil {
		t.Errorf("migration 2 table unusable: %v", err)
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.db.Exec(`INSERT INTO schema_migrations VALUES (99, 'future')`)
	db.Close()
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("want refusal of a newer schema, got %v", err)
	}
}

func TestVersionRowsAndDump(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := AIP{ID: "urn:uuid:a", Reference: "63-01", Title: "T", Created: "2026-11-28T00:00:00Z", Head: 1}
	v := Version{AIP: a.ID, Version: 1, Created: a.Created, Message: "ingest", InventorySHA512: "ab"}
	p := Package{AIP: a.ID, Version: 1, Name: "x.tar.zst", Size: 10, SHA512: "s", SHA256: "t", Frames: 1, PayloadOxum: "3.1"}
	f := []File{{AIP: a.ID, Version: 1, Path: "data/x", Original: "x", Kind: "payload", Size: 3}}
	cp := Copy{AIP: a.ID, Version: 1, Location: "local", ObjectKey: "k", Size: 10, SHA512: "s", VerifiedAt: a.Created}
	if err := db.PutVersionRows(ctx, a, v, p, f, cp); err != nil {
		t.Fatal(err)
	}
	if err := db.PutVersionRows(ctx, a, v, p, f, cp); err == nil {
		t.Error("recording the same version twice succeeded")
	}
	files, err := db.Files(ctx, a.ID, 1)
	if err != nil || len(files) != 1 || files[0].Original != "x" {
		t.Errorf("Files = %+v, %v", files, err)
	}
	d1, _ := db.Dump(ctx)
	if !strings.Contains(d1, "packages: aip=urn:uuid:a") {
		t.Errorf("dump lacks the package:\n%s", d1)
	}
	db.ClearDerived(ctx)
	if d2, _ := db.Dump(ctx); d2 != "" {
		t.Errorf("derived tables not empty after ClearDerived:\n%s", d2)
	}
}
