package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// ErrRevocationNotConfirmed is wrapped by every error from [Revoke]: the
// server did not confirm that the token is dead, so it may still work. The
// caller deletes local data anyway and exits 5 with a warning
// (requirement 33).
var ErrRevocationNotConfirmed = errors.New("revocation not confirmed")

// Revocation retry policy for 503 (RFC 7009 §2.2.1). Logout is
// interactive, so the total wait stays short.
const (
	revokeAttempts          = 3
	defaultRevokeRetryAfter = time.Second
	maxRevokeRetryAfter     = 10 * time.Second
)

// Token type hints (RFC 7009 §2.1).
const (
	HintRefreshToken = "refresh_token"
	HintAccessToken  = "access_token"
)

// Revoke asks endpoint to revoke token (RFC 7009 §2.1) as the public
// client clientID. hint is "refresh_token", "access_token" or empty.
//
// A 200 means the token is revoked, or was never valid, which is the same
// to us (§2.2). A 503 means the token is still alive (§2.2.1): Revoke
// tries up to three times in all, waiting as Retry-After says (seconds,
// at most 10 s; 1 s when absent or a date) through sleep, which tests
// replace with a fake clock; nil means a real, cancellable sleep.
// Anything else is an error wrapping [ErrRevocationNotConfirmed] and the
// *oauthwire.Error that names the status and the server's OAuth error,
// sanitized, e.g. "refresh token revocation: the server refused (400
// unsupported_token_type)". The request goes through internal/oauthwire,
// which never follows a redirect: the body holds the token.
func Revoke(ctx context.Context, client *http.Client, endpoint, clientID, token, hint string, sleep func(context.Context, time.Duration) error) error {
	if endpoint == "" {
		return fmt.Errorf("%w: the server has no revocation endpoint", ErrRevocationNotConfirmed)
	}
	if client == nil {
		return fmt.Errorf("%w: no http client", ErrRevocationNotConfirmed)
	}
	if sleep == nil {
		sleep = sleepContext
	}
	form := url.Values{"token": {token}, "client_id": {clientID}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	req := oauthwire.Request{Op: revocationOp(hint), URL: endpoint, Form: form}

	for attempt := 1; ; attempt++ {
		resp, err := oauthwire.Send(ctx, client, req)
		if err != nil {
			return notConfirmed(err.Error(), err)
		}
		switch {
		case resp.Status == http.StatusOK || resp.Status == http.StatusNoContent:
			// RFC 7009 says 200; some servers answer 204 with no body,
			// which confirms just as well.
			return nil
		case resp.Status == http.StatusServiceUnavailable && attempt < revokeAttempts:
			if err := sleep(ctx, parseRetryAfter(resp.Header.Get("Retry-After"))); err != nil {
				return wrapSanitized(ErrRevocationNotConfirmed.Error(), err, ErrRevocationNotConfirmed)
			}
		case resp.Status == http.StatusServiceUnavailable:
			return notConfirmed(fmt.Sprintf("%s: the server answered 503 Service Unavailable %d times", req.Op, attempt), resp.Refusal())
		default:
			// Any other answer, a 2xx other than 200 and 204 among them.
			refusal := resp.Refusal()
			return notConfirmed(refusal.Error(), refusal)
		}
	}
}

// revocationOp names the revocation of a token of type hint in errors.
func revocationOp(hint string) string {
	switch hint {
	case HintRefreshToken:
		return "refresh token revocation"
	case HintAccessToken:
		return "access token revocation"
	}
	return "revocation"
}

// notConfirmed is an error reading msg that matches
// [ErrRevocationNotConfirmed] and unwraps to cause.
func notConfirmed(msg string, cause error) error {
	return &sanitizedError{msg: msg, errs: []error{ErrRevocationNotConfirmed, cause}}
}

// parseRetryAfter reads a delay-seconds Retry-After (RFC 9110 §10.2.3),
// capped at maxRevokeRetryAfter. An HTTP-date, which would need the
// server's clock to mean anything, gets the default.
func parseRetryAfter(v string) time.Duration {
	secs, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || secs < 0 {
		return defaultRevokeRetryAfter
	}
	// Compare in seconds: a huge value would overflow a Duration.
	if secs >= int(maxRevokeRetryAfter/time.Second) {
		return maxRevokeRetryAfter
	}
	return time.Duration(secs) * time.Second
}

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
