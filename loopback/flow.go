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
// matches (from the browser, or pasted by the person, see
// Events.ReadPasted), redeems the code with the PKCE verifier, runs
// Config.Validate, and returns the token. The listener is closed before
// Token returns, whatever the outcome.
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
// If Opener fails and the person has been shown a link (OnAuthURL or
// Events.Started is set), Token reports the failure through
// Events.OpenFailed and keeps waiting: the person can open the link by
// hand. With neither there is no way to proceed, so Token returns
// ErrOpenBrowser.
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
	reqs := newAuthRequests(f, &oc, secrets)
	shown, err := reqs.first(actx, ctx)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}

	cb := newCallback(actx, f, reqs, host)
	rs := startServer(newServer(actx, cb, f.limits), ln, f.limits)
	ev := &f.cfg.Events
	defer ev.done()

	if f.cfg.OnAuthURL != nil {
		f.cfg.OnAuthURL(shown.url)
	}
	left := f.timeout
	if d, ok := actx.Deadline(); ok {
		left = time.Until(d)
	}
	ev.started(Start{
		AuthURL:        shown.url,
		AuthURLExpires: shown.expires,
		LocalURL:       "http://" + host + startPrefix + cb.startKey,
		Timeout:        left,
		Paste:          ev.ReadPasted != nil,
	})
	var openErr chan error
	if f.cfg.Opener != nil {
		openErr = make(chan error, 1)
		go func() { openErr <- f.cfg.Opener.Open(actx, shown.url) }()
	}
	var refused chan error
	if ev.ReadPasted != nil {
		refused = make(chan error)
		go readPasted(actx, ev.ReadPasted, cb, refused)
	}
	var renew <-chan time.Time
	if ev.NewAuthURL != nil {
		renew = f.renewal(shown)
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
			if err == nil {
				continue
			}
			err = openError(err, shown.url, secrets)
			if f.cfg.OnAuthURL == nil && ev.Started == nil {
				cancel()
				rs.abort()
				cb.waitFinished(f.limits.shutdownGrace)
				return nil, err
			}
			ev.openFailed(err)

		case err := <-refused:
			ev.pasteRefused(err)

		case <-renew:
			l, err := reqs.next(actx)
			switch {
			case actx.Err() != nil:
				// The loop ends on the next turn.
				renew = nil
			case err != nil:
				if ev.NewAuthURLFailed != nil {
					ev.NewAuthURLFailed(err)
				}
				renew = f.clock.After(renewRetry)
			default:
				shown = l
				ev.NewAuthURL(l.url, l.expires)
				renew = f.renewal(l)
			}

		case <-actx.Done():
			rs.abort()
			cb.waitFinished(f.limits.shutdownGrace)
			return nil, f.contextError(ctx, actx)
		}
	}
}

// renewRetry is how soon a failed renewal of a pushed request is tried
// again.
const renewRetry = 10 * time.Second

// renewal returns the channel that says when to renew l, or nil when l
// does not expire.
func (f *Flow) renewal(l authLink) <-chan time.Time {
	now := f.clock.Now()
	at := l.renewAt(now)
	if at.IsZero() {
		return nil
	}
	return f.clock.After(at.Sub(now))
}

// readPasted hands each pasted address to cb until one spends the state,
// reporting the refused ones on refused. It ends when read fails or the
// login is over; a read still blocked then is abandoned (see
// Events.ReadPasted).
func readPasted(ctx context.Context, read func(context.Context) (string, error), cb *callback, refused chan<- error) {
	for {
		text, err := read(ctx)
		if err != nil || ctx.Err() != nil {
			return
		}
		err = cb.paste(text)
		if err == nil {
			return
		}
		select {
		case refused <- err:
		case <-ctx.Done():
			return
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
