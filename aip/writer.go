package aip

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/archivd/archivd/digest"
)

// FormatVersion is the AIP format this code writes; see docs/aip-format.md.
const FormatVersion = 2

// ProfileIdentifier names the BagIt profile AIP format 2 packages follow.
const ProfileIdentifier = "https://archivd.org/profiles/aip-format-2.json"

//go:embed AIP-FORMAT.md
var formatDoc []byte

// FormatDoc returns the text stored in every package as
// data/documentation/AIP-FORMAT.md.
func FormatDoc() []byte { return bytes.Clone(formatDoc) }

// Metadata describes a case file; it comes from the sidecar or from the
// configured defaults.
type Metadata struct {
	Title       string
	Reference   string // Aktenzeichen
	Agency      string // abgebende Stelle
	RecordClass string // Aktenplan / record class
	Opened      string // civil date YYYY-MM-DD, or ""
	Closed      string // civil date YYYY-MM-DD, or ""
	Extra       map[string]string
}

// Event is a PREMIS event recorded in the package.
type Event struct {
	ID      string // UUID
	Type    string // PREMIS event type label, e.g. "ingestion"
	Time    time.Time
	Outcome string // "success" or "failure"
	Detail  string
}

// Record is the persisted ingest record: everything that is not read from
// the input but decided by archivd. The package bytes are a function of the
// input, the record and the pinned library versions.
type Record struct {
	ID           ID
	Version      int
	Created      time.Time // ingest time, also the mtime of generated files
	Zone         *time.Location
	Organization string // Source-Organization
	Software     string // e.g. "archivd"
	SoftVersion  string
	Events       []Event
	// Origin names the delivery the case came from (the folder ingested,
	// or "inbox <name>/<case>"): kept in bag-info.txt so that once-only
	// survives the loss of the catalog.
	Origin string
	// Retention is the retention decided at ingest (nil: no class).
	Retention *Retention
}

// Retention is how long the AIP is kept, as decided at ingest: recorded in
// bag-info.txt (Retention-*) and in PREMIS as a rights statement.
type Retention struct {
	Class       string
	Period      string // "10 years" or "permanent"
	Trigger     string // closed or ingest
	TriggerDate string // YYYY-MM-DD
	Ends        string // last day kept, YYYY-MM-DD; "" when permanent
	Action      string // destroy, offer, review
	LockMode    string // Object Lock mode of the copies until Ends ("" the location's)
	Basis       string // how the dates were found, in words
}

// FormatInfo is what format identification found for one file; aip
// records it in METS and PREMIS without knowing how it was found.
type FormatInfo struct {
	PUID, Name, Version, MIME string
	Basis                     string // signature, container, extension, text, none
	Validity                  string // well-formed, malformed, not checked
	PDFAClaim                 string
}

// InputFile is one original file. Open must return exactly Size bytes and
// fail on Close if the file changed while it was read.
type InputFile struct {
	Path    string // relative path with '/' separators, as delivered (any bytes)
	Size    int64
	ModTime time.Time
	Open    func() (io.ReadCloser, error)
	Format  *FormatInfo // nil when not identified
}

// Sidecar is the descriptive metadata file as delivered.
type Sidecar struct {
	Name    string
	Data    []byte
	ModTime time.Time
}

// Input is a case file ready for packaging.
type Input struct {
	Files     []InputFile
	EmptyDirs []string
	// DirTimes holds the modification time of every folder of the case
	// (empty or not) by original relative path; each becomes a tar folder
	// entry with that time, so export and tar restore folder times.
	DirTimes map[string]time.Time
	Sidecar  *Sidecar
	Meta     Metadata
	// Seen, if set, is told of each original file once it is packed: its
	// index in Files and, for a file of at most SeenMax bytes, its bytes as
	// read for the package (Seen may keep them); nil for a larger file,
	// which was streamed. Format identification runs on the same read.
	Seen func(i int, data []byte)
	// Identified, if set, is called after the last original file is
	// packed and before PREMIS and METS are written: it waits for the
	// files' identification, sets their Format and returns the events to
	// record with it. Its error ends the packaging.
	Identified func(files []InputFile) ([]Event, error)
}

// SeenMax is the largest file the packager reads whole and hands to
// Input.Seen.
const SeenMax = 1 << 20

// Options tune compression; they do not change the bag.
type Options struct {
	Level     int // 1 fastest .. 4 best; 0 means 2
	FrameSize int // uncompressed bytes per zstd frame; 0 means DefaultFrameSize
	// TempDir holds PREMIS and METS while they are written, before they go
	// into the package; "" means the system's temporary folder.
	TempDir string
}

// Member kinds.
const (
	KindPayload  = "payload"  // an original file
	KindDir      = "dir"      // an empty original folder
	KindMetadata = "metadata" // generated or delivered metadata under data/
	KindTag      = "tag"      // a BagIt tag file
)

// Member describes one entry of a package.
type Member struct {
	Path     string // relative to the package root, e.g. data/METS.xml
	Original string // original relative path (payload and dirs)
	Kind     string
	Size     int64
	ModTime  time.Time
	Digests  digest.Pair
	Offset   int64 // offset of the member's data in the uncompressed tar
	Frame    int   // zstd frame holding Offset
	Format   *FormatInfo
}

// Result is what Write produced.
type Result struct {
	Package     digest.Pair
	Size        int64
	Frames      []Frame
	Members     []Member
	PayloadOxum string
	// Small holds the tag files stored beside the package, by path relative
	// to the package root: bag-info.txt.
	Small map[string][]byte
}

// Tag file names, in package order.
const (
	TagBagIt        = "bagit.txt"
	TagBagInfo      = "bag-info.txt"
	TagManifest512  = "manifest-sha512.txt"
	TagManifest256  = "manifest-sha256.txt"
	TagPaths        = "original-paths.txt"
	TagTagMan512    = "tagmanifest-sha512.txt"
	TagTagMan256    = "tagmanifest-sha256.txt"
	PathMETS        = "data/METS.xml"
	PathPREMIS      = "data/metadata/preservation/premis.xml"
	PathDescriptive = "data/metadata/descriptive/"
	PathFormatDoc   = "data/documentation/AIP-FORMAT.md"
)

const bagitTxt = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"

// planned is a payload entry after name mapping.
type planned struct {
	bagPath string
	file    *InputFile
	index   int    // of file in Input.Files
	dir     string // original path of an empty dir
}

// Plan maps every original path to its bag path and refuses what cannot be
// archived; it is run before anything is written.
func Plan(in Input) ([]planned, error) {
	var errs []error
	var out []planned
	seen := map[string]string{}
	add := func(orig string, p planned) {
		safe, _, err := MapPath(orig)
		if err != nil {
			errs = append(errs, err)
			return
		}
		p.bagPath = RepresentationDir + safe
		if other, dup := seen[p.bagPath]; dup {
			errs = append(errs, &PathError{orig, fmt.Sprintf("maps to the same archive name as %q", other)})
			return
		}
		seen[p.bagPath] = orig
		out = append(out, p)
	}
	for i := range in.Files {
		add(in.Files[i].Path, planned{file: &in.Files[i], index: i})
	}
	dirs := map[string]bool{}
	for _, d := range in.EmptyDirs {
		dirs[d] = true
	}
	for d := range in.DirTimes {
		dirs[d] = true
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		add(d, planned{dir: d})
	}
	if len(in.Files) == 0 && len(in.EmptyDirs) == 0 {
		errs = append(errs, errors.New("the case file contains no files"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].bagPath < out[j].bagPath })
	return out, nil
}

// packer writes members into the tar stream and remembers them.
type packer struct {
	ctx  context.Context
	root string
	tw   *tar.Writer
	sw   *seekableWriter
	res  *Result
	seen func(i int, data []byte)
	hash *hasher
}

// hasher computes the digests of small files on its own goroutine while
// the packer goes on reading and packing: on a case of many small files
// hashing is a third of the packer's work.
type hasher struct {
	jobs    chan hashJob
	digests []digest.Pair // by plan entry
	done    chan struct{}
	closed  bool
}

type hashJob struct {
	k    int
	data []byte
}

func newHasher(entries int) *hasher {
	h := &hasher{jobs: make(chan hashJob, 64), digests: make([]digest.Pair, entries), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for j := range h.jobs {
			h.digests[j.k] = digest.Of(j.data)
		}
	}()
	return h
}

// wait returns once every digest is computed; safe to call again.
func (h *hasher) wait() {
	if !h.closed {
		h.closed = true
		close(h.jobs)
		<-h.done
	}
}

func (p *packer) header(name string, size int64, mtime time.Time, dir bool) error {
	h := &tar.Header{
		Name: p.root + "/" + name, Size: size, Mode: 0o644, ModTime: mtime.UTC(),
		Typeflag: tar.TypeReg, Format: tar.FormatPAX,
	}
	if dir {
		h.Name += "/"
		h.Mode = 0o755
		h.Typeflag = tar.TypeDir
		h.Size = 0
	}
	return p.tw.WriteHeader(h)
}

// add writes a member whose bytes are in memory.
func (p *packer) add(name, kind string, data []byte, mtime time.Time) error {
	if err := p.header(name, int64(len(data)), mtime, false); err != nil {
		return fmt.Errorf("package %s: %w", name, err)
	}
	off := p.sw.Offset()
	if _, err := p.tw.Write(data); err != nil {
		return fmt.Errorf("package %s: %w", name, err)
	}
	p.res.Members = append(p.res.Members, Member{Path: name, Kind: kind, Size: int64(len(data)),
		ModTime: mtime.UTC(), Digests: digest.Of(data), Offset: off})
	if name == TagBagInfo {
		p.res.Small[name] = data
	}
	return nil
}

// addRendered renders a generated document into a temporary file in dir
// ("" for the system's) and streams it into the package: its size must be
// known before its bytes, and it may be far too large to hold in memory.
func (p *packer) addRendered(name string, mtime time.Time, dir string, render func(*xw)) error {
	f, err := os.CreateTemp(dir, ".render-*.xml")
	if err != nil {
		return fmt.Errorf("package %s: %w", name, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	bw := bufio.NewWriterSize(f, 256<<10)
	render(&xw{b: bw})
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("package %s: %w", name, err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return fmt.Errorf("package %s: %w", name, err)
	}
	if err := p.header(name, size, mtime, false); err != nil {
		return fmt.Errorf("package %s: %w", name, err)
	}
	off := p.sw.Offset()
	h := digest.NewHasher()
	if n, err := io.Copy(io.MultiWriter(p.tw, h), f); err != nil || n != size {
		return fmt.Errorf("package %s: %d of %d bytes copied: %v", name, n, size, err)
	}
	p.res.Members = append(p.res.Members, Member{Path: name, Kind: KindMetadata, Size: size,
		ModTime: mtime.UTC(), Digests: h.Sum(), Offset: off})
	return nil
}

// addFile streams an original file into the package, hashing it on the way.
func (p *packer) addFile(name string, f *InputFile, index int) error {
	if err := p.ctx.Err(); err != nil {
		return err
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%q: %w", f.Path, err)
	}
	defer rc.Close()
	if err := p.header(name, f.Size, f.ModTime, false); err != nil {
		return fmt.Errorf("package %q: %w", f.Path, err)
	}
	off := p.sw.Offset()
	h := digest.NewHasher()
	n, err := io.Copy(io.MultiWriter(p.tw, h), io.LimitReader(rc, f.Size))
	if err != nil {
		return fmt.Errorf("read %q: %w", f.Path, err)
	}
	if n < f.Size {
		return &PathError{f.Path, fmt.Sprintf("file shrank while it was read: %d bytes expected, %d read", f.Size, n)}
	}
	var one [1]byte
	if k, _ := rc.Read(one[:]); k > 0 {
		return &PathError{f.Path, "file grew while it was read"}
	}
	if err := rc.Close(); err != nil {
		return fmt.Errorf("%q: %w", f.Path, err)
	}
	p.res.Members = append(p.res.Members, Member{Path: name, Original: f.Path, Kind: KindPayload,
		Size: f.Size, ModTime: f.ModTime.UTC(), Digests: h.Sum(), Offset: off, Format: f.Format})
	if p.seen != nil {
		p.seen(index, nil)
	}
	return nil
}

// addBytes packs a small original file that was read whole, as plan
// entry k; its digests are computed beside (packer.hash).
func (p *packer) addBytes(k int, name string, f *InputFile, index int, data []byte) error {
	if err := p.header(name, f.Size, f.ModTime, false); err != nil {
		return fmt.Errorf("package %q: %w", f.Path, err)
	}
	off := p.sw.Offset()
	if _, err := p.tw.Write(data); err != nil {
		return fmt.Errorf("package %q: %w", f.Path, err)
	}
	p.res.Members = append(p.res.Members, Member{Path: name, Original: f.Path, Kind: KindPayload,
		Size: f.Size, ModTime: f.ModTime.UTC(), Offset: off, Format: f.Format})
	p.hash.jobs <- hashJob{k, data}
	if p.seen != nil {
		p.seen(index, data)
	}
	return nil
}

// readWhole reads a small original file in one go. A file that grew is
// found by Close (InputFile's contract), so no read past its end is needed.
func readWhole(f *InputFile) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%q: %w", f.Path, err)
	}
	defer rc.Close()
	data := make([]byte, f.Size)
	if n, err := io.ReadFull(rc, data); errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return nil, &PathError{f.Path, fmt.Sprintf("file shrank while it was read: %d bytes expected, %d read", f.Size, n)}
	} else if err != nil {
		return nil, fmt.Errorf("read %q: %w", f.Path, err)
	}
	if err := rc.Close(); err != nil {
		return nil, fmt.Errorf("%q: %w", f.Path, err)
	}
	return data, nil
}

// Write packages in into w as AIP format 2. It reads every input byte once.
// On error the bytes written to w are not a package and must be discarded.
func Write(ctx context.Context, w io.Writer, rec Record, in Input, opt Options) (*Result, error) {
	plan, err := Plan(in)
	if err != nil {
		return nil, err
	}
	if rec.Version < 1 || rec.ID.IsZero() {
		return nil, errors.New("package: record has no id or version")
	}
	if opt.Level == 0 {
		opt.Level = 2
	}
	ph := digest.NewHasher()
	sw, err := newSeekableWriter(io.MultiWriter(w, ph), opt.Level, opt.FrameSize)
	if err != nil {
		return nil, err
	}
	defer sw.stop() // on an early error return, end the compressing goroutine
	res := &Result{Small: map[string][]byte{}}
	p := &packer{ctx: ctx, root: rec.ID.PackageRoot(rec.Version), tw: tar.NewWriter(sw), sw: sw, res: res, seen: in.Seen,
		hash: newHasher(len(plan))}
	defer p.hash.wait()
	created := rec.Created.UTC()

	// 1. Original files and empty folders, sorted by bag path.
	for k, e := range plan {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch {
		case e.file != nil && e.file.Size <= SeenMax:
			var data []byte
			if data, err = readWhole(e.file); err == nil {
				err = p.addBytes(k, e.bagPath, e.file, e.index, data)
			}
		case e.file != nil:
			err = p.addFile(e.bagPath, e.file, e.index)
		default:
			mtime := created // a folder whose time was not recorded
			if t, ok := in.DirTimes[e.dir]; ok {
				mtime = t
			}
			if err = p.header(e.bagPath, 0, mtime, true); err == nil {
				res.Members = append(res.Members, Member{Path: e.bagPath, Original: e.dir, Kind: KindDir, ModTime: mtime.UTC(), Offset: sw.Offset()})
			}
		}
		if err != nil {
			return nil, err
		}
	}
	p.hash.wait()
	for k, e := range plan { // the first members are the plan's, in order
		if e.file != nil && e.file.Size <= SeenMax {
			res.Members[k].Digests = p.hash.digests[k]
		}
	}
	if in.Identified != nil {
		events, err := in.Identified(in.Files)
		if err != nil {
			return nil, err
		}
		rec.Events = append(slices.Clip(rec.Events), events...)
		for k, e := range plan { // the first members are the plan's, in order
			if e.file != nil {
				res.Members[k].Format = e.file.Format
			}
		}
	}
	// 2. Descriptive metadata as delivered.
	if in.Sidecar != nil {
		if err := p.add(PathDescriptive+in.Sidecar.Name, KindMetadata, in.Sidecar.Data, in.Sidecar.ModTime); err != nil {
			return nil, err
		}
	}
	// 3. PREMIS, 4. METS, 5. documentation.
	err = p.addRendered(PathPREMIS, created, opt.TempDir, func(x *xw) { renderPREMIS(x, rec, in.Meta, res.Members) })
	if err != nil {
		return nil, err
	}
	err = p.addRendered(PathMETS, created, opt.TempDir, func(x *xw) { renderMETS(x, rec, in.Meta, res.Members) })
	if err != nil {
		return nil, err
	}
	if err := p.add(PathFormatDoc, KindMetadata, formatDoc, created); err != nil {
		return nil, err
	}
	// 6. Tag files.
	var octets int64
	var streams int
	for _, m := range res.Members {
		if m.Kind != KindDir {
			octets += m.Size
			streams++
		}
	}
	res.PayloadOxum = fmt.Sprintf("%d.%d", octets, streams)
	tags := []struct{ name, body string }{
		{TagBagIt, bagitTxt},
		{TagBagInfo, bagInfo(rec, in.Meta, res.PayloadOxum)},
		{TagManifest512, manifest(res.Members, func(d digest.Pair) string { return d.SHA512.String() })},
		{TagManifest256, manifest(res.Members, func(d digest.Pair) string { return d.SHA256.String() })},
		{TagPaths, originalPaths(res.Members)},
	}
	for _, t := range tags {
		if err := p.add(t.name, KindTag, []byte(t.body), created); err != nil {
			return nil, err
		}
	}
	n := len(res.Members)
	for _, alg := range []struct {
		name string
		hex  func(digest.Pair) string
	}{{TagTagMan512, func(d digest.Pair) string { return d.SHA512.String() }}, {TagTagMan256, func(d digest.Pair) string { return d.SHA256.String() }}} {
		var b strings.Builder
		for _, m := range res.Members[n-len(tags) : n] {
			fmt.Fprintf(&b, "%s  %s\n", alg.hex(m.Digests), m.Path)
		}
		if err := p.add(alg.name, KindTag, []byte(b.String()), created); err != nil {
			return nil, err
		}
	}
	if err := p.tw.Close(); err != nil {
		return nil, fmt.Errorf("package: %w", err)
	}
	if err := sw.Close(); err != nil {
		return nil, fmt.Errorf("package: %w", err)
	}
	res.Package = ph.Sum()
	res.Size = ph.Size()
	res.Frames = sw.frames
	for i := range res.Members {
		res.Members[i].Frame = FrameAt(res.Frames, res.Members[i].Offset)
	}
	return res, nil
}

// manifest lists every file under data/ in package order.
func manifest(ms []Member, hex func(digest.Pair) string) string {
	var b strings.Builder
	for _, m := range ms {
		if m.Kind == KindPayload || m.Kind == KindMetadata {
			fmt.Fprintf(&b, "%s  %s\n", hex(m.Digests), m.Path)
		}
	}
	return b.String()
}

// originalPaths records, for every original file and empty folder, its bag
// path and its original relative path (escaped by EscapePath).
func originalPaths(ms []Member) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# AIP format %d: <kind> <bag path> <original path, %%XX-escaped bytes>\n", FormatVersion)
	for _, m := range ms {
		switch m.Kind {
		case KindPayload:
			fmt.Fprintf(&b, "file %s %s\n", EscapePath(m.Path), EscapePath(m.Original))
		case KindDir:
			fmt.Fprintf(&b, "dir %s %s\n", EscapePath(m.Path), EscapePath(m.Original))
		}
	}
	return b.String()
}

func bagInfo(rec Record, meta Metadata, oxum string) string {
	zone := rec.Zone
	if zone == nil {
		zone = time.UTC
	}
	var b strings.Builder
	line := func(k, v string) {
		if v == "" {
			return
		}
		v = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(v)
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	line("Source-Organization", rec.Organization)
	line("Bagging-Date", rec.Created.In(zone).Format("2006-01-02"))
	line("External-Identifier", rec.ID.String())
	line("External-Description", strings.TrimSpace(meta.Reference+" "+meta.Title))
	line("Bag-Group-Identifier", rec.ID.String())
	line("Bag-Software-Agent", strings.TrimSpace(rec.Software+" "+rec.SoftVersion))
	line("BagIt-Profile-Identifier", ProfileIdentifier)
	line("Payload-Oxum", oxum)
	line("AIP-Format-Version", strconv.Itoa(FormatVersion))
	line("AIP-Version", "v"+strconv.Itoa(rec.Version))
	line("AIP-Package-Type", "full")
	line("Case-Reference", meta.Reference)
	line("Case-Title", meta.Title)
	line("Case-Agency", meta.Agency)
	line("Case-Record-Class", meta.RecordClass)
	line("Case-Opened", meta.Opened)
	line("Case-Closed", meta.Closed)
	line("Case-Delivery", EscapePath(rec.Origin))
	// Further metadata of the case (the sidecar's extra fields, an xdomea
	// record's ProzessID, Aufbewahrungsdauer, Aussonderungsart): one line
	// each, the name escaped like a path, in name order.
	keys := make([]string, 0, len(meta.Extra))
	for k := range meta.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if meta.Extra[k] != "" {
			line("Case-Extra", strings.ReplaceAll(EscapePath(k), "=", "%3D")+"="+meta.Extra[k])
		}
	}
	if r := rec.Retention; r != nil {
		line("Retention-Class", r.Class)
		line("Retention-Period", r.Period)
		line("Retention-Trigger", r.Trigger+" "+r.TriggerDate)
		line("Retention-Ends", r.Ends)
		line("Retention-Action", r.Action)
		line("Retention-Lock-Mode", r.LockMode)
	}
	return b.String()
}
