package retention

import (
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/aip"
)

func TestEndOfYearRule(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	classes := []Class{
		{Name: "bau", Years: 30, Trigger: TriggerClosed, Action: Offer},
		{Name: "kurz", Years: 4, Trigger: TriggerClosed, Action: Destroy},
		{Name: "eingang", Years: 10, Trigger: TriggerIngest, Action: Destroy},
		{Name: "ewig", Permanent: true, Trigger: TriggerClosed, Action: Review},
	}
	classes[0].Match.RecordClass = "63.*"
	classes[1].Match.RecordClass = "10.*"
	classes[2].Match.Inbox = "post"
	classes[3].Match.RecordClass = "00.*"
	ingested := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name     string
		meta     aip.Metadata
		inbox    string
		ingested time.Time
		class    string
		trigger  string
		ends     string
		due      time.Time // in Berlin
		basis    string
	}{
		{"closed in a leap year on 29 February", aip.Metadata{RecordClass: "10.2", Closed: "2024-02-29"}, "", ingested,
			"kurz", "closed 2024-02-29", "2028-12-31", time.Date(2029, 1, 1, 0, 0, 0, 0, berlin), "closing date"},
		{"closed on 31 December: that year still counts", aip.Metadata{RecordClass: "63.01", Closed: "2025-12-31"}, "", ingested,
			"bau", "closed 2025-12-31", "2055-12-31", time.Date(2056, 1, 1, 0, 0, 0, 0, berlin), "closing date"},
		{"no closing date: the ingest date, recorded", aip.Metadata{RecordClass: "10.1"}, "", ingested,
			"kurz", "ingest 2026-05-04", "2030-12-31", time.Date(2031, 1, 1, 0, 0, 0, 0, berlin), "no closing date"},
		{"a closing date that is no date: the ingest date, recorded", aip.Metadata{RecordClass: "10.1", Closed: "2024-13-45"}, "", ingested,
			"kurz", "ingest 2026-05-04", "2030-12-31", time.Date(2031, 1, 1, 0, 0, 0, 0, berlin), "is no date"},
		{"ingested 00:30 on 1 January in Berlin, 23:30 UTC the day before: the Berlin year", aip.Metadata{}, "post",
			time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), "eingang", "ingest 2027-01-01", "2037-12-31", time.Date(2038, 1, 1, 0, 0, 0, 0, berlin), "ingest date"},
		{"ingested 23:30 on 31 December in Berlin", aip.Metadata{}, "post",
			time.Date(2026, 12, 31, 22, 30, 0, 0, time.UTC), "eingang", "ingest 2026-12-31", "2036-12-31", time.Date(2037, 1, 1, 0, 0, 0, 0, berlin), "ingest date"},
		{"permanent", aip.Metadata{RecordClass: "00.1", Closed: "2020-01-01"}, "", ingested,
			"ewig", "closed 2020-01-01", "", time.Time{}, "permanently"},
	} {
		d := Decide(classes, c.meta, c.inbox, c.ingested, berlin)
		if d == nil {
			t.Errorf("%s: no class", c.name)
			continue
		}
		if d.Class != c.class || d.Trigger+" "+d.TriggerDate != c.trigger || d.Ends != c.ends || !d.Due(berlin).Equal(c.due) || !strings.Contains(d.Basis, c.basis) {
			t.Errorf("%s: %+v (due %v)", c.name, d, d.Due(berlin))
		}
	}
	if d := Decide(classes, aip.Metadata{RecordClass: "99"}, "bauamt", ingested, berlin); d != nil {
		t.Errorf("no class should match: %+v", d)
	}
	// The first matching class wins; a class without match takes all.
	all := append([]Class{}, classes...)
	all = append(all, Class{Name: "rest", Years: 10, Trigger: TriggerClosed, Action: Review})
	if d := Decide(all, aip.Metadata{RecordClass: "99"}, "", ingested, berlin); d == nil || d.Class != "rest" {
		t.Errorf("catch-all: %+v", d)
	}
	bad := Class{Name: "x", Years: 0, Trigger: TriggerClosed, Action: Destroy}
	if bad.Check() == "" {
		t.Error("a class of 0 years passes its check")
	}
}

// An e-file system hands over each record's Aufbewahrungsdauer and
// Aussonderungsart (xdomea); classes match on them and can take them over.
func TestClassesFromRecordMetadata(t *testing.T) {
	classes := []Class{
		// Records the sender appraised as archivwürdig are kept for good.
		{Name: "archivgut", Permanent: true, Trigger: TriggerClosed, Action: Review},
		// Records from the DMS inbox keep the sender's own period and action.
		{Name: "dms", FromRecord: true, Trigger: TriggerClosed},
		// Everything else.
		{Name: "rest", Years: 10, Trigger: TriggerClosed, Action: Review},
	}
	classes[0].Match.Metadata = map[string]string{KeyDisposal: "A"}
	classes[1].Match.Inbox = "dms"
	if p := classes[1].Check(); p != "" {
		t.Fatalf("a from_record class needs neither years nor action: %s", p)
	}
	if p := (&Class{Name: "x", Trigger: TriggerClosed, Action: Offer}).Check(); p == "" {
		t.Error("a class without years, permanent or from_record passed the check")
	}
	ingested := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	meta := func(period, disposal string) aip.Metadata {
		m := aip.Metadata{Closed: "2020-06-30", Extra: map[string]string{}}
		if period != "" {
			m.Extra[KeyPeriod] = period
		}
		if disposal != "" {
			m.Extra[KeyDisposal] = disposal
		}
		return m
	}
	for _, c := range []struct {
		name             string
		meta             aip.Metadata
		inbox            string
		class, ends, act string
		permanent        bool
		basis            string
	}{
		{"archivwürdig: matched on the Aussonderungsart", meta("10", "A"), "dms", "archivgut", "", Review, true, "xdomea-Aussonderungsart A"},
		{"the sender's 10 years and V", meta("10", "V"), "dms", "dms", "2030-12-31", Destroy, false, "Aufbewahrungsdauer 10 years from the record; Aussonderungsart V from the record: destroy"},
		{"unbefristet, B", meta("unbefristet", "B"), "dms", "dms", "", Review, true, "unbefristet from the record"},
		{"0 years: due after the closing year", meta("0", "v"), "dms", "dms", "2020-12-31", Destroy, false, "0 years from the record"},
		{"no period: left to the next class", meta("", "V"), "dms", "rest", "2030-12-31", Review, false, "class rest"},
		{"no action: left to the next class", meta("5", ""), "dms", "rest", "2030-12-31", Review, false, "class rest"},
		{"an unknown code: left to the next class", meta("5", "X"), "dms", "rest", "2030-12-31", Review, false, "class rest"},
		{"another inbox", meta("5", "V"), "post", "rest", "2030-12-31", Review, false, "class rest"},
	} {
		d := Decide(classes, c.meta, c.inbox, ingested, time.UTC)
		if d == nil {
			t.Errorf("%s: no class", c.name)
			continue
		}
		if d.Class != c.class || d.Ends != c.ends || d.Action != c.act || d.Permanent != c.permanent || !strings.Contains(d.Basis, c.basis) {
			t.Errorf("%s: %+v", c.name, d)
		}
	}
	// With a fallback in the class, a record without its own values takes
	// the class's, and an unreadable value is named in the basis.
	fallback := []Class{{Name: "dms", FromRecord: true, Years: 6, Trigger: TriggerClosed, Action: Offer}}
	d := Decide(fallback, meta("sechs", "X"), "", ingested, time.UTC)
	if d == nil || d.Ends != "2026-12-31" || d.Action != Offer || !strings.Contains(d.Basis, `"sechs" is no number`) || !strings.Contains(d.Basis, `"X" is none of`) {
		t.Errorf("fallback: %+v", d)
	}
}
