package archive

import (
	"archive/tar"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/report"
	"github.com/archivd/archivd/retention"
	"github.com/archivd/archivd/storage"
)

// Batch states.
const (
	BatchProposed  = "proposed"
	BatchApproved  = "approved"
	BatchOffered   = "offered"   // exported for the receiving archive, awaiting its confirmation
	BatchExecuting = "executing" // deleting; an interrupted execution resumes from here
	BatchExecuted  = "executed"
)

// Item states within a batch.
const (
	itemPending  = "pending"
	itemDeleting = "deleting"
	itemDeleted  = "deleted"
	itemKept     = "kept"
)

// Executed is the outcome of a disposal.
type Executed struct {
	Batch       catalog.Batch
	Destroyed   []string
	Kept        map[string]string // AIP -> why it was not destroyed
	Objects     int
	Certificate string
}

// Execute disposes of an approved batch: every stored version of every
// file of each AIP on every location is listed and recorded before the
// first is deleted, then deleted; the AIP leaves a tombstone in the
// catalog and a deletion event in the audit trail. An AIP under hold, no
// longer due, or with a version Object Lock still protects is kept, with
// nothing of it deleted. An interrupted execution resumes where it stopped:
// the record of what it removed is in the catalog. It ends with the signed
// deletion certificate. Offer batches are executed by OfferConfirm.
func (a *Archive) Execute(ctx context.Context, batch string, who Actor) (*Executed, error) {
	return a.execute(ctx, batch, who, false)
}

// execute loads the signing key before anything else: no deletion starts
// that could not be certified.
func (a *Archive) execute(ctx context.Context, batch string, who Actor, offerConfirmed bool) (*Executed, error) {
	key, err := a.SigningKey()
	if err != nil {
		return nil, fmt.Errorf("the deletion certificate must be signed, and nothing is deleted without it: %w", err)
	}
	b, items, err := a.cat.GetBatch(ctx, batch)
	if err != nil {
		return nil, err
	}
	switch {
	case b.State == BatchExecuted:
		return nil, fmt.Errorf("dispose execute: batch %s was executed at %s (certificate %s)", batch, b.ExecutedAt, b.Certificate)
	case b.Action == retention.Offer && !offerConfirmed && b.State != BatchExecuting:
		return nil, fmt.Errorf("dispose execute: batch %s offers its AIPs to the archive: export it (archivd offer export), and once the archive confirms the transfer, archivd offer confirm %s disposes of them", batch, batch)
	case b.State != BatchApproved && b.State != BatchExecuting && !(offerConfirmed && b.State == BatchOffered):
		return nil, fmt.Errorf("dispose execute: batch %s is %s; it must be approved first (by another account: archivd dispose approve %s)", batch, b.State, batch)
	}
	if b.State != BatchExecuting {
		b.State = BatchExecuting
		if err := a.cat.UpdateBatch(ctx, b); err != nil {
			return nil, err
		}
	}
	out := &Executed{Batch: b, Kept: map[string]string{}}
	now := time.Now().UTC()
	for _, it := range items {
		switch it.State {
		case itemDeleted:
			out.Destroyed = append(out.Destroyed, it.AIP)
			continue
		case itemKept:
			out.Kept[it.AIP] = it.Detail
			continue
		}
		why, err := a.disposeAIP(ctx, b, it, who, now)
		if err != nil {
			return out, fmt.Errorf("dispose execute %s: %s: %w (run it again to resume)", batch, it.AIP, err)
		}
		if why != "" {
			out.Kept[it.AIP] = why
			if err := a.cat.SetItem(ctx, batch, it.AIP, itemKept, why); err != nil {
				return out, err
			}
			if _, err := a.trail.Record(ctx, audit.Entry{Type: audit.TypeDeletion, AIP: it.AIP, Outcome: audit.OutcomeFailure,
				Detail: fmt.Sprintf("disposal batch %s: not destroyed, nothing of it deleted: %s", batch, why)}); err != nil {
				return out, fmt.Errorf("audit: %w", err)
			}
			continue
		}
		out.Destroyed = append(out.Destroyed, it.AIP)
	}
	cert, err := a.certificate(ctx, b, out, who)
	if err != nil {
		return out, err
	}
	out.Objects = len(cert.Objects)
	p, err := report.WriteCertificate(a.conf().Fixity.Reports, key, cert)
	if err != nil {
		return out, fmt.Errorf("deletion certificate: %w", err)
	}
	b.State, b.ExecutedAt, b.Certificate = BatchExecuted, cert.ExecutedAt, p
	if err := a.cat.UpdateBatch(ctx, b); err != nil {
		return out, err
	}
	out.Batch, out.Certificate = b, p
	_, err = a.trail.Record(ctx, audit.Entry{Type: audit.TypeDeletion, Outcome: audit.OutcomeSuccess,
		Detail: fmt.Sprintf("disposal batch %s executed by %s: %d AIPs destroyed, %d kept, %d object versions removed; certificate %s (SHA-256 of the signed JSON in the certificate's folder)",
			batch, who, len(out.Destroyed), len(out.Kept), out.Objects, p)})
	if err != nil {
		return out, fmt.Errorf("audit: %w", err)
	}
	return out, nil
}

// disposeAIP removes every stored version of one AIP, or returns why it
// must stay (nothing of it deleted then).
func (a *Archive) disposeAIP(ctx context.Context, b catalog.Batch, it catalog.BatchItem, who Actor, now time.Time) (string, error) {
	if it.State == itemPending {
		if hs, err := a.cat.OpenHolds(ctx, it.AIP); err != nil {
			return "", err
		} else if len(hs) > 0 {
			return fmt.Sprintf("under legal hold since %s by %s: %s", hs[0].SetAt, hs[0].SetBy, hs[0].Reason), nil
		}
		r, err := a.cat.GetRetention(ctx, it.AIP)
		if err != nil {
			return "", err
		}
		if due, _ := time.Parse(time.RFC3339, r.Due); r.Due == "" || due.After(now) {
			return fmt.Sprintf("no longer due: class %s keeps it until %s (recomputed since the proposal)", r.Class, orNever(r.Ends)), nil
		}
	}
	rec, err := a.cat.GetAIP(ctx, it.AIP)
	if errors.Is(err, catalog.ErrNotFound) {
		// Buried before an interruption: only the item's state was not saved.
		return "", a.cat.SetItem(ctx, b.ID, it.AIP, itemDeleted, "")
	} else if err != nil {
		return "", err
	}
	copies, err := a.cat.Copies(ctx, it.AIP, 1)
	if err != nil {
		return "", err
	}
	if it.State == itemPending {
		// Every stored version, at every location with a copy, recorded
		// before anything is deleted; then the locks, before anything is.
		var plan []catalog.DisposalObject
		for _, cp := range copies {
			st := a.Store(cp.Location)
			if st == nil {
				return fmt.Sprintf("a copy is recorded at location %s, which is no longer configured: it cannot be deleted from here", cp.Location), nil
			}
			vs, err := st.Versions(ctx, it.AIP)
			if err != nil {
				return "", fmt.Errorf("list the stored versions at %s: %w", st.Name(), err)
			}
			for _, v := range vs {
				if why := st.Locked(ctx, it.AIP, v); why != "" {
					return fmt.Sprintf("Object Lock at %s still protects %s (%s): the location refuses the deletion until then", st.Name(), v.Path, why), nil
				}
				plan = append(plan, catalog.DisposalObject{Batch: b.ID, AIP: it.AIP, Location: st.Name(), Path: v.Path, VersionID: v.VersionID, Size: v.Size})
			}
		}
		if err := a.cat.PlanObjects(ctx, plan); err != nil {
			return "", err
		}
		if err := a.cat.SetItem(ctx, b.ID, it.AIP, itemDeleting, ""); err != nil {
			return "", err
		}
	}
	objs, err := a.cat.DisposalObjects(ctx, b.ID, it.AIP)
	if err != nil {
		return "", err
	}
	// The root inventory first (the object stops being one at once), the
	// object declaration last.
	rank := func(p string) int {
		switch {
		case strings.HasPrefix(p, ocfl.InventoryFile):
			return 0
		case p == ocfl.ObjectDeclaration:
			return 2
		}
		return 1
	}
	sort.SliceStable(objs, func(i, j int) bool { return rank(objs[i].Path) < rank(objs[j].Path) })
	for _, o := range objs {
		if o.State == itemDeleted {
			continue
		}
		st := a.Store(o.Location)
		if st == nil {
			return "", fmt.Errorf("location %s is no longer configured", o.Location)
		}
		err := st.DeleteVersion(ctx, it.AIP, storage.StoredVersion{Path: o.Path, VersionID: o.VersionID})
		if errors.Is(err, storage.ErrLocked) {
			return "", fmt.Errorf("%s at %s: %w: deleted in part; the record says what is gone", o.Path, o.Location, err)
		} else if err != nil {
			return "", err
		}
		if err := a.cat.ObjectDeleted(ctx, o, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return "", err
		}
		a.crash("dispose-object-deleted")
	}
	ret, _ := a.cat.GetRetention(ctx, it.AIP)
	pkg, _ := a.cat.GetPackage(ctx, it.AIP, rec.Head)
	t := catalog.Tombstone{AIP: it.AIP, Reference: rec.Reference, Title: rec.Title, Agency: rec.Agency, RecordClass: rec.RecordClass,
		Opened: rec.Opened, Closed: rec.Closed, Created: rec.Created, Class: ret.Class, Ends: ret.Ends, PackageSHA512: pkg.SHA512,
		Batch: b.ID, ProposedBy: b.ProposedBy, ApprovedBy: b.ApprovedBy, ExecutedAt: time.Now().UTC().Format(time.RFC3339)}
	// The deletion event carries the tombstone: a catalog rebuild finds the
	// AIP gone from storage, and the trail says why.
	if _, err := a.trail.Record(ctx, audit.Entry{Type: audit.TypeDeletion, AIP: it.AIP, Outcome: audit.OutcomeSuccess,
		Detail: fmt.Sprintf("destroyed by disposal batch %s (proposed by %s, approved by %s, executed by %s): %s %q, record class %s, %s – %s, retention class %s ended %s, package sha512 %s; %d stored object versions removed",
			b.ID, b.ProposedBy, b.ApprovedBy, who, rec.Reference, rec.Title, rec.RecordClass, rec.Opened, rec.Closed, ret.Class, ret.Ends, pkg.SHA512, len(objs))}); err != nil {
		return "", fmt.Errorf("audit: %w", err)
	}
	if err := a.cat.Bury(ctx, t); err != nil {
		return "", err
	}
	return "", a.cat.SetItem(ctx, b.ID, it.AIP, itemDeleted, "")
}

// certificate gathers what the deletion certificate says.
func (a *Archive) certificate(ctx context.Context, b catalog.Batch, ex *Executed, who Actor) (*report.Certificate, error) {
	cfg := a.conf()
	c := &report.Certificate{Archive: report.Archive{Organization: cfg.Archive.Organization, Contact: cfg.Archive.Contact},
		Batch: b.ID, Action: b.Action, Reason: b.Reason, ProposedBy: b.ProposedBy, ProposedAt: b.ProposedAt,
		ApprovedBy: b.ApprovedBy, ApprovedAt: b.ApprovedAt, ExecutedBy: who.String(), ExecutedAt: time.Now().UTC().Format(time.RFC3339),
		Generator: a.Agent()}
	ts, err := a.cat.Tombstones(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.Batch != b.ID {
			continue
		}
		c.AIPs = append(c.AIPs, report.CertAIP{AIP: t.AIP, Reference: t.Reference, Title: t.Title, Agency: t.Agency, RecordClass: t.RecordClass,
			Opened: t.Opened, Closed: t.Closed, Ingested: t.Created, Class: t.Class, Ends: t.Ends, PackageSHA512: t.PackageSHA512})
	}
	for aipID, why := range ex.Kept {
		c.Kept = append(c.Kept, report.CertKept{AIP: aipID, Reason: why})
	}
	sort.Slice(c.Kept, func(i, j int) bool { return c.Kept[i].AIP < c.Kept[j].AIP })
	objs, err := a.cat.DisposalObjects(ctx, b.ID, "")
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.State == itemDeleted {
			c.Objects = append(c.Objects, report.CertObject{AIP: o.AIP, Location: o.Location, Path: o.Path, VersionID: o.VersionID, Size: o.Size, DeletedAt: o.DeletedAt})
		}
	}
	return c, nil
}

// OfferExport writes an approved offer batch as a transfer for the
// receiving archive: each AIP's newest package unpacked as the BagIt bag
// it is (with its METS and PREMIS; every file checked against the catalog
// while written), and offer-<batch>.csv listing them. The AIPs stay until
// OfferConfirm.
func (a *Archive) OfferExport(ctx context.Context, batch, dir string, who Actor) ([]string, error) {
	b, items, err := a.cat.GetBatch(ctx, batch)
	if err != nil {
		return nil, err
	}
	if b.Action != retention.Offer {
		return nil, fmt.Errorf("offer export: batch %s destroys its AIPs; only offer batches are exported", batch)
	}
	if b.State != BatchApproved && b.State != BatchOffered {
		return nil, fmt.Errorf("offer export: batch %s is %s; it must be approved first (by another account)", batch, b.State)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, "offer-"+batch+".csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	w.Write([]string{"aip", "reference", "title", "agency", "record_class", "opened", "closed", "retention_class", "retention_ended", "bag", "package_sha512"})
	var bags []string
	for _, it := range items {
		rec, err := a.cat.GetAIP(ctx, it.AIP)
		if err != nil {
			return bags, err
		}
		id, _ := aip.ParseID(it.AIP)
		bag, err := a.exportBag(ctx, id, rec.Head, dir)
		if err != nil {
			return bags, fmt.Errorf("offer export %s: %w", it.AIP, err)
		}
		ret, _ := a.cat.GetRetention(ctx, it.AIP)
		pkg, _ := a.cat.GetPackage(ctx, it.AIP, rec.Head)
		w.Write([]string{it.AIP, rec.Reference, rec.Title, rec.Agency, rec.RecordClass, rec.Opened, rec.Closed, ret.Class, ret.Ends, bag, pkg.SHA512})
		bags = append(bags, bag)
		if _, err := a.trail.Record(ctx, audit.Entry{Type: audit.TypeOffered, AIP: it.AIP, Outcome: audit.OutcomeSuccess,
			Detail: fmt.Sprintf("disposal batch %s: exported by %s as BagIt bag %s for the receiving archive", batch, who, filepath.Join(dir, bag))}); err != nil {
			return bags, fmt.Errorf("audit: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return bags, err
	}
	if err := f.Close(); err != nil {
		return bags, err
	}
	b.State = BatchOffered
	return bags, a.cat.UpdateBatch(ctx, b)
}

// exportBag unpacks version v's package into dir/<package root>/, every
// file checked against the catalog's digests.
func (a *Archive) exportBag(ctx context.Context, id aip.ID, v int, dir string) (string, error) {
	files, err := a.cat.Files(ctx, id.String(), v)
	if err != nil {
		return "", err
	}
	want := map[string]string{}
	for _, f := range files {
		want[f.Path] = f.SHA512
	}
	copies, err := a.cat.Copies(ctx, id.String(), v)
	if err != nil {
		return "", err
	}
	root := id.PackageRoot(v)
	var last error
	for _, cp := range copies {
		st := a.Store(cp.Location)
		if st == nil {
			continue
		}
		os.RemoveAll(filepath.Join(dir, root))
		if last = a.unpack(ctx, st, id, v, filepath.Join(dir, root), want); last == nil {
			return root, nil
		}
	}
	if last == nil {
		last = errors.New("no copy at a configured location")
	}
	os.RemoveAll(filepath.Join(dir, root))
	return "", last
}

func (a *Archive) unpack(ctx context.Context, st storage.Store, id aip.ID, v int, to string, want map[string]string) error {
	rc, err := st.Open(ctx, id.String(), fmt.Sprintf("v%d/content/%s", v, id.PackageFile(v)))
	if err != nil {
		return err
	}
	defer rc.Close()
	prefix := id.PackageRoot(v) + "/"
	_, _, err = aip.Walk(ctx, rc, func(h *tar.Header, body io.Reader) error {
		rel, ok := strings.CutPrefix(h.Name, prefix)
		if !ok || rel == "" || h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeDir {
			return nil
		}
		if storage.CheckPath(strings.TrimSuffix(rel, "/")) != nil {
			return fmt.Errorf("package entry %q", h.Name)
		}
		p := filepath.Join(to, filepath.FromSlash(rel))
		if h.Typeflag == tar.TypeDir {
			return os.MkdirAll(p, 0o755)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		h512 := digest.NewHasher()
		_, err = io.Copy(io.MultiWriter(f, h512), body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if d, ok := want[rel]; ok && d != h512.Sum().SHA512.String() {
			return fmt.Errorf("%s: SHA-512 differs from the catalog: %w", rel, storage.ErrDigest)
		}
		return os.Chtimes(p, h.ModTime, h.ModTime)
	})
	return err
}

// OfferConfirm records that the receiving archive confirmed the transfer
// of an exported offer batch and disposes of its AIPs like an approved
// batch (certificate included).
func (a *Archive) OfferConfirm(ctx context.Context, batch string, who Actor) (*Executed, error) {
	b, _, err := a.cat.GetBatch(ctx, batch)
	if err != nil {
		return nil, err
	}
	if b.Action != retention.Offer || (b.State != BatchOffered && b.State != BatchExecuting) {
		return nil, fmt.Errorf("offer confirm: batch %s is a %s batch in state %s; only an exported offer batch (archivd offer export) is confirmed", batch, b.Action, b.State)
	}
	return a.execute(ctx, batch, who, true)
}

// crash is fault injection for the crash tests: ARCHIVD_CRASH_AT=step:n
// kills the process the n-th time it reaches step (n defaults to 1).
func (a *Archive) crash(step string) {
	at := os.Getenv("ARCHIVD_CRASH_AT")
	if at == "" {
		return
	}
	name, n, _ := strings.Cut(at, ":")
	if name != step {
		return
	}
	a.crashes++
	want := 1
	fmt.Sscanf(n, "%d", &want)
	if a.crashes == want {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
}
