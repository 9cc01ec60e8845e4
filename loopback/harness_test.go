package loopback

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// This file holds the test doubles: a TLS token endpoint that checks PKCE the
// way a strict server does, and a browser stub that plays the user agent by
// sending requests into the loopback listener.

const testClientID = "sesame-test"

// grant is what the test authorization server remembers about an issued code.
type grant struct {
	challenge, method, redirectURI, clientID string
}

// authServer is an in-process authorization server. Only the token endpoint
// is served over HTTP; the "authorize" step is done by testBrowser, which
// parses the authorization URL and asks the server for a code.
type authServer struct {
	*httptest.Server

	mu            sync.Mutex
	codes         map[string]grant
	tokenRequests int
	redirectURIs  []string // redirect_uri of each token request
	problems      []string // protocol violations seen by the token endpoint
	accessToken   string
	// respond, if set, answers the token request instead of the default.
	respond func(w http.ResponseWriter, r *http.Request) bool
}

func newAuthServer(t *testing.T) *authServer {
	t.Helper()
	as := &authServer{codes: map[string]grant{}, accessToken: "SNTL-AT-" + newSecret()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", as.token)
	as.Server = httptest.NewTLSServer(mux)
	t.Cleanup(as.Close)
	return as
}

func (as *authServer) issue(g grant) string {
	code := "SNTL-CODE-" + newSecret()
	as.mu.Lock()
	defer as.mu.Unlock()
	as.codes[code] = g
	return code
}

func (as *authServer) problem(s string) {
	as.problems = append(as.problems, s)
}

func (as *authServer) token(w http.ResponseWriter, r *http.Request) {
	as.mu.Lock()
	as.tokenRequests++
	if err := r.ParseForm(); err != nil {
		as.problem("unparsable token request")
	}
	as.redirectURIs = append(as.redirectURIs, r.PostForm.Get("redirect_uri"))
	respond := as.respond
	as.mu.Unlock()
	if respond != nil && respond(w, r) {
		return
	}

	as.mu.Lock()
	defer as.mu.Unlock()
	f := r.PostForm
	g, ok := as.codes[f.Get("code")]
	delete(as.codes, f.Get("code")) // codes are single use
	switch {
	case f.Get("grant_type") != "authorization_code":
		as.problem("grant_type " + f.Get("grant_type"))
	case !ok:
		as.problem("unknown or reused code")
	case g.method != "S256":
		as.problem("code_challenge_method " + g.method)
	case s256(f.Get("code_verifier")) != g.challenge:
		as.problem("PKCE verifier does not match the S256 challenge")
	case len(f.Get("code_verifier")) != 43:
		as.problem("verifier is not 43 characters")
	case f.Get("redirect_uri") != g.redirectURI:
		as.problem("redirect_uri differs from the authorization request")
	case f.Get("client_id") != g.clientID || r.Header.Get("Authorization") != "":
		as.problem("client authentication is not client_id in the body")
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": as.accessToken, "token_type": "Bearer", "expires_in": 300,
			"refresh_token": "SNTL-RT-" + newSecret(), "id_token": "SNTL-ID",
		})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
}

func (as *authServer) stats() (requests int, redirectURIs, problems []string) {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.tokenRequests, append([]string(nil), as.redirectURIs...), append([]string(nil), as.problems...)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authRequest is what the browser stub read from the authorization URL, plus
// the code the server issued for it.
type authRequest struct {
	url         *url.URL
	query       url.Values
	state       string
	redirectURI string
	code        string
}

// callback builds a callback URL on the redirect URI with the given
// parameters, in order.
func (p authRequest) callback(kv ...string) string {
	var q []string
	for i := 0; i+1 < len(kv); i += 2 {
		q = append(q, url.QueryEscape(kv[i])+"="+url.QueryEscape(kv[i+1]))
	}
	return p.redirectURI + "?" + strings.Join(q, "&")
}

// testBrowser implements Opener. It records each URL, has the server issue
// a code, and runs script, which plays the user agent (and any attacker).
type testBrowser struct {
	as     *authServer
	script func(ctx context.Context, b *testBrowser, p authRequest)

	mu     sync.Mutex
	opened []string
	notes  []string // what the script observed, for the test to check
	done   chan struct{}
	once   sync.Once
}

func newBrowser(as *authServer, script func(ctx context.Context, b *testBrowser, p authRequest)) *testBrowser {
	return &testBrowser{as: as, script: script, done: make(chan struct{})}
}

func (b *testBrowser) Open(ctx context.Context, raw string) error {
	defer b.once.Do(func() { close(b.done) })
	b.mu.Lock()
	b.opened = append(b.opened, raw)
	b.mu.Unlock()
	u, err := url.Parse(raw)
	if err != nil {
		b.note("unparsable auth url")
		return err
	}
	q := u.Query()
	p := authRequest{url: u, query: q, state: q.Get("state"), redirectURI: q.Get("redirect_uri")}
	p.code = b.as.issue(grant{
		challenge:   q.Get("code_challenge"),
		method:      q.Get("code_challenge_method"),
		redirectURI: p.redirectURI,
		clientID:    q.Get("client_id"),
	})
	if b.script != nil {
		// A real browser does not stop when the login is abandoned, and
		// must be able to read the final page after Token has returned, so
		// the script does not inherit the opener's context.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		b.script(sctx, b, p)
	}
	return nil
}

func (b *testBrowser) note(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notes = append(b.notes, s)
}

// wait blocks until Open has returned, so the test can read what the script
// saw without racing it.
func (b *testBrowser) wait(t *testing.T) []string {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		t.Fatal("browser script did not finish")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.notes...)
}

func (b *testBrowser) openedURLs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.opened...)
}

// response is what one request into the listener got back.
type response struct {
	status int
	header http.Header
	body   string
	err    error
}

// browserClient never follows redirects (a redirect from the listener is a
// failure we want to see) and never reuses connections, so that no idle
// connection holds one of the listener's eight slots.
var browserClient = &http.Client{
	Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       5 * time.Second,
}

// send makes one request as a browser navigation would, after edit adjusts it.
func send(ctx context.Context, method, rawURL string, body io.Reader, edit func(*http.Request)) response {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return response{err: err}
	}
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Dest", "document")
	if edit != nil {
		edit(req)
	}
	resp, err := browserClient.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

func get(ctx context.Context, rawURL string) response {
	return send(ctx, http.MethodGet, rawURL, nil, nil)
}

// goodCallback is the honest browser: it returns the issued code with the
// right state and iss.
func goodCallback(ctx context.Context, b *testBrowser, p authRequest) response {
	return get(ctx, p.callback("code", p.code, "state", p.state, "iss", b.as.URL))
}

// testConfig is a valid Config for as: https endpoints, the server's iss
// announced, client authentication in the body.
func testConfig(as *authServer, b Opener) Config {
	return Config{
		OAuth2: oauth2.Config{
			ClientID: testClientID,
			Endpoint: oauth2.Endpoint{
				AuthURL:  as.URL + "/authorize",
				TokenURL: as.URL + "/token",
			},
			Scopes: []string{"profile"},
		},
		Issuer:                as.URL,
		IssParameterSupported: true,
		Timeout:               10 * time.Second,
		Opener:                b,
		HTTPClient:            as.Client(),
	}
}

func mustNew(t *testing.T, cfg Config) *Flow {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

// runFlow runs Token with a deadline so that a broken test fails instead of
// hanging.
func runFlow(t *testing.T, f *Flow) (*Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return f.Token(ctx)
}

// portOf returns the host:port of a redirect URI.
func portOf(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return ""
	}
	return u.Port()
}

// assertRefused checks that nothing accepts connections at hostport.
func assertRefused(t *testing.T, hostport string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", hostport, time.Second)
	if err == nil {
		_ = c.Close()
		t.Fatalf("%s still accepts connections", hostport)
	}
}

// assertNoSecrets fails if s contains any of the secrets.
func assertNoSecrets(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s contains a secret: %q", what, s)
		}
	}
}
