package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/atomicfile"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/ingest"
	"github.com/archivd/archivd/storage"
)

// progressLog is how often a long case logs its progress.
const progressLog = 30 * time.Second

func (d *Daemon) inbox(name string) *config.Inbox {
	for i := range d.conf().Inboxes {
		if d.conf().Inboxes[i].Name == name {
			return &d.conf().Inboxes[i]
		}
	}
	return nil
}

func (d *Daemon) committed(c *Claim) bool {
	in, err := d.a.Catalog().GetIngest(context.Background(), c.ID)
	return err == nil && in.State == ingest.StateCommitted
}

// unclaim repairs a claim that did not happen: the case is still in its
// inbox; its ready marker, removed just before the rename, is put back.
func (d *Daemon) unclaim(c *Claim) {
	in := d.inbox(c.Inbox)
	if in == nil {
		return
	}
	if _, err := os.Lstat(filepath.Join(in.Path, c.Name)); err != nil {
		return
	}
	if in.Ready == "marker" {
		atomicfile.WriteFile(filepath.Join(in.Path, c.Name+MarkerSuffix), nil, 0o640)
	}
	d.log.Info().Str("inbox", c.Inbox).Str("case", c.Name).Msg("a claim interrupted before the case left its inbox; the case is claimed again")
}

// process archives one claimed case and acts on the outcome. It returns
// an error only when the daemon cannot go on.
func (d *Daemon) process(ctx context.Context, c *Claim) error {
	log := d.log.With().Str("aip", c.ID).Str("inbox", c.Inbox).Str("case", c.Name).Logger()
	in := d.inbox(c.Inbox)
	if in != nil && in.Kind == "xdomea" {
		return d.processTransfer(ctx, c, in, log) // several AIPs: its own state says what is done
	}
	if d.committed(c) {
		return d.finish(ctx, c) // archived before a crash; only the source step was left
	}
	opts := archive.IngestOptions{ID: c.id, Origin: c.Origin(), Override: c.Override}
	if in != nil {
		opts.Defaults = &aip.Metadata{Agency: in.Defaults.Agency, RecordClass: in.Defaults.RecordClass}
		opts.Policy = &in.Policy
		opts.Kind = in.Kind
	}
	root := c.CaseDir()
	if c.Zip {
		err := d.unzip(c)
		var ie *ingest.InputError
		switch {
		case errors.As(err, &ie):
			return d.quarantine(ctx, c, err)
		case err != nil:
			wait := d.backoff(c)
			log.Error().Err(err).Dur("retry_in", wait.Round(time.Second)).Msg("zip not unpacked; it stays claimed and is tried again")
			return nil
		}
		root, opts.Kind = caseKind(c.CaseDir())
	}
	// Long cases say how far they are, once every progressLog: steady,
	// never a flood.
	var lastLog time.Time
	var size int64
	opts.Progress = func(p ingest.Progress) {
		size = p.TotalBytes
		if time.Since(lastLog) < progressLog || p.TotalBytes == 0 {
			return
		}
		lastLog = time.Now()
		if time.Since(p.Started) < progressLog {
			return // not long, not worth a line
		}
		log.Info().Str("phase", p.Phase).Int("files", p.Files).Int("of_files", p.TotalFiles).
			Int64("bytes", p.Bytes).Int64("of_bytes", p.TotalBytes).Msgf("%s: %d%%", p.Phase, p.Bytes*100/p.TotalBytes)
	}
	opts.Stage = func(stage string, took time.Duration) {
		d.Metrics.stages.WithLabelValues(stage).Observe(took.Seconds())
	}
	d.crash("ingest")
	start := time.Now()
	_, err := d.a.Ingest(ctx, root, opts)
	var ie *ingest.InputError
	var pe *aip.PathError
	var inc *ingest.IncompleteError
	switch {
	case err == nil:
		log.Info().Dur("took", time.Since(start)).Msg("case archived")
		d.Metrics.ingests.WithLabelValues("archived").Inc()
		d.Metrics.bytes.WithLabelValues("archived").Add(float64(size))
		d.Metrics.duration.Observe(time.Since(start).Seconds())
		d.mu.Lock()
		d.last, d.lastAt = c.Inbox+"/"+c.Name, time.Now()
		d.mu.Unlock()
		d.crash("committed")
		return d.finish(ctx, c)
	case ctx.Err() != nil:
		log.Info().Msg("stopped while archiving; resumes on the next start")
		return nil
	case errors.As(err, &ie), errors.As(err, &pe):
		d.Metrics.ingests.WithLabelValues("quarantined").Inc()
		d.Metrics.bytes.WithLabelValues("quarantined").Add(float64(size))
		return d.quarantine(ctx, c, err)
	case errors.As(err, &inc), errors.Is(err, storage.ErrUnavailable), errors.Is(err, syscall.ENOSPC):
		d.Metrics.ingests.WithLabelValues("retry").Inc()
		wait := d.backoff(c)
		log.Warn().Err(err).Dur("retry_in", wait.Round(time.Second)).Msg("case not archived yet (storage or space); it stays claimed and is tried again")
		return nil
	default:
		d.Metrics.ingests.WithLabelValues("retry").Inc()
		wait := d.backoff(c)
		log.Error().Err(err).Dur("retry_in", wait.Round(time.Second)).Msg("case not archived; it stays claimed and is tried again")
		return nil
	}
}

// finish deals with the source of an archived case as its inbox says:
// removed, or kept under done/<inbox>/ with a receipt naming the AIP.
func (d *Daemon) finish(ctx context.Context, c *Claim) error {
	d.forget(c)
	in := d.inbox(c.Inbox)
	if in != nil && in.After == "keep" {
		dir := filepath.Join(DoneDir(d.conf()), c.Inbox)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		dst := free(filepath.Join(dir, c.Name), c.id)
		receipt := fmt.Sprintf("Archived as / Archiviert als %s\ncase / Akte: %s (inbox %s)\nclaimed / übernommen: %s\narchived / archiviert: %s\n",
			c.ID, c.Name, c.Inbox, c.Claimed.Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339))
		if err := atomicfile.WriteFile(dst+".receipt.txt", []byte(receipt), 0o640); err != nil {
			return err
		}
		if err := os.Rename(c.Delivery(), dst); err != nil {
			return err
		}
		atomicfile.SyncDir(dir)
	}
	d.crash("source-handled")
	if err := os.RemoveAll(c.dir); err != nil {
		return err
	}
	return atomicfile.SyncDir(workDir(d.conf()))
}

// free returns p, or p with the AIP id's start appended if p is taken.
func free(p string, id aip.ID) string {
	if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Lstat(p + ".receipt.txt"); errors.Is(err, os.ErrNotExist) {
			return p
		}
	}
	return p + "-" + strings.TrimPrefix(id.String(), "urn:uuid:")[:13]
}

// quarantine moves a refused case to quarantine/<inbox>/<name>/ with
// reason.json and REASON.txt; it is never retried by itself.
func (d *Daemon) quarantine(ctx context.Context, c *Claim, cause error) error {
	d.forget(c)
	dir := c.Quarantine
	if dir == "" {
		parent := filepath.Join(QuarantineDir(d.conf()), c.Inbox)
		if err := os.MkdirAll(parent, 0o750); err != nil {
			return err
		}
		dir = free(filepath.Join(parent, c.Name), c.id)
		c.Quarantine = dir
		if err := c.save(); err != nil {
			return err
		}
	}
	r := Reason{Inbox: c.Inbox, Name: c.Name, RawName: rawName(c.Name), Quarantined: time.Now().UTC()}
	var ie *ingest.InputError
	if errors.As(cause, &ie) {
		r.Problems, r.PolicyOnly = ie.Problems, ie.Policy
	} else {
		r.Problems = []string{cause.Error()}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := atomicfile.WriteFile(filepath.Join(dir, "reason.json"), append(b, '\n'), 0o640); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, reasonFile), []byte(reasonText(r, filepath.Base(dir), d.conf().Path)), 0o640); err != nil {
		return err
	}
	d.crash("reason-written")
	if err := os.Rename(c.Delivery(), filepath.Join(dir, quarantinedName(c.Zip))); err != nil {
		return err
	}
	atomicfile.SyncDir(dir)
	_, err := d.a.Trail().Record(context.WithoutCancel(ctx), audit.Entry{Type: audit.TypeQuarantine, Outcome: audit.OutcomeSuccess,
		Detail: fmt.Sprintf("case %s from inbox %s refused and moved to %s: %s", c.Name, c.Inbox, dir, strings.Join(r.Problems, "; "))})
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	d.log.Warn().Str("inbox", c.Inbox).Str("case", c.Name).Str("quarantine", dir).Strs("problems", r.Problems).Msg("case refused and quarantined; see REASON.txt there")
	if err := os.RemoveAll(c.dir); err != nil {
		return err
	}
	return atomicfile.SyncDir(workDir(d.conf()))
}

// quarantinedName is what a refused delivery is called in its quarantine
// folder: case/ for a folder, delivery.zip for a zip.
func quarantinedName(zip bool) string {
	if zip {
		return "delivery.zip"
	}
	return "case"
}

// reasonFile holds a quarantined case's reasons for people.
const reasonFile = "REASON.txt"

// reasonText is REASON.txt: German first, for the Registratur, then English.
func reasonText(r Reason, folder, cfgPath string) string {
	if cfgPath == "" {
		cfgPath = "FILE"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Die Akte %q aus dem Eingang %q wurde nicht archiviert (%s).\n", r.Name, r.Inbox, r.Quarantined.Format("02.01.2006 15:04 MST"))
	fmt.Fprintf(&b, "The case %q from inbox %q was not archived (%s).\n\n", r.Name, r.Inbox, r.Quarantined.Format(time.RFC3339))
	b.WriteString("Gründe / Reasons:\n")
	for _, p := range r.Problems {
		b.WriteString("  - " + p + "\n")
	}
	b.WriteString("\nDie Akte liegt unverändert daneben (case/ oder delivery.zip). Nach einer Korrektur:\n")
	b.WriteString("The case lies unchanged beside this file (case/ or delivery.zip). After a fix:\n")
	fmt.Fprintf(&b, "  archivd quarantine retry --config %s %s/%s\n", cfgPath, r.Inbox, folder)
	if r.PolicyOnly {
		b.WriteString("\nNur die Formatrichtlinie hat abgelehnt; eine begründete Freigabe ist möglich:\n")
		b.WriteString("Only the format policy refused; an explicit, recorded override is possible:\n")
		fmt.Fprintf(&b, "  archivd quarantine retry --config %s --accept-formats \"WHO: WHY\" %s/%s\n", cfgPath, r.Inbox, folder)
	}
	return b.String()
}
