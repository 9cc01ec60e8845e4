package loopback

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// The Op of the errors of each request.
const (
	opAuthorization = "authorization"
	opExchange      = "code exchange"
	opPAR           = "pushed authorization request"
)

// callbackPath is the one path the listener serves. It is fixed rather than
// configurable so that the redirect URI registered with the server can be
// written down once: http://127.0.0.1/callback, any port (RFC 8252 §7.3).
const callbackPath = "/callback"

// singleParams may appear at most once in a callback. A repeated state, code
// or iss is ambiguous — which one would the server have meant? — and parsers
// disagree on which copy wins, so the request is refused outright
// (requirement 4).
var singleParams = []string{"state", "code", "iss", "error"}

// outcome is what the one accepted authorization response produced.
type outcome struct {
	token *oauth2.Token
	err   error
}

// callback handles requests for one attempt. Requests are answered in this
// order, cheapest and least revealing first: Host, path, method, fetch
// metadata, body, parameters, state. Everything that fails before the state
// matches gets a bare status answer and leaves the flow waiting, so a local
// process that guesses the port cannot end the login (RFC 8252 §8.3;
// requirement 6).
//
// The first request whose state matches spends the state and is the only one
// acted on. It checks iss, then reads error or code, redeems the code,
// validates the token, sends the page, and only then reports the outcome, so
// the browser always gets its page before the server is shut down.
type callback struct {
	flow    *Flow
	oauth   *oauth2.Config // with RedirectURL set to this attempt's URI
	secrets attemptSecrets
	host    string          // the exact Host header the redirect URI implies
	ctx     context.Context // the attempt's context, bounding the exchange

	requests *authRequests // fresh authorization requests for the start link
	startKey string        // the secret last segment of the start link

	mu       sync.Mutex
	spent    bool
	outcome  chan outcome  // capacity 1: at most one request spends the state
	finished chan struct{} // closed when the spending request is done
}

func newCallback(ctx context.Context, f *Flow, reqs *authRequests, host string) *callback {
	return &callback{
		flow:     f,
		oauth:    reqs.oc,
		secrets:  reqs.secrets,
		host:     host,
		ctx:      ctx,
		requests: reqs,
		startKey: newStartKey(),
		outcome:  make(chan outcome, 1),
		finished: make(chan struct{}),
	}
}

func (cb *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// DNS rebinding: a page on attacker.example whose name now resolves to
	// 127.0.0.1 reaches this port with its own name in Host. So does any
	// name other than the literal we put in the redirect URI, "localhost"
	// included (RFC 9700 §4.7).
	if r.Host != cb.host {
		writeStatus(w, http.StatusMisdirectedRequest)
		return
	}
	if strings.HasPrefix(r.URL.EscapedPath(), startPrefix) {
		cb.serveStart(w, r)
		return
	}
	// The escaped path must match exactly: no trailing slash, no case
	// folding, no percent-encoded variant (RFC 8252 §8.10). A ServeMux is not
	// used because it cleans paths with a redirect, and this server
	// redirects only from the start link, only to a request it built (RFC
	// 9700 §4.11.1).
	if r.URL.EscapedPath() != callbackPath || r.URL.Opaque != "" {
		writeStatus(w, http.StatusNotFound)
		return
	}
	if !isBareNavigation(w, r) {
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil || repeatsAny(q, singleParams) {
		writeStatus(w, http.StatusBadRequest)
		return
	}
	if !cb.spend(q.Get("state")) {
		writeStatus(w, http.StatusBadRequest)
		return
	}
	cb.act(q, func(err error) {
		if err != nil {
			writePage(w, failurePage)
		} else {
			writePage(w, successPage)
		}
	})
}

// act completes the response q whose state was just spent, has page tell
// the browser (if there is one) how it ended, and only then reports the
// outcome, so that the page is sent before the server shuts down.
func (cb *callback) act(q url.Values, page func(error)) {
	defer close(cb.finished)
	tok, err := cb.complete(q)
	page(err)
	cb.outcome <- outcome{token: tok, err: err}
}

// spend reports whether state is this attempt's state and was not spent yet,
// and spends it. The comparison is constant-time; the state is a bearer
// secret for the duration of the login (RFC 6749 §10.12, RFC 9700 §4.2.4).
func (cb *callback) spend(state string) bool {
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(cb.secrets.state)) != 1 {
		return false
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if cb.spent {
		return false
	}
	cb.spent = true
	return true
}

func (cb *callback) isSpent() bool {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return cb.spent
}

// complete acts on an authorization response whose state matched. iss is
// checked before error or code is even looked at: after an iss failure the
// response may belong to another server's flow (a mix-up, RFC 9700 §4.4), so
// its code must not be redeemed here and its error text must not be shown
// (RFC 9207 §2.4).
func (cb *callback) complete(q url.Values) (*oauth2.Token, error) {
	cfg := &cb.flow.cfg
	if err := checkIss(q, cfg.Issuer, cfg.IssParameterSupported, cfg.AllowUnannouncedIss); err != nil {
		return nil, err
	}
	if _, ok := q["error"]; ok {
		// RFC 6749 §4.1.2.1. The server's words go through the same
		// sanitizer as every token endpoint error.
		return nil, oauthwire.NewError(opAuthorization, 0, q.Get("error"), q.Get("error_description"), q.Get("error_uri"),
			cb.secrets.list()...)
	}
	code := q.Get("code")
	if code == "" {
		return nil, ErrMalformedResponse
	}
	tok, err := cb.exchange(code)
	if err != nil {
		return nil, err
	}
	if cfg.Validate != nil {
		if err := cfg.Validate(cb.ctx, tok, cb.secrets.nonce); err != nil {
			return nil, err
		}
	}
	return tok, nil
}

// checkIss applies RFC 9207 §2.4. A present iss must equal the configured
// issuer by simple string comparison. A missing iss is an error only when the
// server announced the parameter. A present iss from a server that never
// announced it is discarded unless allowUnannounced: such a server cannot be
// relied on to send it consistently, and an attacker's response is the likely
// source (requirement 14). The iss value itself is never put in the
// error: it is attacker-controlled text.
func checkIss(q url.Values, issuer string, supported, allowUnannounced bool) error {
	vs, present := q["iss"]
	switch {
	case !present && supported:
		return fmt.Errorf("%w: the server announced iss but the response has none", ErrIssuerMismatch)
	case !present:
		return nil
	case !supported && !allowUnannounced:
		return fmt.Errorf("%w: the response has iss but the server never announced it", ErrIssuerMismatch)
	case len(vs) != 1 || vs[0] != issuer:
		return fmt.Errorf("%w: iss does not match the configured issuer", ErrIssuerMismatch)
	}
	return nil
}

// exchange redeems code at the token endpoint (RFC 6749 §4.1.3) with the
// PKCE verifier (RFC 7636 §4.5) and the configured token parameters, once:
// a failed exchange is never retried, since the code may have been spent.
// The request goes through internal/oauthwire (no redirect followed, a 1
// MiB answer at most, the server's words sanitized, no body quoted); the
// token carries every member of the answer as Extra, id_token among them.
// An answer without access_token is refused, as x/oauth2 refuses it.
func (cb *callback) exchange(code string) (*oauth2.Token, error) {
	oc := cb.oauth
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {oc.RedirectURL},
		"code_verifier": {cb.secrets.verifier},
	}
	for k, vs := range cb.flow.cfg.TokenParams {
		form.Set(k, vs[0])
	}
	req := oauthwire.Request{Op: opExchange, URL: oc.Endpoint.TokenURL, Form: form, Secrets: cb.secrets.list()}
	if oc.Endpoint.AuthStyle == oauth2.AuthStyleInHeader {
		// RFC 6749 §2.3.1, with the form encoding the RFC asks for.
		basic := url.QueryEscape(oc.ClientID) + ":" + url.QueryEscape(oc.ClientSecret)
		req.Header = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(basic))}}
		req.Secrets = append(req.Secrets, oc.ClientSecret)
	} else {
		form.Set("client_id", oc.ClientID)
		if oc.ClientSecret != "" {
			form.Set("client_secret", oc.ClientSecret)
		}
	}
	resp, err := oauthwire.Do(cb.ctx, cb.flow.client, req)
	if err != nil {
		return nil, err
	}
	t, err := resp.Token()
	if err != nil {
		return nil, err
	}
	return t.OAuth2(cb.flow.clock.Now(), maxTokenLifetime), nil
}

// maxTokenLifetime caps expires_in of the code exchange's answer, as the
// device flow caps its own; the session bounds the lifetime it keeps too.
const maxTokenLifetime = 24 * time.Hour

// isBareNavigation answers a request that is not what a browser's
// top-level navigation sends (a GET with no body, and fetch metadata, if
// any, saying navigate and document) with the bare status that fits, and
// reports whether it was one. A redirect from the authorization server and
// a click on the start link are such navigations; fetch metadata that says
// otherwise means a script or an embedded resource on some page is poking
// at the port.
func isBareNavigation(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.Method != http.MethodGet:
		w.Header().Set("Allow", http.MethodGet)
		writeStatus(w, http.StatusMethodNotAllowed)
	case !onlyValue(r.Header, "Sec-Fetch-Mode", "navigate") || !onlyValue(r.Header, "Sec-Fetch-Dest", "document"):
		writeStatus(w, http.StatusForbidden)
	case r.ContentLength != 0 || len(r.TransferEncoding) > 0:
		writeStatus(w, http.StatusBadRequest)
	default:
		return true
	}
	return false
}

// onlyValue reports whether every value of header name equals want; an absent
// header passes, because older browsers and command-line tools send no fetch
// metadata.
func onlyValue(h http.Header, name, want string) bool {
	for _, v := range h.Values(name) {
		if v != want {
			return false
		}
	}
	return true
}

func repeatsAny(q url.Values, names []string) bool {
	for _, n := range names {
		if len(q[n]) > 1 {
			return true
		}
	}
	return false
}
