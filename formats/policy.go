package formats

import (
	"fmt"
	"sort"
	"strings"
)

// Policy actions.
const (
	Accept = "accept" // archive as is
	Warn   = "warn"   // archive, but flag it: migration recommended
	Reject = "reject" // refuse the case file until the delivering office resolves it
)

// Rule is one row of a format policy.
type Rule struct {
	PUIDs  []string `yaml:"puids"`
	Action string   `yaml:"action"`
	Reason string   `yaml:"reason"` // English
	Grund  string   `yaml:"grund"`  // German
}

// Policy says what happens to each file.
type Policy struct {
	Rules        []Rule `yaml:"rules"`
	Unidentified string `yaml:"unidentified"`
	Encrypted    string `yaml:"encrypted"`
	Executable   string `yaml:"executable"`
	Malformed    string `yaml:"malformed"`
	Default      string `yaml:"default"` // identified formats no rule names

	byPUID map[string]*Rule
}

// Decision is the policy's verdict on one file, with its reason in English
// and German.
type Decision struct {
	Action string `json:"action"`
	Rule   string `json:"rule"` // what decided: "puid fmt/354", "encrypted", ...
	Reason string `json:"reason"`
	Grund  string `json:"grund"`
}

// DefaultPolicy is the shipped policy; docs/formats.md gives the reason
// for each row.
func DefaultPolicy() *Policy {
	p := &Policy{Unidentified: Reject, Encrypted: Reject, Executable: Reject, Malformed: Warn, Default: Warn,
		Rules: []Rule{
			{PUIDs: []string{"fmt/95", "fmt/354", "fmt/476", "fmt/477", "fmt/478", "fmt/479", "fmt/480", "fmt/481", "fmt/1910", "fmt/1911", "fmt/1912"}, Action: Accept,
				Reason: "PDF/A (claimed): the archival document format (ISO 19005)", Grund: "PDF/A (laut Metadaten): das Archivformat für Dokumente (ISO 19005)"},
			{PUIDs: []string{"fmt/353", "fmt/154", "fmt/155"}, Action: Accept, Reason: "TIFF: the classic master format for images", Grund: "TIFF: klassisches Masterformat für Bilder"},
			{PUIDs: []string{"fmt/11", "fmt/12", "fmt/13"}, Action: Accept, Reason: "PNG: lossless, open ISO standard", Grund: "PNG: verlustfrei, offener ISO-Standard"},
			{PUIDs: []string{"x-fmt/392"}, Action: Accept, Reason: "JPEG 2000 (JP2): open ISO standard for images", Grund: "JPEG 2000 (JP2): offener ISO-Standard für Bilder"},
			{PUIDs: []string{"fmt/291", "fmt/1756", "fmt/295", "fmt/1755", "fmt/293", "fmt/1754", "fmt/297", "fmt/1753"}, Action: Accept,
				Reason: "OpenDocument 1.2/1.3: open ISO standard (ISO/IEC 26300)", Grund: "OpenDocument 1.2/1.3: offener ISO-Standard (ISO/IEC 26300)"},
			{PUIDs: []string{"x-fmt/111", "x-fmt/18", "x-fmt/22"}, Action: Accept, Reason: "plain text and CSV (UTF-8 expected)", Grund: "Text und CSV (UTF-8 erwartet)"},
			{PUIDs: []string{"fmt/101", "fmt/1776", "x-fmt/280"}, Action: Accept, Reason: "XML: open, self-describing", Grund: "XML: offen und selbstbeschreibend"},
			{PUIDs: []string{"fmt/6", "fmt/141", "fmt/142", "fmt/703", "fmt/704", "fmt/705", "fmt/706"}, Action: Accept, Reason: "WAVE audio", Grund: "WAVE-Audio"},
			{PUIDs: []string{"fmt/14", "fmt/15", "fmt/16", "fmt/17", "fmt/18", "fmt/19", "fmt/20", "fmt/276", "fmt/1129"}, Action: Warn,
				Reason: "PDF that does not claim PDF/A: fonts and content may not be embedded; migrate to PDF/A-2", Grund: "PDF ohne PDF/A-Anspruch: Schriften und Inhalte evtl. nicht eingebettet; Migration nach PDF/A-2 empfohlen"},
			{PUIDs: []string{"fmt/412", "fmt/214", "fmt/215", "fmt/1827", "fmt/1828", "fmt/1829"}, Action: Warn,
				Reason: "Office Open XML: keep the original, add a PDF/A rendition", Grund: "Office Open XML: Original behalten, PDF/A-Fassung ergänzen"},
			{PUIDs: []string{"fmt/523", "fmt/445", "fmt/487"}, Action: Warn, Reason: "macro-enabled Office document: active content", Grund: "Office-Dokument mit Makros: aktive Inhalte"},
			{PUIDs: []string{"fmt/37", "fmt/38", "fmt/39", "fmt/40", "fmt/59", "fmt/61", "fmt/62", "fmt/125", "fmt/126", "fmt/45", "fmt/50", "fmt/52", "fmt/53", "fmt/355"}, Action: Warn,
				Reason: "legacy binary Office or RTF: migrate to PDF/A (and ODF)", Grund: "altes Office-Binärformat oder RTF: Migration nach PDF/A (und ODF) empfohlen"},
			{PUIDs: []string{"fmt/42", "fmt/43", "fmt/44", "fmt/41", "fmt/645", "x-fmt/398", "x-fmt/390", "x-fmt/391"}, Action: Warn,
				Reason: "JPEG: lossy, kept as delivered", Grund: "JPEG: verlustbehaftet, wird wie geliefert übernommen"},
			{PUIDs: []string{"fmt/950", "x-fmt/430"}, Action: Warn, Reason: "e-mail: keep, add a PDF/A rendition", Grund: "E-Mail: behalten, PDF/A-Fassung ergänzen"},
			{PUIDs: []string{"x-fmt/263"}, Action: Warn, Reason: "ZIP archive: members are identified but not unpacked; deliver them unpacked", Grund: "ZIP-Archiv: Inhalte werden erkannt, aber nicht entpackt; bitte entpackt liefern"},
			{PUIDs: []string{"fmt/494"}, Action: Reject, Reason: "encrypted Office document: content inaccessible", Grund: "verschlüsseltes Office-Dokument: Inhalt nicht zugänglich"},
			{PUIDs: []string{"x-fmt/409", "x-fmt/410", "x-fmt/411", "x-fmt/413", "fmt/692", "fmt/693", "fmt/694", "fmt/695", "fmt/1070", "fmt/1466", "fmt/1089", "x-fmt/428"}, Action: Reject,
				Reason: "executable or script: not a record", Grund: "ausführbare Datei oder Skript: kein Schriftgut"},
		}}
	p.index()
	return p
}

// Merge returns the default policy with the given rules and settings on
// top: a PUID named in override takes the override's action.
func (p *Policy) Merge(override *Policy) *Policy {
	out := &Policy{Unidentified: p.Unidentified, Encrypted: p.Encrypted, Executable: p.Executable, Malformed: p.Malformed, Default: p.Default}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&out.Unidentified, override.Unidentified)
	set(&out.Encrypted, override.Encrypted)
	set(&out.Executable, override.Executable)
	set(&out.Malformed, override.Malformed)
	set(&out.Default, override.Default)
	out.Rules = append(append([]Rule(nil), override.Rules...), p.Rules...) // earlier rules win
	out.index()
	return out
}

// Check reports problems in a policy (unknown actions, empty rules).
func (p *Policy) Check() []string {
	var errs []string
	ok := func(a string) bool { return a == Accept || a == Warn || a == Reject }
	for name, a := range map[string]string{"unidentified": p.Unidentified, "encrypted": p.Encrypted, "executable": p.Executable, "malformed": p.Malformed, "default": p.Default} {
		if a != "" && !ok(a) {
			errs = append(errs, fmt.Sprintf("policy %s: %q is not accept, warn or reject", name, a))
		}
	}
	for i, r := range p.Rules {
		if len(r.PUIDs) == 0 {
			errs = append(errs, fmt.Sprintf("policy rule %d names no PUID", i+1))
		}
		if !ok(r.Action) {
			errs = append(errs, fmt.Sprintf("policy rule %d (%s): action %q is not accept, warn or reject", i+1, strings.Join(r.PUIDs, ", "), r.Action))
		}
	}
	sort.Strings(errs)
	return errs
}

func (p *Policy) index() {
	p.byPUID = map[string]*Rule{}
	for i := range p.Rules {
		for _, puid := range p.Rules[i].PUIDs {
			if _, seen := p.byPUID[puid]; !seen {
				p.byPUID[puid] = &p.Rules[i]
			}
		}
	}
}

// Decide applies the policy to one identified and validated file. The
// strictest of the applicable verdicts wins.
func (p *Policy) Decide(r Result, v Validation) Decision {
	if p.byPUID == nil {
		p.index()
	}
	var ds []Decision
	if r.Encrypted || v.Encrypted {
		ds = append(ds, Decision{p.Encrypted, "encrypted", "the file is encrypted or password-protected", "die Datei ist verschlüsselt oder passwortgeschützt"})
	}
	if r.Executable {
		ds = append(ds, Decision{p.Executable, "executable", "the file is a program or script", "die Datei ist ein Programm oder Skript"})
	}
	if v.Outcome == Malformed {
		msg := strings.Join(v.Messages, "; ")
		ds = append(ds, Decision{p.Malformed, "malformed", "the file is not well-formed: " + msg, "die Datei ist fehlerhaft aufgebaut: " + German(v.Messages)})
	}
	switch {
	case r.Size == 0 && r.PUID == Unknown:
		// Zero-byte files are records too (a placeholder, an empty
		// attachment): kept, but flagged.
		ds = append(ds, Decision{Warn, "empty", "the file is empty (0 bytes)", "die Datei ist leer (0 Byte)"})
	case r.PUID == Unknown || r.PUID == "":
		ds = append(ds, Decision{p.Unidentified, "unidentified", "the format could not be identified", "das Format konnte nicht bestimmt werden"})
	case p.byPUID[r.PUID] != nil:
		rule := p.byPUID[r.PUID]
		ds = append(ds, Decision{rule.Action, "puid " + r.PUID, rule.Reason, rule.Grund})
	default:
		ds = append(ds, Decision{p.Default, "default", "format " + r.PUID + " (" + r.Name + ") is not named in the policy", "Format " + r.PUID + " (" + r.Name + ") ist in der Richtlinie nicht aufgeführt"})
	}
	if r.Basis == BasisExtension {
		ds = append(ds, Decision{Warn, "extension only", "identified by file name extension only", "nur anhand der Dateiendung bestimmt"})
	}
	best := ds[0]
	for _, d := range ds[1:] {
		if severity(d.Action) > severity(best.Action) {
			best = d
		}
	}
	return best
}

func severity(a string) int {
	switch a {
	case Reject:
		return 2
	case Warn:
		return 1
	}
	return 0
}
