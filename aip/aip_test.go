package aip

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/archivd/archivd/digest"
)

var testRecord = Record{
	ID:           MustParseID("urn:uuid:01937a3b-6c2e-7cc0-8a1b-3f4e5d6c7b8a"),
	Version:      1,
	Created:      time.Date(2026, 11, 28, 14, 3, 7, 0, time.UTC),
	Zone:         time.UTC,
	Organization: "Kreis Musterland, Kreisarchiv",
	Software:     "archivd",
	SoftVersion:  "test",
	Events: []Event{
		{ID: "0c4f3c1e-2a5b-4f6e-9d1a-1b2c3d4e5f60", Type: "ingestion", Time: time.Date(2026, 11, 28, 14, 3, 7, 0, time.UTC), Outcome: "success", Detail: "case folder ingested"},
	},
	// A retention class: bag-info.txt and a PREMIS rights statement, which
	// TestMETSAndPREMISValidate checks against the schema.
	Retention: &Retention{Class: "bau", Period: "30 years", Trigger: "closed", TriggerDate: "2024-06-14", Ends: "2054-12-31", Action: "offer",
		Basis: "class bau (record class 63.*): counted from the closing date of the case"},
}

func memFile(path, content string, mtime time.Time) InputFile {
	return InputFile{Path: path, Size: int64(len(content)), ModTime: mtime,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil }}
}

func withFormat(f InputFile, fi *FormatInfo) InputFile { f.Format = fi; return f }

func testInput() Input {
	mt := time.Date(2024, 3, 1, 9, 30, 0, 123456789, time.UTC)
	return Input{
		Files: []InputFile{
			withFormat(memFile("Antrag.pdf", "%PDF-1.7 fake", mt), &FormatInfo{PUID: "fmt/276", Name: "Acrobat PDF 1.7 - Portable Document Format", Version: "1.7", MIME: "application/pdf", Basis: "signature", Validity: "malformed"}),
			memFile("Bescheide/Bescheid 2024.txt", "Bescheid\n", mt),
			memFile("leer.txt", "", mt),
			memFile("Pru\u0308fung%1.txt", "NFD and percent", mt),
			memFile("back\\slash\nnewline.txt", "odd", mt),
		},
		EmptyDirs: []string{"Anlagen/leer"},
		Sidecar:   &Sidecar{Name: "case.yaml", Data: []byte("title: Bauantrag\n"), ModTime: mt},
		Meta:      Metadata{Title: "Bauantrag Musterweg 1", Reference: "63-01/2024-017", Agency: "Bauamt"},
	}
}

func build(t *testing.T) ([]byte, *Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Write(context.Background(), &buf, testRecord, testInput(), Options{FrameSize: 64})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes(), res
}

func TestWriteIsDeterministic(t *testing.T) {
	a, _ := build(t)
	b, _ := build(t)
	if !bytes.Equal(a, b) {
		t.Fatal("two packages from one record and input differ")
	}
}

func TestVerifyIntactAndDamaged(t *testing.T) {
	pkg, res := build(t)
	exp := Expect{Root: testRecord.ID.PackageRoot(1), Package: &res.Package.SHA512, Size: res.Size}
	rep, err := Verify(context.Background(), bytes.NewReader(pkg), exp)
	if err != nil || !rep.OK() {
		t.Fatalf("intact package: err=%v problems=%v", err, rep.Problems)
	}
	if rep.Members != len(res.Members)-1 { // the empty dir is not a file member
		t.Errorf("verified %d members, package has %d files", rep.Members, len(res.Members)-1)
	}
	if len(res.Frames) < 2 {
		t.Errorf("want several frames with a 64-byte frame size, got %d", len(res.Frames))
	}
	frames, err := ReadSeekTable(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil || len(frames) != len(res.Frames) {
		t.Fatalf("seek table: %v (%d frames, want %d)", err, len(frames), len(res.Frames))
	}
	// Flip one byte at a time in several places: every flip must be found.
	for _, at := range []int{10, len(pkg) / 3, len(pkg) / 2, len(pkg) - 30} {
		bad := bytes.Clone(pkg)
		bad[at] ^= 0x01
		rep, err := Verify(context.Background(), bytes.NewReader(bad), exp)
		if err != nil {
			t.Fatalf("flip at %d: %v", at, err)
		}
		if rep.OK() {
			t.Errorf("flip at %d not detected", at)
		}
	}
}

// member returns the bytes of one member of a package.
func member(t *testing.T, pkg []byte, name string) []byte {
	t.Helper()
	var out []byte
	found := false
	_, _, err := Walk(context.Background(), bytes.NewReader(pkg), func(h *tar.Header, body io.Reader) error {
		if _, rel, _ := strings.Cut(h.Name, "/"); rel == name {
			b, err := io.ReadAll(body)
			out, found = b, true
			return err
		}
		return nil
	})
	if err != nil || !found {
		t.Fatalf("member %s: found %v, %v", name, found, err)
	}
	return out
}

func TestNamesAreMappedAndRecorded(t *testing.T) {
	pkg, res := build(t)
	paths := string(member(t, pkg, TagPaths))
	for _, want := range []string{
		"file data/representations/rep-001/data/Antrag.pdf Antrag.pdf",
		"dir data/representations/rep-001/data/Anlagen/leer Anlagen/leer",
		"Pru%CC%88fung%251.txt",
		"back%5Cslash%0Anewline.txt",
	} {
		if !strings.Contains(paths, want) {
			t.Errorf("original-paths.txt lacks %q:\n%s", want, paths)
		}
	}
	for _, m := range res.Members {
		if strings.ContainsAny(m.Path, "%\\\n") {
			t.Errorf("unsafe bag path %q", m.Path)
		}
	}
}

func TestEmptyCaseRefused(t *testing.T) {
	_, err := Write(context.Background(), io.Discard, testRecord, Input{}, Options{})
	if err == nil || !strings.Contains(err.Error(), "no files") {
		t.Fatalf("empty case: %v", err)
	}
}

func TestChangingFileRefused(t *testing.T) {
	in := testInput()
	in.Files[0].Size += 5 // the file "shrank" between listing and reading
	_, err := Write(context.Background(), io.Discard, testRecord, in, Options{})
	if err == nil || !strings.Contains(err.Error(), "Antrag.pdf") || !strings.Contains(err.Error(), "shrank") {
		t.Fatalf("want an error naming Antrag.pdf, got %v", err)
	}
}

// TestAuditorProcedure extracts a package with tar and zstd and checks it
// with sha512sum and sha256sum only, as docs/verify-without-archivd.md says.
func TestAuditorProcedure(t *testing.T) {
	for _, tool := range []string{"tar", "zstd", "sha512sum", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed for the auditor procedure: %v", tool, err)
		}
	}
	pkg, res := build(t)
	dir := t.TempDir()
	file := filepath.Join(dir, testRecord.ID.PackageFile(1))
	if err := os.WriteFile(file, pkg, 0o644); err != nil {
		t.Fatal(err)
	}
	script := `set -e
cd "$1"
echo "$2  $3" | sha512sum -c --quiet
zstd -q -t "$3"
mkdir out && zstd -dc "$3" | tar -xf - -C out
cd "out/$4"
sha512sum -c --quiet manifest-sha512.txt
sha256sum -c --quiet manifest-sha256.txt
sha512sum -c --quiet tagmanifest-sha512.txt
sha256sum -c --quiet tagmanifest-sha256.txt
`
	out, err := exec.Command("bash", "-c", script, "x", dir, res.Package.SHA512.String(), filepath.Base(file), testRecord.ID.PackageRoot(1)).CombinedOutput()
	if err != nil {
		t.Fatalf("auditor procedure failed: %v\n%s", err, out)
	}
	// The same procedure must fail on a damaged payload file.
	victim := filepath.Join(dir, "out", testRecord.ID.PackageRoot(1), "data/representations/rep-001/data/Antrag.pdf")
	if err := os.WriteFile(victim, []byte("%PDF-1.7 fakf"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sha512sum", "-c", "--quiet", "manifest-sha512.txt")
	cmd.Dir = filepath.Join(dir, "out", testRecord.ID.PackageRoot(1))
	if err := cmd.Run(); err == nil {
		t.Fatal("sha512sum -c accepted a damaged file")
	}
}

func TestMETSAndPREMISValidate(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint is needed (Debian libxml2-utils; .ci/run installs it): %v", err)
	}
	pkg, _ := build(t)
	xsd, _ := filepath.Abs("../../shared/data/xsd")
	dir := t.TempDir()
	catalog := filepath.Join(dir, "catalog.xml")
	os.WriteFile(catalog, []byte(`<?xml version="1.0"?>
<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">
  <system systemId="http://www.loc.gov/standards/xlink/xlink.xsd" uri="file://`+xsd+`/data_specs_xlink.xsd"/>
  <uri name="http://www.loc.gov/standards/xlink/xlink.xsd" uri="file://`+xsd+`/data_specs_xlink.xsd"/>
  <system systemId="http://www.loc.gov/standards/mets/xlink.xsd" uri="file://`+xsd+`/data_specs_xlink.xsd"/>
  <uri name="http://www.loc.gov/standards/mets/xlink.xsd" uri="file://`+xsd+`/data_specs_xlink.xsd"/>
</catalog>`), 0o644)
	for name, schema := range map[string]string{PathMETS: "data_specs_mets.xsd", PathPREMIS: "data_specs_loc.gov_standards_premis_v3_premis-v3-0.xsd"} {
		f := filepath.Join(dir, filepath.Base(name))
		os.WriteFile(f, member(t, pkg, name), 0o644)
		cmd := exec.Command(xmllint, "--noout", "--nonet", "--schema", filepath.Join(xsd, schema), f)
		cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+catalog)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s does not validate against %s: %v\n%s", name, schema, err, out)
		}
	}
}

// TestPREMISIsLean: per file only what differs between files; the software
// is described once, as an agent, and an original name only where the
// file had to be renamed.
func TestPREMISIsLean(t *testing.T) {
	pkg, res := build(t)
	premis := string(member(t, pkg, PathPREMIS))
	if n := strings.Count(premis, "<premis:agentName>archivd</premis:agentName>"); n != 1 {
		t.Errorf("software agent described %d times, want once", n)
	}
	for _, gone := range []string{"messageDigestOriginator", "premis:relationship"} {
		if strings.Contains(premis, gone) {
			t.Errorf("PREMIS still repeats %s per file", gone)
		}
	}
	if strings.Contains(premis, "<premis:originalName>Antrag.pdf<") {
		t.Error("originalName written for a file that kept its name")
	}
	if !strings.Contains(premis, "<premis:originalName>Pru\u0308fung%1.txt<") {
		t.Errorf("originalName missing for a renamed file:\n%s", premis)
	}
	// PREMIS describes the original files and the delivered metadata
	// (METS and this text are written after it).
	files := 0
	for _, m := range res.Members {
		if m.Kind == KindPayload || strings.HasPrefix(m.Path, PathDescriptive) {
			files++
			if !strings.Contains(premis, m.Digests.SHA512.String()) {
				t.Errorf("PREMIS lacks the SHA-512 of %s", m.Path)
			}
		}
	}
	if n := strings.Count(premis, `xsi:type="premis:file"`); n != files {
		t.Errorf("PREMIS describes %d files, want %d", n, files)
	}
	if _, ok := res.Small[TagBagInfo]; !ok || len(res.Small) != 1 {
		t.Errorf("beside the package only bag-info.txt is kept, have %d files", len(res.Small))
	}
}

// TestBesideFilesReadWithZstd: what is stored beside a package is plain
// zstd, read back by ReadBeside and by the zstd tool alike.
func TestBesideFilesReadWithZstd(t *testing.T) {
	_, res := build(t)
	idx := Index(res)
	z := Compress(idx)
	if len(z) >= len(idx) {
		t.Errorf("compressed index %d bytes, plain %d", len(z), len(idx))
	}
	got, err := ReadBeside(testRecord.ID.IndexFile(1), bytes.NewReader(z))
	if err != nil || !bytes.Equal(got, idx) {
		t.Fatalf("ReadBeside: %v", err)
	}
	plain, err := ReadBeside(testRecord.ID.PackageRoot(1)+ExtIndex, bytes.NewReader(idx))
	if err != nil || !bytes.Equal(plain, idx) {
		t.Fatalf("ReadBeside of a format 1 (plain) index: %v", err)
	}
	cmd := exec.Command("zstd", "-dc")
	cmd.Stdin = bytes.NewReader(z)
	out, err := cmd.Output()
	if err != nil || !bytes.Equal(out, idx) {
		t.Fatalf("zstd -dc of the stored index: %v", err)
	}
	if _, err := ReadBeside(testRecord.ID.IndexFile(1), bytes.NewReader(z[:len(z)-3])); err == nil {
		t.Error("a truncated compressed index was accepted")
	}
}

// TestVerifyChecksPREMISEvents: the events an ingest record names must be
// in the package's premis.xml, found however the stream is cut.
func TestVerifyChecksPREMISEvents(t *testing.T) {
	pkg, res := build(t)
	members := map[string]digest.Pair{}
	for _, m := range res.Members {
		if m.Kind != KindDir {
			members[m.Path] = m.Digests
		}
	}
	exp := Expect{Root: testRecord.ID.PackageRoot(1), Package: &res.Package.SHA512, Size: res.Size, Members: members,
		Events: []string{testRecord.Events[0].ID}}
	rep, err := Verify(context.Background(), bytes.NewReader(pkg), exp)
	if err != nil || !rep.OK() {
		t.Fatalf("package with its ingest event: %v %+v", err, rep)
	}
	exp.Events = append(exp.Events, "7d1f0b5e-0000-4000-8000-000000000000")
	rep, err = Verify(context.Background(), bytes.NewReader(pkg), exp)
	if err != nil || rep.OK() || !strings.Contains(rep.Problems[0].Msg, "7d1f0b5e") {
		t.Fatalf("an event missing from PREMIS was not reported: %v %+v", err, rep)
	}
	// The finder sees a needle cut across writes of any size.
	text := []byte(strings.Repeat("x", 100) + "<a>needle<" + strings.Repeat("y", 50))
	for _, chunk := range []int{1, 2, 3, 7, 64, len(text)} {
		f := newFinder([]string{"needle", "absent"}, "<a>", "<")
		for p := text; len(p) > 0; p = p[min(chunk, len(p)):] {
			f.Write(p[:min(chunk, len(p))])
		}
		if !f.found[0] || f.found[1] {
			t.Errorf("writes of %d bytes: found %v", chunk, f.found)
		}
	}
}

// TestIncompressibleFramesStoredRaw: frames of random bytes (a stand-in
// for JPEG, video, encrypted data) are raw zstd blocks, costing no
// compression effort, and the package still reads, verifies and passes
// the zstd tool's test; text beside them is still compressed.
func TestIncompressibleFramesStoredRaw(t *testing.T) {
	const frame = 256 << 10
	noise := make([]byte, 4*frame)
	r := rand.New(rand.NewPCG(7, 8))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	text := strings.Repeat("Bescheid über den Bauantrag 63-01/2024-017.\n", 4*frame/44)
	mt := time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)
	in := Input{Files: []InputFile{memFile("Aufnahme.bin", string(noise), mt), memFile("Bescheid.txt", text, mt)}}
	var buf bytes.Buffer
	res, err := Write(context.Background(), &buf, testRecord, in, Options{FrameSize: frame})
	if err != nil {
		t.Fatal(err)
	}
	raw, packed := 0, 0
	for _, f := range res.Frames {
		// A raw frame is its content plus a header, block headers and a checksum.
		if int(f.CompressedSize) >= int(f.DecompressedSize) {
			raw++
		} else if int(f.CompressedSize) < int(f.DecompressedSize)/4 {
			packed++
		}
	}
	if raw < 3 || packed < 3 {
		t.Errorf("want the noise raw and the text compressed: %d raw, %d compressed of %d frames", raw, packed, len(res.Frames))
	}
	if int64(buf.Len()) > int64(len(noise))+int64(len(text))/4 {
		t.Errorf("package of %d bytes for %d bytes of noise", buf.Len(), len(noise))
	}
	members := map[string]digest.Pair{}
	for _, m := range res.Members {
		members[m.Path] = m.Digests
	}
	rep, err := Verify(context.Background(), bytes.NewReader(buf.Bytes()), Expect{Root: testRecord.ID.PackageRoot(1), Package: &res.Package.SHA512, Size: res.Size, Members: members})
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	cmd := exec.Command("zstd", "-dc")
	cmd.Stdin = bytes.NewReader(buf.Bytes())
	out, err := cmd.Output()
	if err != nil || !bytes.Contains(out, noise[:4096]) || !bytes.Contains(out, noise[len(noise)-4096:]) {
		t.Fatalf("zstd -dc of a package with raw frames: %v", err)
	}
	// A flipped byte inside a raw block is caught by the frame's checksum.
	bad := bytes.Clone(buf.Bytes())
	bad[int(res.Frames[0].CompressedSize)/2] ^= 1
	cmd = exec.Command("zstd", "-t", "-q")
	cmd.Stdin = bytes.NewReader(bad)
	if err := cmd.Run(); err == nil {
		t.Error("zstd -t accepted a damaged raw frame")
	}
}

func TestRawFrameAndTheSampling(t *testing.T) {
	probe, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	noise := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(9, 10))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	if compressible(probe, noise, nil) {
		t.Error("random bytes judged compressible")
	}
	mixed := bytes.Clone(noise)
	copy(mixed[len(mixed)/2:], strings.Repeat("Aktenvermerk ", 3000))
	if !compressible(probe, mixed, nil) {
		t.Error("a frame holding text judged incompressible")
	}
	dec, _ := zstd.NewReader(nil)
	for _, n := range []int{0, 1, rawBlockMax - 1, rawBlockMax, rawBlockMax + 1, len(noise)} {
		var b bytes.Buffer
		size, err := writeRawFrame(&b, noise[:n])
		frame := b.Bytes()
		if err != nil || size != len(frame) {
			t.Fatalf("raw frame of %d bytes: wrote %d, reported %d: %v", n, len(frame), size, err)
		}
		got, err := dec.DecodeAll(frame, nil)
		if err != nil || !bytes.Equal(got, noise[:n]) {
			t.Fatalf("raw frame of %d bytes: %v", n, err)
		}
		frame[len(frame)-1] ^= 1
		if _, err := dec.DecodeAll(frame, nil); err == nil {
			t.Errorf("raw frame of %d bytes with a wrong checksum decoded", n)
		}
	}
}

func TestRetentionRecorded(t *testing.T) {
	pkg, _ := build(t)
	info := member(t, pkg, TagBagInfo)
	r := RetentionFromBagInfo(info)
	if r == nil || r.Class != "bau" || r.Ends != "2054-12-31" || r.Trigger != "closed" || r.TriggerDate != "2024-06-14" || r.Action != "offer" || r.Period != "30 years" {
		t.Errorf("retention read back from bag-info.txt: %+v\n%s", r, info)
	}
	premis := string(member(t, pkg, PathPREMIS))
	for _, want := range []string{"<premis:rightsBasis>Other</premis:rightsBasis>", "<premis:endDate>2054-12-31</premis:endDate>", "class bau, 30 years from closed 2024-06-14"} {
		if !strings.Contains(premis, want) {
			t.Errorf("PREMIS lacks %q", want)
		}
	}
}

// The case's further metadata survives in bag-info.txt: names with
// spaces, '=', '%' or non-ASCII and values with line breaks come back as
// they were (a rebuilt catalog has them, retention classes match on them).
func TestBagInfoExtraRoundTrip(t *testing.T) {
	meta := Metadata{Reference: "63.01-17/2026", Extra: map[string]string{
		"xdomea-Aussonderungsart": "A", "a=b c": "x=y", "Größe%": "zwei\nZeilen", "leer": "",
	}}
	info := bagInfo(Record{ID: ID{}, Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, meta, "1.1")
	got := MetadataFromBagInfo([]byte(info))
	want := map[string]string{"xdomea-Aussonderungsart": "A", "a=b c": "x=y", "Größe%": "zwei Zeilen"}
	if len(got.Extra) != len(want) {
		t.Fatalf("extra: %q\n%s", got.Extra, info)
	}
	for k, v := range want {
		if got.Extra[k] != v {
			t.Errorf("%q: %q, want %q\n%s", k, got.Extra[k], v, info)
		}
	}
	if got.Reference != meta.Reference {
		t.Errorf("reference %q", got.Reference)
	}
}
