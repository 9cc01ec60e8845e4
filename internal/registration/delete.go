package registration

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// ErrGone is matched (errors.Is) by the error [Delete] returns when the
// server answers 401, 403 or 404: it no longer knows the client or the
// registration access token (RFC 7592 §2.3, §3). Nothing is left for the
// caller to delete remotely, so it can forget the registration locally.
var ErrGone = errors.New("the server no longer knows the client or its registration access token")

// opDelete names the deletion in its errors.
const opDelete = "deleting the client registration"

// Delete deregisters the client (RFC 7592 §2.3): DELETE clientURI with "Authorization: Bearer <token>".
// 204 (or 200) is success. 401, 403 and 404 mean the server no longer knows the client or the token: ErrGone
// (errors.Is). Other statuses, and transport failures, give the *oauthwire.Error.
//
// clientURI must be an absolute https URL (or http to a loopback IP
// literal) without user information or fragment, and accessToken visible
// ASCII; the caller should only ever pass what [Register] kept. A redirect
// is not followed: it would carry the token to another URL. No error
// quotes accessToken, even if the server echoes it.
func Delete(ctx context.Context, c *http.Client, clientURI, accessToken string) error {
	if c == nil {
		return errors.New(opDelete + ": no http client")
	}
	if !visibleASCII(accessToken, maxAccessTokenLen) {
		return errors.New(opDelete + ": no usable registration access token")
	}
	if err := urlcheck.Endpoint(clientURI, true); err != nil {
		if strings.Contains(err.Error(), accessToken) {
			// The URI is quoted, and it holds the token.
			return errors.New(opDelete + ": the client configuration endpoint is not a usable URL")
		}
		return fmt.Errorf("%s: %w", opDelete, err)
	}
	resp, err := oauthwire.Send(ctx, c, oauthwire.Request{Op: opDelete, Method: http.MethodDelete, URL: clientURI, Bearer: accessToken})
	if err != nil {
		return err
	}
	switch resp.Status {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		// RFC 7592 §2.3: 401 for an invalid token, 404 or 403 for a client
		// that no longer exists, and servers also answer 403 for a token
		// that was revoked with the client.
		return fmt.Errorf("%s: %w (HTTP %d)", opDelete, ErrGone, resp.Status)
	}
	return resp.Refusal()
}
