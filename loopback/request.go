package loopback

import (
	"context"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// authRequests makes the authorization requests of one attempt: the first,
// and a fresh one for each visit of the start link and each renewal of a
// pushed request before it expires.
//
// Every request of an attempt carries the attempt's one state, PKCE
// challenge and nonce. A fresh state per request, accepting only the
// latest, would refuse the person who opened the previous link a moment
// before it was replaced and is still signing in, and would gain nothing:
// the state is still spent on the first matching response, so at most one
// code is ever redeemed, with the one verifier that never leaves this
// process; and a pushed request keeps all three values out of the front
// channel anyway (RFC 9126 §4). Only the request_uri changes, which is what
// expires.
type authRequests struct {
	f       *Flow
	oc      *oauth2.Config
	secrets attemptSecrets
	plain   string // the plain authorization request (RFC 6749 §4.1.1)

	mu     sync.Mutex // one push at a time
	pushed bool       // set by first: requests go to the PAR endpoint
}

// authLink is one authorization request for the browser.
type authLink struct {
	url     string
	expires time.Time // zero when it does not expire or the server did not say
}

func newAuthRequests(f *Flow, oc *oauth2.Config, s attemptSecrets) *authRequests {
	return &authRequests{f: f, oc: oc, secrets: s, plain: f.authCodeURL(oc, s)}
}

// first makes the attempt's first request: pushed when the server offers
// PAR, else (or when a push fails and the server does not require PAR,
// RFC 9126 §5) the plain request. parent is the caller's context: a push
// cut short by it is an error, never a reason to fall back.
func (r *authRequests) first(ctx, parent context.Context) (authLink, error) {
	if r.f.cfg.PAREndpoint != "" {
		r.pushed = true
		l, err := r.next(ctx)
		if err == nil {
			return l, nil
		}
		client, redirect := refusedForEveryRequest(err)
		switch {
		case redirect:
			// A plain request would be refused the same way, on the
			// server's error page, where sesame cannot see it.
			return authLink{}, &RedirectURIError{RedirectURI: r.oc.RedirectURL, Port: r.f.cfg.Port, Err: err}
		case r.f.cfg.RequirePAR || client || parent.Err() != nil:
			// RFC 9126 §5: never fall back when the server demands PAR;
			// nor when it does not know the client, which a plain
			// request would only show on the server's error page.
			return authLink{}, err
		}
		r.pushed = false
	}
	return r.next(ctx)
}

// next makes a fresh request of the kind first chose. A plain request
// never expires, so it is the same URL every time; a pushed one gets a new
// request_uri.
func (r *authRequests) next(ctx context.Context) (authLink, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.pushed {
		if err := checkOpenURL(r.plain, r.oc.Endpoint.AuthURL, r.f.cfg.AllowInsecureAuthEndpoint, false); err != nil {
			return authLink{}, err
		}
		return authLink{url: r.plain}, nil
	}
	u, lifetime, err := r.f.pushAuthorizationRequest(ctx, r.oc, r.plain, r.secrets)
	if err != nil {
		return authLink{}, err
	}
	if err := checkOpenURL(u, r.oc.Endpoint.AuthURL, r.f.cfg.AllowInsecureAuthEndpoint, true); err != nil {
		return authLink{}, err
	}
	l := authLink{url: u}
	if lifetime > 0 {
		l.expires = r.f.clock.Now().Add(lifetime)
	}
	return l, nil
}

// renewAt is when a pushed request that expires at l.expires is renewed:
// after three quarters of its lifetime, so the new link is shown while the
// old one still works, for whoever copied it a moment ago. The zero time
// means never.
func (l authLink) renewAt(now time.Time) time.Time {
	if l.expires.IsZero() {
		return time.Time{}
	}
	// At least a second from now, whatever the server said.
	return now.Add(max(l.expires.Sub(now)*3/4, time.Second))
}
