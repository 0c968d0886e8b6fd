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
