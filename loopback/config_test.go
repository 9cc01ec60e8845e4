package loopback

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/authtest"
)

func baseConfig() Config {
	return Config{
		OAuth2: oauth2.Config{
			ClientID: testClientID,
			Endpoint: oauth2.Endpoint{AuthURL: "https://as.example/authorize", TokenURL: "https://as.example/token"},
		},
		Issuer: "https://as.example",
	}
}

func TestNew_Endpoints_Req20(t *testing.T) {
	for _, tc := range []struct {
		auth, token string
		insecure    bool
		ok          bool
	}{
		{"https://as.example/authorize", "https://as.example/token", false, true},
		{"https://as.example/authorize?tenant=a", "https://as.example/token", false, true},
		{"http://as.example/authorize", "https://as.example/token", false, false},
		{"https://as.example/authorize", "http://as.example/token", false, false},
		{"http://as.example/authorize", "https://as.example/token", true, false},
		{"http://localhost.evil.example/a", "https://as.example/token", true, false},
		{"http://127.0.0.1.nip.io/a", "https://as.example/token", true, false},
		{"http://localhost:8080/a", "https://as.example/token", true, false},
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:8080/t", false, false},
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:8080/t", true, true},
		{"http://[::1]:8080/a", "http://[::1]:8080/t", true, true},
		{"https://as.example/authorize#frag", "https://as.example/token", false, false},
		{"https://user:pw@as.example/authorize", "https://as.example/token", false, false},
		{"javascript:alert(1)", "https://as.example/token", false, false},
		{"file:///etc/passwd", "https://as.example/token", false, false},
		{"-https://as.example/a", "https://as.example/token", false, false},
		{"/authorize", "https://as.example/token", false, false},
		{"", "https://as.example/token", false, false},
	} {
		cfg := baseConfig()
		cfg.OAuth2.Endpoint.AuthURL, cfg.OAuth2.Endpoint.TokenURL = tc.auth, tc.token
		cfg.AllowInsecureAuthEndpoint = tc.insecure
		_, err := New(cfg)
		if (err == nil) != tc.ok {
			t.Errorf("auth %q token %q insecure=%v: err = %v, want ok=%v", tc.auth, tc.token, tc.insecure, err, tc.ok)
		}
	}
}

func TestNew_RefusesUnsafeConfig_Req10(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"empty client id":      func(c *Config) { c.OAuth2.ClientID = "" },
		"preset redirect url":  func(c *Config) { c.OAuth2.RedirectURL = "http://0.0.0.0:80/callback" },
		"negative port":        func(c *Config) { c.Port = -1 },
		"port out of range":    func(c *Config) { c.Port = 70000 },
		"iss without issuer":   func(c *Config) { c.Issuer = ""; c.IssParameterSupported = true },
		"openid, no Validate":  func(c *Config) { c.OAuth2.Scopes = []string{"openid"} },
		"state param":          func(c *Config) { c.AuthParams = url.Values{"state": {"fixed"}} },
		"nonce param":          func(c *Config) { c.AuthParams = url.Values{"nonce": {"fixed"}} },
		"plain pkce":           func(c *Config) { c.AuthParams = url.Values{"code_challenge_method": {"plain"}} },
		"implicit":             func(c *Config) { c.AuthParams = url.Values{"response_type": {"token"}} },
		"response_type case":   func(c *Config) { c.AuthParams = url.Values{"Response_Type": {"token"}} },
		"fragment mode":        func(c *Config) { c.AuthParams = url.Values{"response_mode": {"fragment"}} },
		"other redirect":       func(c *Config) { c.AuthParams = url.Values{"redirect_uri": {"https://evil.example"}} },
		"request object":       func(c *Config) { c.AuthParams = url.Values{"request": {"eyJ"}} },
		"code challenge fixed": func(c *Config) { c.AuthParams = url.Values{"code_challenge": {"x"}} },
	} {
		cfg := baseConfig()
		edit(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

func TestNew_Defaults(t *testing.T) {
	cfg := baseConfig()
	cfg.OAuth2.Scopes = []string{"a"}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.OAuth2.Scopes[0] = "changed"
	if f.cfg.OAuth2.Scopes[0] != "a" {
		t.Error("Flow shares the caller's scope slice")
	}
	if f.cfg.OAuth2.Endpoint.AuthStyle != oauth2.AuthStyleInParams {
		t.Errorf("AuthStyle = %v, want InParams", f.cfg.OAuth2.Endpoint.AuthStyle)
	}
	// Redirects are refused per request (TestFlow_TokenRedirectNotFollowed_Req22).
	if f.client.Timeout == 0 {
		t.Error("default token client has no timeout")
	}
	own := &http.Client{}
	cfg.HTTPClient = own
	f, _ = New(cfg)
	if f.client != own || own.CheckRedirect != nil {
		t.Error("New replaced or modified the caller's http.Client")
	}
}

func TestAuthURL_FreshState_Req07(t *testing.T) {
	f, err := New(baseConfig())
	if err != nil {
		t.Fatal(err)
	}
	const n = 100000
	seen := make(map[string]bool, n)
	for range n {
		s := newAttemptSecrets(false)
		raw, err := base64.RawURLEncoding.DecodeString(s.state)
		if err != nil || len(raw) < 16 {
			t.Fatalf("state %q decodes to %d bytes (%v)", s.state, len(raw), err)
		}
		if seen[s.state] {
			t.Fatalf("state repeated after %d attempts", len(seen))
		}
		seen[s.state] = true
	}
	// The state in the URL is the attempt's state, verbatim.
	s := newAttemptSecrets(true)
	c := f.cfg.OAuth2
	u, _ := url.Parse(f.authCodeURL(&c, s))
	if u.Query().Get("state") != s.state || u.Query().Get("nonce") != s.nonce {
		t.Error("authorization url does not carry the attempt's state and nonce")
	}
}

func TestAuthURL_PKCE_Req08(t *testing.T) {
	f, _ := New(baseConfig())
	a, b := newAttemptSecrets(false), newAttemptSecrets(false)
	if a.verifier == b.verifier || len(a.verifier) != 43 {
		t.Errorf("verifiers %q %q: want fresh 43-character values", a.verifier, b.verifier)
	}
	c := f.cfg.OAuth2
	q, _ := url.ParseQuery(strings.SplitN(f.authCodeURL(&c, a), "?", 2)[1])
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != authtest.S256Challenge(a.verifier) {
		t.Errorf("challenge %q method %q", q.Get("code_challenge"), q.Get("code_challenge_method"))
	}
	if q.Has("code_verifier") {
		t.Error("verifier sent in the authorization request")
	}
}

func TestAuthURL_ExtraParams_Req11(t *testing.T) {
	cfg := baseConfig()
	cfg.AuthParams = url.Values{"resource": {"https://a.example", "https://b.example"}, "prompt": {"consent"}}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := f.cfg.OAuth2
	u := f.authCodeURL(&c, newAttemptSecrets(false))
	pu, _ := url.Parse(u)
	q := pu.Query()
	if len(q["resource"]) != 2 || q.Get("prompt") != "consent" || len(q["state"]) != 1 || len(q["response_type"]) != 1 {
		t.Errorf("authorization url %q", u)
	}
	if err := checkOpenURL(u, c.Endpoint.AuthURL, false, false); err != nil {
		t.Errorf("checkOpenURL: %v", err)
	}
}

func TestCheckOpenURL_Req13(t *testing.T) {
	const ep = "https://as.example/authorize"
	for _, tc := range []struct {
		url, endpoint string
		insecure      bool
		ok            bool
	}{
		{ep + "?response_type=code&state=x", ep, false, true},
		{"https://as.example/authorize?tenant=a&response_type=code", "https://as.example/authorize?tenant=a", false, true},
		{ep + "?response_type=token", ep, false, false},
		{ep + "?response_type=code&response_type=token", ep, false, false},
		{ep + "x?response_type=code", ep, false, false},
		{ep, ep, false, false},
		{"https://as.example.evil/authorize?response_type=code", ep, false, false},
		{"-" + ep + "?response_type=code", "-" + ep, false, false},
		{"http://as.example/authorize?response_type=code", "http://as.example/authorize", true, false},
		{"http://127.0.0.1:9/a?response_type=code", "http://127.0.0.1:9/a", false, false},
		{"http://127.0.0.1:9/a?response_type=code", "http://127.0.0.1:9/a", true, true},
		{"file:///a?response_type=code", "file:///a", true, false},
		{"javascript:alert(1)//?response_type=code", "javascript:alert(1)//", true, false},
		{ep + "?response_type=code#x", ep, false, false},
	} {
		if err := checkOpenURL(tc.url, tc.endpoint, tc.insecure, false); (err == nil) != tc.ok {
			t.Errorf("checkOpenURL(%q, %q, %v) = %v, want ok=%v", tc.url, tc.endpoint, tc.insecure, err, tc.ok)
		}
	}
}

func TestFlow_OpensExactlyTheAuthURL_Req13(t *testing.T) {
	as := authtest.New(t)
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		get(ctx, p.callback("code", p.code, "state", p.state, "iss", b.as.Issuer(), "error_uri", "https://evil.example"))
	})
	if _, err := runFlow(t, mustNew(t, testConfig(as, b))); err != nil {
		t.Fatal(err)
	}
	b.wait(t)
	got := b.URLs()
	if len(got) != 1 || !strings.HasPrefix(got[0], as.URL()+authtest.PathAuthorize+"?") {
		t.Errorf("opened %q, want one URL starting with the authorization endpoint", got)
	}
}
