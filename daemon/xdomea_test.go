package daemon

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/config"
)

const xdomeaExamples = "../../shared/data/xdomea/examples/"

// configAt writes a configuration into dir and loads it.
func configAt(t *testing.T, dir, text string) *config.Config {
	t.Helper()
	p := filepath.Join(dir, "archivd.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// openWriter opens the archive of cfg as its writer, closed when the test ends.
func openWriter(t *testing.T, ctx context.Context, cfg *config.Config) *archive.Archive {
	t.Helper()
	a, err := archive.Open(ctx, cfg, archive.Options{Mode: archive.Writer, Log: zerolog.Nop(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	return a
}

// startDaemon runs the daemon on a until the test calls stop, which
// checks that it ended cleanly.
func startDaemon(t *testing.T, a *archive.Archive) (d *Daemon, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d = New(a, testLog(t))
	done := make(chan error)
	ready := make(chan struct{})
	d.Ready = func() { close(ready) }
	go func() { done <- d.Run(ctx) }()
	<-ready
	return d, func() {
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// xdomeaZip writes a transfer zip into the inbox as a DMS hands it over:
// built beside, then renamed in.
func xdomeaZip(t *testing.T, inbox, name string, entries ...[2]string) {
	t.Helper()
	tmp := filepath.Join(inbox, "."+name+".part")
	f, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		w, _ := zw.Create(e[0])
		w.Write([]byte(e[1]))
	}
	zw.Close()
	f.Close()
	if err := os.Rename(tmp, filepath.Join(inbox, name)); err != nil {
		t.Fatal(err)
	}
}

// TestXdomeaTransfers: through the running daemon, a 0503 transfer of
// xdomea 3.0.0 becomes an AIP with the message's metadata; the 0507 and
// then the 0506 appear in the outbox, both valid against the schemas,
// naming every record; a transfer missing a document is quarantined with
// its reason and answered with a 0506 saying the record was not imported;
// a transfer that cannot be read is quarantined and not answered.
func TestXdomeaTransfers(t *testing.T) {
	dir := t.TempDir()
	schemas, _ := filepath.Abs("../../shared/data/xdomea/xsd-3.0.0")
	cfg := configAt(t, dir, fmt.Sprintf(`data_dir: %[1]s/var
archive: {organization: Kreisarchiv Musterland}
inboxes:
  - {name: dms, path: %[1]s/inbox, kind: xdomea, ready: rename, outbox: %[1]s/outbox, schemas: %[2]s}
daemon: {poll_interval: 100ms, min_free_mib: 1}
formats: {policy: {unidentified: warn}}
`, dir, schemas))
	ctx := context.Background()
	a := openWriter(t, ctx, cfg)
	_, stop := startDaemon(t, a)

	msgName := "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.xml"
	docName := "f4bcaaf7-d7cb-11ef-a278-005056871b7c.txt"
	msg, _ := os.ReadFile(xdomeaExamples + msgName)
	doc, _ := os.ReadFile(xdomeaExamples + docName)
	inbox, outbox := filepath.Join(dir, "inbox"), filepath.Join(dir, "outbox")
	xdomeaZip(t, inbox, "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.zip", [2]string{msgName, string(msg)}, [2]string{docName, string(doc)})
	receipt := filepath.Join(outbox, "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.AussonderungEmpfangBestaetigen.0507.xml")
	imported := filepath.Join(outbox, "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.AussonderungImportBestaetigen.0506.xml")
	waitFor(t, "the 0506 in the outbox", func() bool { return exists(imported) })
	for _, f := range []string{receipt, imported} {
		out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema", filepath.Join(schemas, "xdomea-Nachrichten-AussonderungDurchfuehren.xsd"), f).CombinedOutput()
		if err != nil {
			t.Errorf("%s does not validate: %v %s", filepath.Base(f), err, out)
		}
	}
	b, _ := os.ReadFile(imported)
	if !strings.Contains(string(b), "<xdomea:IDSGO>67e456ea-b420-11ec-b503-005056871b7c</xdomea:IDSGO>") || !strings.Contains(string(b), "<xdomea:Erfolgreich>true</xdomea:Erfolgreich>") {
		t.Errorf("0506:\n%s", b)
	}
	ids, _ := a.Catalog().CommittedIngests(ctx, "inbox dms/xdomea 9fde4e7a-b41b-11ec-9225-005056871b7c/67e456ea-b420-11ec-b503-005056871b7c")
	if len(ids) != 1 {
		t.Fatalf("the record's AIP: %v", ids)
	}
	rec, _ := a.Catalog().GetAIP(ctx, ids[0])
	if rec.Reference != "[Vorgangskennzeichen]" || rec.Title != "[Vorgangsbetreff]" || rec.RecordClass != "[Aktenplankennzeichen]" || rec.Opened != "2010-04-04" || rec.Closed != "2012-04-04" {
		t.Errorf("the AIP's metadata from the message: %+v", rec)
	}
	waitFor(t, "the archived transfer leaves the work area", func() bool { return len(claims(t, cfg)) == 0 })
	files, _ := a.Catalog().Files(ctx, ids[0], 1)
	var names []string
	for _, f := range files {
		names = append(names, f.Original)
	}
	for _, want := range []string{docName, "xdomea/" + msgName, "xdomea/Vorgang-67e456ea-b420-11ec-b503-005056871b7c.xml"} {
		if !strings.Contains(strings.Join(names, "\n"), want) {
			t.Errorf("the AIP lacks %s: %v", want, names)
		}
	}

	// The same transfer again: not archived twice, not answered again.
	before, _ := os.ReadFile(imported)
	xdomeaZip(t, inbox, "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.zip", [2]string{msgName, string(msg)}, [2]string{docName, string(doc)})
	waitFor(t, "the second delivery quarantined", func() bool {
		q, err := FindQuarantined(cfg, "dms/9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.zip")
		return err == nil && strings.Contains(strings.Join(q.Reason.Problems, " "), "delivered before")
	})
	if after, _ := os.ReadFile(imported); string(after) != string(before) {
		t.Error("the second delivery overwrote the 0506")
	}

	// A missing document: the record is not imported, the 0506 says so.
	other := strings.ReplaceAll(string(msg), "9fde4e7a-b41b-11ec-9225-005056871b7c", "11111111-b41b-11ec-9225-005056871b7c")
	xdomeaZip(t, inbox, "11111111-b41b-11ec-9225-005056871b7c_0503_1.zip", [2]string{"11111111-b41b-11ec-9225-005056871b7c_0503_1.xml", other})
	refused := filepath.Join(outbox, "11111111-b41b-11ec-9225-005056871b7c_Aussonderung.AussonderungImportBestaetigen.0506.xml")
	waitFor(t, "the 0506 of the refused record", func() bool { return exists(refused) })
	b, _ = os.ReadFile(refused)
	if !strings.Contains(string(b), "<xdomea:Erfolgreich>false</xdomea:Erfolgreich>") || !strings.Contains(string(b), docName) {
		t.Errorf("0506 of a record whose document is missing:\n%s", b)
	}
	waitFor(t, "the refused transfer quarantined", func() bool {
		q, err := FindQuarantined(cfg, "dms/11111111-b41b-11ec-9225-005056871b7c_0503_1.zip")
		return err == nil && strings.Contains(strings.Join(q.Reason.Problems, " "), docName)
	})

	// The DMS sends the transfer again, now complete: the record is
	// archived and the new 0506 (xdomea 3 has one per process) replaces
	// the refusal.
	xdomeaZip(t, inbox, "11111111-b41b-11ec-9225-005056871b7c_0503_1.zip", [2]string{"11111111-b41b-11ec-9225-005056871b7c_0503_1.xml", other}, [2]string{docName, string(doc)})
	waitFor(t, "the 0506 of the complete delivery", func() bool {
		b, _ := os.ReadFile(refused)
		return strings.Contains(string(b), "<xdomea:Erfolgreich>true</xdomea:Erfolgreich>")
	})
	if ids, _ := a.Catalog().CommittedIngests(ctx, "inbox dms/xdomea 11111111-b41b-11ec-9225-005056871b7c/67e456ea-b420-11ec-b503-005056871b7c"); len(ids) != 1 {
		t.Errorf("the record of the complete delivery: %v", ids)
	}

	// Not XML at all: quarantined, no answer.
	xdomeaZip(t, inbox, "22222222-b41b-11ec-9225-005056871b7c_0503_1.zip", [2]string{"22222222-b41b-11ec-9225-005056871b7c_0503_1.xml", "<nope"})
	waitFor(t, "the unreadable transfer quarantined", func() bool {
		_, err := FindQuarantined(cfg, "dms/22222222-b41b-11ec-9225-005056871b7c_0503_1.zip")
		return err == nil
	})
	if m, _ := filepath.Glob(filepath.Join(outbox, "22222222*")); len(m) != 0 {
		t.Errorf("an unreadable transfer was answered: %v", m)
	}
	stop()
}

// TestXdomeaImportWaitsForEveryCopy: with one location down the 0507 is
// sent, but the 0506 (which lets the sender delete its copy) waits until
// the copy exists: with allow_missing the record is archived with one copy
// and replicate makes the other; without it the ingest itself waits and
// completes when the location is back.
func TestXdomeaImportWaitsForEveryCopy(t *testing.T) {
	for _, allowMissing := range []bool{true, false} {
		t.Run(fmt.Sprintf("allow_missing=%v", allowMissing), func(t *testing.T) { testXdomeaWaits(t, allowMissing) })
	}
}

func testXdomeaWaits(t *testing.T, allowMissing bool) {
	dir := t.TempDir()
	cfg := configAt(t, dir, fmt.Sprintf(`data_dir: %[1]s/var
locations:
  - {name: a, type: local, path: %[1]s/a}
  - {name: b, type: local, path: %[1]s/b}
copies: {allow_missing: %[2]v}
inboxes:
  - {name: dms, path: %[1]s/inbox, kind: xdomea, ready: rename, outbox: %[1]s/outbox}
daemon: {poll_interval: 100ms, min_free_mib: 1, retry_max: 2s}
formats: {policy: {unidentified: warn}}
`, dir, allowMissing))
	ctx := context.Background()
	a := openWriter(t, ctx, cfg)
	_, stop := startDaemon(t, a)
	// Location b goes away (an unmounted disk).
	if err := os.Rename(filepath.Join(dir, "b"), filepath.Join(dir, "b-away")); err != nil {
		t.Fatal(err)
	}
	msgName := "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.xml"
	docName := "f4bcaaf7-d7cb-11ef-a278-005056871b7c.txt"
	msg, _ := os.ReadFile(xdomeaExamples + msgName)
	doc, _ := os.ReadFile(xdomeaExamples + docName)
	xdomeaZip(t, filepath.Join(dir, "inbox"), "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.Aussonderung.0503.zip", [2]string{msgName, string(msg)}, [2]string{docName, string(doc)})
	outbox := filepath.Join(dir, "outbox")
	imported := filepath.Join(outbox, "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.AussonderungImportBestaetigen.0506.xml")
	origin := "inbox dms/xdomea 9fde4e7a-b41b-11ec-9225-005056871b7c/67e456ea-b420-11ec-b503-005056871b7c"
	waitFor(t, "the 0507 receipt", func() bool {
		return exists(filepath.Join(outbox, "9fde4e7a-b41b-11ec-9225-005056871b7c_Aussonderung.AussonderungEmpfangBestaetigen.0507.xml"))
	})
	if allowMissing {
		waitFor(t, "the record archived with one copy", func() bool {
			ids, _ := a.Catalog().CommittedIngests(ctx, origin)
			return len(ids) == 1
		})
	}
	// The daemon looks again every poll; ten polls later still no 0506.
	for i := 0; i < 10; i++ {
		time.Sleep(100 * time.Millisecond)
		if exists(imported) {
			t.Fatal("a 0506 was sent while a required copy is missing")
		}
	}
	// b is back; replicate makes the copy; then the 0506 comes.
	if err := os.Rename(filepath.Join(dir, "b-away"), filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	if allowMissing {
		if st, err := a.Replicate(ctx); err != nil || st.Copied != 1 {
			t.Fatalf("replicate: %+v %v", st, err)
		}
	}
	waitFor(t, "the 0506 after replicate", func() bool { return exists(imported) })
	b, _ := os.ReadFile(imported)
	if !strings.Contains(string(b), "<xdomea:Erfolgreich>true</xdomea:Erfolgreich>") {
		t.Errorf("0506:\n%s", b)
	}
	stop()
}

// TestXdomeaFaultsAndRetention: the error cases of a transfer through the
// running daemon, each with its quarantine reason, and a 0506 naming the
// failed record where the transfer could be read (none where it could
// not); and the records' Aufbewahrungsdauer and Aussonderungsart reach the
// catalog and bag-info.txt and decide the retention class.
func TestXdomeaFaultsAndRetention(t *testing.T) {
	dir := t.TempDir()
	schemas, _ := filepath.Abs("../../shared/data/xdomea/xsd-3.0.0")
	cfg := configAt(t, dir, fmt.Sprintf(`data_dir: %[1]s/var
inboxes:
  - {name: dms, path: %[1]s/inbox, kind: xdomea, ready: rename, outbox: %[1]s/outbox, schemas: %[2]s}
daemon: {poll_interval: 100ms, min_free_mib: 1}
formats: {policy: {unidentified: warn}}
retention:
  classes:
    - {name: archivgut, match: {metadata: {xdomea-Aussonderungsart: A}}, permanent: true}
    - {name: dms, match: {inbox: dms}, from_record: true}
`, dir, schemas))
	ctx := context.Background()
	a := openWriter(t, ctx, cfg)
	d, stop := startDaemon(t, a)
	defer func() { stop() }() // the daemon is restarted below

	const sample = "9fde4e7a-b41b-11ec-9225-005056871b7c"
	msg, _ := os.ReadFile(xdomeaExamples + sample + "_Aussonderung.Aussonderung.0503.xml")
	docName := "f4bcaaf7-d7cb-11ef-a278-005056871b7c.txt"
	doc, _ := os.ReadFile(xdomeaExamples + docName)
	inbox, outbox := filepath.Join(dir, "inbox"), filepath.Join(dir, "outbox")
	// deliver hands over the sample as process id with the message edited by
	// edit and further entries.
	deliver := func(id string, edit func(string) string, more ...[2]string) string {
		m := strings.ReplaceAll(string(msg), sample, id)
		if edit != nil {
			m = edit(m)
		}
		name := id + "_Aussonderung.Aussonderung.0503"
		xdomeaZip(t, inbox, name+".zip", append([][2]string{{name + ".xml", m}, {docName, string(doc)}}, more...)...)
		return "dms/" + name + ".zip"
	}
	answer := func(id string) string {
		return filepath.Join(outbox, id+"_Aussonderung.AussonderungImportBestaetigen.0506.xml")
	}
	quarantined := func(delivery, reason string) {
		t.Helper()
		waitFor(t, delivery+" quarantined for "+reason, func() bool {
			q, err := FindQuarantined(cfg, delivery)
			return err == nil && strings.Contains(strings.Join(q.Reason.Problems, "\n"), reason)
		})
	}
	archival := func(years, code string) func(string) string {
		return func(m string) string {
			return strings.Replace(m, "</xdomea:AllgemeineMetadaten>\n      <xdomea:Aktenbetreff>", `</xdomea:AllgemeineMetadaten>
      <xdomea:ArchivspezifischeMetadaten>
        <xdomea:Aufbewahrungsdauer><xdomea:AnzahlJahre>`+years+`</xdomea:AnzahlJahre></xdomea:Aufbewahrungsdauer>
        <xdomea:Aussonderungsart><xdomea:Aussonderungsart><code>`+code+`</code></xdomea:Aussonderungsart></xdomea:Aussonderungsart>
      </xdomea:ArchivspezifischeMetadaten>
      <xdomea:Aktenbetreff>`, 1)
		}
	}

	// Retention from the record: archivwürdig is kept for good; a record
	// to be destroyed after 10 years keeps its sender's period and action.
	for _, c := range []struct{ id, code, class, ends, action string }{
		{"aaaaaaaa-b41b-11ec-9225-005056871b7c", "A", "archivgut", "", "review"},
		{"bbbbbbbb-b41b-11ec-9225-005056871b7c", "V", "dms", "2022-12-31", "destroy"},
	} {
		deliver(c.id, archival("10", c.code))
		waitFor(t, "the 0506 of "+c.id, func() bool { return exists(answer(c.id)) })
		ids, _ := a.Catalog().CommittedIngests(ctx, "inbox dms/xdomea "+c.id+"/67e456ea-b420-11ec-b503-005056871b7c")
		if len(ids) != 1 {
			t.Fatalf("%s: AIPs %v", c.id, ids)
		}
		rec, _ := a.Catalog().GetAIP(ctx, ids[0])
		if rec.Extra["xdomea-Aufbewahrungsdauer"] != "10" || rec.Extra["xdomea-Aussonderungsart"] != c.code || rec.Extra["xdomea-ProzessID"] != c.id {
			t.Errorf("%s: the catalog's metadata: %+v", c.id, rec.Extra)
		}
		// The API shows them too.
		req := httptest.NewRequest("GET", "/api/v1/aips/"+ids[0], nil)
		req.Header.Set("Authorization", "Bearer a-token-for-the-test")
		rw := httptest.NewRecorder()
		d.Handler("a-token-for-the-test").ServeHTTP(rw, req)
		if rw.Code != 200 || !strings.Contains(rw.Body.String(), `"xdomea-Aussonderungsart": "`+c.code+`"`) {
			t.Errorf("%s: the API: %d %s", c.id, rw.Code, rw.Body.String())
		}
		r, err := a.Catalog().GetRetention(ctx, ids[0])
		if err != nil || r.Class != c.class || r.Ends != c.ends || r.Action != c.action {
			t.Errorf("%s: retention %+v %v", c.id, r, err)
		}
		aipID, _ := aip.ParseID(ids[0])
		rc, err := a.Stores()[0].Open(ctx, ids[0], "v1/content/"+aipID.BagInfoFile(1))
		if err != nil {
			t.Fatal(err)
		}
		bag, _ := io.ReadAll(rc)
		rc.Close()
		if !strings.Contains(string(bag), "Case-Extra: xdomea-Aussonderungsart="+c.code+"\n") || !strings.Contains(string(bag), "Case-Extra: xdomea-Aufbewahrungsdauer=10\n") {
			t.Errorf("%s: bag-info.txt:\n%s", c.id, bag)
		}
	}

	// A rebuilt catalog has the further metadata again, from bag-info.txt.
	stop()
	if _, err := a.RebuildCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	ids, _ := a.Catalog().CommittedIngests(ctx, "inbox dms/xdomea bbbbbbbb-b41b-11ec-9225-005056871b7c/67e456ea-b420-11ec-b503-005056871b7c")
	if len(ids) != 1 {
		t.Fatalf("after the rebuild: %v", ids)
	}
	if rec, _ := a.Catalog().GetAIP(ctx, ids[0]); rec.Extra["xdomea-Aussonderungsart"] != "V" || rec.Extra["xdomea-Aufbewahrungsdauer"] != "10" {
		t.Errorf("the metadata after a catalog rebuild: %+v", rec.Extra)
	}
	d, stop = startDaemon(t, a)

	// A file the message does not name: no record imported, the 0506 says why.
	id := "cccccccc-b41b-11ec-9225-005056871b7c"
	delivery := deliver(id, nil, [2]string{"beipack.txt", "not named in the message"})
	quarantined(delivery, "beipack.txt")
	waitFor(t, "the 0506 of the transfer with an extra file", func() bool { return exists(answer(id)) })
	if b, _ := os.ReadFile(answer(id)); !strings.Contains(string(b), "<xdomea:Erfolgreich>false</xdomea:Erfolgreich>") || !strings.Contains(string(b), "beipack.txt") {
		t.Errorf("0506 of a transfer with an extra file:\n%s", b)
	}

	// Transfers that cannot be read as a whole: quarantined with the
	// reason, not answered.
	for _, c := range []struct {
		id, reason string
		edit       func(string) string
		more       [][2]string
	}{
		{"dddddddd-b41b-11ec-9225-005056871b7c", "points outside the transfer", nil, [][2]string{{"../../etc/evil.txt", "zip slip"}}},
		{"eeeeeeee-b41b-11ec-9225-005056871b7c", "namespace", func(m string) string {
			return strings.ReplaceAll(m, "urn:xoev-de:xdomea:schema:3.0.0", "urn:example:not-xdomea")
		}, nil},
		// Valid XML, but not to the schema: the validator's own words.
		{"ffffffff-b41b-11ec-9225-005056871b7c", "Unbekannt", func(m string) string {
			return strings.Replace(m, "<xdomea:Aktenbetreff>", "<xdomea:Unbekannt>x</xdomea:Unbekannt><xdomea:Aktenbetreff>", 1)
		}, nil},
		{"99999999-b41b-11ec-9225-005056871b7c", "XML", func(m string) string { return m[:len(m)/2] }, nil},
	} {
		quarantined(deliver(c.id, c.edit, c.more...), c.reason)
		if m, _ := filepath.Glob(filepath.Join(outbox, c.id+"*")); len(m) != 0 {
			t.Errorf("%s: a transfer that cannot be read was answered: %v", c.reason, m)
		}
	}
}

// TestXdomea40Transfers: a transfer in xdomea 4.0 through the running
// daemon is archived with its metadata, but not answered (archivd has no
// 4.0 schemas to check an answer against), and the audit trail says why;
// a 4.0 document whose SHA-256 differs from the message's is not imported
// and the quarantine names both digests.
func TestXdomea40Transfers(t *testing.T) {
	dir := t.TempDir()
	cfg := configAt(t, dir, fmt.Sprintf(`data_dir: %[1]s/var
inboxes:
  - {name: dms, path: %[1]s/inbox, kind: xdomea, ready: rename, outbox: %[1]s/outbox}
daemon: {poll_interval: 100ms, min_free_mib: 1}
formats: {policy: {unidentified: warn}}
`, dir))
	ctx := context.Background()
	a := openWriter(t, ctx, cfg)
	_, stop := startDaemon(t, a)
	defer stop()

	const sample = "518c7c31-d1a0-11ef-accb-005056871b7c"
	msgName := sample + "_0503_1.xml"
	docName := "8bcadd35-d27b-11ef-ab6c-005056871b7c.txt"
	msg, _ := os.ReadFile(xdomeaExamples + msgName)
	doc, _ := os.ReadFile(xdomeaExamples + docName)
	inbox, outbox := filepath.Join(dir, "inbox"), filepath.Join(dir, "outbox")

	xdomeaZip(t, inbox, sample+"_0503_1.zip", [2]string{msgName, string(msg)}, [2]string{docName, string(doc)})
	var ids []string
	waitFor(t, "the 4.0 record archived", func() bool {
		ids, _ = a.Catalog().CommittedIngests(ctx, "inbox dms/xdomea "+sample+"/"+"07333b5f-d1a2-11ef-88aa-005056871b7c")
		return len(ids) == 1
	})
	rec, _ := a.Catalog().GetAIP(ctx, ids[0])
	if rec.Reference != "[Vorgangskennzeichen]" || rec.Closed != "2025-01-14" || rec.Extra["xdomea-ProzessID"] != sample {
		t.Errorf("the 4.0 record's metadata: %+v", rec)
	}
	waitFor(t, "the 4.0 transfer done", func() bool { return len(claims(t, cfg)) == 0 })
	if m, _ := filepath.Glob(filepath.Join(outbox, "*")); len(m) != 0 {
		t.Errorf("a 4.0 transfer was answered: %v", m)
	}
	var notSent []string
	a.Trail().Log().Verify(func(e audit.Entry) error {
		if e.Type == audit.TypeXdomeaAnswer && e.Outcome == audit.OutcomeFailure && strings.Contains(e.Detail, sample) {
			notSent = append(notSent, e.Detail)
		}
		return nil
	})
	if len(notSent) != 2 || !strings.Contains(strings.Join(notSent, " "), "4.0.0") {
		t.Errorf("the audit trail on the answers not sent: %q", notSent)
	}

	// The same message with another document under its name: the digest
	// the message gives does not match.
	other := "618c7c31-d1a0-11ef-accb-005056871b7c"
	xdomeaZip(t, inbox, other+"_0503_1.zip", [2]string{other + "_0503_1.xml", strings.ReplaceAll(string(msg), sample, other)}, [2]string{docName, "ein anderes Dokument"})
	waitFor(t, "the record whose document differs quarantined", func() bool {
		q, err := FindQuarantined(cfg, "dms/"+other+"_0503_1.zip")
		return err == nil && strings.Contains(strings.Join(q.Reason.Problems, " "), "ebd6798571b4476ed77408a9e7d4dde5ed0d37e3a1c93c9426e86ef40cc0d69f")
	})
	if ids, _ := a.Catalog().CommittedIngests(ctx, "inbox dms/xdomea "+other+"/07333b5f-d1a2-11ef-88aa-005056871b7c"); len(ids) != 0 {
		t.Errorf("a record whose document differs was archived: %v", ids)
	}
}
