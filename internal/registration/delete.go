package registration

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// ErrGone is matched (errors.Is) by the error [Delete] returns when the
// server answers 401, 403 or 404: it no longer knows the client or the
// registration access token (RFC 7592 §2.3, §3). Nothing is left for the
// caller to delete remotely, so it can forget the registration locally.
var ErrGone = errors.New("the server no longer knows this client registration")

// deletePrefix starts every error from [Delete].
const deletePrefix = "deleting the client registration"

// Delete deregisters the client (RFC 7592 §2.3): DELETE clientURI with "Authorization: Bearer <token>".
// 204 (or 200) is success. 401, 403 and 404 mean the server no longer knows the client or the token: ErrGone
// (errors.Is). Other statuses give *Error. Transport errors are returned wrapped, with the URL's *url.Error wrapper
// removed if it would quote a query.
//
// clientURI must be an absolute https URL (or http to a loopback IP
// literal) without user information or fragment, and accessToken visible
// ASCII; the caller should only ever pass what [Register] kept. A redirect
// is not followed: it would carry the token to another URL. No error
// quotes accessToken, even if the server echoes it.
func Delete(ctx context.Context, c *http.Client, clientURI, accessToken string) error {
	if c == nil {
		return errors.New(deletePrefix + ": no http client")
	}
	if !visibleASCII(accessToken, maxAccessTokenLen) {
		return errors.New(deletePrefix + ": no usable registration access token")
	}
	if err := urlcheck.Endpoint(clientURI, true); err != nil {
		// The caller's URI, not the server's, but scrubbed all the same.
		return wrap(deletePrefix, err, accessToken)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, clientURI, nil)
	if err != nil {
		return wrap(deletePrefix, fmt.Errorf("invalid client configuration endpoint %s", urlcheck.Quote(clientURI)), accessToken)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")

	resp, err := noRedirects(c).Do(req)
	if err != nil {
		return wrap(deletePrefix, err, accessToken)
	}
	defer func() { _ = resp.Body.Close() }()
	// Read even on success, up to the limit, so the connection can be
	// reused; an unreadable body does not change what the status says.
	b, err := readBody(resp.Body)
	if err != nil {
		b = nil
	}

	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		// RFC 7592 §2.3: 401 for an invalid token, 404 or 403 for a client
		// that no longer exists, and servers also answer 403 for a token
		// that was revoked with the client.
		return fmt.Errorf("%s: %w (HTTP %d)", deletePrefix, ErrGone, resp.StatusCode)
	}
	return fmt.Errorf("%s: %w", deletePrefix, newError(resp.StatusCode, b, accessToken))
}
