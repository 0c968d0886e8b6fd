package daemon

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/atomicfile"
	"github.com/archivd/archivd/config"
)

// Folders of the data directory the daemon keeps.
func workDir(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "work") }

// QuarantineDir holds refused cases, one folder each with the case, a
// reason.json and a REASON.txt.
func QuarantineDir(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "quarantine") }

// DoneDir holds archived cases of inboxes with after: keep.
func DoneDir(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "done") }

// Claim is the durable record of a claimed case, written before the case
// leaves its inbox: work/<aip name>/claim.json beside work/<aip name>/case.
type Claim struct {
	ID    string `json:"id"`
	Inbox string `json:"inbox"`
	Name  string `json:"name"` // the case's name in its inbox
	// RawName keeps a name that is not UTF-8 byte for byte (JSON text
	// cannot); Name then shows it with U+FFFD.
	RawName []byte    `json:"raw_name,omitempty"`
	Claimed time.Time `json:"claimed"`
	// Override is set by quarantine retry --accept-formats: the format
	// policy's refusals become warnings for this case.
	Override string `json:"override,omitempty"`
	// Quarantine is where a refused case is being moved, written before
	// the move.
	Quarantine string `json:"quarantine,omitempty"`
	// Zip: the delivery is a zip file, unpacked in the work area.
	Zip bool `json:"zip,omitempty"`

	dir string
	id  aip.ID
}

// Origin names the delivery for once-only.
func (c *Claim) Origin() string { return "inbox " + c.Inbox + "/" + c.Name }

// CaseDir is where the claimed case lies (for a zip: unpacked).
func (c *Claim) CaseDir() string { return filepath.Join(c.dir, "case") }

// ZipPath is where a claimed zip lies, as delivered.
func (c *Claim) ZipPath() string { return filepath.Join(c.dir, "delivery.zip") }

// Delivery is what was taken from the inbox: the case folder, or the zip.
func (c *Claim) Delivery() string {
	if c.Zip {
		return c.ZipPath()
	}
	return c.CaseDir()
}

func (c *Claim) save() error {
	c.RawName = rawName(c.Name)
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(c.dir, "claim.json"), append(b, '\n'), 0o640)
}

func loadClaim(dir string) (*Claim, error) {
	b, err := os.ReadFile(filepath.Join(dir, "claim.json"))
	if err != nil {
		return nil, err
	}
	c := &Claim{dir: dir}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "claim.json"), err)
	}
	if c.RawName != nil {
		c.Name = string(c.RawName)
	}
	if c.id, err = aip.ParseID(c.ID); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "claim.json"), err)
	}
	return c, nil
}

// Reason is quarantine/<inbox>/<name>/reason.json.
type Reason struct {
	Inbox       string    `json:"inbox"`
	Name        string    `json:"name"`
	RawName     []byte    `json:"raw_name,omitempty"` // as in Claim
	Quarantined time.Time `json:"quarantined"`
	Problems    []string  `json:"problems"`
	// PolicyOnly says every problem is a format policy refusal, which
	// quarantine retry --accept-formats may override.
	PolicyOnly bool `json:"policy_only"`
}

// rawName is the name's bytes when JSON text cannot carry them.
func rawName(name string) []byte {
	if utf8.ValidString(name) {
		return nil
	}
	return []byte(name)
}
