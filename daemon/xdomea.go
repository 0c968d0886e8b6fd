package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/atomicfile"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/ingest"
	"github.com/archivd/archivd/xdomea"
)

// transfer is the state of a claimed xdomea transfer, in transfer.json
// beside the claim: written after every step, so a crash resumes where it
// stopped and no answer is sent twice.
type transfer struct {
	ProzessID string         `json:"prozess_id"`
	Message   string         `json:"message"` // the message's entry in the zip
	Receipt   bool           `json:"receipt_sent"`
	Answered  bool           `json:"import_confirmation_sent"`
	Units     []transferUnit `json:"units"`
}

type transferUnit struct {
	ID     string   `json:"id"` // the record's xdomea ID
	AIP    string   `json:"aip"`
	Files  []string `json:"files"`
	Status string   `json:"status"` // pending, archived, failed
	Reason string   `json:"reason,omitempty"`
}

func (c *Claim) transferFile() string { return filepath.Join(c.dir, "transfer.json") }

// processTransfer takes in an xdomea 0503 transfer: it is read and
// checked as a whole (a transfer that cannot be read is quarantined and
// not answered), the 0507 receipt goes to the outbox, each record becomes
// an AIP, and the 0506 import confirmation follows only once every
// required copy of every AIP of the transfer exists and was verified.
func (d *Daemon) processTransfer(ctx context.Context, c *Claim, in *config.Inbox, log zerolog.Logger) error {
	var t transfer
	if b, err := os.ReadFile(c.transferFile()); err == nil {
		if err := json.Unmarshal(b, &t); err != nil {
			return fmt.Errorf("%s: %w", c.transferFile(), err)
		}
	}
	// Checked in full once; later passes (waiting for copies, a retry)
	// read only the message again.
	var ins *xdomea.Inspection
	var err error
	if t.ProzessID != "" {
		ins, err = xdomea.Reopen(c.ZipPath(), t.Message)
	} else {
		ins, err = xdomea.InspectAs(ctx, c.ZipPath(), c.Name, in.Schemas, d.zipLimit())
	}
	if err != nil {
		wait := d.backoff(c)
		log.Error().Err(err).Dur("retry_in", wait.Round(time.Second)).Msg("transfer not read; it stays claimed and is tried again")
		return nil
	}
	if ins.Message == nil || len(ins.Problems) > 0 {
		// The transfer as a whole cannot be read: no answer can name its records.
		return d.quarantine(ctx, c, &ingest.InputError{Folder: c.Name, Problems: summaryLines(ins)})
	}
	m := ins.Message
	if t.ProzessID == "" {
		t = transfer{ProzessID: m.ProzessID, Message: ins.MessageFile}
		bad := map[string]string{}
		for _, f := range ins.Missing {
			bad[f.Document] = fmt.Sprintf("Primärdokument %s fehlt in der Übergabe / missing from the transfer", f.Name)
		}
		for _, x := range ins.Mismatches {
			bad[x.File.Document] = fmt.Sprintf("Primärdokument %s: %s weicht ab / digest differs (%s expected %s, found %s)", x.File.Name, x.Algorithm, x.Algorithm, x.File.Hash, x.Found)
		}
		for i, u := range ins.Units {
			tu := transferUnit{ID: u.ID, Status: "pending"}
			for _, f := range u.Files() {
				tu.Files = append(tu.Files, f.Name)
				if why, ok := bad[f.Document]; ok && tu.Status == "pending" {
					tu.Status, tu.Reason = "failed", why
				}
			}
			if len(ins.Extra) > 0 {
				tu.Status, tu.Reason = "failed", "die Übergabe enthält Dateien, die die Nachricht nicht nennt / the transfer holds files the message does not name: "+strings.Join(ins.Extra, ", ")
			}
			if i == 0 {
				tu.AIP = c.ID // the claim's id: a retry writes the same object
			} else {
				id, err := aip.NewID()
				if err != nil {
					return err
				}
				tu.AIP = id.String()
			}
			// Delivered before: a record already archived from this
			// process is not archived twice.
			for _, origin := range []string{unitOrigin(c.Inbox, m, u), legacyUnitOrigin(m, u)} {
				if prev, err := d.a.Catalog().CommittedIngests(ctx, origin); err == nil && len(prev) > 0 {
					tu.Status, tu.AIP, tu.Reason = "archived", prev[0], "already archived from an earlier delivery of this transfer"
					break
				}
			}
			t.Units = append(t.Units, tu)
		}
		again := len(t.Units) > 0
		for _, u := range t.Units {
			again = again && u.Status == "archived"
		}
		if again {
			var aips []string
			for _, u := range t.Units {
				aips = append(aips, fmt.Sprintf("record %s as %s", u.ID, u.AIP))
			}
			return d.quarantine(ctx, c, &ingest.InputError{Folder: c.Name, Problems: []string{
				fmt.Sprintf("transfer %s was delivered before and is archived (%s); this delivery is not archived again and not answered", m.ProzessID, strings.Join(aips, ", "))}})
		}
		if err := d.saveTransfer(c, &t); err != nil {
			return err
		}
	}
	if !t.Receipt {
		if err := d.answer(ctx, in, m, xdomea.TypeReceipt, nil); err != nil {
			log.Warn().Err(err).Msg("no 0507 receipt sent")
		}
		t.Receipt = true
		if err := d.saveTransfer(c, &t); err != nil {
			return err
		}
	}
	for i := range t.Units {
		u := &t.Units[i]
		if u.Status != "pending" {
			continue
		}
		if err := d.archiveUnit(ctx, c, in, ins, u, log); err != nil {
			var ie *ingest.InputError
			var pe *aip.PathError
			if errors.As(err, &ie) || errors.As(err, &pe) {
				u.Status, u.Reason = "failed", err.Error()
			} else {
				wait := d.backoff(c)
				log.Warn().Err(err).Str("record", u.ID).Dur("retry_in", wait.Round(time.Second)).Msg("record not archived yet; the transfer stays claimed")
				return d.saveTransfer(c, &t)
			}
		} else {
			u.Status = "archived"
		}
		if err := d.saveTransfer(c, &t); err != nil {
			return err
		}
	}
	// The 0506 lets the sender delete its copy: only once every required
	// copy of every AIP exists (each was verified when it was made).
	for _, u := range t.Units {
		if u.Status != "archived" {
			continue
		}
		if missing := d.missingCopies(ctx, u.AIP); len(missing) > 0 {
			d.recheck(c)
			log.Info().Str("record", u.ID).Str("aip", u.AIP).Strs("missing", missing).Msg("transfer archived; the 0506 waits for the copies still missing (archivd replicate)")
			return nil
		}
	}
	if !t.Answered {
		var outcomes []xdomea.Outcome
		for _, u := range t.Units {
			outcomes = append(outcomes, xdomea.Outcome{ID: u.ID, Imported: u.Status == "archived", Reason: u.Reason})
		}
		if err := d.answer(ctx, in, m, xdomea.TypeImport, outcomes); err != nil {
			log.Warn().Err(err).Msg("no 0506 import confirmation sent")
		}
		t.Answered = true
		if err := d.saveTransfer(c, &t); err != nil {
			return err
		}
	}
	var failed []string
	for _, u := range t.Units {
		if u.Status == "failed" {
			failed = append(failed, fmt.Sprintf("record %s: %s", u.ID, u.Reason))
		}
	}
	if len(failed) > 0 {
		return d.quarantine(ctx, c, &ingest.InputError{Folder: c.Name, Problems: failed})
	}
	return d.finish(ctx, c)
}

func summaryLines(in *xdomea.Inspection) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(xdomea.Summary(in)), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		out = []string{"the transfer could not be read"}
	}
	return out
}

func (d *Daemon) saveTransfer(c *Claim, t *transfer) error {
	b, _ := json.MarshalIndent(t, "", "  ")
	return atomicfile.WriteFile(c.transferFile(), append(b, '\n'), 0o640)
}

// archiveUnit builds the record's case folder (its primary documents under
// their file names, the message whole, case.yaml from the message's
// metadata) and archives it under the unit's AIP id.
func (d *Daemon) archiveUnit(ctx context.Context, c *Claim, in *config.Inbox, ins *xdomea.Inspection, u *transferUnit, log zerolog.Logger) error {
	var rec *xdomea.Record
	for _, r := range ins.Units {
		if r.ID == u.ID {
			rec = r
		}
	}
	if rec == nil {
		return &ingest.InputError{Folder: c.Name, Problems: []string{"record " + u.ID + " is no longer in the message"}}
	}
	// Built once, then renamed into place: a retry (a location was down)
	// ingests the very same folder, so the ingest resumes instead of
	// packing a different AIP under the same id.
	dir := filepath.Join(c.dir, "records", u.ID)
	if _, err := os.Stat(dir); err != nil {
		if err := d.buildUnit(c, ins, rec, u, dir); err != nil {
			return err
		}
	}
	id, err := aip.ParseID(u.AIP)
	if err != nil {
		return err
	}
	opts := archive.IngestOptions{ID: id, Origin: unitOrigin(in.Name, ins.Message, rec),
		Defaults: &aip.Metadata{Agency: in.Defaults.Agency, RecordClass: in.Defaults.RecordClass}, Policy: &in.Policy}
	if _, err := d.a.Ingest(ctx, dir, opts); err != nil {
		return err
	}
	log.Info().Str("record", u.ID).Str("aip", u.AIP).Msg("xdomea record archived")
	return nil
}

// buildUnit writes a record's case folder at dir, through dir.partial.
func (d *Daemon) buildUnit(c *Claim, ins *xdomea.Inspection, rec *xdomea.Record, u *transferUnit, dir string) error {
	tmp := dir + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := xdomea.Extract(c.ZipPath(), u.Files, tmp); err != nil {
		return err
	}
	if err := xdomea.Extract(c.ZipPath(), []string{ins.MessageFile}, filepath.Join(tmp, "xdomea")); err != nil {
		return err
	}
	// Its own part of the message beside the whole.
	if part := ins.Message.Part(rec); part != nil {
		if err := atomicfile.WriteFile(filepath.Join(tmp, "xdomea", rec.Kind+"-"+rec.ID+".xml"), part, 0o640); err != nil {
			return err
		}
	}
	y, err := ingest.SidecarYAML(ins.Message.CaseMetadata(rec))
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(tmp, ingest.SidecarName), y, 0o640); err != nil {
		return err
	}
	if err := atomicfile.SyncTree(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// unitOrigin names a record's delivery for once-only: the inbox (which
// retention classes match on), the process and the record.
func unitOrigin(inbox string, m *xdomea.Message, r *xdomea.Record) string {
	return "inbox " + inbox + "/xdomea " + m.ProzessID + "/" + r.ID
}

// legacyUnitOrigin is how archivd named a record's delivery before the
// inbox was part of it: records archived then are still found.
func legacyUnitOrigin(m *xdomea.Message, r *xdomea.Record) string {
	return "xdomea " + m.ProzessID + "/" + r.ID
}

// missingCopies names the required locations without a copy of the AIP.
func (d *Daemon) missingCopies(ctx context.Context, id string) []string {
	cps, err := d.a.Catalog().Copies(ctx, id, 1)
	if err != nil {
		return []string{"catalog: " + err.Error()}
	}
	var missing []string
	for _, req := range d.conf().Copies.Required {
		if !slices.ContainsFunc(cps, func(c catalog.Copy) bool { return c.Location == req }) {
			missing = append(missing, req)
		}
	}
	return missing
}

// answer writes an answer to the inbox's outbox, and records it.
func (d *Daemon) answer(ctx context.Context, in *config.Inbox, m *xdomea.Message, typ string, outcomes []xdomea.Outcome) error {
	org := d.conf().Archive.Organization
	var b []byte
	var err error
	if typ == xdomea.TypeReceipt {
		b, err = xdomea.Receipt(m, org, time.Now())
	} else {
		b, err = xdomea.ImportConfirmation(m, org, time.Now(), outcomes)
	}
	if err != nil {
		// Not sent, and the audit trail says so: the DMS administrator and
		// the auditor see why the sender got no answer.
		if _, aerr := d.a.Trail().Record(context.WithoutCancel(ctx), audit.Entry{Type: audit.TypeXdomeaAnswer, Outcome: audit.OutcomeFailure,
			Detail: fmt.Sprintf("xdomea %s for transfer %s not sent: %v", typ, m.ProzessID, err)}); aerr != nil {
			return fmt.Errorf("%w (and the audit trail: %v)", err, aerr)
		}
		return err
	}
	if err := os.MkdirAll(in.Outbox, 0o750); err != nil {
		return err
	}
	p := filepath.Join(in.Outbox, xdomea.AnswerName(m, typ))
	if err := atomicfile.WriteFile(p, b, 0o640); err != nil {
		return err
	}
	_, err = d.a.Trail().Record(context.WithoutCancel(ctx), audit.Entry{Type: audit.TypeXdomeaAnswer, Outcome: audit.OutcomeSuccess,
		Detail: fmt.Sprintf("xdomea %s for transfer %s written to %s", typ, m.ProzessID, p)})
	return err
}

// recheck looks at the claim again after one poll interval, without
// counting an attempt.
func (d *Daemon) recheck(c *Claim) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.retryAt[c.dir] = time.Now().Add(d.conf().Daemon.PollD)
}
