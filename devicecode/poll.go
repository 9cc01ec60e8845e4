package devicecode

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// grantTypeDeviceCode is the grant_type of RFC 8628 §3.4.
const grantTypeDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// maxTokenLifetime caps expires_in of the token response
// (requirement 23).
const maxTokenLifetime = 24 * time.Hour

// Token runs one device login: it requests a device code and user code
// (RFC 8628 §3.1), checks what it would show, calls UI.Show once, and polls
// the token endpoint (§3.4) until the person approves, refuses, or the code
// expires. It never requests a second device code: after any failure only the
// person can decide to start again (requirement 43).
//
// Token returns ctx.Err() as soon as ctx is done; ErrDenied (as an
// *oauthwire.Error) when the person refused; ErrExpired when the code
// expired, either by the server's expired_token (an *oauthwire.Error) or on
// our clock (ErrExpired itself, or wrapped with the last poll's failure when
// that was a connection error); *VerificationHostError or an error wrapping
// ErrVerificationURI before anything is shown; and the *oauthwire.Error for
// every other failure. No error carries the
// device code, the PKCE verifier, a client secret or a token.
//
// The returned token carries every member of the token response as Extra,
// id_token among them; its Expiry is set on the flow's clock from expires_in,
// clamped to 24 hours.
func (f *Flow) Token(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var verifier string
	if f.cfg.PKCE {
		verifier = oauth2.GenerateVerifier()
	}
	da, err := f.authorize(ctx, verifier)
	if err != nil {
		return nil, err
	}
	// The code's lifetime runs from the moment we hold the response.
	deadline := f.clock.Now().Add(da.expiresIn)
	p, err := f.buildPrompt(da, deadline)
	if err != nil {
		return nil, err
	}
	f.cfg.UI.Show(p)
	return f.poll(ctx, da, verifier, deadline)
}

// outcome is what one poll tells the loop to do.
type outcome int

const (
	outFatal     outcome = iota // stop with the error
	outSuccess                  // return the token
	outPending                  // authorization_pending: keep the interval
	outSlowDown                 // slow_down: add SlowDownStep for good
	outTransient                // connection trouble: double the interval
	outCancelled                // ctx is done
)

// poll is the loop of RFC 8628 §3.4–3.5. Every wait and every request ends
// as soon as ctx is done.
func (f *Flow) poll(ctx context.Context, da *deviceAuth, verifier string, deadline time.Time) (*oauth2.Token, error) {
	c := f.cfg.OAuth2
	form := url.Values{
		"grant_type":  {grantTypeDeviceCode},
		"device_code": {da.deviceCode},
		"client_id":   {c.ClientID},
	}
	if c.ClientSecret != "" && c.Endpoint.AuthStyle != oauth2.AuthStyleInHeader {
		form.Set("client_secret", c.ClientSecret)
	}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	for k, vs := range f.cfg.TokenParams {
		form[k] = append(form[k], vs...)
	}

	interval := da.interval
	polls := 0
	var lastTransient error
	for {
		remaining := deadline.Sub(f.clock.Now())
		if remaining <= 0 {
			return nil, expired(lastTransient)
		}
		// The interval is honoured but bounded by the expiry
		// (requirement 23): when the next poll would come after
		// it, wait until the code expires and stop there.
		wait := min(interval, remaining)
		if f.cfg.UI.Waiting != nil {
			f.cfg.UI.Waiting(Wait{Remaining: remaining, Next: wait, Polls: polls, Retrying: lastTransient != nil})
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-f.clock.After(wait):
		}
		// When the wait and the cancellation end together, select may
		// pick the wait: no poll goes out after Ctrl-C either way.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !f.clock.Now().Before(deadline) {
			return nil, expired(lastTransient)
		}

		polls++
		tok, out, err := f.pollOnce(ctx, form)
		switch out {
		case outSuccess:
			return tok, nil
		case outPending:
			lastTransient = nil
		case outSlowDown:
			// RFC 8628 §3.5: "the interval MUST be increased by 5 seconds
			// for this and all subsequent requests".
			interval += SlowDownStep
			lastTransient = nil
		case outTransient:
			// RFC 8628 §3.5: on a connection timeout clients "MUST
			// unilaterally reduce their polling frequency"; doubling the
			// interval is the RECOMMENDED way.
			interval = backoff(interval)
			lastTransient = err
		case outCancelled:
			return nil, ctx.Err()
		default:
			return nil, err
		}
	}
}

// pollOnce sends one device access token request (RFC 8628 §3.4) and judges
// the answer (§3.5). The device code, verifier and client secret in form
// never reach an error: internal/oauthwire scrubs them.
func (f *Flow) pollOnce(ctx context.Context, form url.Values) (*oauth2.Token, outcome, error) {
	r, err := f.postToken(ctx, form)
	if ctx.Err() != nil {
		return nil, outCancelled, ctx.Err()
	}
	if err != nil {
		if isTransient(err) {
			return nil, outTransient, err
		}
		return nil, outFatal, err
	}
	return f.judgePoll(r)
}

// judgePoll decides what a token endpoint answer means for the loop (RFC
// 8628 §3.5).
func (f *Flow) judgePoll(r *oauthwire.Response) (*oauth2.Token, outcome, error) {
	err := r.Err()
	e, _ := oauthwire.As(err)
	switch {
	case err == nil:
	case e.HasCode(oauthwire.CodeAuthorizationPending):
		return nil, outPending, nil
	case e.HasCode(oauthwire.CodeSlowDown):
		return nil, outSlowDown, nil
	case e.Code == "" && isTransientStatus(r.Status):
		return nil, outTransient, err
	default:
		// access_denied, expired_token and anything else end the flow at
		// once; ErrDenied and ErrExpired match the first two.
		return nil, outFatal, err
	}
	tok, err := f.newToken(r)
	if err != nil {
		return nil, outFatal, err
	}
	return tok, outSuccess, nil
}

// newToken builds the token from a successful response (RFC 6749 §5.1).
func (f *Flow) newToken(r *oauthwire.Response) (*oauth2.Token, error) {
	t, err := r.Token()
	if err != nil {
		return nil, err
	}
	return t.OAuth2(f.clock.Now(), maxTokenLifetime), nil
}

// backoff doubles the interval after a connection failure, up to
// maxBackoffInterval; an interval the server asked for that is already
// longer is kept.
func backoff(interval time.Duration) time.Duration {
	if interval >= maxBackoffInterval {
		return interval
	}
	return min(2*interval, maxBackoffInterval)
}

// expired is the error for a code that ran out on our clock. When the last
// poll failed with a connection error the person should know, since the
// network and not their hesitation may be why.
func expired(lastTransient error) error {
	if lastTransient == nil {
		return ErrExpired
	}
	return fmt.Errorf("%w (the last poll failed: %w)", ErrExpired, lastTransient)
}
