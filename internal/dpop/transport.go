package dpop

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// Transport is an [http.RoundTripper] that adds a DPoP proof to every POST
// whose URL (scheme, host and path; query ignored) equals one of URLs: the
// token endpoint (RFC 9449 §5) and the pushed authorization request
// endpoint (§10.1). Other requests pass through untouched.
//
// It remembers the latest DPoP-Nonce a response from an origin carried and
// puts it in the next proof to that origin (§8, §8.2). When a proofed
// request is answered with use_dpop_nonce — a 400 whose JSON body says so
// (§8) or a 401 whose WWW-Authenticate challenge does (§9) — together with
// a DPoP-Nonce, the request is sent once more with a new proof carrying
// that nonce, if its body can be replayed. Never more than once: a second
// use_dpop_nonce goes to the caller as it came.
//
// Requests are cloned, never modified (the RoundTripper contract). A
// Transport is safe for concurrent use; do not copy one after first use.
type Transport struct {
	Base http.RoundTripper // nil means http.DefaultTransport
	Key  *Key
	URLs []string
	Now  func() time.Time // nil means time.Now

	nonces nonces
}

// Client returns a shallow copy of c, keeping its Timeout, CheckRedirect
// and Jar, whose Transport is a [*Transport] wrapping c.Transport. It panics
// if c is nil.
func Client(c *http.Client, k *Key, now func() time.Time, urls ...string) *http.Client {
	if c == nil {
		panic("dpop: Client needs a non-nil *http.Client")
	}
	cp := *c
	cp.Transport = &Transport{Base: c.Transport, Key: k, URLs: slices.Clone(urls), Now: now}
	return &cp
}

// RoundTrip implements [http.RoundTripper].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil || req.Method != http.MethodPost || !t.listed(req.URL) {
		resp, err := t.base().RoundTrip(req)
		if err == nil && req.URL != nil {
			t.nonces.observe(urlcheck.Origin(req.URL), resp)
		}
		return resp, err
	}

	o := urlcheck.Origin(req.URL)
	first, err := t.withProof(req, req.Body, t.nonces.get(o))
	if err != nil {
		// The RoundTripper contract: the body is closed even on error.
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.base().RoundTrip(first)
	if err != nil {
		return nil, err
	}
	fresh := t.nonces.observe(o, resp)
	if fresh == "" || !asksForNonce(resp) {
		return resp, nil
	}

	body, ok := replayBody(req)
	if !ok {
		return resp, nil
	}
	retry, err := t.withProof(req, body, fresh)
	if err != nil {
		if body != nil {
			_ = body.Close()
		}
		return resp, nil
	}
	// The first answer is superseded; drain a little of it so the
	// connection can be reused, then release it.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, peekLimit))
	_ = resp.Body.Close()

	resp, err = t.base().RoundTrip(retry)
	if err != nil {
		return nil, err
	}
	t.nonces.observe(o, resp)
	return resp, nil
}

// withProof returns a clone of req with body and a new proof carrying
// nonce in the DPoP header (RFC 9449 §4.1). Each call makes a new "jti",
// so a retry is not a replay (§11.1).
func (t *Transport) withProof(req *http.Request, body io.ReadCloser, nonce string) (*http.Request, error) {
	if !t.Key.usable() {
		return nil, errors.New("dpop: transport has no key")
	}
	proof, err := t.Key.Proof(req.Method, req.URL.String(), nonce, "", t.now())
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Header.Set(HeaderName, proof)
	return r, nil
}

// replayBody returns a fresh copy of req's body for a retry, and whether
// there is one. A request without a body is trivially replayable; one
// without GetBody is not, because its body was consumed by the first try.
func replayBody(req *http.Request) (io.ReadCloser, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return req.Body, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	return body, true
}

// listed reports whether u names one of t.URLs, comparing scheme, host,
// port and path, and ignoring query and fragment as "htu" does (RFC 9449
// §4.3). Entries that do not parse match nothing.
func (t *Transport) listed(u *url.URL) bool {
	want := endpoint(u)
	for _, raw := range t.URLs {
		if l, err := url.Parse(raw); err == nil && endpoint(l) == want {
			return true
		}
	}
	return false
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *Transport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}
