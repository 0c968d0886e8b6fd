package formats

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/klauspost/compress/zstd"

	"github.com/archivd/archivd/atomicfile"
)

// The PRONOM signature files archivd ships (Open Government Licence v3.0,
// The National Archives): the default, so that a fresh install identifies
// with all of PRONOM.
//
//go:embed pronom/DROID_SignatureFile_V122.xml.zst pronom/container-signature-20260119.xml.zst
var pronomFS embed.FS

// shippedCompiled is the compiled form of the shipped files, made by
// `go test ./formats -run TestShippedCompiledUpToDate -update` (the test
// fails when it no longer matches the XML): a start needs neither the XML
// nor a cache folder for them.
//
//go:embed pronom/compiled.bin
var shippedCompiled []byte

const (
	embeddedSig  = "DROID_SignatureFile_V122.xml"
	embeddedCont = "container-signature-20260119.xml"
	// BuiltinName selects archivd's small built-in set instead of PRONOM.
	BuiltinName = "built-in"
)

// SignatureFiles says where signature files come from: both paths empty
// mean the ones shipped in archivd.
type SignatureFiles struct {
	Signature, Container string
	// Cache is the folder for the compiled form (keyed by the files'
	// digests); "" compiles at every start.
	Cache string
}

// Load returns an identifier over PRONOM (the given files, or the shipped
// ones) with the built-in set as the fallback for what PRONOM cannot see.
// The compiled form is read from the cache when one for the same files'
// digests is there, and written to it otherwise.
func Load(f SignatureFiles) (*Identifier, error) {
	sig, cont, err := f.read()
	if err != nil {
		return nil, err
	}
	key := sha256.New()
	key.Write([]byte(fmt.Sprintf("archivd compiled signatures %d\n", cacheFormat)))
	key.Write(sig.key)
	key.Write(cont.key)
	// Where the files lie is part of what is recorded, so part of the key.
	key.Write([]byte("\n" + sig.path + "\n" + cont.path + "\n"))
	k := hex.EncodeToString(key.Sum(nil))
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if id := loaded[k]; id != nil {
		return id, nil
	}
	remember := func(id *Identifier) (*Identifier, error) {
		id.fallback = builtinFallback
		loaded[k] = id
		return id, nil
	}
	if f.Signature == "" {
		id, err := withoutGC(func() (*Identifier, error) { return decodeCompiled(shippedCompiled) })
		// The file names carry the versions; the test keeps the rest in step.
		if err == nil && id.Source == embeddedSig && id.ContSource == embeddedCont && id.Path == "" {
			return remember(id)
		}
		// Stale or damaged (a build without the generated file): compiled
		// from the XML below, as for any other files.
	}
	name := ""
	if f.Cache != "" {
		name = filepath.Join(f.Cache, "signatures-"+k[:24]+".bin")
		if id, err := withoutGC(func() (*Identifier, error) { return readCache(name) }); err == nil {
			return remember(id)
		}
	}
	id, err := sig.compile(cont)
	if err != nil {
		return nil, err
	}
	if name != "" {
		// A cache that cannot be written costs time at the next start,
		// nothing else.
		writeCache(name, id)
	}
	return remember(id)
}

// withoutGC decodes a compiled form with the collector off: some 50,000
// small objects, all kept; collecting while they are built only costs
// start-up time.
func withoutGC(decode func() (*Identifier, error)) (*Identifier, error) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	return decode()
}

// builtinFallback is the built-in set PRONOM identifiers fall back to,
// compiled once and only when a file needs it.
var builtinFallback = sync.OnceValue(Builtin)

// loaded keeps the identifiers of this process by their files' digests:
// an identifier is read-only once built, and the service builds one per
// case.
var (
	loadedMu sync.Mutex
	loaded   = map[string]*Identifier{}
)

// sigSource is one signature file: a reader of its XML and a cache key.
type sigSource struct {
	name string
	open func() ([]byte, error) // the XML
	key  []byte                 // digest of what identifies the file's content
	path string                 // "" for a shipped file
}

func (f SignatureFiles) read() (sig, cont sigSource, err error) {
	if f.Signature == "" {
		if f.Container != "" {
			return sig, cont, errors.New("a container signature file needs its DROID signature file")
		}
		sig, err = shipped(embeddedSig)
		if err == nil {
			cont, err = shipped(embeddedCont)
		}
		return sig, cont, err
	}
	if sig, err = onDisk(f.Signature); err != nil {
		return sig, cont, err
	}
	if f.Container != "" {
		cont, err = onDisk(f.Container)
	}
	return sig, cont, err
}

func shipped(name string) (sigSource, error) {
	z, err := pronomFS.ReadFile("pronom/" + name + ".zst")
	if err != nil {
		return sigSource{}, err
	}
	sum := sha256.Sum256(z)
	return sigSource{name: name, key: sum[:], open: func() ([]byte, error) {
		d, err := zstd.NewReader(nil)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		return d.DecodeAll(z, nil)
	}}, nil
}

func onDisk(path string) (sigSource, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return sigSource{}, fmt.Errorf("signature file: %w", err)
	}
	sum := sha256.Sum256(b)
	return sigSource{name: filepath.Base(path), path: path, key: sum[:], open: func() ([]byte, error) { return b, nil }}, nil
}

// compile parses the XML of both files.
func (sig sigSource) compile(cont sigSource) (*Identifier, error) {
	b, err := sig.open()
	if err != nil {
		return nil, err
	}
	ss, err := parseSignatureFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sig.name, err)
	}
	s := sha256.Sum256(b)
	id := &Identifier{sigs: ss, Source: sig.name, Version: ss.version, SHA256: hex.EncodeToString(s[:]), Path: sig.path}
	if cont.open != nil {
		cb, err := cont.open()
		if err != nil {
			return nil, err
		}
		cs, err := parseContainerFile(bytes.NewReader(cb))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cont.name, err)
		}
		c := sha256.Sum256(cb)
		id.cont, id.ContVer, id.ContSHA, id.ContSource, id.ContPath = cs, cs.version, hex.EncodeToString(c[:]), cont.name, cont.path
	}
	id.init()
	return id, nil
}

// CheckFiles parses signature files as Load would, without caching: what
// `archivd signatures install` does before it puts them in place.
func CheckFiles(sigPath, contPath string) (*Identifier, error) {
	return Load(SignatureFiles{Signature: sigPath, Container: contPath})
}

// The compiled form: a compact binary encoding of the compiled signature
// set and container set (varints and length-prefixed bytes), read without
// reflection so that a start takes milliseconds, not the 200 ms of parsing
// the XML. Its first bytes name the format; anything else is rebuilt.
//
// Format 3 keeps each signature's sequences as bytes until a file gets as
// far as needing them (its first byte and quick checks pass): identifying
// one file decodes a few dozen of 2,242 signatures, and a start touches
// 1 MB of fresh memory instead of 5 (on a virtual machine whose page
// faults cost 14 µs, that was 20 ms of every start).
var cacheMagic = []byte("archivd compiled signatures 3\n")

const cacheFormat = 3

type enc struct{ b []byte }

func (e *enc) int(v int)      { e.b = binary.AppendVarint(e.b, int64(v)) }
func (e *enc) bytes(v []byte) { e.int(len(v)); e.b = append(e.b, v...) }
func (e *enc) str(v string)   { e.int(len(v)); e.b = append(e.b, v...) }
func (e *enc) bool(v bool)    { e.b = append(e.b, map[bool]byte{false: 0, true: 1}[v]) }
func (e *enc) ints(v []int) {
	e.int(len(v))
	for _, x := range v {
		e.int(x)
	}
}
func (e *enc) strs(v []string) {
	e.int(len(v))
	for _, x := range v {
		e.str(x)
	}
}

func (e *enc) pattern(p []elem) {
	e.int(len(p))
	for _, x := range p {
		e.b = append(e.b, byte(x.kind))
		e.bytes(x.lit)
		e.bool(x.set != nil)
		if x.set != nil {
			var bits [32]byte
			for b := 0; b < 256; b++ {
				if x.set[b] {
					bits[b/8] |= 1 << (b % 8)
				}
			}
			e.b = append(e.b, bits[:]...)
		}
		e.bytes(x.lo)
		e.bytes(x.hi)
		e.bool(x.neg)
		e.int(len(x.alts))
		for _, a := range x.alts {
			e.pattern(a)
		}
		e.int(x.min)
		e.int(x.max)
	}
}

func (e *enc) sig(s *signature) {
	e.int(s.id)
	e.bool(s.bounded)
	e.int(len(s.quick))
	for _, q := range s.quick {
		e.bool(q.eof)
		e.int(q.off)
		e.bytes(q.lit)
	}
	seqs, _ := s.sequences()
	var body enc
	body.seqs(seqs)
	e.bytes(body.b)
}

func (e *enc) seqs(seqs []byteSeq) {
	e.int(len(seqs))
	for _, bs := range seqs {
		e.b = append(e.b, byte(bs.ref))
		e.int(len(bs.subs))
		for _, sub := range bs.subs {
			e.pattern(sub.pat)
			e.int(sub.min)
			e.int(sub.max)
			e.int(sub.maxLen)
		}
	}
}

type dec struct {
	b   []byte
	err error
	// Sets are shared by their bits (the same byte classes recur in
	// thousands of signatures); elements are cut from larger blocks.
	shared *decShared
}

func (d *dec) elemBlock(n int) pattern {
	if n > 64 {
		return make(pattern, n)
	}
	sh := d.shared
	if len(sh.elems) < n {
		sh.elems = make([]elem, 256)
	}
	p := sh.elems[:n:n]
	sh.elems = sh.elems[n:]
	return p
}

func (d *dec) int() int {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *dec) fail() {
	if d.err == nil {
		d.err = errors.New("compiled signatures: truncated or damaged")
	}
	d.b = nil
}

func (d *dec) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) n() int {
	n := d.int()
	if n < 0 || n > len(d.b)+1<<20 {
		d.fail()
		return 0
	}
	return n
}

func (d *dec) bytes() []byte {
	n := d.n()
	if n > len(d.b) {
		d.fail()
		return nil
	}
	if n == 0 {
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// str returns a string that shares the cache's bytes: the buffer read
// from the file is never written again, and some 15,000 format names,
// MIME types and extensions need no copies of their own.
func (d *dec) str() string {
	b := d.bytes()
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
func (d *dec) bool() bool { return d.byte() == 1 }

func (d *dec) ints() []int {
	n := d.n()
	if n == 0 {
		return nil
	}
	// Cut from a shared block: thousands of short lists, one allocation.
	sh := d.shared
	if len(sh.ints) < n {
		sh.ints = make([]int, max(n, 4096))
	}
	v := sh.ints[:n:n]
	sh.ints = sh.ints[n:]
	for i := range v {
		v[i] = d.int()
	}
	return v
}

func (d *dec) strs() []string {
	n := d.n()
	if n == 0 {
		return nil
	}
	v := make([]string, n)
	for i := range v {
		v[i] = d.str()
	}
	return v
}

func (d *dec) pattern() pattern {
	n := d.n()
	if n == 0 || d.err != nil {
		return nil
	}
	p := d.elemBlock(n)
	for i := range p {
		x := &p[i]
		x.kind = elemKind(d.byte())
		x.lit = d.bytes()
		if d.bool() {
			if len(d.b) < 32 {
				d.fail()
				return p
			}
			bits := [32]byte(d.b[:32])
			s := d.shared.sets[bits]
			if s == nil {
				s = new([256]bool)
				for b := 0; b < 256; b++ {
					s[b] = bits[b/8]&(1<<(b%8)) != 0
				}
				d.shared.sets[bits] = s
			}
			x.set = s
			d.b = d.b[32:]
		}
		x.lo, x.hi = d.bytes(), d.bytes()
		x.neg = d.bool()
		if na := d.n(); na > 0 {
			x.alts = make([][]elem, na)
			for j := range x.alts {
				x.alts[j] = d.pattern()
			}
		}
		x.min, x.max = d.int(), d.int()
	}
	return p
}

func (d *dec) sig() *signature {
	s := &signature{id: d.int(), bounded: d.bool()}
	if n := d.n(); n > 0 {
		s.quick = make([]quickCheck, n)
		for i := range s.quick {
			s.quick[i] = quickCheck{eof: d.bool(), off: d.int(), lit: d.bytes()}
		}
	}
	s.lazy = &lazySeqs{raw: d.bytes(), shared: d.shared}
	return s
}

func (d *dec) seqs() []byteSeq {
	seqs := make([]byteSeq, d.n())
	for i := range seqs {
		bs := &seqs[i]
		bs.ref = refKind(d.byte())
		bs.subs = make([]subseq, d.n())
		for j := range bs.subs {
			bs.subs[j] = subseq{pat: d.pattern(), min: d.int(), max: d.int(), maxLen: d.int()}
		}
		if len(bs.subs) > 0 {
			bs.must = longestLit(bs.subs[0].pat)
		}
	}
	return seqs
}

// lazySeqs are a signature's sequences as the cache holds them, decoded
// on first use. The decoding state (byte sets shared by their bits, blocks
// of elements) is shared by the signatures of one cache, under its lock.
type lazySeqs struct {
	raw    []byte
	shared *decShared
	ok     bool // decoded without fault; written before done
	done   atomic.Bool
}

type decShared struct {
	mu    sync.Mutex
	sets  map[[32]byte]*[256]bool
	elems []elem
	ints  []int
}

// sequences returns the signature's byte sequences, decoding them from
// the cache on first use. ok is false when they do not decode (impossible
// for a cache whose checksum held, unless archivd has a bug): such a
// signature never matches.
func (s *signature) sequences() (seqs []byteSeq, ok bool) {
	l := s.lazy
	if l == nil {
		return s.seqs, true
	}
	if !l.done.Load() {
		l.shared.mu.Lock()
		if !l.done.Load() {
			d := &dec{b: l.raw, shared: l.shared}
			seqs := d.seqs()
			if l.ok = d.err == nil && len(d.b) == 0; l.ok {
				s.seqs = seqs
			}
			l.done.Store(true)
		}
		l.shared.mu.Unlock()
	}
	return s.seqs, l.ok
}

func writeCache(name string, id *Identifier) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
		return err
	}
	return atomicfile.WriteFile(name, encodeCompiled(id), 0o640)
}

// encodeCompiled is the compiled form of id, with its checksum at the end;
// the same identifier always gives the same bytes.
func encodeCompiled(id *Identifier) []byte {
	e := &enc{b: append([]byte(nil), cacheMagic...)}
	for _, s := range []string{id.Source, id.Version, id.SHA256, id.Path, id.ContSource, id.ContVer, id.ContSHA, id.ContPath} {
		e.str(s)
	}
	ss := id.sigs
	e.int(ss.bofWin)
	e.int(ss.eofWin)
	e.int(len(ss.list))
	for _, s := range ss.list {
		e.sig(s)
	}
	fids := slices.Sorted(maps.Keys(ss.formats))
	e.int(len(fids))
	for _, fid := range fids {
		f := ss.formats[fid]
		e.int(f.ID)
		e.str(f.PUID)
		e.str(f.Name)
		e.str(f.Version)
		e.str(f.MIME)
		e.strs(f.Extensions)
		e.ints(f.over)
		e.ints(f.sigs)
	}
	sids := slices.Sorted(maps.Keys(ss.bySig))
	e.int(len(sids))
	for _, k := range sids {
		e.int(k)
		e.ints(ss.bySig[k])
	}
	exts := slices.Sorted(maps.Keys(ss.byExt))
	e.int(len(exts))
	for _, k := range exts {
		e.str(k)
		e.ints(ss.byExt[k])
	}
	e.bool(id.cont != nil)
	if c := id.cont; c != nil {
		e.str(c.version)
		e.int(len(c.sigs))
		for _, cs := range c.sigs {
			e.int(cs.id)
			e.str(cs.typ)
			e.strs(cs.puids)
			e.int(len(cs.files))
			for _, f := range cs.files {
				e.str(f.path)
				e.int(len(f.sigs))
				for _, s := range f.sigs {
					e.sig(s)
				}
			}
		}
		keys := slices.Sorted(maps.Keys(c.trigger))
		e.int(len(keys))
		for _, k := range keys {
			e.str(k)
			e.str(c.trigger[k])
		}
	}
	sum := sha256.Sum256(e.b)
	return append(e.b, sum[:]...)
}

func readCache(name string) (*Identifier, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return decodeCompiled(b)
}

// decodeCompiled reads a compiled form; b must not change afterwards (the
// identifier keeps views of it).
func decodeCompiled(b []byte) (*Identifier, error) {
	if len(b) < len(cacheMagic)+sha256.Size || !bytes.HasPrefix(b, cacheMagic) {
		return nil, errors.New("compiled signatures of another format")
	}
	body := b[:len(b)-sha256.Size]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], b[len(body):]) {
		return nil, errors.New("compiled signatures damaged")
	}
	d := &dec{b: body[len(cacheMagic):], shared: &decShared{sets: map[[32]byte]*[256]bool{}}}
	id := &Identifier{Source: d.str(), Version: d.str(), SHA256: d.str(), Path: d.str(), ContSource: d.str(), ContVer: d.str(), ContSHA: d.str(), ContPath: d.str()}
	// Maps and blocks are made at their final size: a start touches
	// fresh memory only once (no rehashing, one block per kind).
	ss := &signatureSet{version: id.Version, bofWin: d.int(), eofWin: d.int()}
	n := d.n()
	ss.list, ss.order, ss.sigs = make([]*signature, 0, n), make([]int, 0, n), make(map[int]*signature, n)
	for range n {
		s := d.sig()
		ss.sigs[s.id] = s
		ss.order = append(ss.order, s.id)
		ss.list = append(ss.list, s)
	}
	n = d.n()
	fs := make([]Format, n)
	ss.formats, ss.byPUID = make(map[int]*Format, n), make(map[string]*Format, n)
	for i := range fs {
		f := &fs[i]
		*f = Format{ID: d.int(), PUID: d.str(), Name: d.str(), Version: d.str(), MIME: d.str(), Extensions: d.strs(), over: d.ints(), sigs: d.ints()}
		ss.formats[f.ID] = f
		ss.byPUID[f.PUID] = f
	}
	n = d.n()
	ss.bySig = make(map[int][]int, n)
	for range n {
		k := d.int()
		ss.bySig[k] = d.ints()
	}
	n = d.n()
	ss.byExt = make(map[string][]int, n)
	for range n {
		k := d.str()
		ss.byExt[k] = d.ints()
	}
	id.sigs = ss
	if d.bool() {
		c := &containerSet{version: d.str(), trigger: map[string]string{}}
		for range d.n() {
			cs := &containerSig{id: d.int(), typ: d.str(), puids: d.strs()}
			for range d.n() {
				f := containerFile{path: d.str()}
				for range d.n() {
					f.sigs = append(f.sigs, d.sig())
				}
				cs.files = append(cs.files, f)
			}
			c.sigs = append(c.sigs, cs)
		}
		for range d.n() {
			k := d.str()
			c.trigger[k] = d.str()
		}
		id.cont = c
	}
	if d.err != nil || len(d.b) != 0 || len(ss.list) == 0 {
		return nil, errors.New("compiled signatures damaged")
	}
	id.init()
	return id, nil
}
