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

// lockProfileUnless takes the cross-process lock of p's grant, and gives
// up waiting, with a nil Held and no error, once ready reports true. Its
// scope is the grant's keychain key, so every sesame of this user that
// could redeem the same refresh token waits on the same lock, whatever its
// config directory.
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

// lockLogin takes p's login lock, which serialises logins of one profile
// (a login command, a helper's login for a person): two browsers for one
// profile would leave one grant orphaned. It is apart from the grant lock,
// which a login holds only to store its grant, so helpers keep refreshing
// while a browser is open.
func (a *app) lockLogin(ctx context.Context, p *profile.Profile, wait time.Duration) (*filelock.Lock, error) {
	dir, err := filelock.Dir(a.env.Getenv)
	if err != nil {
		return nil, err
	}
	return filelock.Acquire(ctx, dir, "login."+p.Name, wait)
}
