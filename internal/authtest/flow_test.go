package authtest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestCodeFlow_XOAuth2AndGoOIDC(t *testing.T) {
	s := New(t)
	res := authorize(t, s)
	if got := res.callback.Get("state"); got != res.state {
		t.Fatalf("state = %q, want %q", got, res.state)
	}
	if got := res.callback.Get("iss"); got != s.Issuer() {
		t.Fatalf("iss = %q, want %q", got, s.Issuer())
	}
	ctx := clientContext(t, s)
	tok, err := res.conf.Exchange(ctx, res.callback.Get("code"), oauth2.VerifierOption(res.verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if !strings.HasPrefix(tok.AccessToken, "SNTL-AT-") || !strings.HasPrefix(tok.RefreshToken, "SNTL-RT-") {
		t.Fatalf("tokens are not sentinels: %q %q", tok.AccessToken, tok.RefreshToken)
	}
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 300 {
		t.Fatalf("token_type %q expires_in %d", tok.TokenType, tok.ExpiresIn)
	}

	// The ID token verifies with go-oidc against the server's own
	// discovery and JWKS, and carries the nonce from the request.
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, s.Client()), s.Issuer())
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: s.ClientID}).Verify(oidc.ClientContext(ctx, s.Client()), raw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	var claims struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != res.nonce || idt.Subject != "alice" || claims.Email != "alice@example.test" || claims.Name != "Alice Example" {
		t.Fatalf("claims: nonce %q sub %q %+v", idt.Nonce, idt.Subject, claims)
	}

	// The server saw exactly one token request, with the verifier in the
	// body and no credential.
	reqs := s.RequestsTo(PathToken)
	if len(reqs) != 1 || s.TokenRequests() != 1 {
		t.Fatalf("token requests = %d", len(reqs))
	}
	if reqs[0].PostForm.Get("code_verifier") != res.verifier || reqs[0].Header.Get("Authorization") != "" {
		t.Fatalf("token request form %v", reqs[0].PostForm)
	}
	az := s.AuthorizeRequests()
	if len(az) != 1 || az[0].Nonce != res.nonce || az[0].CodeChallenge != S256Challenge(res.verifier) {
		t.Fatalf("authorize requests %+v", az)
	}
	if got := s.LatestRefreshToken(); got != tok.RefreshToken {
		t.Fatalf("LatestRefreshToken = %q, want %q", got, tok.RefreshToken)
	}
}

func TestCodeFlow_PKCEMismatchRejected(t *testing.T) {
	s := New(t)
	res := authorize(t, s)
	ctx := clientContext(t, s)
	code := res.callback.Get("code")
	_, err := res.conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	var re *oauth2.RetrieveError
	if !asRetrieveError(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("wrong verifier: err = %v, want invalid_grant", err)
	}
	// The code was spent by the failed attempt; the right verifier is too
	// late.
	if _, err := res.conf.Exchange(ctx, code, oauth2.VerifierOption(res.verifier)); !asRetrieveError(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("replay: err = %v, want invalid_grant", err)
	}
	if len(s.Issued()) != 0 {
		t.Fatal("tokens were issued")
	}
}

func TestCodeFlow_RedirectURIMustMatch(t *testing.T) {
	s := New(t)
	res := authorize(t, s)
	status, body := post(t, s, PathToken, url.Values{
		"grant_type":    {GrantAuthorizationCode},
		"code":          {res.callback.Get("code")},
		"redirect_uri":  {"http://127.0.0.1:1/callback"},
		"code_verifier": {res.verifier},
		"client_id":     {s.ClientID},
	})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
}

func TestToken_ClientCredentialsRejected(t *testing.T) {
	s := New(t)
	base := url.Values{"grant_type": {GrantRefreshToken}, "refresh_token": {"x"}, "client_id": {s.ClientID}}

	withSecret := cloneValues(base)
	withSecret.Set("client_secret", "")
	status, body, err := tryPost(t, s, PathToken, withSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")

	basic := http.Header{"Authorization": {"Basic c2VzYW1lLXRlc3Q6"}}
	status, body, err = tryPost(t, s, PathToken, base, basic)
	if err != nil {
		t.Fatal(err)
	}
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
}

// A client that lets x/oauth2 auto-detect the auth style sends the code
// twice; the server makes that visible.
func TestToken_AutoDetectAuthStyleIsCaught(t *testing.T) {
	s := New(t)
	res := authorize(t, s)
	res.conf.Endpoint.AuthStyle = oauth2.AuthStyleAutoDetect
	if _, err := res.conf.Exchange(clientContext(t, s), res.callback.Get("code"), oauth2.VerifierOption(res.verifier)); err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	reqs := s.RequestsTo(PathToken)
	if len(reqs) != 2 || reqs[0].Header.Get("Authorization") == "" {
		t.Fatalf("want a Basic attempt then a params attempt, got %d requests", len(reqs))
	}
}

func TestAuthorize_Validation(t *testing.T) {
	s := New(t)
	challenge := S256Challenge(oauth2.GenerateVerifier())
	good := url.Values{
		"client_id":             {s.ClientID},
		"redirect_uri":          {"http://127.0.0.1:4242/callback"},
		"response_type":         {"code"},
		"state":                 {"st"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	tests := []struct {
		name      string
		edit      func(url.Values)
		wantError string // "" means a 400 page with no redirect
	}{
		{"ok ipv4", func(url.Values) {}, "-"},
		{"ok ipv6", func(v url.Values) { v.Set("redirect_uri", "http://[::1]:4242/callback") }, "-"},
		{"unknown client", func(v url.Values) { v.Set("client_id", "other") }, ""},
		{"localhost", func(v url.Values) { v.Set("redirect_uri", "http://localhost:4242/callback") }, ""},
		{"https", func(v url.Values) { v.Set("redirect_uri", "https://127.0.0.1:4242/callback") }, ""},
		{"other path", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:4242/cb") }, ""},
		{"no port", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1/callback") }, ""},
		{"query", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:4242/callback?x=1") }, ""},
		{"token response", func(v url.Values) { v.Set("response_type", "token") }, "unsupported_response_type"},
		{"plain", func(v url.Values) { v.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"no challenge", func(v url.Values) { v.Del("code_challenge") }, "invalid_request"},
		{"no method", func(v url.Values) { v.Del("code_challenge_method") }, "invalid_request"},
		{"repeated state", func(v url.Values) { v.Add("state", "again") }, "invalid_request"},
	}
	c := noRedirectClient(s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := cloneValues(good)
			tt.edit(v)
			resp, err := c.Get(s.URL() + PathAuthorize + "?" + v.Encode())
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if tt.wantError == "" {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("got %d Location %q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			}
			loc, err := resp.Location()
			if resp.StatusCode != http.StatusFound || err != nil {
				t.Fatalf("got %d, want 302", resp.StatusCode)
			}
			q := loc.Query()
			if q.Get("iss") != s.Issuer() || q.Get("state") != "st" {
				t.Fatalf("redirect %v lacks iss or state", q)
			}
			if tt.wantError == "-" {
				if !strings.HasPrefix(q.Get("code"), "SNTL-CODE-") || q.Has("error") {
					t.Fatalf("want a code, got %v", q)
				}
				return
			}
			if q.Get("error") != tt.wantError || q.Has("code") {
				t.Fatalf("want error=%s, got %v", tt.wantError, q)
			}
		})
	}
}

func TestAuthorize_Misbehaviour(t *testing.T) {
	tests := []struct {
		name  string
		opts  []Option
		check func(t *testing.T, s *Server, q url.Values)
	}{
		{"deny", []Option{WithDeny("no <b>way</b>")}, func(t *testing.T, s *Server, q url.Values) {
			if q.Get("error") != "access_denied" || q.Get("error_description") != "no <b>way</b>" || q.Has("code") {
				t.Fatalf("got %v", q)
			}
		}},
		{"wrong iss", []Option{WithCallbackIssuer("https://evil.example")}, func(t *testing.T, s *Server, q url.Values) {
			if q.Get("iss") != "https://evil.example" || q.Get("code") == "" {
				t.Fatalf("got %v", q)
			}
		}},
		{"no iss", []Option{WithoutCallbackIssuer()}, func(t *testing.T, s *Server, q url.Values) {
			if q.Has("iss") || q.Get("code") == "" {
				t.Fatalf("got %v", q)
			}
		}},
		{"hook", []Option{WithAuthorizeHook(func(w http.ResponseWriter, r *http.Request, req AuthorizeRequest) bool {
			v := url.Values{"code": {"forged"}, "state": {req.State}}
			http.Redirect(w, r, req.RedirectURI+"?"+v.Encode(), http.StatusFound)
			return true
		})}, func(t *testing.T, s *Server, q url.Values) {
			if q.Get("code") != "forged" || q.Has("iss") {
				t.Fatalf("got %v", q)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t, tt.opts...)
			res := authorize(t, s)
			if res.callback.Get("state") != res.state {
				t.Fatalf("state not echoed: %v", res.callback)
			}
			tt.check(t, s, res.callback)
		})
	}
}

func TestPAR_RequiredFlow(t *testing.T) {
	s := New(t, WithPAR(true))
	if s.Metadata()["pushed_authorization_request_endpoint"] != s.URL()+PathPAR {
		t.Fatal("PAR endpoint not advertised")
	}
	l := startListener(t)
	verifier := oauth2.GenerateVerifier()
	status, body := post(t, s, PathPAR, url.Values{
		"client_id":             {s.ClientID},
		"redirect_uri":          {l.redirectURI},
		"response_type":         {"code"},
		"scope":                 {"openid"},
		"state":                 {"pushed-state"},
		"code_challenge":        {S256Challenge(verifier)},
		"code_challenge_method": {"S256"},
	})
	ref, _ := body["request_uri"].(string)
	if status != http.StatusCreated || !strings.HasPrefix(ref, parPrefix) {
		t.Fatalf("PAR: %d %v", status, body)
	}
	b := NewBrowser(t, s)
	authURL := s.URL() + PathAuthorize + "?" + url.Values{"client_id": {s.ClientID}, "request_uri": {ref}}.Encode()
	if err := b.Open(t.Context(), authURL); err != nil {
		t.Fatal(err)
	}
	q := l.wait(t)
	if q.Get("state") != "pushed-state" || q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	if az := s.AuthorizeRequests(); len(az) != 1 || !az[0].Pushed {
		t.Fatalf("authorize requests %+v", az)
	}
}

func noRedirectClient(s *Server) *http.Client {
	c := *s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
