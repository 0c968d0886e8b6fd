// Package retention decides how long each AIP is kept (Aufbewahrungsfrist)
// and what happens at the end: the configured classes, the end-of-year
// rule of German records management, and the dates that follow from them.
//
// A period counts from the end of the year in which its trigger fell (the
// case was closed, or, recorded as a fallback, the AIP was ingested), so
// it ends on 31 December of the final year in the archive's time zone, and
// the AIP falls due at the first moment of the next year.
package retention

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/archivd/archivd/aip"
)

// Actions at the end of a period.
const (
	Destroy = "destroy" // vernichten, kassieren
	Offer   = "offer"   // dem Archiv anbieten
	Review  = "review"  // bewerten: a person decides
)

// Triggers: what starts the period.
const (
	TriggerClosed = "closed" // the case's closing date (case.yaml closed:)
	TriggerIngest = "ingest" // the ingest date
)

// Class is one configured retention class.
type Class struct {
	Name string `yaml:"name"`
	// Match: every given pattern must match (path.Match globs, e.g.
	// "63.*"); an empty Match matches every AIP (a catch-all class).
	Match struct {
		RecordClass string `yaml:"record_class"` // Aktenplan number
		Reference   string `yaml:"reference"`    // Aktenzeichen
		Inbox       string `yaml:"inbox"`        // the inbox the case came from
		// Metadata: further metadata of the case (case.yaml extra:, an
		// xdomea record's xdomea-Aussonderungsart ...), name: glob.
		Metadata map[string]string `yaml:"metadata"`
	} `yaml:"match"`
	// Years is the period; Permanent keeps the AIP for good (no end).
	Years     int    `yaml:"years"`
	Permanent bool   `yaml:"permanent"`
	Trigger   string `yaml:"trigger"` // closed (default; the ingest date when there is none, recorded) or ingest
	Action    string `yaml:"action"`  // destroy, offer or review
	// FromRecord takes the period and the action from the record's own
	// metadata where it gives them: the Aufbewahrungsdauer (years, or
	// unbefristet: permanent) and the Aussonderungsart (A archivwürdig:
	// offer, B bewerten: review, V vernichten: destroy), as an e-file
	// system hands them over in xdomea. Years/Permanent and Action are then
	// the fallback for a record without them; without a fallback such a
	// record is left to the next class.
	FromRecord bool `yaml:"from_record"`
	// LockMode is the Object Lock mode copies are retained in until the
	// end: governance, compliance (not even root lifts it), or "" for the
	// location's object_lock.mode.
	LockMode string `yaml:"lock_mode"`
}

// Check names what is wrong with a class, or "".
func (c *Class) Check() string {
	switch {
	case c.Name == "":
		return "name is required"
	case c.Permanent && c.Years != 0:
		return "years and permanent: one or the other"
	case !c.Permanent && (c.Years < 0 || c.Years > 1000 || c.Years == 0 && !c.FromRecord):
		return fmt.Sprintf("years %d: 1 to 1000, or permanent: true", c.Years)
	case c.Trigger != TriggerClosed && c.Trigger != TriggerIngest:
		return fmt.Sprintf("trigger %q: closed or ingest", c.Trigger)
	case c.Action != Destroy && c.Action != Offer && c.Action != Review && !(c.Action == "" && c.FromRecord):
		return fmt.Sprintf("action %q: destroy, offer or review", c.Action)
	case c.LockMode != "" && c.LockMode != "governance" && c.LockMode != "compliance":
		return fmt.Sprintf("lock_mode %q: governance or compliance (or leave it out: the location's mode)", c.LockMode)
	}
	patterns := []string{c.Match.RecordClass, c.Match.Reference, c.Match.Inbox}
	for _, p := range c.Match.Metadata {
		patterns = append(patterns, p)
	}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Sprintf("match pattern %q: %v", p, err)
		}
	}
	return ""
}

// Matches reports whether the class takes an AIP with meta from inbox
// ("" when it came from a command).
func (c *Class) Matches(meta aip.Metadata, inbox string) bool {
	for _, m := range []struct{ pattern, value string }{
		{c.Match.RecordClass, meta.RecordClass}, {c.Match.Reference, meta.Reference}, {c.Match.Inbox, inbox},
	} {
		if m.pattern == "" {
			continue
		}
		if ok, _ := path.Match(m.pattern, m.value); !ok {
			return false
		}
	}
	for k, p := range c.Match.Metadata {
		if ok, _ := path.Match(p, meta.Extra[k]); !ok {
			return false
		}
	}
	return true
}

// Names of the record's own retention metadata in the case's further
// metadata, as the xdomea inbox records them (a case.yaml may give them
// under extra: too).
const (
	KeyPeriod   = "xdomea-Aufbewahrungsdauer" // years, or "unbefristet"
	KeyDisposal = "xdomea-Aussonderungsart"   // A, B or V
)

// fromRecord reads the record's own period and action: years (0 and
// permanent false when it gives none), and the action with the code it
// came from ("" when none or an unknown code).
func fromRecord(meta aip.Metadata) (years int, permanent, ok bool, action, code string) {
	switch p := strings.TrimSpace(meta.Extra[KeyPeriod]); {
	case strings.EqualFold(p, "unbefristet"):
		permanent, ok = true, true
	case p != "":
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 1000 {
			years, ok = n, true
		}
	}
	code = strings.ToUpper(strings.TrimSpace(meta.Extra[KeyDisposal]))
	action = map[string]string{"A": Offer, "B": Review, "V": Destroy}[code]
	return years, permanent, ok, action, code
}

// Decision is an AIP's retention, as recorded with it.
type Decision struct {
	Class       string `json:"class"`
	Years       int    `json:"years"` // 0 when permanent
	Permanent   bool   `json:"permanent"`
	Trigger     string `json:"trigger"`      // what started the period: closed or ingest
	TriggerDate string `json:"trigger_date"` // YYYY-MM-DD in the archive's time zone
	Ends        string `json:"ends"`         // the last day kept, 31 December, YYYY-MM-DD; "" when permanent
	Action      string `json:"action"`
	LockMode    string `json:"lock_mode"` // "" the location's
	// Basis says in words how the dates were found (recorded in PREMIS,
	// the catalog and the audit trail): e.g. that the ingest date stood in
	// for a missing closing date.
	Basis string `json:"basis"`
}

// Due is the first moment the AIP may be disposed of (the start of the day
// after Ends, in zone); the zero time when permanent.
func (d *Decision) Due(zone *time.Location) time.Time {
	if d.Permanent || d.Ends == "" {
		return time.Time{}
	}
	end, err := time.ParseInLocation("2006-01-02", d.Ends, zone)
	if err != nil {
		return time.Time{}
	}
	return end.AddDate(0, 0, 1)
}

// Decide picks the first class that matches and computes its dates. It
// returns nil when no class matches (the AIP keeps the locations' Object
// Lock floor and is never due).
func Decide(classes []Class, meta aip.Metadata, inbox string, ingested time.Time, zone *time.Location) *Decision {
	for i := range classes {
		c := &classes[i]
		if !c.Matches(meta, inbox) {
			continue
		}
		d := &Decision{Class: c.Name, Years: c.Years, Permanent: c.Permanent, Action: c.Action, LockMode: c.LockMode}
		var own []string // what the record gave itself, said in the basis
		if c.FromRecord {
			years, permanent, ok, action, code := fromRecord(meta)
			switch {
			case ok && permanent:
				d.Years, d.Permanent = 0, true
				own = append(own, "Aufbewahrungsdauer unbefristet from the record")
			case ok:
				d.Years, d.Permanent = years, false
				own = append(own, fmt.Sprintf("Aufbewahrungsdauer %d years from the record", years))
			case c.Years == 0 && !c.Permanent:
				continue // no period here or in the class: the next class decides
			case meta.Extra[KeyPeriod] != "":
				own = append(own, fmt.Sprintf("the record's Aufbewahrungsdauer %q is no number of years: the class's period", meta.Extra[KeyPeriod]))
			}
			switch {
			case action != "":
				d.Action = action
				own = append(own, fmt.Sprintf("Aussonderungsart %s from the record: %s", code, action))
			case c.Action == "":
				continue
			case code != "":
				own = append(own, fmt.Sprintf("the record's Aussonderungsart %q is none of A, B, V: the class's action", code))
			}
		}
		if d.Permanent {
			d.Years = 0
		}
		d.Trigger, d.TriggerDate = TriggerIngest, ingested.In(zone).Format("2006-01-02")
		switch {
		case c.Trigger == TriggerIngest:
			d.Basis = "counted from the ingest date"
		case meta.Closed != "":
			if t, err := time.ParseInLocation("2006-01-02", meta.Closed, zone); err == nil {
				d.Trigger, d.TriggerDate = TriggerClosed, t.Format("2006-01-02")
				d.Basis = "counted from the closing date of the case"
			} else {
				d.Basis = fmt.Sprintf("the closing date %q is no date: counted from the ingest date instead", meta.Closed)
			}
		default:
			d.Basis = "the case has no closing date: counted from the ingest date instead"
		}
		if len(own) > 0 {
			d.Basis += "; " + strings.Join(own, "; ")
		}
		if !d.Permanent {
			d.Ends = EndOfPeriod(d.TriggerDate, d.Years)
			d.Basis += fmt.Sprintf("; %d years from the end of %s, ending %s", d.Years, d.TriggerDate[:4], d.Ends)
		} else {
			d.Basis += "; kept permanently"
		}
		d.Basis = fmt.Sprintf("class %s (%s): %s", c.Name, c.Describe(), d.Basis)
		return d
	}
	return nil
}

// Describe says in words which AIPs the class takes.
func (c *Class) Describe() string {
	var m []string
	if c.Match.RecordClass != "" {
		m = append(m, "record class "+c.Match.RecordClass)
	}
	if c.Match.Reference != "" {
		m = append(m, "reference "+c.Match.Reference)
	}
	if c.Match.Inbox != "" {
		m = append(m, "inbox "+c.Match.Inbox)
	}
	keys := make([]string, 0, len(c.Match.Metadata))
	for k := range c.Match.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m = append(m, k+" "+c.Match.Metadata[k])
	}
	if len(m) == 0 {
		return "every AIP"
	}
	return strings.Join(m, ", ")
}

// EndOfPeriod is the last day of a period of years counted from the end
// of the year of date (YYYY-MM-DD): 31 December of year(date)+years.
func EndOfPeriod(date string, years int) string {
	var y int
	fmt.Sscanf(date, "%d", &y)
	return fmt.Sprintf("%04d-12-31", y+years)
}

// Record is the decision as aip records it in bag-info.txt and PREMIS.
func (d *Decision) Record() *aip.Retention {
	if d == nil {
		return nil
	}
	period := fmt.Sprintf("%d years", d.Years)
	if d.Permanent {
		period = "permanent"
	}
	return &aip.Retention{Class: d.Class, Period: period, Trigger: d.Trigger, TriggerDate: d.TriggerDate, Ends: d.Ends, Action: d.Action, LockMode: d.LockMode, Basis: d.Basis}
}
