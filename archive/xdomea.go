package archive

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/retention"
	"github.com/archivd/archivd/xdomea"
)

// TransferPlan is what archivd would do with an xdomea transfer, without
// ingesting it: the inspection, and for each record its AIP's metadata and
// the retention decided if it were archived now from the inbox.
type TransferPlan struct {
	*xdomea.Inspection
	Inbox   string // "" without a configuration
	Records []PlannedRecord
}

// PlannedRecord is one transferred record as archivd would archive it.
type PlannedRecord struct {
	Record    *xdomea.Record
	Meta      aip.Metadata
	Retention *retention.Decision // nil: no class matches (or no configuration)
}

// PlanTransfer inspects the transfer at path (as the xdomea inbox named
// inbox of cfg would, with its schema folder unless schemas is set) and
// decides each record's retention as an ingest now would. cfg may be nil:
// then only what the transfer holds is known.
func PlanTransfer(ctx context.Context, cfg *config.Config, inbox, schemas, path string, now time.Time) (*TransferPlan, error) {
	p := &TransferPlan{Inbox: inbox}
	var in *config.Inbox
	if cfg != nil && inbox != "" {
		if in = cfg.Inbox(inbox); in == nil || in.Kind != "xdomea" {
			return nil, fmt.Errorf("%s: no xdomea inbox of that name in the configuration", inbox)
		}
		if schemas == "" {
			schemas = in.Schemas
		}
	}
	ins, err := xdomea.Inspect(ctx, path, schemas, 0)
	if err != nil {
		return nil, err
	}
	p.Inspection = ins
	if ins.Message == nil {
		return p, nil
	}
	for _, r := range ins.Units {
		pr := PlannedRecord{Record: r, Meta: ins.Message.CaseMetadata(r)}
		if cfg != nil {
			// What the ingest fills in from the defaults.
			var own *aip.Metadata
			if in != nil {
				own = &aip.Metadata{Agency: in.Defaults.Agency, RecordClass: in.Defaults.RecordClass}
			}
			d := caseDefaults(cfg, own)
			if pr.Meta.Agency == "" {
				pr.Meta.Agency = d.Agency
			}
			if pr.Meta.RecordClass == "" {
				pr.Meta.RecordClass = d.RecordClass
			}
			pr.Retention = retention.Decide(cfg.Retention.Classes, pr.Meta, inbox, now, cfg.Zone)
		}
		p.Records = append(p.Records, pr)
	}
	return p, nil
}

// WriteText writes the transfer's message and each record's AIP (its
// metadata, documents and, withRetention, the retention it would get), as
// archivd xdomea inspect shows them.
func (p *TransferPlan) WriteText(w io.Writer, withRetention bool) {
	in := p.Inspection
	if m := in.Message; m != nil {
		fmt.Fprintf(w, "transfer %s: xdomea %s message %s, created %s\n  from %s to %s; import confirmation (0506) requested: %v\n  schema: %s\n",
			m.ProzessID, m.Version, in.MessageFile, m.Created, orNone(m.Sender), orNone(m.Receiver), m.ImportConfirmation, in.Schema)
		fmt.Fprintf(w, "%d AIP(s), one per transferred top-level record:\n", len(p.Records))
		for _, pr := range p.Records {
			u := pr.Record
			fmt.Fprintf(w, "  %s %s %q: Aktenzeichen %s, Aktenplan %s, %s – %s", u.Kind, u.ID, u.Title, orNone(pr.Meta.Reference), orNone(pr.Meta.RecordClass), orNone(pr.Meta.Opened), orNone(pr.Meta.Closed))
			if u.Retention != "" || u.Disposal != "" {
				fmt.Fprintf(w, ", Aufbewahrung %s, Aussonderungsart %s", orNone(u.Retention), orNone(u.Disposal))
			}
			var names []string
			for _, f := range u.Files() {
				names = append(names, f.Name)
			}
			fmt.Fprintf(w, "\n    %d primary document(s): %s\n", len(names), strings.Join(names, ", "))
			switch d := pr.Retention; {
			case !withRetention:
			case d == nil:
				fmt.Fprintln(w, "    retention: no class matches (kept; the locations' Object Lock days are the floor)")
			case d.Permanent:
				fmt.Fprintf(w, "    retention: class %s, kept permanently\n      (%s)\n", d.Class, d.Basis)
			default:
				fmt.Fprintf(w, "    retention: class %s, kept to %s, then %s\n      (%s)\n", d.Class, d.Ends, d.Action, d.Basis)
			}
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
