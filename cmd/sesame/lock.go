package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-auth/sesame/internal/filelock"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/session"
)

// lockWait bounds how long a command waits for another sesame process
// working on the same grant: long enough for a refresh and its one replay,
// each with a slow server's response time.
const lockWait = session.LockWait

// lockProfile takes the cross-process lock of p's grant. Its scope is the
// grant's keychain key, so every sesame of this user that could redeem the
// same refresh token waits on the same lock, whatever its config directory.
func (a *app) lockProfile(ctx context.Context, p *profile.Profile) (*filelock.Lock, error) {
	return a.acquire(ctx, p, lockWait, nil)
}

// lockProfileFor is lockProfile with another bound on the wait.
func (a *app) lockProfileFor(ctx context.Context, p *profile.Profile, wait time.Duration) (*filelock.Lock, error) {
	return a.acquire(ctx, p, wait, nil)
}

// lockProfileUnless is lockProfile that gives up waiting, with a nil
// release and no error, once ready reports true.
func (a *app) lockProfileUnless(ctx context.Context, p *profile.Profile, ready func() bool) (session.Held, error) {
	l, err := a.acquire(ctx, p, lockWait, ready)
	if l == nil {
		// A nil *filelock.Lock in the interface would not be nil.
		return nil, err
	}
	return l, err
}

func (a *app) acquire(ctx context.Context, p *profile.Profile, wait time.Duration, ready func() bool) (*filelock.Lock, error) {
	dir, err := filelock.Dir(a.env.Getenv)
	if err != nil {
		return nil, err
	}
	l, err := filelock.AcquireUnless(ctx, dir, p.KeychainKey(), wait, ready)
	if errors.Is(err, filelock.ErrTimeout) {
		return nil, withHint(fmt.Errorf("profile %q is busy: %w", p.Name, err),
			"another sesame is refreshing or signing in for this profile; try again, or end that process")
	}
	if err != nil {
		return nil, err
	}
	if l == nil {
		a.log.Printf("lock: profile %q: another process's fresh token arrived while waiting", p.Name)
		return nil, nil
	}
	a.log.Printf("lock: profile %q locked", p.Name)
	return l, nil
}
