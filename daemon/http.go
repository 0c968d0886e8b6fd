package daemon

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/storage"
)

// Handler serves /healthz, /readyz, /metrics and, with a token, the
// read-only API under /api/v1 (docs/api.yaml). Every route is GET only.
func (d *Daemon) Handler(token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", d.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{}))
	api := func(h func(http.ResponseWriter, *http.Request) (any, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if token == "" {
				http.Error(w, "the API is off: set http.token_file", http.StatusNotFound)
				return
			}
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="archivd"`)
				http.Error(w, "a bearer token is required", http.StatusUnauthorized)
				return
			}
			v, err := h(w, r)
			if err != nil {
				code := http.StatusInternalServerError
				var bad *badRequest
				switch {
				case errors.As(err, &bad):
					code = http.StatusBadRequest
				case errors.Is(err, catalog.ErrNotFound):
					code = http.StatusNotFound
				}
				http.Error(w, err.Error(), code)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.Encode(v)
		}
	}
	for path, h := range d.apiRoutes() {
		mux.HandleFunc("GET "+path, api(h))
	}
	return mux
}

type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

// APIPaths are the API's routes, as docs/api.yaml names them.
func (d *Daemon) APIPaths() []string {
	var out []string
	for p := range d.apiRoutes() {
		out = append(out, p)
	}
	return out
}

func (d *Daemon) apiRoutes() map[string]func(http.ResponseWriter, *http.Request) (any, error) {
	return map[string]func(http.ResponseWriter, *http.Request) (any, error){
		"/api/v1/aips":      d.apiAIPs,
		"/api/v1/aips/{id}": d.apiAIP,
		"/api/v1/events":    d.apiEvents,
		"/api/v1/status":    d.apiStatus,
	}
}

// readiness is the last /readyz result, kept for 10 s.
type readiness struct {
	mu   sync.Mutex
	at   time.Time
	errs []string
}

// readyz: the catalog answers and every required location is reachable
// (a read of a name that does not exist answers "not found" from a store
// that works). Cached for 10 s, so probes never load the storage.
func (d *Daemon) readyz(w http.ResponseWriter, r *http.Request) {
	rd := &d.readiness
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if time.Since(rd.at) > 10*time.Second {
		rd.errs = nil
		ctx, cancel := context.WithTimeout(r.Context(), 8*time.Second)
		defer cancel()
		if err := d.a.Catalog().Ping(ctx); err != nil {
			rd.errs = append(rd.errs, "catalog: "+err.Error())
		}
		for _, name := range d.conf().Copies.Required {
			st := d.a.Store(name)
			if st == nil {
				rd.errs = append(rd.errs, name+": not configured")
				continue
			}
			if _, err := st.GetExtension(ctx, "readyz-probe"); err != nil && !errors.Is(err, storage.ErrNotFound) {
				rd.errs = append(rd.errs, name+": "+err.Error())
			}
		}
		rd.at = time.Now()
	}
	if len(rd.errs) > 0 {
		http.Error(w, "not ready: "+strings.Join(rd.errs, "; "), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// API types: JSON with snake_case names.
type (
	apiAIP struct {
		ID          string `json:"id"`
		Reference   string `json:"reference"`
		Title       string `json:"title"`
		Agency      string `json:"agency"`
		RecordClass string `json:"record_class"`
		Opened      string `json:"opened,omitempty"`
		Closed      string `json:"closed,omitempty"`
		Created     string `json:"created"`
		Versions    int    `json:"versions"`
		// Metadata: the case's further fields (case.yaml extra:, an xdomea
		// record's ProzessID, Aufbewahrungsdauer, Aussonderungsart).
		Metadata map[string]string `json:"metadata,omitempty"`
	}
	apiFile struct {
		Path     string `json:"path"`
		Original string `json:"original,omitempty"`
		Kind     string `json:"kind"`
		Size     int64  `json:"size"`
		SHA512   string `json:"sha512"`
		SHA256   string `json:"sha256"`
		PUID     string `json:"puid,omitempty"`
		MIME     string `json:"mime,omitempty"`
		Format   string `json:"format,omitempty"`
		Validity string `json:"validity,omitempty"`
		Decision string `json:"decision,omitempty"`
	}
	apiCopy struct {
		Location   string `json:"location"`
		ObjectKey  string `json:"object_key"`
		VersionID  string `json:"version_id,omitempty"`
		Size       int64  `json:"size"`
		SHA512     string `json:"sha512"`
		VerifiedAt string `json:"verified_at"`
	}
	apiVersion struct {
		Version int       `json:"version"`
		Created string    `json:"created"`
		Message string    `json:"message"`
		Package string    `json:"package"`
		Size    int64     `json:"size"`
		SHA512  string    `json:"sha512"`
		Files   []apiFile `json:"files"`
		Copies  []apiCopy `json:"copies"`
	}
	apiEvent struct {
		Seq      int64  `json:"seq"`
		Time     string `json:"time"`
		Type     string `json:"type"`
		AIP      string `json:"aip,omitempty"`
		Location string `json:"location,omitempty"`
		Outcome  string `json:"outcome"`
		Detail   string `json:"detail"`
		Hash     string `json:"hash"`
	}
)

func toAPIAIP(a catalog.AIP) apiAIP {
	return apiAIP{ID: a.ID, Reference: a.Reference, Title: a.Title, Agency: a.Agency, RecordClass: a.RecordClass,
		Opened: a.Opened, Closed: a.Closed, Created: a.Created, Versions: a.Head, Metadata: a.Extra}
}

func intParam(r *http.Request, name string, def int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, &badRequest{fmt.Sprintf("%s=%q: a number, 0 or more", name, s)}
	}
	return n, nil
}

func (d *Daemon) apiAIPs(w http.ResponseWriter, r *http.Request) (any, error) {
	q := r.URL.Query()
	f := catalog.AIPFilter{Reference: q.Get("reference"), Agency: q.Get("agency"), RecordClass: q.Get("record_class"),
		ClosedFrom: q.Get("closed_from"), ClosedTo: q.Get("closed_to")}
	var err error
	if f.Limit, err = intParam(r, "limit", 100); err != nil {
		return nil, err
	}
	if f.Offset, err = intParam(r, "offset", 0); err != nil {
		return nil, err
	}
	for _, date := range []string{f.ClosedFrom, f.ClosedTo} {
		if _, err := time.Parse("2006-01-02", date); date != "" && err != nil {
			return nil, &badRequest{fmt.Sprintf("date %q: YYYY-MM-DD", date)}
		}
	}
	aips, total, err := d.a.Catalog().ListAIPs(r.Context(), f)
	if err != nil {
		return nil, err
	}
	out := struct {
		Total int      `json:"total"`
		AIPs  []apiAIP `json:"aips"`
	}{Total: total, AIPs: []apiAIP{}}
	for _, a := range aips {
		out.AIPs = append(out.AIPs, toAPIAIP(a))
	}
	return out, nil
}

func (d *Daemon) apiAIP(w http.ResponseWriter, r *http.Request) (any, error) {
	id, err := aip.ParseID(r.PathValue("id"))
	if err != nil {
		return nil, &badRequest{err.Error()}
	}
	cat := d.a.Catalog()
	ctx := r.Context()
	a, err := cat.GetAIP(ctx, id.String())
	if err != nil {
		return nil, err
	}
	out := struct {
		apiAIP
		History []apiVersion `json:"history"`
	}{apiAIP: toAPIAIP(a)}
	for v := 1; v <= a.Head; v++ {
		ver, err := cat.GetVersion(ctx, a.ID, v)
		if err != nil {
			return nil, err
		}
		pkg, err := cat.GetPackage(ctx, a.ID, v)
		if err != nil {
			return nil, err
		}
		av := apiVersion{Version: v, Created: ver.Created, Message: ver.Message, Package: pkg.Name, Size: pkg.Size, SHA512: pkg.SHA512,
			Files: []apiFile{}, Copies: []apiCopy{}}
		ids, err := cat.Identifications(ctx, a.ID, v)
		if err != nil {
			return nil, err
		}
		byPath := map[string]catalog.Identification{}
		for _, i := range ids {
			byPath[i.Path] = i
		}
		files, err := cat.Files(ctx, a.ID, v)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			i := byPath[f.Path]
			av.Files = append(av.Files, apiFile{Path: f.Path, Original: f.Original, Kind: f.Kind, Size: f.Size, SHA512: f.SHA512, SHA256: f.SHA256,
				PUID: i.PUID, MIME: i.MIME, Format: i.FormatName, Validity: i.Validity, Decision: i.Decision})
		}
		copies, err := cat.Copies(ctx, a.ID, v)
		if err != nil {
			return nil, err
		}
		for _, c := range copies {
			av.Copies = append(av.Copies, apiCopy{Location: c.Location, ObjectKey: c.ObjectKey, VersionID: c.VersionID, Size: c.Size, SHA512: c.SHA512, VerifiedAt: c.VerifiedAt})
		}
		out.History = append(out.History, av)
	}
	return out, nil
}

func (d *Daemon) apiEvents(w http.ResponseWriter, r *http.Request) (any, error) {
	after, err := intParam(r, "after", 0)
	if err != nil {
		return nil, err
	}
	limit, err := intParam(r, "limit", 100)
	if err != nil {
		return nil, err
	}
	id := r.URL.Query().Get("aip")
	if id != "" {
		parsed, err := aip.ParseID(id)
		if err != nil {
			return nil, &badRequest{err.Error()}
		}
		id = parsed.String()
	}
	evs, err := d.a.Catalog().Events(r.Context(), id, int64(after), limit)
	if err != nil {
		return nil, err
	}
	out := []apiEvent{}
	for _, e := range evs {
		out = append(out, apiEvent{Seq: e.Seq, Time: e.Time, Type: e.Type, AIP: e.AIP, Location: e.Location, Outcome: e.Outcome, Detail: e.Detail, Hash: e.Hash})
	}
	return out, nil
}

func (d *Daemon) apiStatus(w http.ResponseWriter, r *http.Request) (any, error) {
	st, err := ReadStatus(r.Context(), d.conf(), d.a.Catalog())
	if err != nil {
		return nil, err
	}
	inFlight := []map[string]string{}
	for _, c := range st.InFlight {
		inFlight = append(inFlight, map[string]string{"aip": c.ID, "inbox": c.Inbox, "case": c.Name, "state": c.State,
			"claimed": c.Claimed.Format(time.RFC3339), "updated": c.Updated, "error": c.Error})
	}
	quarantined := []map[string]any{}
	for _, q := range st.Quarantined {
		quarantined = append(quarantined, map[string]any{"ref": q.Ref, "quarantined": q.Reason.Quarantined.Format(time.RFC3339),
			"problems": q.Reason.Problems, "policy_only": q.Reason.PolicyOnly})
	}
	next := map[string]string{}
	for job, t := range st.Next {
		next[job] = t.Format(time.RFC3339)
	}
	return map[string]any{"status": d.StatusLine(), "in_flight": inFlight, "queued": st.Queued,
		"quarantined": quarantined, "next_runs": next}, nil
}
