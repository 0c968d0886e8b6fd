package aip

import (
	"bytes"
	"os"
	"testing"
)

//go:generate cp AIP-FORMAT.md ../docs/aip-format.md

// The format text stored in packages and the one in docs/ are one text.
func TestFormatDocInSync(t *testing.T) {
	b, err := os.ReadFile("../docs/aip-format.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, formatDoc) {
		t.Fatal("docs/aip-format.md differs from aip/AIP-FORMAT.md: run go generate ./aip")
	}
}
