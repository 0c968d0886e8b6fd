package storage

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowStore counts how many commits run at once.
type slowStore struct {
	Store
	now, peak atomic.Int32
}

func (s *slowStore) Commit(ctx context.Context, c *Commit) error {
	n := s.now.Add(1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(20 * time.Millisecond)
	s.now.Add(-1)
	return nil
}

type lockingStore struct{ slowStore }

func (*lockingStore) Retain(context.Context, string, int, time.Time) error { return nil }
func (*lockingStore) RetainMode(context.Context, string, int, time.Time, string) error {
	return nil
}
func (*lockingStore) RetainFor(context.Context, string, int, time.Time) error { return nil }
func (*lockingStore) LegalHold(context.Context, string, bool) error           { return nil }
func (*lockingStore) ObjectLock() bool                                        { return true }

func TestLimit(t *testing.T) {
	s := &slowStore{}
	l := Limit(s, 2)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); l.Commit(context.Background(), &Commit{}) }()
	}
	wg.Wait()
	if p := s.peak.Load(); p != 2 {
		t.Errorf("peak concurrent commits %d, want 2", p)
	}
	if _, ok := Limit(&lockingStore{}, 2).(Locker); !ok {
		t.Error("the limit hides the location's Object Lock")
	}
	if _, ok := Limit(s, 2).(Locker); ok {
		t.Error("the limit invents an Object Lock")
	}
	ctx, cancel := context.WithCancel(context.Background())
	full := Limit(&slowStore{}, 1).(*limited)
	full.sem <- struct{}{}
	cancel()
	if err := full.Commit(ctx, &Commit{}); err == nil {
		t.Error("a commit waiting for a place ignores its context")
	}
}
