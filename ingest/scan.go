package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/formats"
)

// SidecarName is the optional metadata file in a case folder.
const SidecarName = "case.yaml"

// maxSidecar bounds the sidecar file read into memory.
const maxSidecar = 1 << 20

// sidecar is the schema of case.yaml.
type sidecar struct {
	Title       string            `yaml:"title,omitempty"`
	Reference   string            `yaml:"reference,omitempty"`
	Agency      string            `yaml:"agency,omitempty"`
	RecordClass string            `yaml:"record_class,omitempty"`
	Opened      string            `yaml:"opened,omitempty"`
	Closed      string            `yaml:"closed,omitempty"`
	Extra       map[string]string `yaml:"extra,omitempty"`
}

// InputError lists every reason a case folder cannot be ingested, each
// naming the file. The folder is left untouched.
type InputError struct {
	Folder   string
	Problems []string
	// Policy: every problem is a format policy refusal (which an explicit
	// override may accept), not a case that cannot be read.
	Policy bool
}

func (e *InputError) Error() string {
	probs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		probs[i] = printable(p)
	}
	return fmt.Sprintf("case folder %s cannot be ingested:\n  %s", printable(e.Folder), strings.Join(probs, "\n  "))
}

// printable escapes what must not reach a terminal or a log line raw:
// control characters (an escape sequence quoted from a binary case.yaml
// could clear the screen), bidirectional overrides, and bytes that are not
// UTF-8. Everything else is kept, umlauts included.
func printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r), r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Scan walks a case folder and returns the input for packaging. It reads
// nothing but the sidecar; files are opened later, once, for packaging.
func Scan(folder string, defaults aip.Metadata) (aip.Input, error) {
	return scan(folder, defaults, true)
}

// scan walks a case folder; with sidecar, a case.yaml at its top is the
// case's metadata, else an ordinary file.
func scan(folder string, defaults aip.Metadata, sidecar bool) (aip.Input, error) {
	var in aip.Input
	var probs []string
	if folder == "" {
		return in, &InputError{Folder: folder, Problems: []string{"the case folder name is empty"}}
	}
	st, err := os.Lstat(folder)
	if err != nil {
		return in, &InputError{Folder: folder, Problems: []string{err.Error()}}
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		to, _ := os.Readlink(folder)
		return in, &InputError{Folder: folder, Problems: []string{fmt.Sprintf("is a symbolic link (to %s); name the case folder itself", to)}}
	}
	if !st.IsDir() {
		return in, &InputError{Folder: folder, Problems: []string{fmt.Sprintf("not a folder (a %s)", describeMode(st.Mode()))}}
	}
	err = filepath.WalkDir(folder, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(folder, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			probs = append(probs, fmt.Sprintf("%q: %v", rel, err))
			return nil
		}
		if rel == "." {
			return nil
		}
		if strings.ContainsRune(rel, 0) {
			probs = append(probs, fmt.Sprintf("%q: name contains a NUL byte", rel))
			return nil
		}
		info, err := d.Info()
		if err != nil {
			probs = append(probs, fmt.Sprintf("%q: %v", rel, err))
			return nil
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			probs = append(probs, fmt.Sprintf("%q: is a symbolic link; archive the file it points to instead", rel))
		case info.IsDir() && rel == SidecarName && sidecar:
			probs = append(probs, fmt.Sprintf("%q: is a folder; the case metadata must be a YAML file of that name", rel))
			return fs.SkipDir
		case info.IsDir():
			if in.DirTimes == nil {
				in.DirTimes = map[string]time.Time{}
			}
			in.DirTimes[rel] = info.ModTime()
			ents, err := os.ReadDir(p)
			if err != nil {
				probs = append(probs, fmt.Sprintf("%q: %v", rel, err))
			} else if len(ents) == 0 {
				in.EmptyDirs = append(in.EmptyDirs, rel)
			}
		case !info.Mode().IsRegular():
			probs = append(probs, fmt.Sprintf("%q: is a %s, not a regular file", rel, kind(info.Mode())))
		case rel == SidecarName && sidecar:
			b, err := readLimited(p, maxSidecar)
			if err != nil {
				probs = append(probs, fmt.Sprintf("%q: %v", rel, err))
				return nil
			}
			in.Sidecar = &aip.Sidecar{Name: SidecarName, Data: b, ModTime: info.ModTime()}
		default:
			in.Files = append(in.Files, aip.InputFile{Path: rel, Size: info.Size(), ModTime: info.ModTime(), Open: opener(p, rel, info)})
		}
		return nil
	})
	if err != nil {
		probs = append(probs, err.Error())
	}
	in.Meta = defaults
	if in.Sidecar != nil {
		meta, errs := parseSidecar(in.Sidecar.Data, defaults)
		for _, e := range errs {
			probs = append(probs, fmt.Sprintf("%q: %s", SidecarName, e))
		}
		in.Meta = meta
	}
	if len(in.Files) == 0 && len(probs) == 0 {
		probs = append(probs, "the case file contains no files (an empty case is refused)")
	}
	// Name mapping problems are found before anything is written.
	if len(in.Files) > 0 {
		if _, err := aip.Plan(in); err != nil {
			for _, e := range strings.Split(err.Error(), "\n") {
				probs = append(probs, e)
			}
		}
	}
	if len(probs) > 0 {
		sort.Strings(probs)
		return in, &InputError{Folder: folder, Problems: probs}
	}
	return in, nil
}

func describeMode(m fs.FileMode) string {
	if m.IsRegular() {
		return "regular file"
	}
	return kind(m)
}

func kind(m fs.FileMode) string { return formats.FileKind(m) }

func readLimited(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// parseSidecar reads case.yaml strictly; values missing there come from
// defaults. Dates are civil dates YYYY-MM-DD.
func parseSidecar(b []byte, defaults aip.Metadata) (aip.Metadata, []string) {
	var s sidecar
	var errs []string
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				errs = append(errs, strings.Replace(e, " in type ingest.sidecar", " (known: title, reference, agency, record_class, opened, closed, extra)", 1))
			}
		} else {
			errs = append(errs, err.Error())
		}
	}
	m := defaults
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&m.Title, s.Title)
	set(&m.Reference, s.Reference)
	set(&m.Agency, s.Agency)
	set(&m.RecordClass, s.RecordClass)
	for name, d := range map[string]string{"opened": s.Opened, "closed": s.Closed} {
		if d == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", d); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %q is not a date YYYY-MM-DD", name, d))
		}
	}
	m.Opened, m.Closed = s.Opened, s.Closed
	if m.Opened != "" && m.Closed != "" && m.Closed < m.Opened {
		errs = append(errs, fmt.Sprintf("closed %s is before opened %s", m.Closed, m.Opened))
	}
	m.Extra = s.Extra
	sort.Strings(errs)
	return m, errs
}

// opener returns a function that opens a file for its one read and fails
// on Close if the file changed (size, mtime, inode) while it was read.
func opener(p, rel string, before fs.FileInfo) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if changed(before, st) {
			f.Close()
			return nil, &aip.PathError{Path: rel, Reason: "file changed between listing and reading (size or modification time)"}
		}
		return &checkedFile{File: f, rel: rel, path: p, before: st}, nil
	}
}

type checkedFile struct {
	*os.File
	rel, path string
	before    fs.FileInfo
	closed    bool
}

func (c *checkedFile) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.File.Close()
	after, serr := os.Lstat(c.path)
	if serr != nil {
		return &aip.PathError{Path: c.rel, Reason: "file disappeared while it was read"}
	}
	if changed(c.before, after) {
		return &aip.PathError{Path: c.rel, Reason: "file changed while it was read (size or modification time)"}
	}
	return err
}

func changed(a, b fs.FileInfo) bool {
	if a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime()) {
		return true
	}
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && (sa.Ino != sb.Ino || sa.Dev != sb.Dev)
}

// SidecarYAML writes meta as a case.yaml that the sidecar parser reads
// back as it was (for case folders archivd builds itself, as from an
// xdomea transfer). Empty fields are left out.
func SidecarYAML(meta aip.Metadata) ([]byte, error) {
	return yaml.Marshal(sidecar{Title: meta.Title, Reference: meta.Reference, Agency: meta.Agency, RecordClass: meta.RecordClass,
		Opened: meta.Opened, Closed: meta.Closed, Extra: meta.Extra})
}
