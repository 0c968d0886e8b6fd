// Package report builds the fixity reports auditors receive: one per
// period, as JSON (signed, chained to the previous report), CSV and HTML
// (German and English, readable on screen and printed). Everything in a
// report is built from the catalog's primary records (fixity runs, checks,
// damage, versions), so the same period gives the same figures again.
//
// `report verify` needs neither the catalog nor the network: the signature
// over the JSON file's bytes, the files it names beside it, its internal
// sums, and the chain back to the first report. docs/verify-reports.md
// shows the same checks with openssl and sha256sum alone.
package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/archivd/archivd/atomicfile"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/fixity"
	"github.com/archivd/archivd/sign"
)

// Document names what a report is, in every report.
const Document = "archivd fixity report"

// FormatVersion of the report's JSON.
const FormatVersion = 1

// Report is the JSON document; field order is the order a reader meets.
type Report struct {
	Document       string     `json:"document"`
	Format         int        `json:"format"`
	Archive        Archive    `json:"archive"`
	Period         Period     `json:"period"`
	Sequence       int        `json:"sequence"`
	PreviousReport string     `json:"previous_report"` // file name beside this one, "" for the first
	PreviousSHA256 string     `json:"previous_sha256"`
	Generated      string     `json:"generated"`
	Generator      string     `json:"generator"`
	SigningKey     SigningKey `json:"signing_key"`
	Summary        Summary    `json:"summary"`
	Locations      []Location `json:"locations"`
	Damage         []Damage   `json:"damage"`
	Runs           []Run      `json:"runs"`
	Checks         []Check    `json:"checks"`
	Files          []Attached `json:"files"`
}

type Archive struct {
	Organization string `json:"organization"`
	Contact      string `json:"contact"`
}

// Period is a calendar month in the archive's time zone: [From, To).
type Period struct {
	Name     string `json:"name"` // 2026-11
	From     string `json:"from"`
	To       string `json:"to"`
	TimeZone string `json:"time_zone"`
}

type SigningKey struct {
	Algorithm    string `json:"algorithm"`
	Fingerprint  string `json:"fingerprint"`
	PublicKeyPEM string `json:"public_key_pem"`
}

// Summary is the period at a glance; every figure is the sum of the rows
// below it (report verify checks that).
type Summary struct {
	Runs           int     `json:"runs"`
	IncompleteRuns int     `json:"incomplete_runs"`
	Checks         int     `json:"checks"`
	FullChecks     int     `json:"full_checks"`
	QuickChecks    int     `json:"quick_checks"`
	AIPsChecked    int     `json:"aips_checked"`
	BytesChecked   int64   `json:"bytes_checked"`
	OK             int     `json:"ok"`
	Repaired       int     `json:"repaired"`
	Damaged        int     `json:"damaged_not_repaired"`
	Unavailable    int     `json:"unavailable"`
	DamageFound    int     `json:"damage_found"`
	DamageRepaired int     `json:"damage_repaired"`
	DamageOpen     int     `json:"damage_open"`
	Coverage       float64 `json:"coverage"` // lowest of the locations'
	CycleDays      int     `json:"cycle_days"`
}

// Location is what was checked at one location, and its coverage at the
// period's end.
type Location struct {
	Name            string  `json:"name"`
	Checks          int     `json:"checks"`
	BytesChecked    int64   `json:"bytes_checked"`
	OK              int     `json:"ok"`
	Repaired        int     `json:"repaired"`
	Damaged         int     `json:"damaged_not_repaired"`
	Unavailable     int     `json:"unavailable"`
	Copies          int     `json:"copies"`
	VerifiedInCycle int     `json:"verified_in_cycle"`
	Coverage        float64 `json:"coverage"`
	OldestAIP       string  `json:"oldest_aip"`
	OldestVerified  string  `json:"oldest_verified"`
}

type Damage struct {
	AIP           string `json:"aip"`
	Location      string `json:"location"`
	Version       int    `json:"version"`
	File          string `json:"file"`
	Member        string `json:"member"`
	Problem       string `json:"problem"`
	Expected      string `json:"expected"`
	Found         string `json:"found"`
	StoredVersion string `json:"stored_version"`
	FoundAt       string `json:"found_at"`
	RepairedAt    string `json:"repaired_at"`
	Repair        string `json:"repair"`
}

type Run struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Started     string `json:"started"`
	Finished    string `json:"finished"`
	Complete    bool   `json:"complete"`
	Copies      int    `json:"copies"`
	Bytes       int64  `json:"bytes"`
	Damaged     int    `json:"damaged"`
	Repaired    int    `json:"repaired"`
	Unavailable int    `json:"unavailable"`
	Detail      string `json:"detail"`
}

type Check struct {
	Time     string `json:"time"`
	AIP      string `json:"aip"`
	Location string `json:"location"`
	Kind     string `json:"kind"`
	Outcome  string `json:"outcome"`
	Bytes    int64  `json:"bytes"`
	Run      string `json:"run"`
}

// Attached is a file beside the JSON that the signature covers through
// its digest: the CSV and the HTML rendering.
type Attached struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Input is what Build needs besides the catalog.
type Input struct {
	Period       string // YYYY-MM
	Zone         *time.Location
	Locations    []string
	Cycle        time.Duration
	Organization string
	Contact      string
	Generator    string
	Dir          string // the reports folder: the chain lives there
	Now          time.Time
}

// Names of a period's files.
func Names(period string) (jsonName, csvName, htmlName string) {
	base := "fixity-" + period
	return base + ".json", base + ".csv", base + ".html"
}

// bound formats a period boundary so that it sorts correctly against the
// catalog's RFC 3339 times (fixed nine fraction digits, UTC).
func bound(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// ParsePeriod reads YYYY-MM as a month in zone.
func ParsePeriod(s string, zone *time.Location) (from, to time.Time, err error) {
	from, err = time.ParseInLocation("2006-01", s, zone)
	if err != nil || from.Format("2006-01") != s {
		return from, to, fmt.Errorf("period %q: a month as YYYY-MM, such as 2026-11", s)
	}
	return from, from.AddDate(0, 1, 0), nil
}

// Build writes the period's report into in.Dir: CSV and HTML first, then
// the JSON naming their digests, then its signature. A period that has a
// report already, or that comes before the newest report, is refused: the
// chain only grows at its end. It returns the JSON file's path.
func Build(ctx context.Context, cat *catalog.DB, key *sign.Key, in Input) (string, *Report, error) {
	from, to, err := ParsePeriod(in.Period, in.Zone)
	if err != nil {
		return "", nil, err
	}
	if in.Now.Before(to) {
		return "", nil, fmt.Errorf("period %s has not ended yet (it ends %s): a report covers a closed month, and is never rebuilt", in.Period, to.Format(time.RFC3339))
	}
	jsonName, csvName, htmlName := Names(in.Period)
	if err := os.MkdirAll(in.Dir, 0o750); err != nil {
		return "", nil, err
	}
	prev, err := newest(in.Dir)
	if err != nil {
		return "", nil, err
	}
	if _, err := os.Lstat(filepath.Join(in.Dir, jsonName)); err == nil {
		return "", nil, fmt.Errorf("%s exists: a report is never rebuilt (a new one would break the chain of the reports after it)", filepath.Join(in.Dir, jsonName))
	}
	r := &Report{Document: Document, Format: FormatVersion, Archive: Archive{in.Organization, in.Contact},
		Period:    Period{Name: in.Period, From: from.Format(time.RFC3339), To: to.Format(time.RFC3339), TimeZone: in.Zone.String()},
		Generated: in.Now.UTC().Format(time.RFC3339), Generator: in.Generator, Sequence: 1}
	if prev != "" {
		if prev >= jsonName {
			return "", nil, fmt.Errorf("the newest report in %s is %s: reports are built in order, and %s would not come after it", in.Dir, prev, jsonName)
		}
		b, err := os.ReadFile(filepath.Join(in.Dir, prev))
		if err != nil {
			return "", nil, err
		}
		var p Report
		if err := json.Unmarshal(b, &p); err != nil {
			return "", nil, fmt.Errorf("previous report %s: %w", prev, err)
		}
		r.Sequence, r.PreviousReport, r.PreviousSHA256 = p.Sequence+1, prev, sha256Hex(b)
	}
	pub := key.Public()
	r.SigningKey = SigningKey{Algorithm: "Ed25519", Fingerprint: pub.Fingerprint(), PublicKeyPEM: string(pub.PEM())}
	if err := fill(ctx, cat, r, bound(from), bound(to), in); err != nil {
		return "", nil, err
	}
	for _, f := range []struct {
		name   string
		render func(*Report) ([]byte, error)
	}{{csvName, renderCSV}, {htmlName, renderHTML}} {
		b, err := f.render(r)
		if err != nil {
			return "", nil, err
		}
		if err := atomicfile.WriteFile(filepath.Join(in.Dir, f.name), b, 0o644); err != nil {
			return "", nil, err
		}
		r.Files = append(r.Files, Attached{f.name, sha256Hex(b)})
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", nil, err
	}
	p := filepath.Join(in.Dir, jsonName)
	if err := atomicfile.WriteFile(p, append(b, '\n'), 0o644); err != nil {
		return "", nil, err
	}
	if err := key.SignFile(p); err != nil {
		return "", nil, err
	}
	// The public key beside the reports, for convenience: an auditor
	// compares its fingerprint with the one the archive published.
	if err := atomicfile.WriteFile(filepath.Join(in.Dir, "archivd-signing.pub.pem"), pub.PEM(), 0o644); err != nil {
		return "", nil, err
	}
	return p, r, nil
}

// newest is the newest report's file name in dir, "" if none.
func newest(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "fixity-") && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "", nil
	}
	return names[len(names)-1], nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fill reads the period's records from the catalog.
func fill(ctx context.Context, cat *catalog.DB, r *Report, from, to string, in Input) error {
	runs, err := cat.FixityRunsBetween(ctx, from, to)
	if err != nil {
		return err
	}
	for _, x := range runs {
		r.Runs = append(r.Runs, Run{ID: x.ID, Kind: x.Kind, Started: x.Started, Finished: x.Finished, Complete: x.Complete, Copies: x.Copies,
			Bytes: x.Bytes, Damaged: x.Damaged, Repaired: x.Repaired, Unavailable: x.Unavailable, Detail: x.Detail})
	}
	checks, err := cat.FixityChecksBetween(ctx, from, to)
	if err != nil {
		return err
	}
	for _, k := range checks {
		r.Checks = append(r.Checks, Check{Time: k.Time, AIP: k.AIP, Location: k.Location, Kind: k.Kind, Outcome: k.Outcome, Bytes: k.Bytes, Run: k.Run})
	}
	dmg, err := cat.DamageBetween(ctx, from, to)
	if err != nil {
		return err
	}
	for _, d := range dmg {
		// A repair after the period's end is not known at its end.
		if d.RepairedAt != "" && d.RepairedAt >= to {
			d.RepairedAt, d.Repair = "", ""
		}
		r.Damage = append(r.Damage, Damage{AIP: d.AIP, Location: d.Location, Version: d.Version, File: d.File, Member: d.Member, Problem: d.Problem,
			Expected: d.Expected, Found: d.Found, StoredVersion: d.StoredVersion, FoundAt: d.FoundAt, RepairedAt: d.RepairedAt, Repair: d.Repair})
	}
	end, _ := time.Parse(time.RFC3339Nano, to)
	for _, loc := range in.Locations {
		states, err := cat.CopyStatesAt(ctx, loc, to)
		if err != nil {
			return err
		}
		l := Location{Name: loc, Copies: len(states), Coverage: 1}
		first := true
		for _, s := range states {
			if t, err := time.Parse(time.RFC3339Nano, s.VerifiedAt); err == nil && end.Sub(t) < in.Cycle {
				l.VerifiedInCycle++
			}
			if first || catalog.Later(l.OldestVerified, s.VerifiedAt) {
				l.OldestAIP, l.OldestVerified, first = s.AIP, s.VerifiedAt, false
			}
		}
		if l.Copies > 0 {
			l.Coverage = round4(float64(l.VerifiedInCycle) / float64(l.Copies))
		}
		r.Locations = append(r.Locations, l)
	}
	r.Summary = summarize(r)
	r.Summary.CycleDays = int(in.Cycle / (24 * time.Hour))
	return nil
}

func round4(f float64) float64 { return float64(int64(f*10000+0.5)) / 10000 }

// summarize computes the summary and the per-location counts from the
// rows: Build and Verify use the same sums.
func summarize(r *Report) Summary {
	s := Summary{Runs: len(r.Runs), Checks: len(r.Checks), Coverage: 1}
	for _, x := range r.Runs {
		if !x.Complete {
			s.IncompleteRuns++
		}
	}
	byLoc := map[string]*Location{}
	for i := range r.Locations {
		l := &r.Locations[i]
		l.Checks, l.BytesChecked, l.OK, l.Repaired, l.Damaged, l.Unavailable = 0, 0, 0, 0, 0, 0
		byLoc[l.Name] = l
		if l.Coverage < s.Coverage {
			s.Coverage = l.Coverage
		}
	}
	aips := map[string]bool{}
	for _, k := range r.Checks {
		l := byLoc[k.Location]
		if l == nil {
			l = &Location{}
		}
		l.Checks++
		l.BytesChecked += k.Bytes
		s.BytesChecked += k.Bytes
		if k.Kind == string(fixity.Full) {
			s.FullChecks++
		} else {
			s.QuickChecks++
		}
		aips[k.AIP] = true
		switch k.Outcome {
		case fixity.OutcomeOK:
			s.OK++
			l.OK++
		case fixity.OutcomeRepaired:
			s.Repaired++
			l.Repaired++
		case fixity.OutcomeDamaged:
			s.Damaged++
			l.Damaged++
		case fixity.OutcomeUnavailable:
			s.Unavailable++
			l.Unavailable++
		}
	}
	s.AIPsChecked = len(aips)
	from, _ := time.Parse(time.RFC3339, r.Period.From)
	for _, d := range r.Damage {
		// Listed: damage found in the period, and earlier damage repaired in it.
		if t, err := time.Parse(time.RFC3339Nano, d.FoundAt); err == nil && !t.Before(from) {
			s.DamageFound++
		}
		if d.RepairedAt != "" {
			s.DamageRepaired++
		} else {
			s.DamageOpen++
		}
	}
	return s
}
