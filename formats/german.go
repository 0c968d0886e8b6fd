package formats

import (
	"regexp"
	"strings"
	"sync"
)

// The validators' findings in German, for the Grund of a decision: a
// records manager reads the reason in one language throughout. A finding
// this table does not know (an external validator's own words) is given
// as it is, marked as the tool's wording.
//
// Compiled on first use: a command that never explains a finding in
// German does not pay for some 40 regular expressions at every start.
var germanFindings = sync.OnceValue(func() []germanFinding {
	return []germanFinding{
		{regexp.MustCompile(`^no %PDF-x\.y header in the first 1024 bytes$`), "kein %PDF-Kopf in den ersten 1024 Bytes"},
		{regexp.MustCompile(`^no %%EOF marker in the last 4096 bytes$`), "keine %%EOF-Marke in den letzten 4096 Bytes"},
		{regexp.MustCompile(`^no startxref before the final %%EOF$`), "kein startxref vor dem letzten %%EOF"},
		{regexp.MustCompile(`^startxref offset (\S+) lies outside the file \((\d+) bytes\)$`), "startxref-Versatz $1 liegt außerhalb der Datei ($2 Bytes)"},
		{regexp.MustCompile(`^file shorter than the 8-byte TIFF header$`), "Datei kürzer als der 8 Byte lange TIFF-Kopf"},
		{regexp.MustCompile(`^not classic TIFF \(magic 42.*$`), "kein klassisches TIFF (Kennung 42 fehlt)"},
		{regexp.MustCompile(`^more than (\d+) IFDs$`), "mehr als $1 IFDs"},
		{regexp.MustCompile(`^IFD at offset (\d+) is visited twice \(loop\)$`), "IFD bei Versatz $1 wird zweimal erreicht (Schleife)"},
		{regexp.MustCompile(`^IFD (\d+) offset (\d+) lies outside the file$`), "IFD $1: Versatz $2 liegt außerhalb der Datei"},
		{regexp.MustCompile(`^IFD (\d+) declares (\d+) entries, which do not fit in the file$`), "IFD $1 gibt $2 Einträge an, die nicht in die Datei passen"},
		{regexp.MustCompile(`^expected a marker at offset (\d+), found (0x[0-9A-F]+)$`), "bei Versatz $1 fehlt eine Marke (gefunden: $2)"},
		{regexp.MustCompile(`^EOI before any image scan$`), "Bildende (EOI) vor jedem Bilddaten-Abschnitt"},
		{regexp.MustCompile(`^segment (0x[0-9A-F]+) at (\d+) declares (\d+) bytes past the end of the file$`), "Segment $1 bei $2 reicht $3 Bytes über das Dateiende hinaus"},
		{regexp.MustCompile(`^no start-of-scan \(SOS\).*$`), "kein Bilddaten-Abschnitt (SOS)"},
		{regexp.MustCompile(`^no end-of-image \(EOI\).*$`), "kein Bildende (EOI)"},
		{regexp.MustCompile(`^truncated: chunk header at (\d+) runs past the end$`), "abgeschnitten: Chunk-Kopf bei $1 reicht über das Dateiende"},
		{regexp.MustCompile(`^chunk (".*") at (\d+) declares (\d+) bytes past the end$`), "Chunk $1 bei $2 reicht $3 Bytes über das Dateiende"},
		{regexp.MustCompile(`^first chunk is (.*), not IHDR$`), "erster Chunk ist $1 statt IHDR"},
		{regexp.MustCompile(`^chunk (".*") at (\d+) has a wrong CRC$`), "Chunk $1 bei $2 hat eine falsche Prüfsumme (CRC)"},
		{regexp.MustCompile(`^no IEND chunk$`), "kein IEND-Chunk"},
		{regexp.MustCompile(`^central directory unreadable: (.*)$`), "zentrales Verzeichnis unlesbar: $1"},
		{regexp.MustCompile(`^more than (\d+) entries$`), "mehr als $1 Einträge"},
		{regexp.MustCompile(`^entry (".*") lies outside the file$`), "Eintrag $1 liegt außerhalb der Datei"},
		{regexp.MustCompile(`^more than one root element$`), "mehr als ein Wurzelelement"},
		{regexp.MustCompile(`^elements nested deeper than (\d+)$`), "Elemente tiefer als $1 Ebenen verschachtelt"},
		{regexp.MustCompile(`^no root element$`), "kein Wurzelelement"},
		{regexp.MustCompile(`^unclosed elements at the end$`), "nicht geschlossene Elemente am Ende"},
		{regexp.MustCompile(`^text ends inside a UTF-8 sequence$`), "Text endet mitten in einem UTF-8-Zeichen"},
		{regexp.MustCompile(`^not valid UTF-8 at byte (\d+) \(another encoding such as windows-1252\?\)$`), "kein gültiges UTF-8 bei Byte $1 (andere Kodierung, etwa windows-1252?)"},
		{regexp.MustCompile(`^XML syntax error on line (\d+): (.*)$`), "XML-Syntaxfehler in Zeile $1: $2"},
		{regexp.MustCompile(`^document is encrypted.*$`), "Dokument ist verschlüsselt"},
		{regexp.MustCompile(`^archive has encrypted entries$`), "Archiv enthält verschlüsselte Einträge"},
		{regexp.MustCompile(`^ODF mimetype entry is compressed.*$`), "ODF-Eintrag mimetype ist komprimiert (ODF verlangt ihn unkomprimiert)"},
	}
})

type germanFinding struct {
	re *regexp.Regexp
	de string
}

// German renders validator findings in German.
func German(msgs []string) string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = "Befund des Prüfwerkzeugs (im Wortlaut): " + m
		for _, g := range germanFindings() {
			if g.re.MatchString(m) {
				out[i] = g.re.ReplaceAllString(m, g.de)
				break
			}
		}
	}
	return strings.Join(out, "; ")
}
