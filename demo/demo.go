// Package demo is archivd's main job on the embedded default, as a new
// user first sees it: a configuration with one inbox, sample case files
// delivered the way a DMS export delivers them, the service archiving
// them. Run tells each step; cmd/archivd parses its flags.
package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/daemon"
)

// Config is the embedded default with one inbox, written to a file so
// that the other commands can be tried on the demo's data afterwards.
const Config = `# archivd demo: the embedded default (local storage, SQLite) and one inbox.
data_dir: data
archive:
  organization: "Kreis Musterland, Kreisarchiv (demo)"
  contact: "mailto:archiv@kreis-musterland.example"
inboxes:
  - name: bauamt
    path: inbox/bauamt
    ready: marker          # a DMS export writes <case>.ready when the case is complete
    after: remove
daemon:
  poll_interval: 200ms
  min_free_mib: 64
`

// Setup is a prepared demo: its configuration and sample case files.
type Setup struct {
	ConfigPath string
	Samples    string   // folder of the sample case files
	Cases      []string // two to archive, the last one to be refused
}

// Prepare writes the configuration into dir and three sample case files:
// a building permit, the same with a supplement, and one holding a program,
// which the format policy refuses. Names carry the time, so a second demo
// delivers new cases.
func Prepare(dir string) (*Setup, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &Setup{ConfigPath: filepath.Join(dir, "archivd.yaml")}
	if err := os.WriteFile(s.ConfigPath, []byte(Config), 0o644); err != nil {
		return nil, err
	}
	stamp := time.Now().UTC().Format("20060102T150405")
	s.Samples = filepath.Join(dir, "samples", stamp)
	s.Cases = []string{"Bauantrag-" + stamp, "Nachtrag-" + stamp, "Programm-" + stamp}
	for i, name := range s.Cases {
		if err := WriteSampleCase(filepath.Join(s.Samples, name)); err != nil {
			return nil, err
		}
		var err error
		switch i {
		case 1:
			err = os.WriteFile(filepath.Join(s.Samples, name, "Nachtrag.txt"), []byte("Nachtrag zur Baugenehmigung\n"), 0o644)
		case 2: // a program has no place in a case file: the policy refuses it
			err = os.WriteFile(filepath.Join(s.Samples, name, "setup.exe"), append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 120)...), 0o644)
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Service is archivd run started in this process.
type Service struct {
	Archive *archive.Archive
	stop    context.CancelFunc
	done    chan error
}

// Start opens the archive and starts the service on it.
func Start(ctx context.Context, cfg *config.Config, log zerolog.Logger, version string) (*Service, error) {
	a, err := archive.Open(ctx, cfg, archive.Options{Mode: archive.Writer, Log: log, Version: version, Purpose: "run"})
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancel(ctx)
	s := &Service{Archive: a, stop: stop, done: make(chan error, 1)}
	d := daemon.New(a, log)
	go func() { s.done <- d.Run(runCtx) }()
	return s, nil
}

// Stop stops the service cleanly and closes the archive.
func (s *Service) Stop(ctx context.Context) error {
	s.stop()
	err := <-s.done
	return errors.Join(err, s.Archive.Close(context.WithoutCancel(ctx)))
}

// Deliver puts the cases into the inbox as a DMS export does: each copied
// under a hidden name, renamed in, then marked <case>.ready.
func (s *Setup) Deliver(inbox string) error {
	for _, name := range s.Cases {
		tmp := filepath.Join(inbox, "."+name)
		if err := CopyTree(filepath.Join(s.Samples, name), tmp); err != nil {
			return fmt.Errorf("deliver %s: %w", name, err)
		}
		if err := os.Rename(tmp, filepath.Join(inbox, name)); err != nil {
			return fmt.Errorf("deliver %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(inbox, name+daemon.MarkerSuffix), nil, 0o644); err != nil {
			return fmt.Errorf("deliver %s: %w", name, err)
		}
	}
	return nil
}

// Outcome is what the service made of the delivered cases.
type Outcome struct {
	Archived    map[string]aip.ID // case name -> AIP
	Quarantined *daemon.Quarantined
}

// Wait waits until the service has archived the first cases and
// quarantined the last one (two minutes at most).
func (s *Setup) Wait(ctx context.Context, a *archive.Archive, cfg *config.Config) (*Outcome, error) {
	out := &Outcome{Archived: map[string]aip.ID{}}
	inbox := cfg.Inboxes[0].Name
	last := s.Cases[len(s.Cases)-1]
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		for _, name := range s.Cases[:len(s.Cases)-1] {
			if got, _ := a.Catalog().CommittedIngests(ctx, "inbox "+inbox+"/"+name); len(got) == 1 {
				out.Archived[name], _ = aip.ParseID(got[0])
			}
		}
		out.Quarantined, _ = daemon.FindQuarantined(cfg, inbox+"/"+last)
		if len(out.Archived) == len(s.Cases)-1 && out.Quarantined != nil {
			return out, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, errors.New("the case files were not archived in time; see the log")
		}
	}
}
