package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os/user"
	"sort"
	"strings"
	"time"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/catalog/rows"
	"github.com/archivd/archivd/retention"
	"github.com/archivd/archivd/storage"
)

// Actor is who runs a command: the operating-system account (what the
// four-eyes rule compares) and an optional display name (recorded only).
type Actor struct {
	Account, UID, Name string
}

// CurrentActor is the account running this process, with display name.
func CurrentActor(name string) (Actor, error) {
	u, err := user.Current()
	if err != nil {
		return Actor{}, fmt.Errorf("who runs this command: %w", err)
	}
	return Actor{Account: u.Username, UID: u.Uid, Name: strings.TrimSpace(name)}, nil
}

// String is how an actor is recorded: "meier (uid 1001)" or
// "meier (uid 1001, Registratur Meier)".
func (a Actor) String() string {
	s := a.Account + " (uid " + a.UID
	if a.Name != "" {
		s += ", " + a.Name
	}
	return s + ")"
}

// account is the part of a recorded actor that identifies it.
func account(recorded string) string {
	name, rest, _ := strings.Cut(recorded, " (uid ")
	uid, _, _ := strings.Cut(rest, ",")
	return name + " " + strings.TrimSuffix(uid, ")")
}

// ClassCount is one configured retention class and the AIPs it holds.
type ClassCount struct {
	retention.Class
	AIPs int
}

// RetentionClasses lists the configured classes with their AIP counts,
// and the count of AIPs under no class (or a class no longer configured).
func (a *Archive) RetentionClasses(ctx context.Context) ([]ClassCount, map[string]int, error) {
	rs, err := a.cat.Retentions(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	n := map[string]int{}
	for _, r := range rs {
		n[r.Class]++
	}
	var out []ClassCount
	other := map[string]int{}
	known := map[string]bool{}
	for _, c := range a.conf().Retention.Classes {
		out = append(out, ClassCount{c, n[c.Name]})
		known[c.Name] = true
	}
	for c, k := range n {
		if !known[c] {
			other[c] = k
		}
	}
	none, err := a.cat.AIPsWithoutRetention(ctx)
	if err != nil {
		return nil, nil, err
	}
	other[""] = len(none)
	return out, other, nil
}

// DueAIP is an AIP whose retention has ended, with what stands in the way.
type DueAIP struct {
	catalog.Retention
	AIP   catalog.AIP
	Holds []catalog.Hold
	Batch string // an unfinished disposal batch that holds it
}

// RetentionDue lists the AIPs whose retention ended before t.
func (a *Archive) RetentionDue(ctx context.Context, t time.Time) ([]DueAIP, error) {
	rs, err := a.cat.DueBefore(ctx, t.UTC().Format(time.RFC3339))
	if err != nil {
		return nil, err
	}
	var out []DueAIP
	for _, r := range rs {
		d := DueAIP{Retention: r}
		if d.AIP, err = a.cat.GetAIP(ctx, r.AIP); err != nil {
			return nil, err
		}
		if d.Holds, err = a.cat.OpenHolds(ctx, r.AIP); err != nil {
			return nil, err
		}
		if d.Batch, err = a.cat.PendingBatchOf(ctx, r.AIP); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Change is one AIP whose retention a recompute changed.
type Change struct {
	AIP      string
	Old, New catalog.Retention
	Note     string // what happened at the locations
}

// RecomputeRetention decides every AIP's retention again from the
// configured classes (only those now or before in class, if set), records
// each change in the catalog and the audit trail, and extends Object Lock
// where the new end lies later. Object Lock is never shortened: a copy
// keeps a longer retention it already has (said in the change's note).
func (a *Archive) RecomputeRetention(ctx context.Context, class string, who Actor) ([]Change, error) {
	ids, err := a.cat.AIPs(ctx)
	if err != nil {
		return nil, err
	}
	cfg := a.conf()
	var out []Change
	for _, id := range ids {
		rec, err := a.cat.GetAIP(ctx, id)
		if err != nil {
			return out, err
		}
		old, err := a.cat.GetRetention(ctx, id)
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return out, err
		}
		meta := aip.Metadata{Title: rec.Title, Reference: rec.Reference, Agency: rec.Agency, RecordClass: rec.RecordClass, Opened: rec.Opened, Closed: rec.Closed, Extra: rec.Extra}
		inbox := ""
		if in, err := a.cat.GetIngest(ctx, id); err == nil {
			if rest, ok := strings.CutPrefix(in.Origin, "inbox "); ok {
				inbox, _, _ = strings.Cut(rest, "/")
			}
		}
		created, _ := time.Parse(time.RFC3339, rec.Created)
		d := retention.Decide(cfg.Retention.Classes, meta, inbox, created, cfg.Zone)
		var nw catalog.Retention
		if d != nil {
			nw = rows.RetentionRow(id, d.Record(), cfg.Zone, time.Now().UTC().Format(time.RFC3339))
		}
		if class != "" && old.Class != class && nw.Class != class {
			continue
		}
		if old.Class == nw.Class && old.Ends == nw.Ends && old.Action == nw.Action && old.Period == nw.Period && old.LockMode == nw.LockMode {
			continue
		}
		if d == nil {
			// No class matches any more: the decision made stays on record
			// (an AIP never loses its retention by a configuration edit).
			out = append(out, Change{AIP: id, Old: old, New: old, Note: "no class matches any more: the retention decided before stays"})
			continue
		}
		ch := Change{AIP: id, Old: old, New: nw}
		if err := a.cat.PutRetention(ctx, nw); err != nil {
			return out, err
		}
		due, _ := time.Parse(time.RFC3339, nw.Due)
		var notes []string
		for _, st := range a.stores {
			l, ok := st.(storage.Locker)
			if !ok || !l.ObjectLock() || due.IsZero() || !due.After(time.Now()) {
				continue
			}
			for v := 1; v <= rec.Head; v++ {
				if err := l.RetainMode(ctx, id, v, due, nw.LockMode); err != nil {
					notes = append(notes, fmt.Sprintf("%s: Object Lock not extended: %v", st.Name(), err))
				}
			}
		}
		if old.Due != "" && (nw.Due == "" || nw.Due < old.Due) {
			notes = append(notes, "the end moved earlier: copies keep the Object Lock they have until its date")
		}
		ch.Note = strings.Join(notes, "; ")
		detail := fmt.Sprintf("retention recomputed by %s: class %q ending %q (%s) became class %q ending %q (%s). %s", who, old.Class, old.Ends, old.Action, nw.Class, nw.Ends, nw.Action, nw.Basis)
		if ch.Note != "" {
			detail += "; " + ch.Note
		}
		if _, err := a.trail.Record(ctx, audit.Entry{Type: audit.TypePolicyAssignment, AIP: id, Outcome: audit.OutcomeSuccess, Detail: detail}); err != nil {
			return out, fmt.Errorf("audit: %w", err)
		}
		out = append(out, ch)
	}
	return out, nil
}

// newBatchID is a disposal batch's name: D-<date>-<random>.
func newBatchID(now time.Time) string {
	b := make([]byte, 3)
	rand.Read(b)
	return "D-" + now.Format("20060102") + "-" + hex.EncodeToString(b)
}

// Propose puts AIPs whose retention has ended into a disposal batch. Every
// AIP must be due, under no hold, in no other open batch, and all of one
// action (destroy and review: destroy; offer: offer to the archive).
func (a *Archive) Propose(ctx context.Context, ids []aip.ID, reason string, who Actor) (catalog.Batch, error) {
	if strings.TrimSpace(reason) == "" {
		return catalog.Batch{}, errors.New("dispose propose: a reason is required (--reason)")
	}
	now := time.Now().UTC()
	action := ""
	var problems, names []string
	for _, id := range ids {
		r, err := a.cat.GetRetention(ctx, id.String())
		switch {
		case errors.Is(err, catalog.ErrNotFound):
			problems = append(problems, id.String()+": no retention class: it is never due")
			continue
		case err != nil:
			return catalog.Batch{}, err
		}
		due, _ := time.Parse(time.RFC3339, r.Due)
		if r.Due == "" || due.After(now) {
			problems = append(problems, fmt.Sprintf("%s: not due (class %s, %s, kept until %s)", id, r.Class, r.Period, orNever(r.Ends)))
			continue
		}
		if hs, err := a.cat.OpenHolds(ctx, id.String()); err != nil {
			return catalog.Batch{}, err
		} else if len(hs) > 0 {
			problems = append(problems, fmt.Sprintf("%s: under legal hold since %s by %s: %s", id, hs[0].SetAt, hs[0].SetBy, hs[0].Reason))
			continue
		}
		if b, err := a.cat.PendingBatchOf(ctx, id.String()); err != nil {
			return catalog.Batch{}, err
		} else if b != "" {
			problems = append(problems, fmt.Sprintf("%s: already in disposal batch %s", id, b))
			continue
		}
		act := retention.Destroy
		if r.Action == retention.Offer {
			act = retention.Offer
		}
		if action != "" && act != action {
			problems = append(problems, fmt.Sprintf("%s: action %s, the other AIPs %s: one batch per action", id, act, action))
			continue
		}
		action = act
		names = append(names, id.String())
	}
	if len(problems) > 0 {
		return catalog.Batch{}, fmt.Errorf("dispose propose: nothing proposed:\n  %s", strings.Join(problems, "\n  "))
	}
	if len(names) == 0 {
		return catalog.Batch{}, errors.New("dispose propose: no AIP named")
	}
	sort.Strings(names)
	b := catalog.Batch{ID: newBatchID(now), Action: action, State: "proposed", Reason: reason, ProposedBy: who.String(), ProposedAt: now.Format(time.RFC3339)}
	if err := a.cat.PutBatch(ctx, b, names); err != nil {
		return b, err
	}
	_, err := a.trail.Record(ctx, audit.Entry{Type: audit.TypeDisposalProposed, Outcome: audit.OutcomeSuccess,
		Detail: fmt.Sprintf("disposal batch %s (%s) proposed by %s: %s; AIPs: %s", b.ID, action, who, reason, strings.Join(names, ", "))})
	if err != nil {
		return b, fmt.Errorf("audit: %w", err)
	}
	return b, nil
}

func orNever(s string) string {
	if s == "" {
		return "never (permanent)"
	}
	return s
}

// Approve approves a proposed batch: by another account than the one that
// proposed it, whatever display names are given. The AIPs are checked
// again (holds may have been set since).
func (a *Archive) Approve(ctx context.Context, batch string, who Actor) (catalog.Batch, error) {
	b, items, err := a.cat.GetBatch(ctx, batch)
	if err != nil {
		return b, err
	}
	if b.State != "proposed" {
		return b, fmt.Errorf("dispose approve: batch %s is %s, not proposed", batch, b.State)
	}
	if account(b.ProposedBy) == account(who.String()) {
		return b, fmt.Errorf("dispose approve: batch %s was proposed by %s; the approval must come from another account (four eyes), not from %s", batch, b.ProposedBy, who)
	}
	for _, it := range items {
		if hs, err := a.cat.OpenHolds(ctx, it.AIP); err != nil {
			return b, err
		} else if len(hs) > 0 {
			return b, fmt.Errorf("dispose approve: %s is under legal hold since %s (%s): clear the hold or propose a new batch without it", it.AIP, hs[0].SetAt, hs[0].Reason)
		}
	}
	b.State, b.ApprovedBy, b.ApprovedAt = "approved", who.String(), time.Now().UTC().Format(time.RFC3339)
	if err := a.cat.UpdateBatch(ctx, b); err != nil {
		return b, err
	}
	_, err = a.trail.Record(ctx, audit.Entry{Type: audit.TypeDisposalApproved, Outcome: audit.OutcomeSuccess,
		Detail: fmt.Sprintf("disposal batch %s (%s, %d AIPs, proposed by %s) approved by %s", b.ID, b.Action, len(items), b.ProposedBy, who)})
	if err != nil {
		return b, fmt.Errorf("audit: %w", err)
	}
	return b, nil
}
