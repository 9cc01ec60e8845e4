package authtest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// testListener is the smallest loopback redirect listener that can finish
// a flow: one exact path, answers recorded on a channel. The real one lives
// in package loopback; this one only has to be honest enough to drive the
// server.
type testListener struct {
	redirectURI string
	got         chan url.Values
}

func startListener(t *testing.T) *testListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &testListener{
		redirectURI: "http://" + ln.Addr().String() + "/callback",
		got:         make(chan url.Values, 16),
	}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/callback" || r.Method != http.MethodGet {
				http.NotFound(w, r)
				return
			}
			select {
			case l.got <- r.URL.Query():
			default:
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("signed in"))
		}),
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l
}

func (l *testListener) wait(t *testing.T) url.Values {
	t.Helper()
	select {
	case v := <-l.got:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no callback within 10s")
		return nil
	}
}

func oauthConfig(s *Server, redirectURI string, scopes ...string) *oauth2.Config {
	if len(scopes) == 0 {
		scopes = []string{"openid", "email", "offline_access"}
	}
	return &oauth2.Config{
		ClientID: s.ClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:       s.URL() + PathAuthorize,
			TokenURL:      s.URL() + PathToken,
			DeviceAuthURL: s.URL() + PathDeviceAuthorization,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURI,
		Scopes:      scopes,
	}
}

// clientContext carries the server-trusting client to x/oauth2 and go-oidc.
func clientContext(t *testing.T, s *Server) context.Context {
	return context.WithValue(t.Context(), oauth2.HTTPClient, s.Client())
}

// authResult is one browser round trip: what the listener got and the
// values the client generated for it.
type authResult struct {
	conf     *oauth2.Config
	callback url.Values
	state    string
	nonce    string
	verifier string
}

// authorize runs the front channel of a code flow through a Browser and
// returns the callback parameters.
func authorize(t *testing.T, s *Server, opts ...BrowserOption) authResult {
	t.Helper()
	l := startListener(t)
	b := NewBrowser(t, s, opts...)
	res := authResult{
		conf:     oauthConfig(s, l.redirectURI),
		state:    randomString(16),
		nonce:    randomString(16),
		verifier: oauth2.GenerateVerifier(),
	}
	authURL := res.conf.AuthCodeURL(res.state, oauth2.S256ChallengeOption(res.verifier), oauth2.SetAuthURLParam("nonce", res.nonce))
	if err := b.Open(t.Context(), authURL); err != nil {
		t.Fatalf("Open: %v", err)
	}
	res.callback = l.wait(t)
	if err := b.Wait(); err != nil {
		t.Fatalf("browser: %v", err)
	}
	return res
}

// login runs a whole code flow and returns the token response.
func login(t *testing.T, s *Server) *oauth2.Token {
	t.Helper()
	res := authorize(t, s)
	if got := res.callback.Get("state"); got != res.state {
		t.Fatalf("state = %q, want %q", got, res.state)
	}
	tok, err := res.conf.Exchange(clientContext(t, s), res.callback.Get("code"), oauth2.VerifierOption(res.verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// post sends a form to the server and decodes the JSON answer.
func post(t *testing.T, s *Server, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	status, body, err := tryPost(t, s, path, form, nil)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return status, body
}

func tryPost(t *testing.T, s *Server, path string, form url.Values, header http.Header) (int, map[string]any, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var body map[string]any
	// An empty or non-JSON body (revocation answers 200 with none) leaves
	// body nil; callers check the status first.
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body, nil
}

func refresh(t *testing.T, s *Server, rt string) (int, map[string]any) {
	t.Helper()
	return post(t, s, PathToken, url.Values{
		"grant_type":    {GrantRefreshToken},
		"refresh_token": {rt},
		"client_id":     {s.ClientID},
	})
}

func wantOAuthError(t *testing.T, status int, body map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantCode {
		t.Fatalf("got %d %v, want %d error=%s", status, body, wantStatus, wantCode)
	}
}

func asRetrieveError(err error, target **oauth2.RetrieveError) bool {
	return errors.As(err, target)
}
