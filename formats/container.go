package formats

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/richardlehane/mscfb"
)

// Limits on container work, so zip bombs and huge OLE2 files end in a
// clear outcome.
const (
	maxEntryRead     = 8 << 20   // bytes of one entry read for signature matching
	maxMemberIdent   = 16 << 20  // members larger than this are listed, not identified
	maxMemberTotal   = 256 << 20 // decompressed bytes read for members per container
	maxCompressRatio = 200       // a member expanding more than this is treated as a bomb
)

type containerSig struct {
	id    int
	typ   string // ZIP or OLE2
	files []containerFile
	puids []string
}

type containerFile struct {
	path string
	sigs []*signature
}

type containerSet struct {
	version string
	sigs    []*containerSig
	trigger map[string]string // PUID -> container type
}

type xmlContainerFile struct {
	Version string `xml:"signatureVersion,attr"`
	Sigs    []struct {
		ID    int    `xml:"Id,attr"`
		Type  string `xml:"ContainerType,attr"`
		Files []struct {
			Path string   `xml:"Path"`
			Sigs []xmlSig `xml:"BinarySignatures>InternalSignatureCollection>InternalSignature"`
		} `xml:"Files>File"`
	} `xml:"ContainerSignatures>ContainerSignature"`
	Mappings []struct {
		SigID int    `xml:"signatureId,attr"`
		PUID  string `xml:"Puid,attr"`
	} `xml:"FileFormatMappings>FileFormatMapping"`
	Triggers []struct {
		Type string `xml:"ContainerType,attr"`
		PUID string `xml:"Puid,attr"`
	} `xml:"TriggerPuids>TriggerPuid"`
}

func parseContainerFile(r io.Reader) (*containerSet, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSignatureFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSignatureFile {
		return nil, fmt.Errorf("container signature file too large")
	}
	var x xmlContainerFile
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&x); err != nil {
		return nil, fmt.Errorf("container signature file: %w", err)
	}
	cs := &containerSet{version: x.Version, trigger: map[string]string{}}
	byID := map[int]*containerSig{}
	for _, xs := range x.Sigs {
		c := &containerSig{id: xs.ID, typ: strings.ToUpper(xs.Type)}
		seen := map[string]int{}
		for _, xf := range xs.Files {
			cf := containerFile{path: strings.TrimRight(xf.Path, "\x00")}
			for _, isig := range xf.Sigs {
				s, err := compileSig(isig)
				if err != nil {
					return nil, fmt.Errorf("container signature %d, %s: %w", xs.ID, xf.Path, err)
				}
				cf.sigs = append(cf.sigs, s)
			}
			// A path given twice: the later entry replaces the earlier.
			if i, dup := seen[cf.path]; dup {
				c.files[i] = cf
				continue
			}
			seen[cf.path] = len(c.files)
			c.files = append(c.files, cf)
		}
		cs.sigs = append(cs.sigs, c)
		byID[c.id] = c
	}
	for _, m := range x.Mappings {
		if c := byID[m.SigID]; c != nil {
			c.puids = append(c.puids, m.PUID)
		}
	}
	for _, t := range x.Triggers {
		cs.trigger[t.PUID] = strings.ToUpper(t.Type)
	}
	return cs, nil
}

var (
	zipMagic  = []byte("PK\x03\x04")
	ole2Magic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

func (id *Identifier) isContainerCandidate(src *source, hits []int) bool {
	if bytes.HasPrefix(src.bof, zipMagic) || bytes.HasPrefix(src.bof, ole2Magic) {
		return true
	}
	for _, h := range hits {
		if _, ok := id.cont.trigger[id.sigs.formats[h].PUID]; ok {
			return true
		}
	}
	return false
}

// entryReader gives access to the entries of one container.
type entryReader struct {
	typ     string
	names   map[string]bool
	read    func(name string, limit int64) ([]byte, error)
	zipFile *zip.Reader
}

func openContainer(r io.ReaderAt, size int64, head []byte) (*entryReader, error) {
	switch {
	case bytes.HasPrefix(head, zipMagic):
		zr, err := zip.NewReader(r, size)
		if err != nil {
			return nil, err
		}
		er := &entryReader{typ: "ZIP", names: map[string]bool{}, zipFile: zr}
		files := map[string]*zip.File{}
		for _, f := range zr.File {
			name := strings.TrimRight(f.Name, "\x00")
			er.names[name] = true
			files[name] = f
		}
		er.read = func(name string, limit int64) ([]byte, error) {
			f := files[name]
			if f == nil {
				return nil, io.ErrUnexpectedEOF
			}
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			return io.ReadAll(io.LimitReader(rc, limit))
		}
		return er, nil
	case bytes.HasPrefix(head, ole2Magic):
		doc, err := mscfb.New(r)
		if err != nil {
			return nil, err
		}
		er := &entryReader{typ: "OLE2", names: map[string]bool{}}
		data := map[string]*mscfb.File{}
		for e, err := doc.Next(); err == nil; e, err = doc.Next() {
			p := strings.Join(append(append([]string(nil), e.Path...), e.Name), "/")
			p = cleanOLEName(p)
			er.names[p] = true
			data[p] = e
		}
		er.read = func(name string, limit int64) ([]byte, error) {
			e := data[name]
			if e == nil {
				return nil, io.ErrUnexpectedEOF
			}
			n := min(e.Size, limit)
			buf := make([]byte, n)
			k, err := e.ReadAt(buf, 0)
			if err != nil && err != io.EOF && k < len(buf) {
				return buf[:k], nil
			}
			return buf[:k], nil
		}
		return er, nil
	}
	return nil, fmt.Errorf("not a ZIP or OLE2 container")
}

// cleanOLEName strips the control characters OLE2 puts before special
// stream names (\x01CompObj, \x05SummaryInformation).
func cleanOLEName(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = strings.TrimLeftFunc(s, func(r rune) bool { return r < 0x20 })
	}
	return strings.Join(parts, "/")
}

// matchContainer runs the container signatures. It also identifies the
// members of a plain ZIP.
func (id *Identifier) matchContainer(r io.ReaderAt, size int64, src *source) ([]int, []Result, []string) {
	er, err := openContainer(r, size, src.bof)
	if err != nil {
		return nil, nil, []string{"container unreadable: " + err.Error()}
	}
	var hits []int
	seen := map[int]bool{}
	cache := map[string]*source{}
	entry := func(name string) *source {
		if s, ok := cache[name]; ok {
			return s
		}
		b, err := er.read(name, maxEntryRead)
		var s *source
		if err == nil {
			s = &source{bof: b, eof: b, full: b, fullRead: true, size: int64(len(b))}
		}
		cache[name] = s
		return s
	}
	for _, c := range id.cont.sigs {
		if c.typ != er.typ || !containerMatches(c, er, entry) {
			continue
		}
		for _, p := range c.puids {
			if f := id.sigs.byPUID[p]; f != nil && !seen[f.ID] {
				seen[f.ID] = true
				hits = append(hits, f.ID)
			}
		}
	}
	var members []Result
	var warns []string
	if len(hits) == 0 && er.zipFile != nil {
		members, warns = id.zipMembers(er.zipFile)
	}
	return hits, members, warns
}

func containerMatches(c *containerSig, er *entryReader, entry func(string) *source) bool {
	for _, f := range c.files {
		if !er.names[f.path] {
			return false
		}
		if len(f.sigs) == 0 {
			continue
		}
		s := entry(f.path)
		if s == nil {
			return false
		}
		ok := false
		for _, sig := range f.sigs {
			b := &budget{}
			seqs, all := sig.sequences()
			for i := range seqs {
				if !s.matchSeq(&seqs[i], b) {
					all = false
					break
				}
			}
			if all {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// zipMembers identifies the files inside a ZIP without unpacking them to
// disk, within the container limits.
func (id *Identifier) zipMembers(zr *zip.Reader) ([]Result, []string) {
	var out []Result
	var warns []string
	var total int64
	files := append([]*zip.File(nil), zr.File...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for i, f := range files {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if i >= id.MemberCap {
			warns = append(warns, fmt.Sprintf("only the first %d members identified", id.MemberCap))
			break
		}
		m := Result{Path: f.Name, PUID: Unknown, Basis: BasisNone, Validity: "not checked"}
		switch {
		case f.Flags&0x1 != 0:
			m.Encrypted = true
			m.Warnings = append(m.Warnings, "member is encrypted")
		case f.UncompressedSize64 > maxMemberIdent:
			m.Warnings = append(m.Warnings, fmt.Sprintf("member larger than %d MiB: not identified", maxMemberIdent>>20))
		case f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > maxCompressRatio:
			m.Warnings = append(m.Warnings, "member expands more than 200-fold: possible zip bomb, not identified")
		case total+int64(f.UncompressedSize64) > maxMemberTotal:
			m.Warnings = append(m.Warnings, "container member budget used up: not identified")
		default:
			rc, err := f.Open()
			if err != nil {
				m.Warnings = append(m.Warnings, "member unreadable: "+err.Error())
				break
			}
			b, err := io.ReadAll(io.LimitReader(rc, maxMemberIdent+1))
			rc.Close()
			total += int64(len(b))
			if err != nil {
				m.Warnings = append(m.Warnings, "member unreadable: "+err.Error())
				break
			}
			res, err := id.Identify(bytes.NewReader(b), int64(len(b)), path.Base(f.Name))
			if err == nil {
				res.Path = f.Name
				res.Members = nil // one level deep
				m = res
			}
		}
		out = append(out, m)
	}
	return out, warns
}
