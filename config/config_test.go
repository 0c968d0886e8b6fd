package config

import (
	"errors"
	"path/filepath"
	"strings"
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
		"test.yaml:4: field colour not found",
		"test.yaml:6: package.compression_level 9",
		"test.yaml:11: locations[1]: name \"a\" is used twice",
		"test.yaml:11: locations[1] (a): unknown type \"ftp\"",
		"test.yaml:13: field unknown_top not found",
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("missing %q in:\n%s", w, msg)
		}
	}
}
