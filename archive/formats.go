package archive

import (
	"context"
	"path/filepath"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog/rows"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/formats"
	"github.com/archivd/archivd/ingest"
)

// NewAnalyzer builds the identifier, validators and policy a configuration
// asks for (cfg may be nil: the built-in set and the default policy).
// Signature files given here win over the configured ones.
func NewAnalyzer(cfg *config.Config, sigs, conts string) (*formats.Analyzer, error) {
	if cfg != nil && sigs == "" {
		sigs, conts = cfg.Formats.SignatureFile, cfg.Formats.ContainerSignatureFile
	}
	var id *formats.Identifier
	if sigs != "" {
		var err error
		if id, err = formats.LoadDROID(sigs, conts); err != nil {
			return nil, err
		}
	} else {
		id = formats.Builtin()
	}
	a := &formats.Analyzer{ID: id, Policy: formats.DefaultPolicy()}
	if cfg != nil {
		a.Policy = formats.DefaultPolicy().Merge(&cfg.Formats.Policy)
		for _, v := range cfg.Formats.Validators {
			a.External = append(a.External, formats.External{Name: v.Name, Families: v.Families, Command: v.Command, Timeout: v.TimeoutD, MemoryMiB: v.MemoryMiB})
		}
	}
	return a, nil
}

// PolicyReport is what ingest would decide about a case folder's files.
type PolicyReport struct {
	Identifier *formats.Identifier
	Meta       aip.Metadata
	Sidecar    bool // the folder has a case.yaml (metadata, not a document)
	Files      []rows.FormatRecord
}

// PolicyCheck is a dry run of ingest up to the format policy: the folder
// is read as ingest reads it (links, devices, names, case.yaml and empty
// cases refused with the same *ingest.InputError) and every file judged.
// Files the policy refuses come back in the report and as an
// *ingest.InputError with Policy set. Nothing is written.
func PolicyCheck(ctx context.Context, cfg *config.Config, folder string) (*PolicyReport, error) {
	abs, err := filepath.Abs(folder)
	if err != nil {
		return nil, err
	}
	an, err := NewAnalyzer(cfg, "", "")
	if err != nil {
		return nil, err
	}
	ing := &ingest.Ingester{Analyzer: an, Software: "archivd",
		Defaults: aip.Metadata{Agency: cfg.CaseDefaults.Agency, RecordClass: cfg.CaseDefaults.RecordClass}}
	input, report, err := ing.Check(ctx, abs)
	if report == nil {
		return nil, err
	}
	return &PolicyReport{Identifier: an.ID, Meta: input.Meta, Sidecar: input.Sidecar != nil, Files: report.Files}, err
}
