package archive

import (
	"context"
	"fmt"
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
