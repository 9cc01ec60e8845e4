package loopback

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// The authorization server is internal/authtest's, the one every package's
// tests use: it checks the client, the redirect URI and PKCE S256 at the
// authorization endpoint, and at the token endpoint refuses a code
// exchange with a missing or wrong verifier, another redirect_uri or any
// client credential, so a test whose login succeeds has proved the
// client's requests right. Its browser follows the authorization request
// through those checks; a script then plays the last hop, the user agent
// and any attacker sending requests into the loopback listener.

const testClientID = authtest.DefaultClientID

// authRequest is what the browser script holds: the callback the server
// redirected to, taken apart.
type authRequest struct {
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

// testBrowser is authtest's browser, with script playing the last hop and
// notes for what the script observed.
type testBrowser struct {
	*authtest.Browser
	as *authtest.Server

	mu    sync.Mutex
	notes []string
}

// newBrowser returns an Opener that takes the authorization URL through
// as and hands the callback to script; a nil script sends nothing.
func newBrowser(t *testing.T, as *authtest.Server, script func(ctx context.Context, b *testBrowser, p authRequest)) *testBrowser {
	b := &testBrowser{as: as}
	b.Browser = authtest.NewBrowser(t, as, authtest.BrowserCallbackScript(func(ctx context.Context, cb *url.URL) {
		q := cb.Query()
		p := authRequest{state: q.Get("state"), code: q.Get("code"), redirectURI: (&url.URL{Scheme: cb.Scheme, Host: cb.Host, Path: cb.Path}).String()}
		if script != nil {
			// The navigation outlives the login (a real browser reads the
			// final page after Token has returned), but not by long.
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			script(sctx, b, p)
		}
	}))
	return b
}

func (b *testBrowser) note(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notes = append(b.notes, s)
}

// wait blocks until the navigation and its script have ended, so the test
// can read what the script saw without racing it, and returns the notes.
func (b *testBrowser) wait(t *testing.T) []string {
	t.Helper()
	if err := b.Wait(); err != nil {
		t.Errorf("browser: %v", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.notes...)
}

// tokenRequests counts the requests that reached the token endpoint,
// those a hook answered included.
func tokenRequests(as *authtest.Server) int { return as.CountRequests(authtest.PathToken) }

// issuedAccessToken is the access token of the server's last token
// response, "" if it sent none.
func issuedAccessToken(as *authtest.Server) string {
	issued := as.Issued()
	if len(issued) == 0 {
		return ""
	}
	return issued[len(issued)-1].AccessToken
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
	return get(ctx, p.callback("code", p.code, "state", p.state, "iss", b.as.Issuer()))
}

// testConfig is a valid Config for as: https endpoints, the server's iss
// announced, client authentication in the body.
func testConfig(as *authtest.Server, b Opener) Config {
	return Config{
		OAuth2: oauth2.Config{
			ClientID: testClientID,
			Endpoint: oauth2.Endpoint{
				AuthURL:  as.URL() + authtest.PathAuthorize,
				TokenURL: as.URL() + authtest.PathToken,
			},
			Scopes: []string{"profile"},
		},
		Issuer:                as.Issuer(),
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
