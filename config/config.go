// Package config loads archivd's one YAML configuration file strictly:
// unknown keys are errors, every problem is reported at once with its line,
// and relative paths are taken relative to the file itself.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/archivd/archivd/formats"
	"github.com/archivd/archivd/retention"
)

// Config is the whole configuration. Defaults are documented in
// examples/archivd.yaml, which the tests load.
type Config struct {
	DataDir      string       `yaml:"data_dir"`
	Archive      Archive      `yaml:"archive"`
	Package      Package      `yaml:"package"`
	Locations    []Location   `yaml:"locations"`
	Copies       Copies       `yaml:"copies"`
	Formats      Formats      `yaml:"formats"`
	CaseDefaults CaseDefaults `yaml:"case_defaults"`
	Log          Log          `yaml:"log"`
	Inboxes      []Inbox      `yaml:"inboxes"`
	Daemon       Daemon       `yaml:"daemon"`
	Schedule     Schedule     `yaml:"schedule"`
	HTTP         HTTP         `yaml:"http"`
	Audit        Audit        `yaml:"audit"`
	Fixity       Fixity       `yaml:"fixity"`
	Retention    Retention    `yaml:"retention"`
	Signing      Signing      `yaml:"signing"`

	// Path is the file this was loaded from ("" for the embedded default).
	Path string `yaml:"-"`
	// Zone is Archive.TimeZone resolved.
	Zone *time.Location `yaml:"-"`
}

// Archive describes the archive itself.
type Archive struct {
	Organization string `yaml:"organization"`
	Contact      string `yaml:"contact"`
	TimeZone     string `yaml:"time_zone"`
}

// Package tunes package writing.
type Package struct {
	CompressionLevel int `yaml:"compression_level"`
	FrameSizeMiB     int `yaml:"frame_size_mib"`
}

// Location is one storage location: a local folder or an S3 bucket prefix.
type Location struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"` // local or s3
	Path string `yaml:"path"` // local: the storage root folder

	// s3 only:
	Endpoint        string      `yaml:"endpoint"` // https://host:port
	Bucket          string      `yaml:"bucket"`
	Prefix          string      `yaml:"prefix"`
	Region          string      `yaml:"region"`
	Addressing      string      `yaml:"addressing"` // path (default) or virtual-host
	CAFile          string      `yaml:"ca_file"`
	Credentials     Credentials `yaml:"credentials"`
	PartSizeMiB     int         `yaml:"part_size_mib"`
	MultipartMaxAge string      `yaml:"multipart_max_age"`
	// MaxUploads bounds the commits running at once at this location
	// (default 2): many cases at once must not swamp one slow site.
	MaxUploads int         `yaml:"max_uploads"`
	ObjectLock *ObjectLock `yaml:"object_lock"`

	// Resolved at load time.
	AccessKey, SecretKey string        `yaml:"-"`
	MultipartAge         time.Duration `yaml:"-"`
}

// Credentials say where an S3 location's keys come from; never inline.
type Credentials struct {
	File    string `yaml:"file"`    // a file with access_key_id= and secret_access_key= lines
	Env     string `yaml:"env"`     // prefix P: read P_ACCESS_KEY_ID and P_SECRET_ACCESS_KEY
	Systemd string `yaml:"systemd"` // a credential name under $CREDENTIALS_DIRECTORY (systemd LoadCredential=)
}

// ObjectLock is the retention archivd sets on each verified version.
type ObjectLock struct {
	Mode string `yaml:"mode"` // governance (default) or compliance
	Days int    `yaml:"days"`
}

// Copies is the copy policy: which locations must hold a verified copy
// before a case file counts as archived.
type Copies struct {
	Required []string `yaml:"required"` // default: every location
	// AllowMissing lets an ingest complete when at least one required copy
	// exists; the missing ones are recorded and archivd replicate fills them.
	AllowMissing bool `yaml:"allow_missing"`
}

// Formats configures identification, validation and the format policy.
type Formats struct {
	// DROID signature file and container signature file; empty means the
	// built-in set of common formats.
	SignatureFile          string              `yaml:"signature_file"`
	ContainerSignatureFile string              `yaml:"container_signature_file"`
	Validators             []ExternalValidator `yaml:"validators"`
	Policy                 formats.Policy      `yaml:"policy"`
}

// ExternalValidator runs a program on files of some families.
type ExternalValidator struct {
	Name      string   `yaml:"name"`
	Families  []string `yaml:"families"` // pdf, tiff, jpeg, png, gif, bmp, jp2, wave, zip, xml, text, eml, msg
	Command   []string `yaml:"command"`  // "{}" is the file
	Timeout   string   `yaml:"timeout"`
	MemoryMiB int      `yaml:"memory_mib"`

	TimeoutD time.Duration `yaml:"-"`
}

// Inbox returns the configured inbox of that name, or nil.
func (c *Config) Inbox(name string) *Inbox {
	for i := range c.Inboxes {
		if c.Inboxes[i].Name == name {
			return &c.Inboxes[i]
		}
	}
	return nil
}

// CaseDefaults fill in metadata a case file's sidecar does not give.
type CaseDefaults struct {
	Agency      string `yaml:"agency"`
	RecordClass string `yaml:"record_class"`
}

// Inbox is a folder the daemon collects finished case files from.
type Inbox struct {
	Name string `yaml:"name"`
	Path string `yaml:"path"`
	// Kind of delivery: folder (a case folder, with an optional case.yaml),
	// bag (a BagIt bag, checked against its manifests before it is taken)
	// or zip (a .zip file of either, unpacked safely in the work area).
	Kind string `yaml:"kind"`
	// Ready says when a delivery is finished: "marker" (a file <name>.ready
	// beside it), "rename" (the producer renames finished cases into the
	// inbox, so whatever is there is complete) or "settle" (no file changed
	// size or time for Settle).
	Ready  string `yaml:"ready"`
	Settle string `yaml:"settle"`
	// After says what happens to a case once archived: "remove" it, or
	// "keep" it under the data directory's done/<inbox>/ with a receipt.
	After    string         `yaml:"after"`
	Defaults CaseDefaults   `yaml:"defaults"`
	Policy   formats.Policy `yaml:"policy"` // rules layered over formats.policy
	// xdomea inboxes: Outbox receives the 0507 and 0506 answers; Schemas,
	// if set, is a folder of the xdomea XSDs the messages are validated
	// against (xmllint).
	Outbox  string `yaml:"outbox"`
	Schemas string `yaml:"schemas"`

	SettleD time.Duration `yaml:"-"`
}

// Daemon tunes archivd run.
type Daemon struct {
	Workers      int    `yaml:"workers"`       // cases archived at once
	PollInterval string `yaml:"poll_interval"` // how often inboxes are looked at
	MinFreeMiB   int    `yaml:"min_free_mib"`  // below this free space no new case is claimed
	RetryMax     string `yaml:"retry_max"`     // longest wait between retries of a case that failed transiently
	ZipMaxMiB    int    `yaml:"zip_max_mib"`   // the most a delivered zip may unpack to

	PollD, RetryMaxD time.Duration `yaml:"-"`
}

// Schedule holds cron expressions (five fields, or @every 6h, @daily)
// for the daemon's scheduled work; empty means not scheduled.
type Schedule struct {
	Replicate string `yaml:"replicate"`
	// Fixity runs the full checks due under fixity.cycle_days; FixityQuick
	// a quick check (present, size, stored digest) of every copy.
	Fixity      string `yaml:"fixity"`
	FixityQuick string `yaml:"fixity_quick"`
	// Retention records daily what fell due (an audit event, a metric);
	// it never deletes.
	Retention string `yaml:"retention"`
}

// Retention holds the retention classes (Aufbewahrungsfristen): the first
// class whose match fits an AIP decides its period and what happens at the
// end. An AIP no class matches keeps the locations' object_lock.days floor
// and never falls due.
type Retention struct {
	Classes []retention.Class `yaml:"classes"`
}

// Fixity tunes the scheduled checks of stored copies.
type Fixity struct {
	// CycleDays: every copy is fully re-read within this many days; each
	// scheduled run takes its share, the copies verified longest ago first.
	CycleDays int `yaml:"cycle_days"`
	// MaxRun ends a run (marked incomplete) so fixity never holds the
	// storage for long; the next run goes on where it stopped.
	MaxRun string `yaml:"max_run"`
	// BandwidthMiB bounds reading in MiB/s over all copies checked at once;
	// 0 is unlimited.
	BandwidthMiB int `yaml:"bandwidth_mib"`
	// Parallel copies checked at once (default 2).
	Parallel int `yaml:"parallel"`
	// Repair rewrites a damaged copy from a copy that verifies (default true).
	Repair *bool `yaml:"repair"`
	// Reports is the folder reports are written to (default <data_dir>/reports).
	Reports string `yaml:"reports"`

	MaxRunD time.Duration `yaml:"-"`
}

// RepairOn reports whether damage is repaired.
func (f Fixity) RepairOn() bool { return f.Repair == nil || *f.Repair }

// Signing names the archive's Ed25519 key that signs reports and deletion
// certificates: a file (mode 0600) or a systemd credential.
type Signing struct {
	KeyFile string `yaml:"key_file"` // default <data_dir>/keys/archivd-signing.pem
	Systemd string `yaml:"systemd"`  // a credential name under $CREDENTIALS_DIRECTORY (LoadCredentialEncrypted=)
}

// SigningKeyPath is the file the signing key is read from.
func (c *Config) SigningKeyPath() string {
	if c.Signing.Systemd != "" {
		return filepath.Join(os.Getenv("CREDENTIALS_DIRECTORY"), c.Signing.Systemd)
	}
	return c.Signing.KeyFile
}

// HTTP configures archivd run's HTTP endpoint: /healthz, /readyz,
// /metrics and the read-only API.
type HTTP struct {
	// Listen is host:port (loopback by default), "unix:/path" for a unix
	// socket, or "" for no HTTP at all.
	Listen string `yaml:"listen"`
	// TokenFile holds the bearer token the API (/api/v1) requires; without
	// one the API is off (health and metrics stay open).
	TokenFile string `yaml:"token_file"`
}

// Audit configures the audit trail.
type Audit struct {
	// SealAfter: the open segment is sealed and stored beside the AIPs
	// once its first entry is this old (or it has grown past 4 MiB),
	// checked when a command ends and every minute in the service. 0s
	// seals at the end of every command. Entries not sealed yet live only
	// in the data directory.
	SealAfter string `yaml:"seal_after"`

	SealAfterD time.Duration `yaml:"-"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Problem is one configuration error with its place.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Error lists every problem found in a configuration.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Default returns the embedded default: everything under dataDir, one local
// location, no server needed.
func Default(dataDir string) *Config {
	c := &Config{DataDir: dataDir}
	c.applyDefaults()
	c.Zone, _ = time.LoadLocation(c.Archive.TimeZone)
	var none yaml.Node
	c.checkDaemon(&none, func(int, string, ...any) {}, func(...string) int { return 0 })
	return c
}

func (c *Config) applyDefaults() {
	if c.Archive.TimeZone == "" {
		c.Archive.TimeZone = "Europe/Berlin"
	}
	if c.Package.CompressionLevel == 0 {
		c.Package.CompressionLevel = 2
	}
	if c.Package.FrameSizeMiB == 0 {
		c.Package.FrameSizeMiB = 8
	}
	if len(c.Locations) == 0 {
		c.Locations = []Location{{Name: "local", Type: "local", Path: filepath.Join(c.DataDir, "storage")}}
	}
	if len(c.Copies.Required) == 0 {
		for _, l := range c.Locations {
			c.Copies.Required = append(c.Copies.Required, l.Name)
		}
	}
	for i := range c.Locations {
		l := &c.Locations[i]
		if l.MaxUploads == 0 {
			l.MaxUploads = 2
		}
		if l.Type == "s3" {
			if l.Region == "" {
				l.Region = "us-east-1"
			}
			if l.Addressing == "" {
				l.Addressing = "path"
			}
			if l.PartSizeMiB == 0 {
				l.PartSizeMiB = 64
			}
			if l.MultipartMaxAge == "" {
				l.MultipartMaxAge = "24h"
			}
			if l.ObjectLock != nil && l.ObjectLock.Mode == "" {
				l.ObjectLock.Mode = "governance"
			}
		}
	}
	for i := range c.Inboxes {
		in := &c.Inboxes[i]
		if in.Kind == "" {
			in.Kind = "folder"
		}
		if in.Ready == "" {
			in.Ready = "marker"
		}
		if in.Settle == "" {
			in.Settle = "2m"
		}
		if in.After == "" {
			in.After = "remove"
		}
	}
	d := &c.Daemon
	if d.Workers == 0 {
		d.Workers = 2
	}
	if d.PollInterval == "" {
		d.PollInterval = "10s"
	}
	if d.MinFreeMiB == 0 {
		d.MinFreeMiB = 1024
	}
	if d.RetryMax == "" {
		d.RetryMax = "30m"
	}
	if d.ZipMaxMiB == 0 {
		d.ZipMaxMiB = 64 << 10
	}
	if c.Audit.SealAfter == "" {
		c.Audit.SealAfter = "1h"
	}
	f := &c.Fixity
	if f.CycleDays == 0 {
		f.CycleDays = 365
	}
	if f.MaxRun == "" {
		f.MaxRun = "4h"
	}
	if f.Parallel == 0 {
		f.Parallel = 2
	}
	if f.Reports == "" {
		f.Reports = filepath.Join(c.DataDir, "reports")
	}
	for i := range c.Retention.Classes {
		rc := &c.Retention.Classes[i]
		if rc.Trigger == "" {
			rc.Trigger = retention.TriggerClosed
		}
		if rc.Action == "" {
			rc.Action = retention.Review
		}
	}
	if c.Signing.KeyFile == "" && c.Signing.Systemd == "" {
		c.Signing.KeyFile = filepath.Join(c.DataDir, "keys", "archivd-signing.pem")
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "console"
	}
}

var typeErrLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// maxFile bounds a configuration file; real ones are a few KiB.
const maxFile = 1 << 20

// Load reads and checks the file at path. Anything but a regular file (a
// named pipe would block, /dev/zero never ends) is refused before it is
// opened, and at most maxFile bytes are read.
func Load(path string) (*Config, error) {
	fail := func(msg string) (*Config, error) { return nil, &Error{[]Problem{{File: path, Msg: msg}}} }
	st, err := os.Stat(path)
	if err != nil {
		return fail(err.Error())
	}
	if !st.Mode().IsRegular() {
		return fail(fmt.Sprintf("not a regular file (%s): a configuration must be a YAML file", st.Mode().Type()))
	}
	f, err := os.Open(path)
	if err != nil {
		return fail(err.Error())
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return fail(err.Error())
	}
	if len(b) > maxFile {
		return fail(fmt.Sprintf("larger than %d KiB: not an archivd configuration", maxFile>>10))
	}
	return Parse(path, b)
}

// Parse checks configuration bytes; name is used in messages and to
// resolve relative paths.
func Parse(name string, b []byte) (*Config, error) {
	var probs []Problem
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, &Error{[]Problem{{File: name, Msg: err.Error()}}}
	}
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				if m := typeErrLine.FindStringSubmatch(e); m != nil {
					n, _ := strconv.Atoi(m[1])
					probs = append(probs, Problem{name, n, explainTypeError(m[2])})
				} else {
					probs = append(probs, Problem{File: name, Msg: e})
				}
			}
		} else if err.Error() != "EOF" {
			return nil, &Error{[]Problem{{File: name, Msg: err.Error()}}}
		}
	}
	line := func(path ...string) int { return lineOf(&root, path...) }
	add := func(l int, format string, args ...any) {
		probs = append(probs, Problem{name, l, fmt.Sprintf(format, args...)})
	}
	base := filepath.Dir(name)
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	if c.DataDir == "" {
		add(1, "data_dir is required: the folder for the catalog, audit log, staging area and lock")
	}
	c.DataDir = abs(c.DataDir)
	for i := range c.Locations {
		c.Locations[i].Path = abs(c.Locations[i].Path)
	}
	for i := range c.Inboxes {
		c.Inboxes[i].Path = abs(c.Inboxes[i].Path)
		c.Inboxes[i].Outbox = abs(c.Inboxes[i].Outbox)
		c.Inboxes[i].Schemas = abs(c.Inboxes[i].Schemas)
	}
	c.Fixity.Reports = abs(c.Fixity.Reports)
	c.Signing.KeyFile = abs(c.Signing.KeyFile)
	// A zero written out is an error like any other out-of-range value;
	// only a key left out takes the default.
	zeroLevel := c.Package.CompressionLevel == 0 && hasKey(&root, "package", "compression_level")
	zeroFrame := c.Package.FrameSizeMiB == 0 && hasKey(&root, "package", "frame_size_mib")
	c.applyDefaults()
	if zeroLevel {
		c.Package.CompressionLevel = 0
	}
	if zeroFrame {
		c.Package.FrameSizeMiB = 0
	}
	c.Path = name
	zone, err := time.LoadLocation(c.Archive.TimeZone)
	if err != nil {
		add(line("archive", "time_zone"), "archive.time_zone %q is not a known time zone", c.Archive.TimeZone)
	}
	c.Zone = zone
	if l := c.Package.CompressionLevel; l < 1 || l > 4 {
		add(line("package", "compression_level"), "package.compression_level %d: must be 1 (fastest) to 4 (smallest)", l)
	}
	if f := c.Package.FrameSizeMiB; f < 1 || f > 256 {
		add(line("package", "frame_size_mib"), "package.frame_size_mib %d: must be 1 to 256", f)
	}
	if c.Archive.Contact != "" && !strings.Contains(c.Archive.Contact, ":") {
		add(line("archive", "contact"), "archive.contact %q must be a URI such as mailto:archiv@example.org", c.Archive.Contact)
	}
	names := map[string]bool{}
	for i, loc := range c.Locations {
		l := lineOfIndex(&root, "locations", i)
		switch {
		case loc.Name == "":
			add(l, "locations[%d]: name is required", i)
		case names[loc.Name]:
			add(l, "locations[%d]: name %q is used twice", i, loc.Name)
		}
		names[loc.Name] = true
		if loc.MaxUploads < 1 || loc.MaxUploads > 64 {
			add(l, "locations[%d] (%s): max_uploads %d: 1 to 64", i, loc.Name, loc.MaxUploads)
		}
		switch loc.Type {
		case "local":
			if loc.Path == "" {
				add(l, "locations[%d] (%s): a local location needs a path", i, loc.Name)
			}
		case "s3":
			for _, p := range checkS3(&c.Locations[i], base) {
				add(l, "locations[%d] (%s): %s", i, loc.Name, p)
			}
		case "":
			add(l, "locations[%d] (%s): type is required (local or s3)", i, loc.Name)
		default:
			add(l, "locations[%d] (%s): unknown type %q (known: local, s3)", i, loc.Name, loc.Type)
		}
	}
	c.checkPlaces(add, line, func(i int) int {
		if l := lineOfIndex(&root, "locations", i); l > 0 {
			return l
		}
		return line("data_dir") // the default location, under data_dir
	})
	for _, r := range c.Copies.Required {
		if !names[r] {
			add(line("copies", "required"), "copies.required names %q, which is not a location", r)
		}
	}
	if c.HTTP.TokenFile != "" {
		c.HTTP.TokenFile = abs(c.HTTP.TokenFile)
		if b, err := os.ReadFile(c.HTTP.TokenFile); err != nil {
			add(line("http", "token_file"), "http.token_file: %v", err)
		} else if len(strings.TrimSpace(string(b))) < 16 {
			add(line("http", "token_file"), "http.token_file %s: the token must be at least 16 characters", c.HTTP.TokenFile)
		}
	}
	if l := c.HTTP.Listen; l != "" && !strings.HasPrefix(l, "unix:") && !strings.Contains(l, ":") {
		add(line("http", "listen"), "http.listen %q: host:port (e.g. 127.0.0.1:9464) or unix:/path", l)
	}
	for _, f := range []*string{&c.Formats.SignatureFile, &c.Formats.ContainerSignatureFile} {
		*f = abs(*f)
		if *f != "" {
			if _, err := os.Stat(*f); err != nil {
				add(line("formats"), "formats: %v", err)
			}
		}
	}
	if c.Formats.ContainerSignatureFile != "" && c.Formats.SignatureFile == "" {
		add(line("formats", "container_signature_file"), "formats.container_signature_file needs formats.signature_file")
	}
	for _, p := range c.Formats.Policy.Check() {
		add(line("formats", "policy"), "formats.%s", p)
	}
	for i := range c.Formats.Validators {
		v := &c.Formats.Validators[i]
		if v.Name == "" || len(v.Command) == 0 || len(v.Families) == 0 {
			add(line("formats", "validators"), "formats.validators[%d]: name, families and command are required", i)
		}
		if v.Timeout == "" {
			v.Timeout = "60s"
		}
		d, err := time.ParseDuration(v.Timeout)
		if err != nil || d <= 0 {
			add(line("formats", "validators"), "formats.validators[%d]: timeout %q is not a duration", i, v.Timeout)
		}
		v.TimeoutD = d
	}
	c.checkDaemon(&root, add, line)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add(line("log", "level"), "log.level %q: must be debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "console", "json":
	default:
		add(line("log", "format"), "log.format %q: must be console or json", c.Log.Format)
	}
	if len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
		return nil, &Error{probs}
	}
	return c, nil
}

// hasKey reports whether a key path is written in the document.
func hasKey(root *yaml.Node, path ...string) bool {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, key := range path {
		found := false
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					n, found = n.Content[i+1], true
					break
				}
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// lineOf finds the line of a key path in a YAML document, or the nearest
// ancestor's line.
func lineOf(root *yaml.Node, path ...string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	l := n.Line
	for _, key := range path {
		found := false
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					l = n.Content[i].Line
					n = n.Content[i+1]
					found = true
					break
				}
			}
		}
		if !found {
			return l
		}
	}
	return l
}

func lineOfIndex(root *yaml.Node, key string, i int) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == key {
				seq := n.Content[j+1]
				if seq.Kind == yaml.SequenceNode && i < len(seq.Content) {
					return seq.Content[i].Line
				}
				return n.Content[j].Line
			}
		}
	}
	return 0
}
