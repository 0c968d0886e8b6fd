package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/report"
	"github.com/archivd/archivd/sign"
	"github.com/archivd/archivd/storage/s3/s3test"
)

// TestS3FixityRepairsAndReports: on each real S3 server with versioning
// and Object Lock, a flipped byte and a deleted object on the S3 copy are
// found by fixity run, named (AIP, file, digests) and repaired from the
// local copy, the damaged object version staying in the bucket; a server
// that is down makes the run incomplete and calls nothing damaged; the
// month's report lists damage and repairs and verifies offline.
func TestS3FixityRepairsAndReports(t *testing.T) { onEveryS3Server(t, testS3FixityRepairsAndReports) }

func testS3FixityRepairsAndReports(t *testing.T, srv *s3test.Server) {
	srv.MakeBucket(t, "archiv", true)
	cfgPath, dir := s3Config(t, srv, "archiv", "    object_lock:\n      mode: governance\n      days: 1\n")
	r := archivd(t, "ingest", "--config", cfgPath, demo2Case(t, dir))
	if r.code != 0 {
		t.Fatalf("ingest: %d %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	if r := archivd(t, "keygen", "--config", cfgPath); r.code != 0 || !strings.Contains(r.stdout, "fingerprint: SHA256:") {
		t.Fatalf("keygen: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "fixity", "run", "--config", cfgPath, "--all"); r.code != 0 || strings.Count(r.stdout, "OK ") != 2 {
		t.Fatalf("fixity run on intact copies: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ctx := context.Background()
	cat, err := catalog.Open(ctx, filepath.Join(dir, "var", "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	pkg, _ := cat.GetPackage(ctx, id, 1)
	key := "archivd/" + ocfl.ObjectPath(id) + "/v1/content/" + aip.MustParseID(id).PackageFile(1)
	client := srv.Client(t)
	versions := func() int {
		n := 0
		for o := range client.ListObjects(ctx, "archiv", minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
			if o.Err == nil && o.Key == key && !o.IsDeleteMarker {
				n++
			}
		}
		return n
	}

	// 1. One flipped byte in the server's own files.
	srv.Damage(t, "archiv", key)
	r = archivd(t, "fixity", "run", "--config", cfgPath, "--all")
	if r.code != 0 || !strings.Contains(r.stdout, "REPAIRED    "+id+" at site-b") || !strings.Contains(r.stdout, "OK          "+id+" at local") {
		t.Fatalf("fixity run after a flipped byte: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	damage, _ := cat.DamageBetween(ctx, "2000", "3000")
	if len(damage) == 0 || damage[0].AIP != id || damage[0].Location != "site-b" || damage[0].File != "v1/content/"+aip.MustParseID(id).PackageFile(1) ||
		!strings.Contains(r.stdout, pkg.SHA512) || damage[0].RepairedAt == "" || damage[0].StoredVersion == "" {
		t.Errorf("damage record: %+v\n%s", damage, r.stdout)
	}
	if srv.Kind == s3test.Versitygw {
		// versitygw returns the flipped bytes: their digest is named too.
		found := false
		for _, d := range damage {
			found = found || (d.Expected == pkg.SHA512 && len(d.Found) == 128 && d.Found != pkg.SHA512)
		}
		if !found {
			t.Errorf("no damage names both digests: %+v", damage)
		}
	}
	if !strings.Contains(r.stdout, "damaged object versions stay in the bucket") || versions() != 2 {
		t.Errorf("the damaged version should stay beside the repaired one (%d versions):\n%s", versions(), r.stdout)
	}
	if r := archivd(t, "verify", "--config", cfgPath, id); r.code != 0 {
		t.Fatalf("verify after the repair: %d %s", r.code, r.stdout)
	}

	// 2. The package deleted (a delete marker on top): missing, repaired.
	if err := client.RemoveObject(ctx, "archiv", key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	r = archivd(t, "fixity", "run", "--config", cfgPath, "--all", "--location", "site-b")
	if r.code != 0 || !strings.Contains(r.stdout, "REPAIRED    "+id+" at site-b") || !strings.Contains(r.stdout, "not found") {
		t.Fatalf("fixity run after a delete: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "verify", "--config", cfgPath, id); r.code != 0 {
		t.Fatalf("verify after the second repair: %d %s", r.code, r.stdout)
	}
	if r := archivd(t, "fixity", "run", "--config", cfgPath, "--all", "--quick"); r.code != 0 || strings.Count(r.stdout, "OK ") != 2 {
		t.Fatalf("quick check after the repairs: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// 3. The server down: the run is incomplete, nothing is called damaged.
	srv.Stop()
	r = archivd(t, "fixity", "run", "--config", cfgPath, "--all")
	if r.code != exitUnavailable || !strings.Contains(r.stdout, "UNAVAILABLE "+id+" at site-b") || !strings.Contains(r.stdout, "INCOMPLETE") ||
		strings.Contains(r.stdout, "DAMAGED") {
		t.Fatalf("fixity run with the server down: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := archivd(t, "fixity", "status", "--config", cfgPath); r.code != 0 || !strings.Contains(r.stdout, "open damage: none") {
		t.Errorf("fixity status: %d %s %s", r.code, r.stdout, r.stderr)
	}

	// 4. The month's report: damage, repairs and the incomplete run; it
	// verifies offline, also with the archive's key required.
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	k, err := sign.Load(cfg.SigningKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(cfg.Zone)
	in := report.Input{Period: now.Format("2006-01"), Zone: cfg.Zone, Locations: []string{"local", "site-b"}, Cycle: 365 * 24 * time.Hour,
		Organization: "Testarchiv", Generator: "archivd test", Dir: cfg.Fixity.Reports, Now: now.AddDate(0, 2, 0)}
	p, rep, err := report.Build(ctx, cat, k, in)
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Summary
	if s.DamageRepaired < 2 || s.DamageOpen != 0 || s.Repaired != 2 || s.Unavailable != 1 || s.IncompleteRuns != 1 || s.QuickChecks != 2 {
		t.Errorf("report summary: %+v", s)
	}
	b, _ := os.ReadFile(strings.TrimSuffix(p, ".json") + ".html")
	if !strings.Contains(string(b), id) || !strings.Contains(string(b), "from the copy at local") {
		t.Error("the HTML report lacks the repaired AIP")
	}
	pub := sign.PublicPath(cfg.SigningKeyPath())
	if r := archivd(t, "report", "verify", "--key", pub, p); r.code != 0 || !strings.Contains(r.stdout, "OK ") {
		t.Fatalf("report verify: %d %s %s", r.code, r.stdout, r.stderr)
	}
	var raw map[string]any
	jb, _ := os.ReadFile(p)
	if err := json.Unmarshal(jb, &raw); err != nil || raw["document"] != report.Document {
		t.Errorf("report JSON: %v", err)
	}
}
