package registration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// Register POSTs the metadata as JSON to endpoint with application_type "native",
// token_endpoint_auth_method "none" and response_types ["code"] always set (never configurable).
// Accepts 201 (and 200 from lenient servers). Refuses (error) a response that:
//   - lacks client_id or has one with characters outside visible ASCII (0x21-0x7e) or longer than 512;
//   - says token_endpoint_auth_method other than "none", or carries a client_secret (a public client must not be
//     given a secret it would have to store; RFC 8252 §8.4): in that case, if a usable management URI and access token
//     came, it makes one best-effort Delete before returning the error, so no orphan is left;
//   - says application_type other than native when present; or redirect_uris that differ from the ones sent when present.
//
// RegistrationClientURI is kept only if it is https (or http to a loopback IP literal when endpoint is itself http to a
// loopback IP literal — tests), and has the same scheme, host and port as endpoint: the registration access token must
// never travel to another origin. Otherwise it is dropped (Client.RegistrationClientURI = "") and so is the access token.
// An error response (RFC 7591 §3.2.2: invalid_redirect_uri, invalid_client_metadata, ...) gives *Error with the
// sanitized error code and HTTP status; never error_description verbatim unless sanitized and capped at 200 bytes.
//
// Every refusal of a successful response, not only the two about secrets,
// is followed by the best-effort Delete: the server did create a client,
// and one sesame will never use should not be left behind. If that Delete
// fails, or cannot be made, the error says so, because the user may want
// to remove the client by hand.
//
// endpoint must pass the same checks as any other server endpoint
// (urlcheck.Endpoint, with http allowed for loopback IP literals; the
// caller's client decides whether that is actually permitted).
func Register(ctx context.Context, c *http.Client, endpoint string, r Request) (*Client, error) {
	if c == nil {
		return nil, errors.New("client registration: no http client")
	}
	ep, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("client registration: %w", urlcheck.Endpoint(endpoint, true))
	}
	if err := urlcheck.Parsed(ep, endpoint, true); err != nil {
		return nil, fmt.Errorf("client registration: %w", err)
	}
	body, err := r.encode()
	if err != nil {
		return nil, fmt.Errorf("client registration: encoding the metadata: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("client registration: invalid endpoint %s", urlcheck.Quote(endpoint))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := noRedirects(c).Do(req)
	if err != nil {
		return nil, wrap("client registration", err, "")
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := readBody(resp.Body)

	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		if err != nil {
			// The status alone still says what happened.
			b = nil
		}
		return nil, newError(resp.StatusCode, b, "")
	}
	if err != nil {
		return nil, wrap("client registration: reading the response", err, "")
	}
	reg, err := parseRegistered(b)
	if err != nil {
		return nil, err
	}
	cl := reg.client(ep)
	if refusal := reg.check(r); refusal != nil {
		return nil, cleanUp(ctx, c, cl, refusal)
	}
	return cl, nil
}

// cleanUp deletes a registration that Register refused, once and on a
// best-effort basis, and returns refusal with the outcome added when the
// client may have been left behind.
func cleanUp(ctx context.Context, c *http.Client, cl *Client, refusal error) error {
	if cl.RegistrationClientURI == "" {
		return fmt.Errorf("%w; the server gave no usable way to delete the registration it made", refusal)
	}
	if err := Delete(ctx, c, cl.RegistrationClientURI, cl.RegistrationAccessToken); err != nil {
		// Delete's errors never hold the token.
		return fmt.Errorf("%w; the registration it made could not be deleted: %w", refusal, err)
	}
	return refusal
}

// noRedirects returns a copy of c that returns a redirect response instead
// of following it. Neither request here has any business being redirected,
// and a followed DELETE would carry the registration access token to
// wherever the server pointed (net/http keeps the Authorization header
// for a subdomain). The copy shares c's transport, jar and timeout.
func noRedirects(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}
