package registration

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// opRegister names the registration in its errors.
const opRegister = "client registration"

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
// Any other status, an error response (RFC 7591 §3.2.2: invalid_redirect_uri, invalid_client_metadata, ...) among
// them, gives the *oauthwire.Error with the status and the server's error code and description, sanitized.
// A 200 or 201 is read as client information whatever it holds: its members are secrets, and none is quoted.
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
		return nil, errors.New(opRegister + ": no http client")
	}
	ep, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opRegister, urlcheck.Endpoint(endpoint, true))
	}
	if err := urlcheck.Parsed(ep, endpoint, true); err != nil {
		return nil, fmt.Errorf("%s: %w", opRegister, err)
	}
	body, err := r.encode()
	if err != nil {
		return nil, fmt.Errorf("%s: encoding the metadata: %w", opRegister, err)
	}
	resp, err := oauthwire.Send(ctx, c, oauthwire.Request{Op: opRegister, URL: endpoint, JSON: body})
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		return nil, resp.Refusal()
	}
	reg, err := parseRegistered(resp)
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
		return fmt.Errorf("%w; the client it made is left at the server (%w)", refusal, err)
	}
	return refusal
}
