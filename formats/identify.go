// Package formats identifies what a file is (MIME type and PRONOM PUID),
// checks whether it is well-formed, and applies the archive's format
// policy. It imports nothing of archivd's.
package formats

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
)

// Basis says what an identification rests on, strongest first.
const (
	BasisContainer = "container" // container signature (ZIP/OLE2 entries)
	BasisSignature = "signature" // internal byte signature
	BasisExtension = "extension" // file name extension only: weak
	BasisText      = "text"      // no signature, but the content is plain text
	BasisNone      = "none"
)

// Result is the identification of one file.
type Result struct {
	Path          string   `json:"path"`
	Size          int64    `json:"size"`
	PUID          string   `json:"puid"` // "UNKNOWN" when nothing matched
	Name          string   `json:"format_name"`
	Version       string   `json:"format_version"`
	MIME          string   `json:"mime"`
	Basis         string   `json:"basis"`
	IdentifiedBy  string   `json:"identified_by,omitempty"` // set when the built-in set stood in for PRONOM
	Candidates    []string `json:"candidates,omitempty"`    // other PUIDs that matched equally
	Warnings      []string `json:"warnings,omitempty"`
	PDFAClaim     string   `json:"pdfa_claim,omitempty"` // e.g. "PDF/A-2b (claimed, not validated against ISO 19005)"
	Encrypted     bool     `json:"encrypted,omitempty"`
	Executable    bool     `json:"executable,omitempty"` // program or script, by magic number
	Validity      string   `json:"validity"`             // well-formed, malformed, not checked
	ValidityNotes []string `json:"validity_notes,omitempty"`
	BytesRead     int64    `json:"bytes_read"`
	Members       []Result `json:"members,omitempty"` // identified members of a ZIP
}

// Unknown is the PUID of a file nothing matched.
const Unknown = "UNKNOWN"

// Identifier identifies files against a signature set.
type Identifier struct {
	sigs      *signatureSet
	cont      *containerSet
	Source    string // "DROID_SignatureFile_V122.xml" or "built-in"
	Version   string // signature file version
	SHA256    string // of the signature file, "" for the built-in set
	ContVer   string
	ContSHA   string
	MaxScan   int64 // cap for full-file scans
	MemberCap int   // max ZIP members identified
	builtin   bool
	// Where the files were read from ("" for the shipped ones), and the
	// container file's name.
	Path, ContPath, ContSource string
	// fallback identifies what no signature here matches (the built-in
	// set beside PRONOM: formats PRONOM cannot see, such as plain text).
	fallback func() *Identifier
}

// LoadDROID loads a DROID signature file and optionally a container
// signature file ("" for none).
func LoadDROID(sigPath, containerPath string) (*Identifier, error) {
	f, err := os.Open(sigPath)
	if err != nil {
		return nil, fmt.Errorf("signature file: %w", err)
	}
	defer f.Close()
	h := newSHA256Reader(f)
	ss, err := parseSignatureFile(h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sigPath, err)
	}
	id := &Identifier{sigs: ss, Source: filepath.Base(sigPath), Version: ss.version, SHA256: h.sum()}
	if containerPath != "" {
		cf, err := os.Open(containerPath)
		if err != nil {
			return nil, fmt.Errorf("container signature file: %w", err)
		}
		defer cf.Close()
		ch := newSHA256Reader(cf)
		cs, err := parseContainerFile(ch)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", containerPath, err)
		}
		id.cont, id.ContVer, id.ContSHA = cs, cs.version, ch.sum()
	}
	id.init()
	return id, nil
}

func (id *Identifier) init() {
	if !id.sigs.indexed {
		id.sigs.index()
	}
	if id.MaxScan == 0 {
		id.MaxScan = 64 << 20
	}
	if id.MemberCap == 0 {
		id.MemberCap = 10000
	}
}

// over reports whether format a has priority over format b, directly or
// through a chain (DROID looks one level deep; the chain is safer). Asked
// only for the few formats that matched one file, so it is not
// precomputed: a start that identifies one file does not pay for the
// closure over all 2,500 formats.
func (id *Identifier) over(a, b int) bool {
	// Priority chains are short: a few formats on the stack, no map.
	var seenBuf, stackBuf [32]int
	seen, stack := seenBuf[:0], append(stackBuf[:0], a)
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		fm := id.sigs.formats[f]
		if fm == nil {
			continue
		}
		for _, o := range fm.over {
			if o == b {
				return true
			}
			if !slices.Contains(seen, o) {
				seen = append(seen, o)
				stack = append(stack, o)
			}
		}
	}
	return false
}

// IdentifyFile identifies the file at path.
func (id *Identifier) IdentifyFile(path string) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Result{}, err
	}
	if !st.Mode().IsRegular() {
		return Result{}, fmt.Errorf("%s: not a regular file", path)
	}
	return id.Identify(f, st.Size(), filepath.Base(path))
}

// Identify identifies size bytes readable from r; name gives the extension.
func (id *Identifier) Identify(r io.ReaderAt, size int64, name string) (Result, error) {
	res := Result{Path: name, Size: size, PUID: Unknown, Basis: BasisNone, Validity: "not checked"}
	src, err := newSource(r, size, id.sigs.bofWin, id.sigs.eofWin, id.MaxScan)
	if err != nil {
		return res, err
	}
	defer src.release()
	res.MIME = detectMIME(src)
	res.Executable = isExecutable(src.bof)
	hits := id.matchSignatures(src)
	basis := BasisSignature
	if id.cont != nil && id.isContainerCandidate(src, hits) {
		chits, members, warn := id.matchContainer(r, size, src)
		res.Warnings = append(res.Warnings, warn...)
		res.Members = members
		if len(chits) > 0 {
			hits, basis = chits, BasisContainer
		}
	}
	hits = id.prune(hits)
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	if len(hits) == 0 {
		// An extension alone names a format only when exactly one format
		// claims it and that format has no signature that could have
		// confirmed it (CSV is the classic case); otherwise the
		// candidates are listed and the file stays unidentified.
		cands := id.prune(id.sigs.byExt[ext])
		var unsigned []int
		textCand := false
		for _, c := range cands {
			res.Candidates = append(res.Candidates, id.sigs.formats[c].PUID)
			if !id.hasSignature(c) {
				unsigned = append(unsigned, c)
			}
			textCand = textCand || id.sigs.formats[c].PUID == plainTextPUID
		}
		sort.Strings(res.Candidates)
		switch {
		case (len(cands) == 0 || textCand) && isText(src):
			if f := id.sigs.byPUID[plainTextPUID]; f != nil {
				hits, basis = []int{f.ID}, BasisText
			}
		case len(unsigned) == 1:
			hits, basis = unsigned, BasisExtension
			res.Warnings = append(res.Warnings, "match on extension only")
		}
		if len(hits) > 0 {
			res.Candidates = nil
		}
	}
	if src.capped {
		res.Warnings = append(res.Warnings, fmt.Sprintf("content scan limited to the first %d MiB", id.MaxScan>>20))
	}
	res.BytesRead = src.bytes
	if len(hits) == 0 {
		if id.fallback != nil {
			// What PRONOM cannot see (an SVG without an XML declaration, a
			// format PRONOM has no signature for), the built-in set may.
			fr, err := id.fallback().Identify(r, size, name)
			if err == nil && fr.PUID != Unknown {
				fr.Warnings = append(res.Warnings, fr.Warnings...)
				fr.Members = append(res.Members, fr.Members...)
				fr.BytesRead += res.BytesRead
				fr.IdentifiedBy = "archivd built-in set: no PRONOM signature matched"
				return fr, nil
			}
		}
		return res, nil
	}
	if isPDF(src) {
		if err := src.readFull(); err == nil {
			if c := PDFAClaim(src.full); c != "" {
				res.PDFAClaim = c + " (claimed in XMP metadata, not validated against ISO 19005)"
				// The built-in set has no PDF/A signatures: the claim is what
				// PRONOM's PDF/A signatures look for too.
				if f := id.sigs.byPUID[pdfClaimPUID[c]]; id.builtin && f != nil {
					hits = []int{f.ID}
				}
			}
		}
	}
	best := id.choose(hits, ext)
	f := id.sigs.formats[best]
	res.PUID, res.Name, res.Version, res.Basis = f.PUID, f.Name, f.Version, basis
	if res.MIME == "" || res.MIME == "application/octet-stream" {
		res.MIME = strings.TrimSpace(strings.Split(f.MIME, ",")[0])
	}
	for _, h := range hits {
		if h != best {
			res.Candidates = append(res.Candidates, id.sigs.formats[h].PUID)
		}
	}
	sort.Strings(res.Candidates)
	if basis != BasisExtension && ext != "" && !contains(f.Extensions, ext) && len(f.Extensions) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("extension .%s does not match %s (expected .%s)", ext, f.PUID, strings.Join(f.Extensions, ", .")))
	}
	return res, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// matchSignatures returns the format ids whose internal signatures match.
func (id *Identifier) matchSignatures(src *source) []int {
	var hits []int
	try := func(sigs []*signature) {
		for _, sig := range sigs {
			if !id.matchSig(src, sig) {
				continue
			}
			for _, fid := range id.sigs.bySig[sig.id] {
				if !slices.Contains(hits, fid) { // a handful of hits
					hits = append(hits, fid)
				}
			}
		}
	}
	try(id.sigs.rest)
	if len(src.bof) > 0 {
		try(id.sigs.byFirst[src.bof[0]])
	}
	return hits
}

// matchSig checks bounded sequences first, so a full read happens only
// for signatures whose cheap parts already match.
func (id *Identifier) matchSig(src *source, sig *signature) bool {
	if !sig.passes(src) {
		return false
	}
	seqs, ok := sig.sequences()
	if !ok {
		return false
	}
	b := &src.budget // one per source: no allocation for each of the ~400 signatures tried
	*b = budget{}
	for i := range seqs {
		if seqs[i].bounded() && !src.matchSeq(&seqs[i], b) {
			return false
		}
	}
	if !sig.bounded {
		if err := src.readFull(); err != nil {
			return false
		}
		for i := range seqs {
			if !seqs[i].bounded() && !src.matchSeq(&seqs[i], b) {
				return false
			}
		}
	}
	return true
}

// prune removes formats that another hit has priority over.
func (id *Identifier) prune(hits []int) []int {
	var out []int
	for _, h := range hits {
		dominated := false
		for _, o := range hits {
			if o != h && id.over(o, h) && !id.over(h, o) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, h)
		}
	}
	return out
}

// choose picks the reported format among equals: one whose extension
// matches the file name, else the lowest format id (stable).
func (id *Identifier) choose(hits []int, ext string) int {
	sort.Ints(hits)
	for _, h := range hits {
		if contains(id.sigs.formats[h].Extensions, ext) {
			return h
		}
	}
	return hits[0]
}

// mimetype looks at 4 KiB by default, too little to tell OLE2 Word from
// PowerPoint; archivd gives it 64 KiB (a process-wide setting of the library).
func init() { mimetype.SetLimit(64 << 10) }

// detectMIME uses mimetype on the first 64 KiB (enough to tell OLE2 Word
// from PowerPoint).
func detectMIME(src *source) string {
	head := src.bof
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	m := mimetype.Detect(head)
	return strings.Split(m.String(), ";")[0]
}

// Format returns a format by PUID.
func (id *Identifier) Format(puid string) *Format { return id.sigs.byPUID[puid] }

// plainTextPUID is PRONOM's "Plain Text File".
const plainTextPUID = "x-fmt/111"

// hasSignature reports whether a format has an internal or container signature.
func (id *Identifier) hasSignature(fid int) bool {
	f := id.sigs.formats[fid]
	if len(f.sigs) > 0 {
		return true
	}
	if id.cont != nil {
		for _, c := range id.cont.sigs {
			for _, p := range c.puids {
				if p == f.PUID {
					return true
				}
			}
		}
	}
	return false
}

// isText reports whether the file looks like text: valid UTF-8 (or
// ASCII) without NUL bytes and with few control characters, judged on
// the first 64 KiB.
func isText(src *source) bool {
	b := src.bof
	if len(b) == 0 {
		return false
	}
	if len(b) > 64<<10 {
		b = b[:64<<10]
	}
	ctl := 0
	for _, c := range b {
		if c == 0 {
			return false
		}
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
			ctl++
		}
	}
	if ctl*100 > len(b) {
		return false
	}
	// Tolerate a rune cut at the window's end.
	for i := 0; i < 3 && !utf8.Valid(b) && len(b) > 0; i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

func isPDF(src *source) bool {
	n := min(len(src.bof), 1024)
	return bytes.Contains(src.bof[:n], []byte("%PDF-"))
}

// isExecutable recognises programs by their magic numbers, whatever the
// signature file says: PE/MS-DOS (MZ), ELF, Mach-O, and scripts (#!).
func isExecutable(b []byte) bool {
	for _, m := range [][]byte{[]byte("MZ"), []byte("\x7fELF"), {0xFE, 0xED, 0xFA, 0xCE}, {0xFE, 0xED, 0xFA, 0xCF},
		{0xCE, 0xFA, 0xED, 0xFE}, {0xCF, 0xFA, 0xED, 0xFE}, []byte("#!/")} {
		if bytes.HasPrefix(b, m) {
			return true
		}
	}
	return false
}

// Describe names the signature files in use, with their versions and
// digests, for reports that must say what produced them.
func (id *Identifier) Describe() string {
	s := fmt.Sprintf("signatures: %s (version %s", id.Source, id.Version)
	if id.SHA256 != "" {
		s += ", sha256 " + id.SHA256
	}
	s += ")"
	if id.ContVer != "" && id.ContSHA != "" {
		s += fmt.Sprintf("; container signatures version %s, sha256 %s", id.ContVer, id.ContSHA)
	}
	if id.fallback != nil {
		s += "; archivd's built-in set for what they cannot identify"
	}
	return s
}

// WriteOrigin writes which signature files are in use (version, digest,
// where from) and the fallback, as archivd signatures shows them.
func (id *Identifier) WriteOrigin(w io.Writer) {
	sig, cont := id.Origin()
	fmt.Fprintf(w, "signature file:           %s, version %s\n  sha256 %s\n  from %s\n", id.Source, id.Version, id.SHA256, sig)
	if id.ContVer != "" {
		fmt.Fprintf(w, "container signature file: %s, version %s\n  sha256 %s\n  from %s\n", id.ContSource, id.ContVer, id.ContSHA, cont)
	}
	fmt.Fprintf(w, "fallback:                 archivd's built-in set (%s), for what PRONOM cannot identify\n", Builtin().Version)
	fmt.Fprintln(w, "Every identification records the signature files and versions it used (PREMIS, catalog).")
}

// Origin says where the signature files were read from.
func (id *Identifier) Origin() (sig, cont string) {
	sig, cont = id.Path, id.ContPath
	if sig == "" && !id.builtin {
		sig = "shipped with archivd (PRONOM, Open Government Licence v3.0)"
	}
	if cont == "" && id.cont != nil {
		cont = "shipped with archivd (PRONOM, Open Government Licence v3.0)"
	}
	return sig, cont
}
