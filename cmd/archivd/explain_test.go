package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/archive"
)

func TestCommandsExplainThemselves(t *testing.T) {
	for _, args := range [][]string{{"help", "ingest"}, {"ingest", "--help"}, {"config", "check", "-h"}, {"help", "quarantine"}} {
		r := archivd(t, args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "archivd ") || r.stderr != "" {
			t.Errorf("%v: %d %q %q", args, r.code, r.stdout, r.stderr)
		}
	}
	for args, want := range map[string]string{
		"config":          "usage: archivd config check FILE",
		"config check":    "FILE (the configuration to check) is missing",
		"ocfl validate":   "PATH (an OCFL object or storage root) is missing",
		"frobnicate":      `unknown command "frobnicate"`,
		"help frobnicate": `no command "frobnicate"`,
	} {
		r := archivd(t, strings.Fields(args)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: %d %q", args, r.code, r.stderr)
		}
	}
	if r := archivd(t, "version"); r.code != 0 || !strings.Contains(r.stdout, "go1.") || !strings.Contains(r.stdout, "signatures in use: DROID_SignatureFile_V122.xml, version 122") {
		t.Errorf("version: %q", r.stdout)
	}
}

func TestList(t *testing.T) {
	cfg, dir, id := ingested(t)
	r := archivd(t, "list", "--config", cfg, "--format", "json")
	var out []archive.Listed
	if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil || len(out) != 1 || out[0].ID != id ||
		out[0].Reference != "63-01/2024-017" || len(out[0].Copies) != 1 || out[0].Size == 0 {
		t.Fatalf("list: %d %s %v", r.code, r.stdout, err)
	}
	if r := archivd(t, "list", "--config", cfg, "--reference", "63-01/*"); r.code != 0 || !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "1 AIP(s)") {
		t.Errorf("list --reference prefix: %s", r.stdout)
	}
	if r := archivd(t, "list", "--config", cfg, "--agency", "nobody"); !strings.Contains(r.stdout, "0 AIP(s)") {
		t.Errorf("list --agency: %s", r.stdout)
	}
	_ = dir
}

// TestPolicyCheckIsADryRun: what ingest refuses, policy check refuses,
// with the same words.
func TestPolicyCheckIsADryRun(t *testing.T) {
	cfg, dir := setup(t)
	c := sampleCase(t, dir)
	os.Symlink("/etc/passwd", filepath.Join(c, "link.txt"))
	os.WriteFile(filepath.Join(c, "case.yaml"), []byte("opened: 2024-13-45\n"), 0o644)
	p := archivd(t, "policy", "check", "--config", cfg, c)
	i := archivd(t, "ingest", "--config", cfg, c)
	if p.code != exitDataErr || i.code != exitDataErr {
		t.Fatalf("policy check %d, ingest %d", p.code, i.code)
	}
	for _, want := range []string{`"link.txt": is a symbolic link`, `opened: "2024-13-45" is not a date`} {
		if !strings.Contains(p.stderr, want) || !strings.Contains(i.stderr, want) {
			t.Errorf("%q: policy check %q, ingest %q", want, p.stderr, i.stderr)
		}
	}
	os.Remove(filepath.Join(c, "link.txt"))
	os.WriteFile(filepath.Join(c, "case.yaml"), []byte("reference: X-1\n"), 0o644)
	p = archivd(t, "policy", "check", "--config", cfg, c)
	if p.code != 0 || !strings.Contains(p.stdout, "case.yaml: case metadata") || strings.Contains(p.stdout, "\tcase.yaml\t") {
		t.Errorf("policy check of a good case: %d %s %s", p.code, p.stdout, p.stderr)
	}
}

func TestIdentifyShowsCaseYAMLAsMetadata(t *testing.T) {
	_, dir := setup(t)
	c := sampleCase(t, dir)
	r := archivd(t, "identify", c)
	if r.code != 0 || !strings.Contains(r.stdout, "case.yaml: case metadata, not a document") || strings.Contains(r.stdout, "/case.yaml  ") {
		t.Errorf("identify: %d %s", r.code, r.stdout)
	}
}
