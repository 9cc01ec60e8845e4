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
	// previous are the grants the profile held under another key before
	// its issuer, client or registration changed: the new grant replaces
	// them too.
	previous []*session.Grant
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
	_, err = store.Get(ctx, p.KeychainKey())
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
	g, err := a.grantOf(p)
	if err != nil {
		return nil, err
	}
	// Under the profile lock, on the newest stored grant: a refresh of the
	// old grant may have rotated it while the browser was open, and it is
	// that newest refresh token that must be revoked (requirement 33).
	if err := g.Replace(ctx, rec, so.previous, p.Resources...); err != nil {
		return nil, withHint(fmt.Errorf("signed in, but the grant could not be stored: %w", err),
			"nothing was saved; fix the keychain and run the login again")
	}
	return rec, nil
}
