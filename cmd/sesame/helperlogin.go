package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/loopback"
)

// interactive reports whether a person is at this helper call: stdin and
// stderr are a terminal, so a browser can be opened and its URL shown.
// kubectl, git and IDEs run helpers without a terminal, and those never get
// a browser (they exit 4 with a hint instead).
func (a *app) interactive() bool {
	return a.env.StdinTTY && a.env.StderrTTY
}

// helperLogin signs in for a helper command that found no usable grant and
// runs for a person. The whole login happens under the profile's login
// lock, so of several helpers that need it at once (five terminals, a
// shell loop) one opens the browser and the others wait, then use its
// grant (SECURITY-REQUIREMENTS 30).
func (a *app) helperLogin(ctx context.Context, p *profile.Profile, g *session.Grant) (*session.Result, error) {
	lock, err := a.lockLogin(ctx, p, loopback.DefaultTimeout+lockWait)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	// Another helper may have signed in while this one waited.
	res, err := g.Token(ctx)
	if !errors.Is(err, session.ErrLoginRequired) {
		return res, err
	}
	fmt.Fprintf(a.env.Stderr, "sesame: profile %q needs a new login (%s)\n", p.Name, oneLine(err.Error()))
	rec, err := a.signIn(ctx, p, signInOptions{timeout: loopback.DefaultTimeout})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(a.env.Stderr, "sesame: signed in to %s as %s (profile %q)\n", rec.Issuer, firstNonEmpty(rec.Email, rec.Name, rec.Subject, "an unnamed account"), p.Name)
	return &session.Result{Record: rec, Refreshed: true}, nil
}
