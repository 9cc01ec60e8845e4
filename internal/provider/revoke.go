package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/internal/redact"
	"github.com/sesame-auth/sesame/internal/urlcheck"
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
// Anything else is an error wrapping [ErrRevocationNotConfirmed] that
// names the status and the server's OAuth error code, sanitized.
//
// client must refuse redirects of POSTs, as [NewHTTPClient]'s does: the
// body holds the token.
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
	body := form.Encode()

	for attempt := 1; ; attempt++ {
		res, err := revokeOnce(ctx, client, endpoint, body)
		if err != nil {
			return wrapSanitized(ErrRevocationNotConfirmed.Error(), err, ErrRevocationNotConfirmed)
		}
		switch {
		case res.status == http.StatusOK || res.status == http.StatusNoContent:
			// RFC 7009 says 200; some servers answer 204 with no body,
			// which confirms just as well.
			return nil
		case res.status == http.StatusServiceUnavailable && attempt < revokeAttempts:
			if err := sleep(ctx, res.retryAfter); err != nil {
				return wrapSanitized(ErrRevocationNotConfirmed.Error(), err, ErrRevocationNotConfirmed)
			}
		case res.status == http.StatusServiceUnavailable:
			return fmt.Errorf("%w: the server answered 503 (service unavailable) %d times", ErrRevocationNotConfirmed, attempt)
		default:
			return fmt.Errorf("%w: the server answered %d%s", ErrRevocationNotConfirmed, res.status, res.errorCode())
		}
	}
}

type revokeResult struct {
	status     int
	retryAfter time.Duration
	oauthError string // the "error" member of an RFC 6749 §5.2 body, raw
}

// errorCode renders the OAuth error code for a message: sanitized and
// redacted, because it is the server's text.
func (r revokeResult) errorCode() string {
	if r.oauthError == "" {
		return ""
	}
	return " (" + redact.UntrustedText(r.oauthError) + ")"
}

func revokeOnce(ctx context.Context, client *http.Client, endpoint, body string) (revokeResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		return revokeResult{}, fmt.Errorf("invalid revocation endpoint %s", urlcheck.Quote(endpoint))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return revokeResult{}, err
	}
	defer func() { _ = resp.Body.Close() }()

	res := revokeResult{status: resp.StatusCode}
	if resp.StatusCode == http.StatusServiceUnavailable {
		res.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	}
	if resp.StatusCode >= 400 {
		// Best effort: an unreadable error body still leaves the status.
		var e struct {
			Error string `json:"error"`
		}
		if b, err := io.ReadAll(resp.Body); err == nil && json.Unmarshal(b, &e) == nil {
			res.oauthError = e.Error
		}
	}
	return res, nil
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
