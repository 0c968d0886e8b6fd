package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/archivd/archivd/sign"
)

// Verdict is what Verify found about one report file of the chain.
type Verdict struct {
	File        string
	Sequence    int
	Fingerprint string
	Problems    []string
}

// Verification is the outcome for a report and the chain behind it.
type Verification struct {
	Chain []Verdict // the report first, then each previous one
	// Pinned says the key was given by the caller (--key); otherwise the
	// key is the one the report carries, and only its fingerprint, compared
	// with the one the archive published, ties it to the archive.
	Pinned bool
	// Certificate: the file is a deletion certificate (no chain).
	Certificate bool
}

// OK reports whether nothing was found wrong anywhere in the chain.
func (v *Verification) OK() bool {
	for _, c := range v.Chain {
		if len(c.Problems) > 0 {
			return false
		}
	}
	return len(v.Chain) > 0
}

// Verify checks the report at path and every report before it in the
// chain: each signature, the files each names beside it, each one's sums,
// and each link (digest, sequence, period order, the same key). With pin,
// the first report must be signed with that key; without it, with the key
// it carries. It needs no catalog and no network.
func Verify(path string, pin *sign.Public) (*Verification, error) {
	out := &Verification{Pinned: pin != nil}
	var want *sign.Public
	if pin != nil {
		want = pin
	}
	var later *Report
	for p := path; p != ""; {
		v, r, err := verifyOne(p, want)
		if err != nil {
			return out, err
		}
		if later != nil && r != nil {
			if r.Sequence != later.Sequence-1 {
				v.Problems = append(v.Problems, fmt.Sprintf("sequence %d, but the next report says it follows report %d: a report is missing between them", r.Sequence, later.Sequence-1))
			}
			if r.Period.Name >= later.Period.Name {
				v.Problems = append(v.Problems, fmt.Sprintf("period %s does not come before the next report's period %s", r.Period.Name, later.Period.Name))
			}
		}
		out.Chain = append(out.Chain, *v)
		if r == nil {
			break
		}
		if want == nil {
			k, err := sign.ParsePublic([]byte(r.SigningKey.PublicKeyPEM))
			if err == nil {
				want = &k
			}
		}
		later = r
		p = ""
		if r.PreviousReport != "" {
			prev := filepath.Join(filepath.Dir(path), filepath.Base(r.PreviousReport))
			b, err := os.ReadFile(prev)
			if err != nil {
				out.Chain[len(out.Chain)-1].Problems = append(out.Chain[len(out.Chain)-1].Problems,
					fmt.Sprintf("the previous report %s is not beside it (%v): the chain is broken", r.PreviousReport, err))
				break
			}
			if got := sha256Hex(b); got != r.PreviousSHA256 {
				out.Chain[len(out.Chain)-1].Problems = append(out.Chain[len(out.Chain)-1].Problems,
					fmt.Sprintf("the previous report %s has SHA-256 %s, this report names %s: it was changed or replaced", r.PreviousReport, got, r.PreviousSHA256))
			}
			p = prev
		} else if r.Sequence != 1 {
			out.Chain[len(out.Chain)-1].Problems = append(out.Chain[len(out.Chain)-1].Problems,
				fmt.Sprintf("sequence %d names no previous report", r.Sequence))
		}
	}
	return out, nil
}

// verifyOne checks one report file; r is nil when it cannot be read as a
// report at all.
func verifyOne(path string, want *sign.Public) (*Verdict, *Report, error) {
	v := &Verdict{File: path}
	bad := func(format string, args ...any) { v.Problems = append(v.Problems, fmt.Sprintf(format, args...)) }
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil || r.Document != Document {
		bad("not an archivd fixity report (%v)", err)
		return v, nil, nil
	}
	v.Sequence, v.Fingerprint = r.Sequence, r.SigningKey.Fingerprint
	if r.Format != FormatVersion {
		bad("report format %d; this archivd reads format %d", r.Format, FormatVersion)
	}
	carried, err := sign.ParsePublic([]byte(r.SigningKey.PublicKeyPEM))
	if err != nil {
		bad("the signing key it carries is unreadable: %v", err)
	} else if carried.Fingerprint() != r.SigningKey.Fingerprint {
		bad("the signing key it carries has fingerprint %s, not the %s it names", carried.Fingerprint(), r.SigningKey.Fingerprint)
	}
	key := want
	if key == nil && err == nil {
		key = &carried
	}
	if key != nil && err == nil && !carried.Equal(*key) {
		bad("signed with key %s, not with %s (the key of the reports after it, or the one given with --key)", carried.Fingerprint(), key.Fingerprint())
	}
	sig, err := os.ReadFile(path + sign.Suffix)
	switch {
	case err != nil:
		bad("no signature: %v", err)
	case key == nil:
	case !key.Verify(b, sig):
		bad("the signature does not match the file with key %s: the file was changed after signing, or signed with another key", key.Fingerprint())
	}
	for _, f := range r.Files {
		fb, err := os.ReadFile(filepath.Join(filepath.Dir(path), filepath.Base(f.Name)))
		if err != nil {
			bad("%s, which the report covers, cannot be read: %v", f.Name, err)
		} else if got := sha256Hex(fb); got != f.SHA256 {
			bad("%s has SHA-256 %s, the report names %s: it was changed", f.Name, got, f.SHA256)
		}
	}
	from, to, err := ParsePeriodRFC(r.Period)
	if err != nil {
		bad("%v", err)
	} else if to.Sub(from) < 27*24*time.Hour || to.Sub(from) > 32*24*time.Hour {
		bad("period %s spans %v, not a month", r.Period.Name, to.Sub(from))
	}
	// The summary and the per-location counts must be the sums of the rows.
	cp := r
	cp.Locations = append([]Location(nil), r.Locations...)
	sum := summarize(&cp)
	sum.CycleDays = r.Summary.CycleDays
	if !reflect.DeepEqual(sum, r.Summary) {
		bad("the summary does not add up to the rows: it says %+v, the rows give %+v", r.Summary, sum)
	}
	for i := range r.Locations {
		if !reflect.DeepEqual(cp.Locations[i], r.Locations[i]) {
			bad("location %s: its counts do not add up to the checks listed", r.Locations[i].Name)
		}
	}
	for _, k := range r.Checks {
		if t, err := time.Parse(time.RFC3339Nano, k.Time); err != nil || t.Before(from) || !t.Before(to) {
			bad("check of %s at %s lies outside the period", k.AIP, k.Time)
			break
		}
	}
	return v, &r, nil
}

// ParsePeriodRFC reads a report's period bounds.
func ParsePeriodRFC(p Period) (from, to time.Time, err error) {
	from, err1 := time.Parse(time.RFC3339, p.From)
	to, err2 := time.Parse(time.RFC3339, p.To)
	if err1 != nil || err2 != nil || !from.Before(to) {
		return from, to, fmt.Errorf("period %q: unreadable bounds %q – %q", p.Name, p.From, p.To)
	}
	return from, to, nil
}

// VerifyFile checks a fixity report and its chain, or a deletion
// certificate, whichever path is; a certificate gives a chain of one.
func VerifyFile(path string, pin *sign.Public) (*Verification, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var head struct {
		Document string `json:"document"`
	}
	json.Unmarshal(b, &head)
	if head.Document != CertificateDocument {
		return Verify(path, pin)
	}
	v, err := VerifyCertificate(path, pin)
	if err != nil {
		return nil, err
	}
	return &Verification{Chain: []Verdict{*v}, Pinned: pin != nil, Certificate: true}, nil
}

// WriteText writes one line per report of the chain (or the certificate),
// with its problems, as archivd report verify shows them.
func (v *Verification) WriteText(w io.Writer) {
	what := func(r Verdict) string {
		if v.Certificate {
			return "deletion certificate"
		}
		return fmt.Sprintf("report %d", r.Sequence)
	}
	for _, r := range v.Chain {
		if len(r.Problems) == 0 {
			fmt.Fprintf(w, "OK      %s (%s, key %s)\n", r.File, what(r), r.Fingerprint)
			continue
		}
		fmt.Fprintf(w, "INVALID %s (%s)\n", r.File, what(r))
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

// WriteSummary says what a built report holds, as archivd report build
// shows it: where it lies (path, signed beside it), its files and figures.
func (r *Report) WriteSummary(w io.Writer, path string) {
	s := r.Summary
	fmt.Fprintf(w, "report %d for %s: %s (signed: %s%s)\n", r.Sequence, r.Period.Name, path, path, sign.Suffix)
	for _, f := range r.Files {
		fmt.Fprintf(w, "  %s\n", f.Name)
	}
	fmt.Fprintf(w, "%d checks of %d AIPs, %s; damage found %d, repaired %d, open %d; coverage %.1f %%; key %s\n",
		s.Checks, s.AIPsChecked, HumanBytes(s.BytesChecked), s.DamageFound, s.DamageRepaired, s.DamageOpen, s.Coverage*100, r.SigningKey.Fingerprint)
}
