package ingest

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/archivd/archivd/aip"
)

// A delivered BagIt bag (RFC 8493) is checked completely before it is
// accepted: its manifests are the producer's fixity, and a bag that does
// not match them is refused, each file named, before anything is written.

// bagAlgorithms are the manifest algorithms archivd can check, strongest first.
var bagAlgorithms = []struct {
	name string
	hex  int
	new  func() hash.Hash
}{
	{"sha512", 128, sha512.New}, {"sha256", 64, sha256.New}, {"sha1", 40, sha1.New}, {"md5", 32, md5.New},
}

// Bag is a delivered bag after its check.
type Bag struct {
	Dir        string
	Meta       aip.Metadata
	BagInfo    []byte   // bag-info.txt as delivered (kept as descriptive metadata)
	Algorithms []string // the payload manifests checked
	Files      int
	Bytes      int64
}

// Summary says what was checked, for PREMIS and the audit trail.
func (b *Bag) Summary() string {
	return fmt.Sprintf("delivered BagIt bag verified before ingest: %d payload files, %d bytes, every digest of manifest-%s.txt matches",
		b.Files, b.Bytes, strings.Join(b.Algorithms, ".txt and manifest-"))
}

// maxTagFile bounds a tag file read into memory.
const maxTagFile = 64 << 20

// ReadBag checks the bag in dir: bagit.txt, every payload manifest against
// every payload file (one read of each file computes every algorithm),
// no file missing from or extra to a manifest, the tag manifests, and
// Payload-Oxum. Problems are an *InputError naming each file.
func ReadBag(dir string, defaults aip.Metadata) (*Bag, error) {
	b := &Bag{Dir: dir}
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	fail := func() (*Bag, error) {
		sort.Strings(probs)
		return nil, &InputError{Folder: dir, Problems: probs}
	}
	decl, err := readTag(dir, "bagit.txt")
	if err != nil {
		bad("bagit.txt: %v (not a BagIt bag)", err)
		return fail()
	}
	tags := parseTagFields(decl)
	if v := tags["BagIt-Version"]; v != "1.0" && v != "0.97" {
		bad("bagit.txt: BagIt-Version %q: archivd takes 1.0 and 0.97", v)
	}
	if e := tags["Tag-File-Character-Encoding"]; !strings.EqualFold(e, "UTF-8") {
		bad("bagit.txt: Tag-File-Character-Encoding %q: archivd takes UTF-8", e)
	}
	if _, err := os.Lstat(filepath.Join(dir, "fetch.txt")); err == nil {
		bad("fetch.txt: the bag names files to fetch from elsewhere; deliver a complete bag")
	}
	if st, err := os.Lstat(filepath.Join(dir, "data")); err != nil || !st.IsDir() {
		bad("data/: missing or not a folder")
		return fail()
	}
	if b.BagInfo, err = readTag(dir, "bag-info.txt"); err != nil && !os.IsNotExist(err) {
		bad("bag-info.txt: %v", err)
	}
	info := parseTagFields(b.BagInfo)
	b.Meta = metadataFromBag(info, defaults)
	for name, d := range map[string]string{"Case-Opened": b.Meta.Opened, "Case-Closed": b.Meta.Closed} {
		if _, err := time.Parse("2006-01-02", d); d != "" && err != nil {
			bad("bag-info.txt: %s %q is not a date YYYY-MM-DD", name, d)
		}
	}

	// The payload manifests.
	manifests := map[string]map[string]string{} // algorithm -> path -> hex
	var hashes []func() hash.Hash
	for _, alg := range bagAlgorithms {
		data, err := readTag(dir, "manifest-"+alg.name+".txt")
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			bad("manifest-%s.txt: %v", alg.name, err)
			continue
		}
		entries, err := aip.ParseManifest(data, alg.hex)
		if err != nil {
			bad("manifest-%s.txt: %v", alg.name, err)
			continue
		}
		m := map[string]string{}
		for _, e := range entries {
			if !strings.HasPrefix(e.Path, "data/") || path.Clean(e.Path) != e.Path || strings.Contains(e.Path, "/../") {
				bad("manifest-%s.txt: %q is not a path inside data/", alg.name, e.Path)
				continue
			}
			m[e.Path] = e.Hex
		}
		manifests[alg.name] = m
		b.Algorithms = append(b.Algorithms, alg.name)
		hashes = append(hashes, alg.new)
	}
	if len(b.Algorithms) == 0 {
		bad("no payload manifest archivd can check (manifest-sha512.txt, -sha256, -sha1 or -md5)")
	}
	if len(probs) > 0 {
		return fail()
	}

	// Every payload file, read once for every algorithm.
	seen := map[string]bool{}
	root := filepath.Join(dir, "data")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case err != nil:
			bad("%q: %v", rel, err)
			return nil
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return nil // Scan names links, pipes and devices
		}
		seen[rel] = true
		sums, n, err := hashFile(p, hashes)
		if err != nil {
			bad("%q: %v", rel, err)
			return nil
		}
		b.Files++
		b.Bytes += n
		for i, alg := range b.Algorithms {
			want, ok := manifests[alg][rel]
			switch {
			case !ok:
				bad("%q: in the payload but not in manifest-%s.txt", rel, alg)
			case want != sums[i]:
				bad("%q: %s differs from manifest-%s.txt (expected %s, found %s)", rel, strings.ToUpper(alg), alg, want, sums[i])
			}
		}
		return nil
	})
	for _, alg := range b.Algorithms {
		for p := range manifests[alg] {
			if !seen[p] {
				bad("%q: listed in manifest-%s.txt but not in the bag", p, alg)
			}
		}
	}
	if oxum := info["Payload-Oxum"]; oxum != "" {
		if want := fmt.Sprintf("%d.%d", b.Bytes, b.Files); oxum != want {
			bad("bag-info.txt: Payload-Oxum %s, but the payload holds %s (octets.files)", oxum, want)
		}
	}
	b.checkTagManifests(bad)
	if len(probs) > 0 {
		return fail()
	}
	return b, nil
}

// checkTagManifests checks the tag files every tag manifest lists.
func (b *Bag) checkTagManifests(bad func(string, ...any)) {
	for _, alg := range bagAlgorithms {
		data, err := readTag(b.Dir, "tagmanifest-"+alg.name+".txt")
		if err != nil {
			continue
		}
		entries, err := aip.ParseManifest(data, alg.hex)
		if err != nil {
			bad("tagmanifest-%s.txt: %v", alg.name, err)
			continue
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Path, "data/") || strings.Contains(e.Path, "..") || path.IsAbs(e.Path) {
				bad("tagmanifest-%s.txt: %q is not a tag file", alg.name, e.Path)
				continue
			}
			sums, _, err := hashFile(filepath.Join(b.Dir, filepath.FromSlash(e.Path)), []func() hash.Hash{alg.new})
			if err != nil {
				bad("%q: listed in tagmanifest-%s.txt: %v", e.Path, alg.name, err)
			} else if sums[0] != e.Hex {
				bad("%q: %s differs from tagmanifest-%s.txt", e.Path, strings.ToUpper(alg.name), alg.name)
			}
		}
	}
}

func hashFile(p string, news []func() hash.Hash) ([]string, int64, error) {
	st, err := os.Lstat(p)
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("not a regular file")
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	hs := make([]hash.Hash, len(news))
	ws := make([]io.Writer, len(news))
	for i, n := range news {
		hs[i] = n()
		ws[i] = hs[i]
	}
	n, err := io.Copy(io.MultiWriter(ws...), f)
	if err != nil {
		return nil, n, err
	}
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hex.EncodeToString(h.Sum(nil))
	}
	return out, n, nil
}

// readTag reads a tag file (bounded; a regular file only).
func readTag(dir, name string) ([]byte, error) {
	p := filepath.Join(dir, name)
	st, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	return readLimited(p, maxTagFile)
}

// parseTagFields reads "Label: value" lines; a line starting with
// whitespace continues the value before. A repeated label keeps the first.
func parseTagFields(b []byte) map[string]string {
	out := map[string]string{}
	last := ""
	for _, line := range strings.Split(string(bytes.TrimPrefix(b, []byte("\ufeff"))), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			out[last] += " " + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if _, dup := out[k]; !dup {
			out[k] = strings.TrimSpace(v)
			last = k
		} else {
			last = ""
		}
	}
	return out
}

// metadataFromBag maps bag-info fields to case metadata: archivd's own
// Case-* fields first, then the reserved BagIt ones; every other field is
// kept as an extra.
func metadataFromBag(info map[string]string, defaults aip.Metadata) aip.Metadata {
	m := defaults
	pick := func(dst *string, keys ...string) {
		for _, k := range keys {
			if v := info[k]; v != "" {
				*dst = v
				return
			}
		}
	}
	pick(&m.Title, "Case-Title", "Title", "External-Description", "Internal-Sender-Description")
	pick(&m.Reference, "Case-Reference", "External-Identifier", "Internal-Sender-Identifier")
	pick(&m.Agency, "Case-Agency", "Source-Organization")
	pick(&m.RecordClass, "Case-Record-Class", "Record-Class")
	pick(&m.Opened, "Case-Opened")
	pick(&m.Closed, "Case-Closed")
	used := map[string]bool{"Payload-Oxum": true, "Bag-Size": true, "Bag-Count": true, "Bag-Group-Identifier": true}
	for _, k := range []string{"Case-Title", "Title", "Case-Reference", "Case-Agency", "Case-Record-Class", "Case-Opened", "Case-Closed", "Record-Class"} {
		used[k] = true
	}
	m.Extra = map[string]string{}
	for k, v := range defaults.Extra {
		m.Extra[k] = v
	}
	for k, v := range info {
		if !used[k] {
			m.Extra[k] = v
		}
	}
	return m
}

// ScanBag lists a checked bag's payload for packaging: the files under
// data/ (a case.yaml there is payload like any other file), with the
// bag's bag-info.txt kept as the delivered descriptive metadata.
func ScanBag(b *Bag) (aip.Input, error) {
	in, err := scan(filepath.Join(b.Dir, "data"), b.Meta, false)
	if err != nil {
		return in, err
	}
	if len(b.BagInfo) > 0 {
		st, err := os.Stat(filepath.Join(b.Dir, "bag-info.txt"))
		if err != nil {
			return in, err
		}
		in.Sidecar = &aip.Sidecar{Name: "bag-info.txt", Data: b.BagInfo, ModTime: st.ModTime()}
	}
	return in, nil
}
