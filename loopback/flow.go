package loopback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/internal/redact"
)

// Token runs one login: it binds the loopback listener, reports and opens the
// authorization URL, waits for the one authorization response whose state
// matches, redeems the code with the PKCE verifier, runs Config.Validate, and
// returns the token. The listener is closed before Token returns, whatever
// the outcome.
//
// Token returns ctx.Err() when ctx is cancelled or its own deadline passes,
// ErrTimeout when Config.Timeout passes first, ErrPortInUse when a fixed port
// is taken, and otherwise the error of the accepted response: the
// *oauthwire.Error of an error response (Op "authorization") or of a failed
// code exchange (Op "code exchange"), ErrIssuerMismatch,
// ErrMalformedResponse, a *RedirectURIError when a pushed request was
// refused for its redirect URI, or the error Validate returned. No error carries the code, state, nonce, verifier or a
// token.
//
// If Opener fails and OnAuthURL is set, Token keeps waiting: the user has the
// URL and can open it by hand. With no OnAuthURL there is no way to proceed,
// so Token returns ErrOpenBrowser.
func (f *Flow) Token(ctx context.Context) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeoutCause(ctx, f.timeout, ErrTimeout)
	defer cancel()

	ln, err := listenLoopback(actx, f.cfg.Port)
	if err != nil {
		return nil, err
	}
	// The redirect URI carries the literal and port actually bound, never a
	// name and never the port we asked for (RFC 8252 §7.3).
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.IsLoopback() {
		_ = ln.Close()
		return nil, errors.New("listener is not on a loopback address")
	}
	host := net.JoinHostPort(addr.IP.String(), strconv.Itoa(addr.Port))
	redirectURI := "http://" + host + callbackPath

	oc := f.cfg.OAuth2
	oc.RedirectURL = redirectURI
	secrets := newAttemptSecrets(f.openid)
	authURL := f.authCodeURL(&oc, secrets)
	pushed := false
	if f.cfg.PAREndpoint != "" {
		pushedURL, err := f.pushAuthorizationRequest(actx, &oc, authURL, secrets)
		client, redirect := refusedForEveryRequest(err)
		switch {
		case err == nil:
			authURL, pushed = pushedURL, true
		case redirect:
			_ = ln.Close()
			return nil, &RedirectURIError{RedirectURI: redirectURI, Port: f.cfg.Port, Err: err}
		case f.cfg.RequirePAR || client || ctx.Err() != nil:
			// RFC 9126 §5: never fall back when the server demands PAR.
			_ = ln.Close()
			return nil, err
		}
	}
	if err := checkOpenURL(authURL, oc.Endpoint.AuthURL, f.cfg.AllowInsecureAuthEndpoint, pushed); err != nil {
		_ = ln.Close()
		return nil, err
	}

	cb := newCallback(actx, f, &oc, secrets, host)
	rs := startServer(newServer(actx, cb, f.limits), ln, f.limits)

	if f.cfg.OnAuthURL != nil {
		f.cfg.OnAuthURL(authURL)
	}
	var openErr chan error
	if f.cfg.Opener != nil {
		openErr = make(chan error, 1)
		go func() { openErr <- f.cfg.Opener.Open(actx, authURL) }()
	}

	for {
		select {
		case out := <-cb.outcome:
			rs.shutdown()
			if out.err != nil {
				// An exchange cut short by the deadline or by ctx reports
				// the deadline or cancellation, not a transport error.
				if cerr := f.contextError(ctx, actx); cerr != nil {
					return nil, cerr
				}
				return nil, out.err
			}
			return &Result{Token: out.token, Nonce: secrets.nonce, RedirectURI: redirectURI}, nil

		case err := <-openErr:
			openErr = nil
			if err != nil && f.cfg.OnAuthURL == nil {
				cancel()
				rs.abort()
				cb.waitFinished(f.limits.shutdownGrace)
				return nil, openError(err, authURL, secrets)
			}

		case <-actx.Done():
			rs.abort()
			cb.waitFinished(f.limits.shutdownGrace)
			return nil, f.contextError(ctx, actx)
		}
	}
}

// contextError maps the end of actx to the error Token reports: the caller's
// own cancellation or deadline as ctx.Err() (the CLI turns cancellation into
// exit code 130), our Timeout as ErrTimeout.
func (f *Flow) contextError(ctx, actx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if actx.Err() != nil {
		if cause := context.Cause(actx); errors.Is(cause, ErrTimeout) {
			return ErrTimeout
		}
		return actx.Err()
	}
	return nil
}

// waitFinished gives a request that already spent the state a bounded time to
// finish, so that Config.Validate is not left running after Token returns.
// The request's context is cancelled by then, so a well-behaved exchange and
// Validate end promptly; the bound keeps a misbehaving one from hanging us.
func (cb *callback) waitFinished(grace time.Duration) {
	if !cb.isSpent() {
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-cb.finished:
	case <-t.C:
	}
}

// openError reports a failed Opener without repeating what the opener may
// have quoted: the authorization URL carries state, nonce and the PKCE
// challenge, and an error message travels to terminals and logs.
func openError(err error, authURL string, s attemptSecrets) error {
	msg := strings.ReplaceAll(err.Error(), authURL, "(authorization url)")
	for _, secret := range s.list() {
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, "(redacted)")
		}
	}
	return fmt.Errorf("%w: %s", ErrOpenBrowser, redact.Sanitize(msg))
}
