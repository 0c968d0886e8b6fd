package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestExampleLoads(t *testing.T) {
	c, err := Load("../examples/archivd.yaml")
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if !filepath.IsAbs(c.DataDir) && !strings.HasSuffix(c.DataDir, "var") {
		t.Errorf("data_dir = %q", c.DataDir)
	}
	if c.Locations[0].Path != filepath.Join("..", "var", "storage") && !strings.HasSuffix(c.Locations[0].Path, filepath.Join("var", "storage")) {
		t.Errorf("location path = %q, want relative to the file", c.Locations[0].Path)
	}
	if c.Zone == nil || c.Zone.String() != "Europe/Berlin" {
		t.Errorf("zone = %v", c.Zone)
	}
}

func TestEveryErrorWithItsLine(t *testing.T) {
	src := `data_dir: ./var
archive:
  time_zone: Mars/Olympus
  colour: blue
package:
  compression_level: 9
locations:
  - name: a
    type: local
    path: ./s
  - name: a
    type: ftp
unknown_top: 1
`
	_, err := Parse("test.yaml", []byte(src))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *Error, got %v", err)
	}
	want := []string{
		"test.yaml:3: archive.time_zone",
		"test.yaml:4: unknown key \"colour\" in archive",
		"test.yaml:6: package.compression_level 9",
		"test.yaml:11: locations[1]: name \"a\" is used twice",
		"test.yaml:11: locations[1] (a): unknown type \"ftp\"",
		"test.yaml:13: unknown key \"unknown_top\" at the top level",
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("missing %q in:\n%s", w, msg)
		}
	}
}

func TestS3LocationAndCredentials(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keys"), []byte("access_key_id = AK\nsecret_access_key = SK\n"), 0o600)
	os.MkdirAll(filepath.Join(dir, "creds"), 0o700)
	os.WriteFile(filepath.Join(dir, "creds", "site-c"), []byte("access_key_id=AK3\nsecret_access_key=SK3\n"), 0o600)
	t.Setenv("ARCHIV_B_ACCESS_KEY_ID", "AK2")
	t.Setenv("ARCHIV_B_SECRET_ACCESS_KEY", "SK2")
	t.Setenv("CREDENTIALS_DIRECTORY", filepath.Join(dir, "creds"))
	src := `data_dir: ./var
locations:
  - name: a
    type: s3
    endpoint: https://s3.a.example:9000
    bucket: archiv
    credentials: {file: keys}
    object_lock: {days: 3650}
  - name: b
    type: s3
    endpoint: https://s3.b.example
    bucket: archiv
    credentials: {env: ARCHIV_B}
  - name: c
    type: s3
    endpoint: https://s3.c.example
    bucket: archiv
    credentials: {systemd: site-c}
copies:
  required: [a, b]
`
	c, err := Parse(filepath.Join(dir, "archivd.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	keys := [][2]string{{"AK", "SK"}, {"AK2", "SK2"}, {"AK3", "SK3"}}
	for i, l := range c.Locations {
		if l.AccessKey != keys[i][0] || l.SecretKey != keys[i][1] {
			t.Errorf("location %s keys = %q %q", l.Name, l.AccessKey, l.SecretKey)
		}
	}
	if c.Locations[0].ObjectLock.Mode != "governance" || c.Locations[0].MultipartAge.Hours() != 24 {
		t.Errorf("defaults not applied: %+v", c.Locations[0])
	}

	bad := `data_dir: ./var
locations:
  - name: a
    type: s3
    endpoint: s3.example
    access_key: inline-is-not-allowed
    credentials: {file: keys, env: X}
    object_lock: {mode: forever, days: 0}
copies:
  required: [a, z]
`
	_, err = Parse(filepath.Join(dir, "bad.yaml"), []byte(bad))
	for _, want := range []string{"bad.yaml:6: unknown key \"access_key\" in locations[]", "endpoint \"s3.example\"", "bucket is required",
		"exactly one of file, env or systemd", "object_lock.mode \"forever\"", "object_lock.days", `copies.required names "z"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in:\n%v", want, err)
		}
	}
}

// TestPlacesThatCannotWork: paths and locations that config check used to
// call ok.
func TestPlacesThatCannotWork(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	os.WriteFile(file, []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(dir, "real"), 0o755)
	os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "alias"))
	cases := []struct{ name, src, want string }{
		{"data dir is a file", "data_dir: " + file + "\n", "exists and is not a folder"},
		{"data dir under a file", "data_dir: " + file + "/var\n", "cannot be created"},
		{"storage path is a file", "data_dir: " + dir + "/var\nlocations:\n  - {name: a, type: local, path: " + file + "}\n", "path: " + file + " exists and is not a folder"},
		{"storage is the data dir", "data_dir: " + dir + "/var\nlocations:\n  - {name: a, type: local, path: " + dir + "/var}\n", "is the data directory itself"},
		{"data dir inside storage", "data_dir: " + dir + "/s/var\nlocations:\n  - {name: a, type: local, path: " + dir + "/s}\n", "inside this storage root"},
		{"storage in staging", "data_dir: " + dir + "/var\nlocations:\n  - {name: a, type: local, path: " + dir + "/var/staging/x}\n", "inside the data directory's staging"},
		{"same folder", "data_dir: " + dir + "/var\nlocations:\n  - {name: a, type: local, path: " + dir + "/real}\n  - {name: b, type: local, path: " + dir + "/alias}\n", "are the same folder"},
		{"nested", "data_dir: " + dir + "/var\nlocations:\n  - {name: a, type: local, path: " + dir + "/st}\n  - {name: b, type: local, path: " + dir + "/st/inner}\n", "are nested"},
		{"frame size 0", "data_dir: " + dir + "/var\npackage:\n  frame_size_mib: 0\n", "frame_size_mib 0"},
		{"compression 0", "data_dir: " + dir + "/var\npackage:\n  compression_level: 0\n", "compression_level 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(filepath.Join(dir, "archivd.yaml"), []byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want %q, got %v", c.want, err)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Problems[0].Line == 0 {
				t.Errorf("no line: %v", err)
			}
		})
	}
	// Places that are fine: storage in its own folder of the data directory.
	ok := "data_dir: " + dir + "/var\nlocations:\n  - {name: a, type: local, path: " + dir + "/var/storage}\n  - {name: b, type: local, path: " + dir + "/other}\n"
	if _, err := Parse(filepath.Join(dir, "archivd.yaml"), []byte(ok)); err != nil {
		t.Errorf("good places refused: %v", err)
	}
}

func TestS3LocationsOverlap(t *testing.T) {
	for _, c := range []struct {
		a, b    string
		overlap bool
	}{{"", "x", true}, {"a", "a/b", true}, {"a/", "a", true}, {"a", "ab", false}, {"a/b", "a/c", false}} {
		if got := prefixesOverlap(c.a, c.b); got != c.overlap {
			t.Errorf("prefixesOverlap(%q, %q) = %v", c.a, c.b, got)
		}
	}
	if !sameServer("https://S3.example:443", "https://s3.example") || sameServer("https://s3.example:9000", "https://s3.example") {
		t.Error("sameServer")
	}
}

func TestLoadRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/zero", dir} {
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Load(%s) = %v", p, err)
		}
	}
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, bytes.Repeat([]byte("# x\n"), 300_000), 0o644)
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(big) = %v", err)
	}
}

func TestUnknownKeysInTheFilesWords(t *testing.T) {
	_, err := Parse("a.yaml", []byte("data_dir: /tmp/x\npackage:\n  compresion_level: 2\nlocations:\n  - {name: a, typ: local, path: /tmp/x/s}\nfoo: 1\n"))
	for _, want := range []string{`a.yaml:3: unknown key "compresion_level" in package; did you mean "compression_level"?`,
		`unknown key "typ" in locations[]; did you mean "type"?`, `a.yaml:6: unknown key "foo" at the top level; known there: data_dir,`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in:\n%v", want, err)
		}
	}
}
