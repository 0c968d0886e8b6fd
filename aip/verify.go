package aip

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/archivd/archivd/digest"
)

// ManifestEntry is one line of a BagIt manifest.
type ManifestEntry struct {
	Hex  string
	Path string
}

// ParseManifest reads "<hex><whitespace><path>" lines. hexLen is the digest
// length in hex digits. BagIt percent-encoding of CR, LF and '%' is decoded.
func ParseManifest(data []byte, hexLen int) ([]ManifestEntry, error) {
	var out []ManifestEntry
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		j := strings.IndexAny(line, " \t")
		if j != hexLen {
			return nil, fmt.Errorf("line %d: want %d hex digits, whitespace and a path", i+1, hexLen)
		}
		hex := strings.ToLower(line[:j])
		for _, c := range hex {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return nil, fmt.Errorf("line %d: digest is not hex", i+1)
			}
		}
		p := strings.TrimLeft(line[j:], " \t")
		p = strings.TrimPrefix(p, "*") // sha512sum's binary-mode marker
		if p == "" {
			return nil, fmt.Errorf("line %d: no path", i+1)
		}
		p = strings.NewReplacer("%0D", "\r", "%0d", "\r", "%0A", "\n", "%0a", "\n", "%25", "%").Replace(p)
		out = append(out, ManifestEntry{hex, p})
	}
	return out, nil
}

// Problem is one piece of damage or inconsistency found in a package.
type Problem struct {
	Path string // relative to the package root, or "" for the package
	Msg  string
	Want string // expected digest or value, if any
	Got  string
}

func (p Problem) String() string {
	s := p.Msg
	if p.Path != "" {
		s = p.Path + ": " + s
	}
	if p.Want != "" || p.Got != "" {
		s += fmt.Sprintf(" (expected %s, found %s)", p.Want, p.Got)
	}
	return s
}

// Expect is what the caller knows about a package independently of it:
// from the catalog, the OCFL inventory and the ingest record.
type Expect struct {
	Root    string                 // tar root folder, e.g. urn+uuid+..._v1
	Package *digest.SHA512         // digest of the whole package
	Size    int64                  // size of the package, or -1
	Members map[string]digest.Pair // digests by path relative to the root
	// Events are PREMIS event identifiers premis.xml must hold (those of
	// the ingest record): a package cannot be swapped for another one.
	Events []string
}

// Report is the outcome of a verification.
type Report struct {
	Problems    []Problem
	Members     int
	Bytes       int64 // uncompressed bytes of member data read
	Package     digest.Pair
	PackageSize int64
}

// OK reports whether nothing was found wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) add(path, msg, want, got string) {
	r.Problems = append(r.Problems, Problem{path, msg, want, got})
}

// ReadError marks a failure of the underlying reader (storage unavailable),
// as opposed to damage in what was read.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "read package: " + e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

type trackedReader struct {
	r   io.Reader
	err error
}

func (t *trackedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// Walk decompresses a package and calls fn for each tar entry with its body.
// Damage in the stream is returned as a *StreamError, which still carries
// the digests of every byte of the package (the rest is read to the end,
// so the stored object's digest can be named); a failing reader as
// *ReadError. It also returns the digests and size of the compressed stream.
func Walk(ctx context.Context, r io.Reader, fn func(h *tar.Header, body io.Reader) error) (digest.Pair, int64, error) {
	// The package's digests are computed beside decompression and the
	// members' digests, on the other core.
	ph := digest.NewAsync()
	defer ph.Close()
	tr := &trackedReader{r: io.TeeReader(r, ph)}
	damaged := func(err error) (digest.Pair, int64, error) {
		if _, rerr := io.Copy(io.Discard, tr); rerr != nil || tr.err != nil {
			return digest.Pair{}, 0, &ReadError{errors.Join(rerr, tr.err)}
		}
		return ph.Sum(), ph.Size(), &StreamError{Err: err, Package: ph.Sum(), Size: ph.Size()}
	}
	dec, err := NewDecoder(tr)
	if err != nil {
		return damaged(err)
	}
	defer dec.Close()
	t := tar.NewReader(dec)
	for {
		if err := ctx.Err(); err != nil {
			return digest.Pair{}, 0, err
		}
		h, err := t.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if tr.err != nil {
				return digest.Pair{}, 0, &ReadError{tr.err}
			}
			return damaged(fmt.Errorf("package is not a readable tar.zst stream: %w", err))
		}
		if err := fn(h, t); err != nil {
			if tr.err != nil {
				return digest.Pair{}, 0, &ReadError{tr.err}
			}
			if ctx.Err() != nil {
				return digest.Pair{}, 0, err
			}
			return damaged(err)
		}
	}
	// Drain the rest (seek table), so the package digest covers every byte.
	if _, err := io.Copy(io.Discard, dec); err != nil && tr.err == nil {
		return damaged(fmt.Errorf("package trailer: %w", err))
	}
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return digest.Pair{}, 0, &ReadError{err}
	}
	if tr.err != nil {
		return digest.Pair{}, 0, &ReadError{tr.err}
	}
	return ph.Sum(), ph.Size(), nil
}

// StreamError is damage in a package's stream: it cannot be decompressed
// or unpacked to its end. Package and Size describe every byte read.
type StreamError struct {
	Err     error
	Package digest.Pair
	Size    int64
}

func (e *StreamError) Error() string { return e.Err.Error() }
func (e *StreamError) Unwrap() error { return e.Err }

// maxTagFile bounds how much of a tag file is held in memory.
const maxTagFile = 1 << 30

// Verify reads a package once and checks the package digest, every payload
// and tag file against the manifests, completeness and Payload-Oxum, and
// everything in exp. Damage is reported in the Report; the error is non-nil
// only when the package could not be read (a *ReadError) or ctx ended.
func Verify(ctx context.Context, r io.Reader, exp Expect) (*Report, error) {
	rep := &Report{}
	var events *finder
	got := map[string]digest.Pair{}
	tags := map[string][]byte{}
	sizes := map[string]int64{}
	var order []string
	pkg, size, err := Walk(ctx, r, func(h *tar.Header, body io.Reader) error {
		name, ok := strings.CutPrefix(h.Name, exp.Root+"/")
		if !ok || name == "" {
			rep.add(h.Name, "entry outside the package root folder "+exp.Root, "", "")
			return nil
		}
		if h.Typeflag == tar.TypeDir {
			return nil
		}
		if h.Typeflag != tar.TypeReg {
			rep.add(name, fmt.Sprintf("entry of tar type %q is not a regular file", h.Typeflag), "", "")
			return nil
		}
		if _, dup := got[name]; dup {
			rep.add(name, "entry appears twice", "", "")
		}
		hs := digest.NewHasher()
		var w io.Writer = hs
		var buf *bytes.Buffer
		if !strings.HasPrefix(name, "data/") {
			buf = &bytes.Buffer{}
			w = io.MultiWriter(hs, buf)
		} else if name == PathPREMIS && len(exp.Events) > 0 {
			events = newFinder(exp.Events, "<premis:eventIdentifierValue>", "<")
			w = io.MultiWriter(hs, events)
		}
		n, err := io.Copy(w, body)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rep.Bytes += n
		rep.Members++
		got[name] = hs.Sum()
		sizes[name] = n
		order = append(order, name)
		if buf != nil && buf.Len() <= maxTagFile {
			tags[name] = buf.Bytes()
		}
		return nil
	})
	if err != nil {
		var re *ReadError
		var se *StreamError
		if errors.As(err, &re) || ctx.Err() != nil || !errors.As(err, &se) {
			return nil, err
		}
		rep.add("", err.Error(), "", "")
		rep.Package, rep.PackageSize = se.Package, se.Size
		if exp.Package != nil && *exp.Package != se.Package.SHA512 {
			rep.add("", "package SHA-512 differs from the recorded digest", exp.Package.String(), se.Package.SHA512.String())
		}
		return rep, nil
	}
	rep.Package, rep.PackageSize = pkg, size
	if exp.Package != nil && *exp.Package != pkg.SHA512 {
		rep.add("", "package SHA-512 differs from the recorded digest", exp.Package.String(), pkg.SHA512.String())
	}
	if exp.Size >= 0 && exp.Size != 0 && exp.Size != size {
		rep.add("", "package size differs from the recorded size", fmt.Sprint(exp.Size), fmt.Sprint(size))
	}
	checkBag(rep, got, sizes, tags)
	for i, e := range exp.Events {
		if events == nil || !events.found[i] {
			rep.add(PathPREMIS, "lacks event "+e+" of the ingest record", e, "")
		}
	}
	for _, p := range sortedPairKeys(exp.Members) {
		want := exp.Members[p]
		have, ok := got[p]
		switch {
		case !ok:
			rep.add(p, "recorded file is missing from the package", want.SHA512.String(), "")
		case have.SHA512 != want.SHA512:
			rep.add(p, "SHA-512 differs from the recorded digest", want.SHA512.String(), have.SHA512.String())
		case have.SHA256 != want.SHA256:
			rep.add(p, "SHA-256 differs from the recorded digest", want.SHA256.String(), have.SHA256.String())
		}
	}
	if exp.Members != nil {
		for _, p := range order {
			if _, ok := exp.Members[p]; !ok {
				rep.add(p, "file in the package is not in the recorded inventory", "", "")
			}
		}
	}
	return rep, nil
}

// checkBag checks BagIt 1.0 validity of what was read.
func checkBag(rep *Report, got map[string]digest.Pair, sizes map[string]int64, tags map[string][]byte) {
	if b, ok := tags[TagBagIt]; !ok {
		rep.add(TagBagIt, "missing", "", "")
	} else if string(b) != bagitTxt {
		rep.add(TagBagIt, "does not declare BagIt-Version 1.0 with UTF-8 tag files", "", "")
	}
	type alg struct {
		manifest, tagmanifest string
		hexLen                int
		hex                   func(digest.Pair) string
	}
	algs := []alg{
		{TagManifest512, TagTagMan512, 128, func(d digest.Pair) string { return d.SHA512.String() }},
		{TagManifest256, TagTagMan256, 64, func(d digest.Pair) string { return d.SHA256.String() }},
	}
	for _, a := range algs {
		check := func(file string, scope func(string) bool) {
			data, ok := tags[file]
			if !ok {
				rep.add(file, "missing", "", "")
				return
			}
			entries, err := ParseManifest(data, a.hexLen)
			if err != nil {
				rep.add(file, "unreadable: "+err.Error(), "", "")
				return
			}
			listed := map[string]bool{}
			for _, e := range entries {
				listed[e.Path] = true
				have, ok := got[e.Path]
				if !ok {
					rep.add(e.Path, "listed in "+file+" but missing from the package", e.Hex, "")
				} else if h := a.hex(have); h != e.Hex {
					rep.add(e.Path, "digest differs from "+file, e.Hex, h)
				}
			}
			for _, p := range sortedPairKeys(got) {
				if scope(p) && !listed[p] {
					rep.add(p, "not listed in "+file, "", a.hex(got[p]))
				}
			}
		}
		check(a.manifest, func(p string) bool { return strings.HasPrefix(p, "data/") })
		check(a.tagmanifest, func(p string) bool {
			return !strings.HasPrefix(p, "data/") && !strings.HasPrefix(p, "tagmanifest-")
		})
	}
	if info, ok := tags[TagBagInfo]; ok {
		var octets, streams int64
		for p, n := range sizes {
			if strings.HasPrefix(p, "data/") {
				streams++
				octets += n
			}
		}
		want := fmt.Sprintf("%d.%d", octets, streams)
		oxum := ""
		sc := bufio.NewScanner(bytes.NewReader(info))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Payload-Oxum: "); ok {
				oxum = v
			}
		}
		if oxum != want {
			rep.add(TagBagInfo, "Payload-Oxum does not match the payload", oxum, want)
		}
	} else {
		rep.add(TagBagInfo, "missing", "", "")
	}
}

func sortedPairKeys(m map[string]digest.Pair) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// finder looks for several short byte strings in a stream written to it,
// also where one spans two writes, keeping only a short tail.
type finder struct {
	needles [][]byte
	found   []bool
	tail    []byte
}

func newFinder(values []string, before, after string) *finder {
	f := &finder{found: make([]bool, len(values))}
	for _, v := range values {
		f.needles = append(f.needles, []byte(before+v+after))
	}
	return f
}

func (f *finder) Write(p []byte) (int, error) {
	longest := 0
	for i, n := range f.needles {
		longest = max(longest, len(n))
		if f.found[i] {
			continue
		}
		seam := append(f.tail[:len(f.tail):len(f.tail)], p[:min(len(p), len(n)-1)]...)
		f.found[i] = bytes.Contains(seam, n) || bytes.Contains(p, n)
	}
	f.tail = append(f.tail, p[max(0, len(p)-longest):]...)
	f.tail = f.tail[max(0, len(f.tail)-longest):]
	return len(p), nil
}
