package storage

import "context"

// Limit bounds how many commits (uploads of new versions, and of audit
// segments) run at once at a location, so that many cases archived at once
// cannot swamp one slow site; CPU work is bounded elsewhere (daemon.workers).
// Reading is not limited. A location's optional capabilities (Locker) stay
// visible through the limit.
func Limit(s Store, n int) Store {
	if n <= 0 {
		return s
	}
	l := &limited{Store: s, sem: make(chan struct{}, n)}
	if lk, ok := s.(Locker); ok {
		return &limitedLocker{l, lk}
	}
	return l
}

type limited struct {
	Store
	sem chan struct{}
}

type limitedLocker struct {
	*limited
	Locker
}

func (l *limited) acquire(ctx context.Context) error {
	select {
	case l.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *limited) Commit(ctx context.Context, c *Commit) error {
	if err := l.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-l.sem }()
	return l.Store.Commit(ctx, c)
}

func (l *limited) PutExtension(ctx context.Context, name string, data []byte) error {
	if err := l.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-l.sem }()
	return l.Store.PutExtension(ctx, name, data)
}
