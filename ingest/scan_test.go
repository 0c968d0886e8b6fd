package ingest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/aip"
)

var rec = aip.Record{ID: aip.MustParseID("01937a3b-6c2e-7cc0-8a1b-3f4e5d6c7b8a"), Version: 1,
	Created: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), Software: "archivd", SoftVersion: "test"}

func TestFileChangedWhileReading(t *testing.T) {
	for _, change := range []struct {
		name string
		do   func(p string)
		want string
	}{
		{"grows", func(p string) {
			f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("more")
			f.Close()
		}, "changed"},
		{"shrinks", func(p string) { os.Truncate(p, 1) }, "changed"},
		{"disappears", func(p string) { os.Remove(p) }, "no such file"},
		{"touched", func(p string) {
			later := time.Now().Add(time.Hour)
			os.Chtimes(p, later, later)
		}, "changed"},
	} {
		t.Run(change.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "Akte.txt")
			os.WriteFile(p, []byte("original content"), 0o644)
			in, err := Scan(dir, aip.Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			change.do(p)
			_, err = aip.Write(context.Background(), io.Discard, rec, in, aip.Options{})
			if err == nil || !strings.Contains(err.Error(), "Akte.txt") || !strings.Contains(err.Error(), change.want) {
				t.Fatalf("want an error naming Akte.txt (%s), got %v", change.want, err)
			}
		})
	}
}

func TestChangeDuringReadIsCaughtAtClose(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Akte.txt")
	os.WriteFile(p, []byte("original content"), 0o644)
	in, _ := Scan(dir, aip.Metadata{})
	rc, err := in.Files[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(rc)
	later := time.Now().Add(time.Hour)
	os.Chtimes(p, later, later) // written to while we read
	if err := rc.Close(); err == nil || !strings.Contains(err.Error(), "changed while it was read") {
		t.Fatalf("Close = %v", err)
	}
}

func TestSidecarDefaults(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("x"), 0o644)
	in, err := Scan(dir, aip.Metadata{Agency: "Hauptamt", RecordClass: "01"})
	if err != nil {
		t.Fatal(err)
	}
	if in.Sidecar != nil || in.Meta.Agency != "Hauptamt" {
		t.Errorf("without sidecar: %+v", in.Meta)
	}
	os.WriteFile(filepath.Join(dir, SidecarName), []byte("reference: 1-2/3\nagency: Bauamt\nopened: 2024-01-01\nclosed: 2023-01-01\n"), 0o644)
	_, err = Scan(dir, aip.Metadata{Agency: "Hauptamt"})
	if err == nil || !strings.Contains(err.Error(), "closed 2023-01-01 is before opened 2024-01-01") {
		t.Errorf("closed before opened: %v", err)
	}
}
