package archive

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/atomicfile"
	"github.com/archivd/archivd/catalog/rows"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/formats"
	"github.com/archivd/archivd/ingest"
)

// NewAnalyzer builds the identifier, validators and policy a configuration
// asks for (cfg may be nil: the default policy). Signature files given here
// win over the configured ones, which win over those installed in the data
// directory (archivd signatures install), which win over the PRONOM files
// archivd ships; "built-in" selects archivd's small built-in set alone.
func NewAnalyzer(cfg *config.Config, sigs, conts string) (*formats.Analyzer, error) {
	if cfg != nil && sigs == "" {
		sigs, conts = cfg.Formats.SignatureFile, cfg.Formats.ContainerSignatureFile
	}
	var id *formats.Identifier
	if sigs == formats.BuiltinName {
		id = formats.Builtin()
	} else {
		f := formats.SignatureFiles{Signature: sigs, Container: conts}
		if cfg != nil {
			f.Cache = filepath.Join(cfg.DataDir, "cache")
			if sigs == "" {
				f.Signature, f.Container = InstalledSignatures(cfg)
			}
		} else if dir, err := os.UserCacheDir(); err == nil {
			f.Cache = filepath.Join(dir, "archivd")
		}
		var err error
		if id, err = formats.Load(f); err != nil {
			return nil, err
		}
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

// Identification is what archivd identify found for the files and
// folders it was given.
type Identification struct {
	Files    []formats.Analysis // Path is the file's path as listed
	Metadata []string           // the case.yaml of each case folder: case metadata, not a document
	Skipped  []string           // links, pipes and devices, left out
	Failed   []FileError        // files that could not be analysed
}

// FileError is one file's failure.
type FileError struct {
	Path string
	Err  error
}

// Identify identifies, validates and judges every regular file under
// paths. An error means paths could not be listed, or ctx ended.
func Identify(ctx context.Context, a *formats.Analyzer, paths []string) (*Identification, error) {
	files, skipped, err := formats.Files(paths)
	if err != nil {
		return nil, err
	}
	out := &Identification{Skipped: skipped}
	sidecars := map[string]bool{}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			sidecars[filepath.Join(p, ingest.SidecarName)] = true
		}
	}
	// Files up to 8 MiB are read once, whole, for identification and
	// validation both (at most one such buffer per core).
	whole := *a
	whole.ReadWhole = 8 << 20
	a = &whole
	// Every core analyses files; the results keep the listing's order.
	type result struct {
		an  formats.Analysis
		err error
	}
	results := make([]result, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(files))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i].an, results[i].err = a.AnalyzeFile(ctx, files[i], filepath.Base(files[i]))
			}
		}()
	}
	for i, f := range files {
		if sidecars[f] || ctx.Err() != nil {
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, f := range files {
		switch {
		case sidecars[f]:
			out.Metadata = append(out.Metadata, f)
		case results[i].err != nil:
			out.Failed = append(out.Failed, FileError{f, results[i].err})
		default:
			an := results[i].an
			an.Path = f
			out.Files = append(out.Files, an)
		}
	}
	return out, nil
}

// SignaturesDir is where archivd signatures install puts newer files.
func SignaturesDir(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "signatures") }

// InstalledSignatures names the signature files installed in the data
// directory ("" when none).
func InstalledSignatures(cfg *config.Config) (sig, cont string) {
	dir := SignaturesDir(cfg)
	if _, err := os.Stat(filepath.Join(dir, installedSig)); err != nil {
		return "", ""
	}
	sig = filepath.Join(dir, installedSig)
	if _, err := os.Stat(filepath.Join(dir, installedCont)); err == nil {
		cont = filepath.Join(dir, installedCont)
	}
	return sig, cont
}

const (
	installedSig  = "signature.xml"
	installedCont = "container-signature.xml"
)

// InstallSignatures checks that a DROID signature file (and optionally a
// container signature file) parse, then puts them into the data directory,
// where every later command and the service (after a reload) use them.
func InstallSignatures(cfg *config.Config, sig, cont string) (*formats.Identifier, error) {
	id, err := formats.CheckFiles(sig, cont)
	if err != nil {
		return nil, err
	}
	dir := SignaturesDir(cfg)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	for _, f := range []struct{ from, to string }{{sig, installedSig}, {cont, installedCont}} {
		dst := filepath.Join(dir, f.to)
		if f.from == "" {
			os.Remove(dst) // a container file of an earlier install does not belong to this one
			continue
		}
		b, err := os.ReadFile(f.from)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(dst, b, 0o640); err != nil {
			return nil, err
		}
	}
	return id, nil
}

// WriteText writes every file's decision with its reason in English and
// German and the counts, as archivd policy check shows them; rejected
// says whether the policy would refuse the case.
func (r *PolicyReport) WriteText(w io.Writer, identifier string) (rejected bool) {
	if r.Sidecar {
		fmt.Fprintf(w, "# %s: case metadata (Aktenzeichen %q, title %q), not a document\n", ingest.SidecarName, r.Meta.Reference, r.Meta.Title)
	}
	counts := map[string]int{}
	fmt.Fprintf(w, "# %s\n", identifier)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DECISION\tPATH\tPUID\tREASON / GRUND")
	for _, f := range r.Files {
		counts[f.Decision]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s / %s\n", strings.ToUpper(f.Decision), f.Original, f.PUID, f.Reason, f.Grund)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d file(s): %d accept, %d warn, %d reject\n", len(r.Files), counts[formats.Accept], counts[formats.Warn], counts[formats.Reject])
	return counts[formats.Reject] > 0
}
