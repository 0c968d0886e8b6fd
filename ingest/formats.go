package ingest

import (
	"context"
	"fmt"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog/rows"
	"github.com/archivd/archivd/formats"
)

// analyze identifies and validates every original file and applies the
// policy, before anything is packed: the dry run and a resumed ingest.
// Files the policy rejects make the case an *InputError, each file named
// with the reason in English and German.
func (in *Ingester) analyze(ctx context.Context, folder string, input *aip.Input) (*rows.FormatReport, error) {
	var total int64
	for _, f := range input.Files {
		total += f.Size
	}
	m := in.meter(PhaseFormats, len(input.Files), total)
	defer m.done()
	an := in.startAnalysis(ctx, folder, input.Files, m)
	for i := range input.Files {
		if ctx.Err() != nil {
			break
		}
		an.seen(i, nil)
	}
	results, err := an.finish()
	if err != nil {
		return nil, err
	}
	return in.judge(folder, input.Files, results)
}

// judge applies the policy's decisions (and an override) to the analyses,
// sets each file's Format and builds the report; refused files make an
// *InputError with Policy set.
func (in *Ingester) judge(folder string, files []aip.InputFile, results []formats.Analysis) (*rows.FormatReport, error) {
	a := in.Analyzer
	rep := &rows.FormatReport{Identifier: in.agent(), SignatureFile: a.ID.Source + " " + a.ID.Version, SignatureSHA256: a.ID.SHA256}
	var refused []string
	for i := range files {
		f := &files[i]
		an := results[i]
		rep.BytesReread += an.BytesRead + an.Validation.BytesRead
		f.Format = &aip.FormatInfo{PUID: an.PUID, Name: an.Name, Version: an.Version, MIME: an.MIME, Basis: an.Basis,
			Validity: an.Validity, PDFAClaim: an.PDFAClaim}
		safe, _, _ := aip.MapPath(f.Path)
		r := rows.FormatRecord{Path: aip.RepresentationDir + safe, Original: f.Path, PUID: an.PUID, Name: an.Name, Version: an.Version,
			MIME: an.MIME, Basis: an.Basis, Candidates: an.Candidates, Warnings: an.Warnings, PDFAClaim: an.PDFAClaim,
			Validity: an.Validity, ValidityNotes: an.ValidityNotes, Checker: an.Validation.Checker,
			Decision: an.Decision.Action, Reason: an.Decision.Reason, Grund: an.Decision.Grund}
		for _, m := range an.Members {
			r.Members = append(r.Members, m.Path+" "+m.PUID)
		}
		if an.Decision.Action == formats.Reject && in.Override != "" {
			r.Decision = formats.Warn
			r.Reason = "refused by the format policy (" + an.Decision.Reason + "), accepted by override: " + in.Override
			r.Grund = "nach der Formatrichtlinie abgelehnt (" + an.Decision.Grund + "), angenommen durch Freigabe: " + in.Override
			rep.Files = append(rep.Files, r)
			continue
		}
		rep.Files = append(rep.Files, r)
		if an.Decision.Action == formats.Reject {
			refused = append(refused, fmt.Sprintf("%q: refused by the format policy (%s, %s): %s / abgelehnt: %s",
				f.Path, an.PUID, an.Decision.Rule, an.Decision.Reason, an.Decision.Grund))
		}
	}
	sort.Slice(rep.Files, func(i, j int) bool { return rep.Files[i].Path < rep.Files[j].Path })
	if len(refused) > 0 {
		sort.Strings(refused)
		return rep, &InputError{Folder: folder, Problems: refused, Policy: true}
	}
	return rep, nil
}

// analysis identifies and validates files as they are handed to it, on as
// many workers as there are cores (at most four): identification is CPU
// work, and one large PDF must not keep the other core idle. During an
// ingest the packager hands over each file it has read: a small one with
// its bytes, so identification, validation, hashing and packaging share
// one read; a larger one by name, to be read where identification needs
// it (its head and tail, a PDF's structure).
type analysis struct {
	ctx    context.Context
	cancel context.CancelFunc
	a      *formats.Analyzer
	folder string
	files  []aip.InputFile
	jobs   chan analysisJob
	out    []formats.Analysis
	errs   []error
	wg     sync.WaitGroup
	closed bool
}

type analysisJob struct {
	i    int
	data []byte // nil: read the file
}

func (in *Ingester) startAnalysis(ctx context.Context, folder string, files []aip.InputFile, m *meter) *analysis {
	ctx, cancel := context.WithCancel(ctx)
	an := &analysis{ctx: ctx, cancel: cancel, a: in.Analyzer, folder: folder, files: files,
		jobs: make(chan analysisJob, 64), out: make([]formats.Analysis, len(files)), errs: make([]error, len(files))}
	for w := 0; w < min(runtime.GOMAXPROCS(0), 4, max(len(files), 1)); w++ {
		an.wg.Add(1)
		go func() {
			defer an.wg.Done()
			for j := range an.jobs {
				if ctx.Err() != nil {
					continue // stopped: drain
				}
				f := files[j.i]
				p := path.Join(folder, f.Path)
				if j.data != nil {
					an.out[j.i], an.errs[j.i] = an.a.AnalyzeBytes(ctx, j.data, p, path.Base(f.Path))
				} else {
					an.out[j.i], an.errs[j.i] = an.a.AnalyzeFile(ctx, p, path.Base(f.Path))
				}
				m.add(1, f.Size)
			}
		}()
	}
	return an
}

// seen hands file i over, with its bytes if they were read already.
func (an *analysis) seen(i int, data []byte) { an.jobs <- analysisJob{i, data} }

// finish waits for every analysis and returns them in the files' order.
func (an *analysis) finish() ([]formats.Analysis, error) {
	an.close()
	if err := an.ctx.Err(); err != nil {
		return nil, err
	}
	for i, err := range an.errs {
		if err != nil {
			return nil, &InputError{Folder: an.folder, Problems: []string{fmt.Sprintf("%q: format identification failed: %v", an.files[i].Path, err)}}
		}
	}
	return an.out, nil
}

// stop ends the workers early (the packaging failed); safe after finish.
func (an *analysis) stop() {
	an.cancel()
	an.close()
}

func (an *analysis) close() {
	if !an.closed {
		an.closed = true
		close(an.jobs)
		an.wg.Wait()
	}
}

// summary counts decisions and validity for the audit trail and PREMIS.
func summary(r *rows.FormatReport) (ident, valid string) {
	basis, dec, val := map[string]int{}, map[string]int{}, map[string]int{}
	for _, f := range r.Files {
		basis[f.Basis]++
		dec[f.Decision]++
		val[f.Validity]++
	}
	return fmt.Sprintf("%d files identified with %s (%s); basis: %s; policy: %s",
			len(r.Files), r.Identifier, r.SignatureFile, counts(basis), counts(dec)),
		fmt.Sprintf("%d files checked: %s", len(r.Files), counts(val))
}

func counts(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%d %s", v, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// Check reads a case folder as Ingest does and judges every file against
// the format policy, writing nothing: the dry run behind archivd policy
// check. A folder that cannot be read is an *InputError and no report; a
// policy refusal is an *InputError with Policy set, with the report.
func (in *Ingester) Check(ctx context.Context, folder string) (aip.Input, *rows.FormatReport, error) {
	input, err := Scan(folder, in.Defaults)
	if err != nil {
		return input, nil, err
	}
	report, err := in.analyze(ctx, folder, &input)
	return input, report, err
}
