package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/keychain"
)

type signInOptions struct {
	noBrowser bool
	timeout   time.Duration
	// json writes the device flow's events to stdout (login --json).
	json bool
	// openDevicePage opens the device verification page in the browser.
	openDevicePage bool
	// acceptVerificationHost shows a device verification page on another
	// domain than the issuer's.
	acceptVerificationHost bool
	// qr says when to draw the device flow's link as a QR code.
	qr qrMode
	// locked means the caller holds p's lock already.
	locked bool
}

// qrMode is --qr / --no-qr: auto draws the code on a terminal only.
type qrMode int

const (
	qrAuto qrMode = iota
	qrAlways
	qrNever
)

// signIn runs the browser login for p (discovery, authorization code +
// PKCE on a loopback redirect, ID token verification) and stores the grant
// under p's lock. It is the core of `sesame login` and of the interactive
// login a helper command starts for a person at a terminal.
func (a *app) signIn(ctx context.Context, p *profile.Profile, so signInOptions) (*keychain.Record, error) {
	if p.ClientID == "" {
		return nil, &hintedError{
			err:   fmt.Errorf("profile %q has no client id: its registration was deleted at logout", p.Name),
			code:  exitLoginRequired,
			hints: []string{fmt.Sprintf("run: sesame login -p %s   (it registers a new client)", p.Name)},
		}
	}
	store, err := a.store()
	if err != nil {
		return nil, err
	}
	// Ask the keychain before the browser: a locked or missing keychain
	// must fail now, not after the person has signed in.
	key := p.KeychainKey()
	old, err := store.Get(ctx, key)
	if err != nil && !errors.Is(err, keychain.ErrNotFound) && !errors.Is(err, keychain.ErrCorrupt) {
		return nil, err
	}
	client, md, err := a.discover(ctx, p)
	if err != nil {
		return nil, err
	}
	client, dpopKey, err := a.bindDPoP(p, md, client)
	if err != nil {
		return nil, err
	}
	flow := a.chooseFlow(p, md)
	a.log.Printf("login: profile %q: issuer %s, %s flow, token endpoint %s, iss parameter announced: %v",
		p.Name, md.Issuer, flow, md.TokenEndpoint, md.AuthorizationResponseIssParameterSupported)
	var tok *oauth2.Token
	var idTok *provider.IDToken
	switch flow {
	case profile.FlowDevice:
		tok, idTok, err = a.deviceGrant(ctx, p, md, client, so)
	default:
		tok, idTok, err = a.browserGrant(ctx, p, md, client, so)
	}
	if err != nil {
		return nil, err
	}
	binding := session.Binding{Profile: p.Name, Issuer: p.Issuer, ClientID: p.ClientID}
	rec, err := session.NewRecord(binding, md.TokenEndpoint, tok, a.env.Now())
	if err != nil {
		return nil, err
	}
	if idTok != nil {
		rec.Subject, rec.Email, rec.Name = idTok.Subject, idTok.Email, idTok.Name
	}
	rec.Resource = p.DefaultResource()
	if dpopKey != nil {
		rec.DPoPKey = dpopKey.Marshal()
	}
	a.log.Printf("login: token response received; granted scope %q; storing the grant in %s", rec.Scope, store.Name())
	// Write under the profile lock, so a helper refreshing the old grant
	// at this moment cannot overwrite the new one with its result.
	// (A helper's interactive login holds the lock already.)
	if !so.locked {
		lock, err := a.lockProfile(ctx, p)
		if err != nil {
			return nil, err
		}
		defer lock.Release()
	}
	if err := store.Set(ctx, key, rec); err != nil {
		return nil, withHint(fmt.Errorf("signed in, but the grant could not be stored: %w", err),
			"nothing was saved; fix the keychain and run the login again")
	}
	if a.env.Cache != nil {
		session.Forget(a.env.Cache, key, old, p.Resources...)
		session.Remember(a.env.Cache, session.CacheKey(key, rec.Resource), rec, a.env.Now())
	}
	if old != nil && old.RefreshToken != "" && old.RefreshToken != rec.RefreshToken {
		// Requirement 33: a replaced grant is revoked, not left alive.
		a.revokeQuietly(ctx, client, md, old)
	}
	return rec, nil
}
