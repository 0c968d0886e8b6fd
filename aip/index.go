package aip

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/archivd/archivd/digest"
)

// IndexHeader starts a member index: the table stored beside each package
// (<package root>.index.tsv) so that a catalog rebuild or a range read of
// one document needs no pass over the package. It is derived data: the
// package alone is authoritative.
const IndexHeader = "# archivd member index 1\tpath\tkind\tsize\tsha512\tsha256\tmtime\toffset\tframe\toriginal\n"

// Index renders the member index of a written package.
func Index(res *Result) []byte {
	var b strings.Builder
	b.WriteString(IndexHeader)
	fmt.Fprintf(&b, "#package\t%d\t%s\t%s\t%d\t%s\n", res.Size, res.Package.SHA512, res.Package.SHA256, len(res.Frames), res.PayloadOxum)
	out := []byte(b.String())
	for _, m := range res.Members { // appended field by field: one line per file of the case
		out = append(out, EscapePath(m.Path)...)
		out = append(append(out, '\t'), m.Kind...)
		out = strconv.AppendInt(append(out, '\t'), m.Size, 10)
		out = append(append(out, '\t'), m.Digests.SHA512.String()...)
		out = append(append(out, '\t'), m.Digests.SHA256.String()...)
		out = m.ModTime.UTC().AppendFormat(append(out, '\t'), time.RFC3339Nano)
		out = strconv.AppendInt(append(out, '\t'), m.Offset, 10)
		out = strconv.AppendInt(append(out, '\t'), int64(m.Frame), 10)
		out = append(append(out, '\t'), EscapePath(m.Original)...)
		out = append(out, '\n')
	}
	return out
}

// ParseIndex reads a member index back into the Result it was made from
// (without Small, and with Frames holding only their count).
func ParseIndex(data []byte) (*Result, error) {
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) < 2 || lines[0]+"\n" != IndexHeader {
		return nil, fmt.Errorf("member index: unknown header")
	}
	res := &Result{}
	pk := strings.Split(lines[1], "\t")
	if len(pk) != 6 || pk[0] != "#package" {
		return nil, fmt.Errorf("member index: no package line")
	}
	var err error
	var frames int
	res.Size, err = strconv.ParseInt(pk[1], 10, 64)
	if err == nil {
		res.Package.SHA512, err = digest.ParseSHA512(pk[2])
	}
	if err == nil {
		res.Package.SHA256, err = digest.ParseSHA256(pk[3])
	}
	if err == nil {
		frames, err = strconv.Atoi(pk[4])
	}
	if err != nil {
		return nil, fmt.Errorf("member index package line: %w", err)
	}
	res.Frames = make([]Frame, frames)
	res.PayloadOxum = pk[5]
	out := res.Members
	for i, line := range lines[2:] {
		f := strings.Split(line, "\t")
		if len(f) != 9 {
			return nil, fmt.Errorf("member index line %d: want 9 fields, have %d", i+2, len(f))
		}
		var m Member
		var err error
		errs := []error{}
		m.Path, err = UnescapePath(f[0])
		errs = append(errs, err)
		m.Kind = f[1]
		m.Size, err = strconv.ParseInt(f[2], 10, 64)
		errs = append(errs, err)
		m.Digests.SHA512, err = digest.ParseSHA512(f[3])
		errs = append(errs, err)
		m.Digests.SHA256, err = digest.ParseSHA256(f[4])
		errs = append(errs, err)
		m.ModTime, err = time.Parse(time.RFC3339Nano, f[5])
		errs = append(errs, err)
		m.Offset, err = strconv.ParseInt(f[6], 10, 64)
		errs = append(errs, err)
		m.Frame, err = strconv.Atoi(f[7])
		errs = append(errs, err)
		m.Original, err = UnescapePath(f[8])
		errs = append(errs, err)
		for _, e := range errs {
			if e != nil {
				return nil, fmt.Errorf("member index line %d: %w", i+2, e)
			}
		}
		out = append(out, m)
	}
	res.Members = out
	return res, nil
}

// bagInfoField returns the value of the first line labelled label in a
// bag-info.txt ("" if there is none).
func bagInfoField(b []byte, label string) string {
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSuffix(line, "\r"), ": "); ok && k == label {
			return v
		}
	}
	return ""
}

// OriginFromBagInfo reads back the delivery a package's case came from
// ("" for packages written before it was recorded).
func OriginFromBagInfo(b []byte) string {
	o, err := UnescapePath(bagInfoField(b, "Case-Delivery"))
	if err != nil {
		return ""
	}
	return o
}

// FormatFromBagInfo reads AIP-Format-Version (0 if absent).
func FormatFromBagInfo(b []byte) int {
	n, _ := strconv.Atoi(bagInfoField(b, "AIP-Format-Version"))
	return n
}

// MetadataFromBagInfo reads back the case metadata written into bag-info.txt.
func MetadataFromBagInfo(b []byte) Metadata {
	var m Metadata
	for label, dst := range map[string]*string{"Case-Reference": &m.Reference, "Case-Title": &m.Title, "Case-Agency": &m.Agency,
		"Case-Record-Class": &m.RecordClass, "Case-Opened": &m.Opened, "Case-Closed": &m.Closed} {
		*dst = bagInfoField(b, label)
	}
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(strings.TrimSuffix(line, "\r"), "Case-Extra: ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(v, "=")
		if k, err := UnescapePath(k); err == nil && k != "" {
			if m.Extra == nil {
				m.Extra = map[string]string{}
			}
			m.Extra[k] = v
		}
	}
	return m
}

// RetentionFromBagInfo reads the retention recorded in bag-info.txt (nil:
// none was decided, or a format 1 AIP).
func RetentionFromBagInfo(b []byte) *Retention {
	class := bagInfoField(b, "Retention-Class")
	if class == "" {
		return nil
	}
	r := &Retention{Class: class, Period: bagInfoField(b, "Retention-Period"), Ends: bagInfoField(b, "Retention-Ends"), Action: bagInfoField(b, "Retention-Action"),
		LockMode: bagInfoField(b, "Retention-Lock-Mode")}
	r.Trigger, r.TriggerDate, _ = strings.Cut(bagInfoField(b, "Retention-Trigger"), " ")
	return r
}
