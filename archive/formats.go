package archive

import (
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/formats"
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
