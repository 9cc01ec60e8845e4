package oauthwire

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// MaxBody is the most of any answer that is read (requirement 23): an
// OAuth answer is a few KiB, and a hostile server must not make sesame
// allocate without bound, whatever limit the caller's client has.
const MaxBody = 1 << 20

// errBodyTooLarge is the reason of an answer over [MaxBody].
const errBodyTooLarge = "it is larger than 1 MiB"

// secretFields are the request members whose values are credentials
// (RFC 6749 §4.1.3, §6; RFC 7636 §4.5; RFC 8628 §3.4; RFC 7009 §2.1; RFC
// 7523 §2.2), and the PAR members (state, nonce) that must stay unknown to
// anyone who could forge a callback: none may come back in an error.
var secretFields = []string{
	"code", "code_verifier", "refresh_token", "device_code", "token",
	"client_secret", "assertion", "client_assertion", "state", "nonce", "password",
}

// Request is one request to an OAuth endpoint.
type Request struct {
	// Op says what sesame is doing, for errors: "token refresh".
	Op string
	// Method is POST when empty; registration management also uses
	// GET and DELETE (RFC 7592 §2).
	Method string
	// URL is the endpoint.
	URL string
	// Form is sent form-encoded (RFC 6749 §4.1.3, §6; RFC 8628 §3.1, §3.4;
	// RFC 9126 §2.1; RFC 7009 §2.1).
	Form url.Values
	// JSON, when Form is nil, is sent as application/json (RFC 7591 §3.1).
	JSON []byte
	// Bearer, when set, is sent as "Authorization: Bearer" (RFC 6750 §2.1),
	// as the registration access token is (RFC 7592 §3).
	Bearer string
	// Header holds other headers, e.g. DPoP (RFC 9449 §4.1) or a client's
	// basic authentication; it may be nil.
	Header http.Header
	// Secrets are values, besides the credentials in Form and Bearer, that
	// no error may quote: an access token a server might echo back.
	Secrets []string
}

// secrets lists every value of r that no error may quote.
func (r *Request) secrets() []string {
	s := append([]string{r.Bearer}, r.Secrets...)
	for _, k := range secretFields {
		s = append(s, r.Form[k]...)
	}
	return s
}

// Send sends r with c and reads the answer, whatever its status. Redirects
// are not followed; c itself is not changed.
//
// The error is an [*Error] when no usable answer came: the request could
// not be sent or its answer not read (the cause reachable with errors.Is
// and errors.As), the answer is a redirect ([ErrRedirect]), or its body is
// over [MaxBody] ([ErrUnusable]). An OAuth error answer is a [*Response],
// for the caller to judge; see [Response.Err] and [Do].
func Send(ctx context.Context, c *http.Client, r Request) (*Response, error) {
	secrets := r.secrets()
	fail := func(status int, err error) (*Response, error) {
		return nil, newCause(r.Op, status, err, secrets)
	}
	if c == nil {
		return fail(0, errors.New("no http client"))
	}
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader
	contentType := ""
	switch {
	case r.Form != nil:
		// A *strings.Reader lets net/http set GetBody, so the request can
		// be replayed (internal/dpop retries once with a server's nonce).
		body, contentType = strings.NewReader(r.Form.Encode()), "application/x-www-form-urlencoded"
	case r.JSON != nil:
		body, contentType = bytes.NewReader(r.JSON), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, body)
	if err != nil {
		// The URL is not quoted: its query can hold anything.
		return fail(0, errors.New("the endpoint is not a valid URL"))
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if r.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.Bearer)
	}

	resp, err := noRedirects(c).Do(req)
	if err != nil {
		return fail(0, StripURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return fail(resp.StatusCode, redirected(resp.StatusCode))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	switch {
	case err != nil:
		return fail(resp.StatusCode, StripURLError(err))
	case len(b) > MaxBody:
		return fail(resp.StatusCode, unusable(errBodyTooLarge))
	}
	return newResponse(r.Op, resp.StatusCode, resp.Header, b, secrets), nil
}

// Do is [Send] that also returns the [*Error] of an OAuth error answer
// ([Response.Err]): a status other than 2xx, or an error member.
func Do(ctx context.Context, c *http.Client, r Request) (*Response, error) {
	resp, err := Send(ctx, c, r)
	if err != nil {
		return nil, err
	}
	if err := resp.Err(); err != nil {
		return nil, err
	}
	return resp, nil
}

// noRedirects returns a copy of c that returns a redirect instead of
// following it. It shares c's transport (a DPoP transport among them),
// jar and timeout.
func noRedirects(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}
