package ingest

import (
	"io"
	"sync"
	"time"
)

// Progress is how far an ingest is, for a progress bar or a log line.
type Progress struct {
	Phase             string // PhaseFormats, PhasePackage
	Files, TotalFiles int
	Bytes, TotalBytes int64
	Started           time.Time // when the phase began
}

// Phases an ingest reports.
const (
	PhaseFormats = "checking formats"
	PhasePackage = "packaging"
)

// progressEvery bounds how often Progress is called.
const progressEvery = 250 * time.Millisecond

// meter counts a phase and reports it, at most every progressEvery and
// once when the phase ends.
type meter struct {
	mu   sync.Mutex
	p    Progress
	last time.Time
	fn   func(Progress)
}

func (in *Ingester) meter(phase string, files int, bytes int64) *meter {
	return &meter{p: Progress{Phase: phase, TotalFiles: files, TotalBytes: bytes, Started: time.Now()}, fn: in.Progress}
}

func (m *meter) add(files int, bytes int64) {
	if m == nil || m.fn == nil {
		return
	}
	m.mu.Lock()
	m.p.Files += files
	m.p.Bytes += bytes
	now := time.Now()
	report := now.Sub(m.last) >= progressEvery
	if report {
		m.last = now
	}
	p := m.p
	m.mu.Unlock()
	if report {
		m.fn(p)
	}
}

// done reports the phase's end.
func (m *meter) done() {
	if m == nil || m.fn == nil {
		return
	}
	m.mu.Lock()
	p := m.p
	m.mu.Unlock()
	m.fn(p)
}

// counting counts the bytes read through it into a meter; a file counts
// once it is closed.
type counting struct {
	io.ReadCloser
	m      *meter
	closed bool
}

func (c *counting) Read(b []byte) (int, error) {
	n, err := c.ReadCloser.Read(b)
	c.m.add(0, int64(n))
	return n, err
}

func (c *counting) Close() error {
	if !c.closed {
		c.closed = true
		c.m.add(1, 0)
	}
	return c.ReadCloser.Close()
}
