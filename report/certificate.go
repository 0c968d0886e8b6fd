package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sync"

	"github.com/archivd/archivd/atomicfile"
	"github.com/archivd/archivd/sign"
)

// CertificateDocument names a deletion certificate (Löschprotokoll).
const CertificateDocument = "archivd deletion certificate"

// Certificate documents one executed disposal batch: who proposed and
// approved it, when it ran, every AIP destroyed with what identified it,
// and every stored object version removed from every location.
type Certificate struct {
	Document   string       `json:"document"`
	Format     int          `json:"format"`
	Archive    Archive      `json:"archive"`
	Batch      string       `json:"batch"`
	Action     string       `json:"action"` // destroy, or offer (destroyed after the transfer was confirmed)
	Reason     string       `json:"reason"`
	ProposedBy string       `json:"proposed_by"`
	ProposedAt string       `json:"proposed_at"`
	ApprovedBy string       `json:"approved_by"`
	ApprovedAt string       `json:"approved_at"`
	ExecutedBy string       `json:"executed_by"`
	ExecutedAt string       `json:"executed_at"`
	Generator  string       `json:"generator"`
	SigningKey SigningKey   `json:"signing_key"`
	AIPs       []CertAIP    `json:"aips"`
	Kept       []CertKept   `json:"kept"` // AIPs of the batch not destroyed, and why
	Objects    []CertObject `json:"objects"`
	Files      []Attached   `json:"files"`
}

type CertAIP struct {
	AIP           string `json:"aip"`
	Reference     string `json:"reference"`
	Title         string `json:"title"`
	Agency        string `json:"agency"`
	RecordClass   string `json:"record_class"`
	Opened        string `json:"opened"`
	Closed        string `json:"closed"`
	Ingested      string `json:"ingested"`
	Class         string `json:"retention_class"`
	Ends          string `json:"retention_ended"`
	PackageSHA512 string `json:"package_sha512"`
}

type CertKept struct {
	AIP    string `json:"aip"`
	Reason string `json:"reason"`
}

type CertObject struct {
	AIP       string `json:"aip"`
	Location  string `json:"location"`
	Path      string `json:"path"`
	VersionID string `json:"version_id"`
	Size      int64  `json:"size"`
	DeletedAt string `json:"deleted_at"`
}

// CertificateNames are a batch's certificate files.
func CertificateNames(batch string) (jsonName, htmlName string) {
	return "deletion-" + batch + ".json", "deletion-" + batch + ".html"
}

// WriteCertificate writes the HTML, then the JSON naming its digest, then
// the signature, into dir; it returns the JSON's path.
func WriteCertificate(dir string, key *sign.Key, c *Certificate) (string, error) {
	c.Document, c.Format = CertificateDocument, FormatVersion
	pub := key.Public()
	c.SigningKey = SigningKey{Algorithm: "Ed25519", Fingerprint: pub.Fingerprint(), PublicKeyPEM: string(pub.PEM())}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	jsonName, htmlName := CertificateNames(c.Batch)
	var hb bytes.Buffer
	if err := certPage().Execute(&hb, c); err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, htmlName), hb.Bytes(), 0o644); err != nil {
		return "", err
	}
	c.Files = []Attached{{htmlName, sha256Hex(hb.Bytes())}}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, jsonName)
	if err := atomicfile.WriteFile(p, append(b, '\n'), 0o644); err != nil {
		return "", err
	}
	if err := key.SignFile(p); err != nil {
		return "", err
	}
	return p, atomicfile.WriteFile(filepath.Join(dir, "archivd-signing.pub.pem"), pub.PEM(), 0o644)
}

// VerifyCertificate checks a certificate's signature (with pin, or the
// key it carries), the HTML it covers, and that every object removed
// belongs to an AIP it lists.
func VerifyCertificate(path string, pin *sign.Public) (*Verdict, error) {
	v := &Verdict{File: path}
	bad := func(format string, args ...any) { v.Problems = append(v.Problems, fmt.Sprintf(format, args...)) }
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Certificate
	if err := json.Unmarshal(b, &c); err != nil || c.Document != CertificateDocument {
		bad("not an archivd deletion certificate (%v)", err)
		return v, nil
	}
	v.Fingerprint = c.SigningKey.Fingerprint
	key, err := sign.ParsePublic([]byte(c.SigningKey.PublicKeyPEM))
	if err != nil {
		bad("the signing key it carries is unreadable: %v", err)
		return v, nil
	}
	if pin != nil && !pin.Equal(key) {
		bad("signed with key %s, not with %s", key.Fingerprint(), pin.Fingerprint())
		key = *pin
	}
	if sig, err := os.ReadFile(path + sign.Suffix); err != nil {
		bad("no signature: %v", err)
	} else if !key.Verify(b, sig) {
		bad("the signature does not match the file: changed after signing, or signed with another key")
	}
	for _, f := range c.Files {
		fb, err := os.ReadFile(filepath.Join(filepath.Dir(path), filepath.Base(f.Name)))
		if err != nil {
			bad("%s cannot be read: %v", f.Name, err)
		} else if got := sha256Hex(fb); got != f.SHA256 {
			bad("%s has SHA-256 %s, the certificate names %s: it was changed", f.Name, got, f.SHA256)
		}
	}
	listed := map[string]bool{}
	for _, a := range c.AIPs {
		listed[a.AIP] = true
	}
	seen := map[string]bool{}
	for _, o := range c.Objects {
		k := o.AIP + " " + o.Location + " " + o.Path + " " + o.VersionID
		if !listed[o.AIP] {
			bad("object %s at %s belongs to %s, which the certificate does not list", o.Path, o.Location, o.AIP)
		}
		if seen[k] {
			bad("object %s version %q at %s is listed twice", o.Path, o.VersionID, o.Location)
		}
		seen[k] = true
	}
	return v, nil
}

var certPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("cert").Funcs(template.FuncMap{"when": when, "bytes": HumanBytes}).Parse(certHTML))
})

const certHTML = `<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<title>Löschprotokoll / Deletion certificate {{.Batch}}</title>
<style>
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; margin: 2em auto; max-width: 60em; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #888; margin-top: 1.5em; }
.en { color: #555; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0; table-layout: fixed; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.45em; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #eee; } tr { page-break-inside: avoid; }
.digest { font-family: "DejaVu Sans Mono", monospace; font-size: 0.8em; }
.meta td:first-child { width: 28%; }
</style>
</head>
<body>
<h1>Löschprotokoll <span class="en">/ Deletion certificate</span> {{.Batch}}</h1>
<p>{{.Archive.Organization}}{{if .Archive.Contact}} · {{.Archive.Contact}}{{end}}</p>
<table class="meta">
<tr><td>Art <span class="en">/ Action</span></td><td>{{if eq .Action "offer"}}nach Übernahme durch das Archiv vernichtet / destroyed after the archive confirmed the transfer{{else}}vernichtet / destroyed{{end}}</td></tr>
<tr><td>Begründung <span class="en">/ Reason</span></td><td>{{.Reason}}</td></tr>
<tr><td>Vorgeschlagen <span class="en">/ Proposed</span></td><td>{{.ProposedBy}}, {{when .ProposedAt}}</td></tr>
<tr><td>Freigegeben <span class="en">/ Approved</span></td><td>{{.ApprovedBy}}, {{when .ApprovedAt}}</td></tr>
<tr><td>Ausgeführt <span class="en">/ Executed</span></td><td>{{.ExecutedBy}}, {{when .ExecutedAt}}</td></tr>
<tr><td>Vernichtete AIPs <span class="en">/ AIPs destroyed</span></td><td>{{len .AIPs}}</td></tr>
<tr><td>Entfernte Objektversionen <span class="en">/ Object versions removed</span></td><td>{{len .Objects}}</td></tr>
</table>
<h2>Vernichtete Unterlagen <span class="en">/ Records destroyed</span></h2>
{{range .AIPs}}
<table class="meta">
<tr><td>Aktenzeichen <span class="en">/ Reference</span></td><td>{{.Reference}}</td></tr>
<tr><td>Titel <span class="en">/ Title</span></td><td>{{.Title}}</td></tr>
<tr><td>AIP</td><td class="digest">{{.AIP}}</td></tr>
<tr><td>Stelle, Aktenplan <span class="en">/ Agency, record class</span></td><td>{{.Agency}}{{if .RecordClass}}, {{.RecordClass}}{{end}}</td></tr>
<tr><td>Laufzeit <span class="en">/ Dates</span></td><td>{{.Opened}} – {{.Closed}}; archiviert / ingested {{when .Ingested}}</td></tr>
<tr><td>Aufbewahrung <span class="en">/ Retention</span></td><td>{{.Class}}, endete / ended {{.Ends}}</td></tr>
<tr><td>Paket-Prüfsumme <span class="en">/ Package SHA-512</span></td><td class="digest">{{.PackageSHA512}}</td></tr>
</table>
{{end}}
{{if .Kept}}<h2>Nicht vernichtet <span class="en">/ Not destroyed</span></h2>
<table><tr><th>AIP</th><th>Grund <span class="en">/ Reason</span></th></tr>
{{range .Kept}}<tr><td class="digest">{{.AIP}}</td><td>{{.Reason}}</td></tr>{{end}}</table>{{end}}
<h2>Entfernte Objektversionen <span class="en">/ Object versions removed</span></h2>
<table><tr><th>Ort <span class="en">/ Location</span></th><th>Datei <span class="en">/ File</span></th><th>Version</th><th>Größe <span class="en">/ Size</span></th><th>Gelöscht <span class="en">/ Deleted</span></th></tr>
{{range .Objects}}<tr><td>{{.Location}}</td><td class="digest">{{.AIP}}/{{.Path}}</td><td class="digest">{{if .VersionID}}{{.VersionID}}{{else}}–{{end}}</td><td>{{bytes .Size}}</td><td>{{when .DeletedAt}}</td></tr>
{{end}}</table>
<p>Signiert mit <span class="en">/ Signed with</span> {{.SigningKey.Algorithm}} <span class="digest">{{.SigningKey.Fingerprint}}</span>. Maßgeblich ist deletion-{{.Batch}}.json mit seiner Signatur
<span class="en">/ deletion-{{.Batch}}.json with its signature is authoritative</span> (docs/verify-reports.md).</p>
</body>
</html>
`
