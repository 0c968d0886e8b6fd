package xdomea

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Inspection is what a transfer zip holds and what archivd would do with
// it: the AIPs it would make, and every reason it would refuse the
// transfer.
type Inspection struct {
	Zip         string
	MessageFile string   // the message's entry in the zip
	Message     *Message // nil when it could not be read
	Units       []*Record
	Missing     []File     // named by the message, not in the zip
	Extra       []string   // in the zip, named by nothing
	Mismatches  []Mismatch // digest given by the message differs
	Problems    []string   // the zip's or the message's own faults
	Notes       []string
	Schema      string // how the message was validated against the schemas
}

// Mismatch is a primary document whose digest differs from the message's.
type Mismatch struct {
	File      File
	Found     string
	Algorithm string
}

// OK reports whether the transfer can be taken as a whole.
func (i *Inspection) OK() bool {
	return i.Message != nil && len(i.Problems) == 0 && len(i.Missing) == 0 && len(i.Extra) == 0 && len(i.Mismatches) == 0
}

// Limits of a transfer zip.
const (
	maxEntries = 100_000
	maxRatio   = 1000
)

var (
	reZipName  = regexp.MustCompile(`^([0-9A-Za-z-]+)_(Aussonderung\.Aussonderung\.0503|0503_\d+)\.zip$`)
	reMessage  = regexp.MustCompile(`(^|/)[0-9A-Za-z-]+_(Aussonderung\.Aussonderung\.0503|0503_\d+)\.xml$`)
	schemaFile = map[string]string{"3": "xdomea-Nachrichten-AussonderungDurchfuehren.xsd"}
)

// Inspect reads a transfer zip: entry names and sizes by the zip rules of
// the daemon's inboxes (no .., no absolute names, no links, at most
// maxBytes unpacked and no entry expanding a thousandfold), the message,
// completeness in both directions and the digests the message gives. With
// schemas, the message is validated by xmllint against the xdomea schemas
// in that folder.
func Inspect(ctx context.Context, zipPath, schemas string, maxBytes int64) (*Inspection, error) {
	return InspectAs(ctx, zipPath, filepath.Base(zipPath), schemas, maxBytes)
}

// InspectAs is Inspect of a zip kept under another name (the daemon's
// claim): name is the file name it was delivered as, which must carry
// the message's ProzessID.
func InspectAs(ctx context.Context, zipPath, name, schemas string, maxBytes int64) (*Inspection, error) {
	in := &Inspection{Zip: zipPath}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		in.Problems = append(in.Problems, fmt.Sprintf("not a readable zip file: %v", err))
		return in, nil
	}
	defer zr.Close()
	if m := reZipName.FindStringSubmatch(name); m == nil {
		in.Notes = append(in.Notes, "the file name is not <ProzessID>_Aussonderung.Aussonderung.0503.zip or <ProzessID>_0503_<n>.zip")
	}
	if len(zr.File) > maxEntries {
		in.Problems = append(in.Problems, fmt.Sprintf("the zip holds %d entries; at most %d are taken", len(zr.File), maxEntries))
		return in, nil
	}
	entries := map[string]*zip.File{}
	var total uint64
	var messages []*zip.File
	for _, f := range zr.File {
		name := f.Name
		clean := path.Clean(name)
		switch {
		case strings.Contains(name, "\\"), path.IsAbs(name), clean == "..", strings.HasPrefix(clean, "../"), strings.Contains(name, "\x00"):
			in.Problems = append(in.Problems, fmt.Sprintf("%q: an entry name that points outside the transfer (absolute, .. or a backslash)", name))
			continue
		case f.Mode()&os.ModeSymlink != 0:
			in.Problems = append(in.Problems, fmt.Sprintf("%q: a symbolic link in the zip", name))
			continue
		case f.FileInfo().IsDir():
			continue
		case f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > maxRatio:
			in.Problems = append(in.Problems, fmt.Sprintf("%q expands more than %d-fold: refused as a zip bomb", name, maxRatio))
			continue
		}
		total += f.UncompressedSize64
		entries[clean] = f
		if reMessage.MatchString(clean) {
			messages = append(messages, f)
		}
	}
	if maxBytes > 0 && total > uint64(maxBytes) {
		in.Problems = append(in.Problems, fmt.Sprintf("the zip unpacks to %d bytes, more than the %d allowed", total, maxBytes))
	}
	if len(in.Problems) > 0 {
		return in, nil
	}
	if len(messages) == 0 {
		// No conventional name: the one XML file at the top.
		for name, f := range entries {
			if !strings.Contains(name, "/") && strings.EqualFold(path.Ext(name), ".xml") {
				messages = append(messages, f)
			}
		}
	}
	if len(messages) != 1 {
		in.Problems = append(in.Problems, fmt.Sprintf("%d candidate 0503 messages in the zip; exactly one is needed", len(messages)))
		return in, nil
	}
	mf := messages[0]
	in.MessageFile = path.Clean(mf.Name)
	msgBytes, err := readEntry(mf, 256<<20)
	if err != nil {
		in.Problems = append(in.Problems, fmt.Sprintf("%s: %v", mf.Name, err))
		return in, nil
	}
	if schemas != "" {
		in.Schema, err = validate(ctx, msgBytes, schemas)
		if err != nil {
			in.Problems = append(in.Problems, err.Error())
		}
	} else {
		in.Schema = "not validated (no schema folder configured)"
	}
	m, err := Parse(strings.NewReader(string(msgBytes)))
	if err != nil {
		in.Problems = append(in.Problems, fmt.Sprintf("%s: %v", mf.Name, err))
		return in, nil
	}
	in.Message, in.Units = m, m.Units()
	if zm := reZipName.FindStringSubmatch(name); zm != nil && zm[1] != m.ProzessID {
		in.Problems = append(in.Problems, fmt.Sprintf("the zip is named for process %s, the message is of process %s", zm[1], m.ProzessID))
	}
	named := map[string]bool{in.MessageFile: true}
	for _, f := range m.Files() {
		if f.Name == "" {
			in.Problems = append(in.Problems, fmt.Sprintf("document %s version %s names a primary document without a file name", f.Document, f.Version))
			continue
		}
		e := entries[path.Clean(f.Name)]
		if e == nil {
			in.Missing = append(in.Missing, f)
			continue
		}
		named[path.Clean(f.Name)] = true
		if f.Hash == "" {
			continue
		}
		var h hash.Hash
		switch f.HashAlgo {
		case "SHA-256", "SHA256":
			h = sha256.New()
		case "SHA-512", "SHA512":
			h = sha512.New()
		default:
			in.Notes = append(in.Notes, fmt.Sprintf("%s: digest algorithm %q not checked", f.Name, f.HashAlgo))
			continue
		}
		if err := hashEntry(e, h); err != nil {
			in.Problems = append(in.Problems, fmt.Sprintf("%s: %v", f.Name, err))
			continue
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != f.Hash {
			in.Mismatches = append(in.Mismatches, Mismatch{File: f, Found: got, Algorithm: f.HashAlgo})
		}
	}
	for name := range entries {
		if !named[name] {
			in.Extra = append(in.Extra, name)
		}
	}
	sort.Strings(in.Extra)
	return in, nil
}

func readEntry(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("damaged in the zip: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

func hashEntry(f *zip.File, h hash.Hash) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(h, rc); err != nil {
		return fmt.Errorf("damaged in the zip: %w", err)
	}
	return nil
}

// validate runs xmllint against the 0503 schema of the message's major
// version in dir; it returns what was done, or the validator's messages.
func validate(ctx context.Context, msg []byte, dir string) (string, error) {
	major := "3"
	if i := strings.Index(string(msg[:min(len(msg), 4096)]), nsPrefix); i >= 0 {
		major = string(msg[i+len(nsPrefix)])
	}
	xsd := filepath.Join(dir, schemaFile[major])
	if schemaFile[major] == "" {
		return fmt.Sprintf("not validated: no schema of xdomea %s.x in %s", major, dir), nil
	}
	if _, err := os.Stat(xsd); err != nil {
		return fmt.Sprintf("not validated: %s is missing", xsd), nil
	}
	tmp, err := os.CreateTemp("", "xdomea-*.xml")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	tmp.Write(msg)
	tmp.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "xmllint", "--noout", "--nonet", "--schema", xsd, tmp.Name()).CombinedOutput()
	if errors, ok := err.(*exec.ExitError); ok && errors.ExitCode() > 0 {
		lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(string(out), tmp.Name(), "message")), "\n")
		return "", fmt.Errorf("the message does not validate against %s: %s", filepath.Base(xsd), strings.Join(lines[:min(len(lines), 10)], "; "))
	} else if err != nil {
		return "", fmt.Errorf("xmllint could not run (install libxml2-utils): %v", err)
	}
	return "valid against " + xsd, nil
}

// Summary is the inspection's findings, one per line (what REASON.txt and
// `archivd xdomea inspect` print).
func Summary(in *Inspection) string {
	var b strings.Builder
	for _, p := range in.Problems {
		fmt.Fprintf(&b, "problem %s\n", p)
	}
	for _, f := range in.Missing {
		fmt.Fprintf(&b, "missing %s (document %s, version %s): named by the message, not in the zip\n", f.Name, f.Document, f.Version)
	}
	for _, e := range in.Extra {
		fmt.Fprintf(&b, "extra %s: in the zip, named by nothing in the message\n", e)
	}
	for _, m := range in.Mismatches {
		fmt.Fprintf(&b, "digest %s: %s expected %s, found %s\n", m.File.Name, m.Algorithm, m.File.Hash, m.Found)
	}
	for _, n := range in.Notes {
		fmt.Fprintf(&b, "note %s\n", n)
	}
	return b.String()
}

// Extract copies the zip entries names (as the message names them) to dir
// under the same relative names; a digest the message gives is checked
// while writing, by Inspect before.
func Extract(zipPath string, names []string, dir string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	defer zr.Close()
	byName := map[string]*zip.File{}
	for _, f := range zr.File {
		byName[path.Clean(f.Name)] = f
	}
	for _, n := range names {
		clean := path.Clean(n)
		f := byName[clean]
		if f == nil {
			return fmt.Errorf("%s is not in the zip", n)
		}
		if strings.HasPrefix(clean, "../") || clean == ".." || path.IsAbs(clean) {
			return fmt.Errorf("%q points outside the transfer", n)
		}
		dst := filepath.Join(dir, filepath.FromSlash(clean))
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return err
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
		if err != nil {
			rc.Close()
			return err
		}
		_, err = io.Copy(out, rc)
		rc.Close()
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		if !f.Modified.IsZero() {
			os.Chtimes(dst, f.Modified, f.Modified)
		}
	}
	return nil
}

// Reopen reads only the message of a transfer Inspect checked before (its
// entry name known): no entry is hashed again.
func Reopen(zipPath, messageFile string) (*Inspection, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if path.Clean(f.Name) != messageFile {
			continue
		}
		b, err := readEntry(f, 256<<20)
		if err != nil {
			return nil, err
		}
		m, err := Parse(strings.NewReader(string(b)))
		if err != nil {
			return nil, err
		}
		return &Inspection{Zip: zipPath, MessageFile: messageFile, Message: m, Units: m.Units()}, nil
	}
	return nil, fmt.Errorf("%s: no entry %s", zipPath, messageFile)
}
