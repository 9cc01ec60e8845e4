package loopback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/oauthwire"
)

func TestFlow_HappyPath_Req06_Req08(t *testing.T) {
	as := authtest.New(t)
	var page response
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		page = goodCallback(ctx, b, p)
	})
	cfg := testConfig(as, b)
	var reported []string
	cfg.OnAuthURL = func(u string) { reported = append(reported, u) }
	res, err := runFlow(t, mustNew(t, cfg))
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	b.wait(t)

	if res.Token.AccessToken != issuedAccessToken(as) {
		t.Errorf("access token = %q, want the server's", res.Token.AccessToken)
	}
	if page.status != http.StatusOK || page.body != successPage {
		t.Errorf("browser got %d %q, want the success page", page.status, page.body)
	}
	// The server would have refused a wrong verifier or redirect_uri; what
	// it cannot judge is sesame's own choice of a 32-byte verifier.
	reqs := as.RequestsTo(authtest.PathToken)
	if len(reqs) != 1 {
		t.Fatalf("token requests = %d; want 1", len(reqs))
	}
	tr := reqs[0].PostForm
	if tr.Get("grant_type") != "authorization_code" || len(tr.Get("code_verifier")) != 43 ||
		tr.Get("client_id") != testClientID || reqs[0].Header.Get("Authorization") != "" {
		t.Errorf("token request: grant_type %q, verifier of %d characters, client_id %q, Authorization %v",
			tr.Get("grant_type"), len(tr.Get("code_verifier")), tr.Get("client_id"), reqs[0].Header.Get("Authorization") != "")
	}
	redirects := tr["redirect_uri"]
	// The redirect URI the token endpoint receives is the one the
	// authorization request carried, and the one reported in Result.
	opened := b.URLs()
	if len(opened) != 1 || len(reported) != 1 || opened[0] != reported[0] {
		t.Fatalf("opened %q, reported %q; want the same single URL", opened, reported)
	}
	au, _ := url.Parse(opened[0])
	q := au.Query()
	if q.Get("redirect_uri") != res.RedirectURI || len(redirects) != 1 || redirects[0] != res.RedirectURI {
		t.Errorf("redirect_uri: auth %q, token %q, result %q", q.Get("redirect_uri"), redirects, res.RedirectURI)
	}
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Errorf("authorization request %v lacks code + S256", q)
	}
	if q.Has("nonce") || res.Nonce != "" {
		t.Errorf("nonce sent without openid scope")
	}
	if q.Get("client_id") != testClientID || q.Get("scope") != "profile" {
		t.Errorf("client_id/scope = %q/%q", q.Get("client_id"), q.Get("scope"))
	}
	// Req 6: the port is closed once Token returns.
	assertRefused(t, net.JoinHostPort("127.0.0.1", portOf(res.RedirectURI)))
}

func TestFlow_OpenIDNonceAndValidate_Req09(t *testing.T) {
	as := authtest.New(t, authtest.WithRawIDToken("SNTL-ID"))
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) { goodCallback(ctx, b, p) })
	cfg := testConfig(as, b)
	cfg.OAuth2.Scopes = []string{"openid", "email"}
	var gotNonce string
	var sawID string
	cfg.Validate = func(ctx context.Context, tok *oauth2.Token, nonce string) error {
		gotNonce = nonce
		sawID, _ = tok.Extra("id_token").(string)
		return nil
	}
	res, err := runFlow(t, mustNew(t, cfg))
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	b.wait(t)
	au, _ := url.Parse(b.URLs()[0])
	sent := au.Query().Get("nonce")
	if len(sent) < 22 || sent != gotNonce || res.Nonce != sent {
		t.Errorf("nonce sent %q, given to Validate %q, in result %q", sent, gotNonce, res.Nonce)
	}
	if sawID != "SNTL-ID" {
		t.Errorf("Validate did not see the id_token")
	}
}

func TestFlow_ValidateFailure_Req09(t *testing.T) {
	as := authtest.New(t)
	var page response
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) { page = goodCallback(ctx, b, p) })
	cfg := testConfig(as, b)
	cfg.OAuth2.Scopes = []string{"openid"}
	errNonce := errors.New("id token nonce does not match")
	cfg.Validate = func(context.Context, *oauth2.Token, string) error { return errNonce }
	res, err := runFlow(t, mustNew(t, cfg))
	if !errors.Is(err, errNonce) || res != nil {
		t.Fatalf("Token = %v, %v; want the Validate error", res, err)
	}
	b.wait(t)
	if page.status != http.StatusOK || page.body != failurePage {
		t.Errorf("browser got %d %q %v, want the failure page", page.status, page.body, page.err)
	}
}

func TestFlow_ExchangeErrorHidesBody_Req16(t *testing.T) {
	as := authtest.New(t)
	leak := "SNTL-BODY-" + newSecret()
	as.Configure(authtest.WithTokenHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"bad \u001b[31m<script>x</script> %s","echo":%q}`,
			"code reuse", leak+r.PostForm.Get("code"))
		return true
	}))
	var page response
	var code string
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		code = p.code
		page = goodCallback(ctx, b, p)
	})
	_, err := runFlow(t, mustNew(t, testConfig(as, b)))
	b.wait(t)
	xe, ok := oauthwire.As(err)
	if !ok {
		t.Fatalf("Token error = %v, want *oauthwire.Error", err)
	}
	if xe.Op != opExchange || xe.Code != "invalid_grant" || xe.Status != http.StatusBadRequest {
		t.Errorf("error = %+v", xe)
	}
	msg := err.Error()
	assertNoSecrets(t, "error", msg, leak, code, "\x1b", "<script")
	if !strings.Contains(msg, "invalid_grant") {
		t.Errorf("error %q does not name the server's error code", msg)
	}
	if page.body != failurePage {
		t.Errorf("browser did not get the failure page: %d %v", page.status, page.err)
	}
	if n := tokenRequests(as); n != 1 {
		t.Errorf("token requests = %d, want exactly 1 (no retry, no plain fallback; Req 8)", n)
	}
}

// TestFlow_ExchangeAnswers: the token response is read as x/oauth2 read it
// (JSON, or a form as GitHub sends), every member kept as Extra; an answer
// without access_token is refused without quoting it.
func TestFlow_ExchangeAnswers(t *testing.T) {
	for _, tt := range []struct {
		name, ctype, body string
		status            int
		wantErr           string
	}{
		{"json", "application/json", `{"access_token":"SNTL-AT","token_type":"Bearer","expires_in":"300","id_token":"SNTL-ID","scope":"a b"}`, 200, ""},
		{"form", "application/x-www-form-urlencoded", "access_token=SNTL-AT&token_type=bearer&expires_in=300&id_token=SNTL-ID&scope=a+b", 200, ""},
		{"no access token", "application/json", `{"token_type":"Bearer","refresh_token":"SNTL-RT"}`, 200,
			"code exchange: the server's answer is unusable: it has no access_token"},
		{"error with 200", "application/json", `{"error":"invalid_grant","error_description":"code used"}`, 200,
			"code exchange: the server refused (200 invalid_grant): code used"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			as := authtest.New(t)
			as.Configure(authtest.WithTokenHook(func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
				return true
			}))
			b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) { goodCallback(ctx, b, p) })
			res, err := runFlow(t, mustNew(t, testConfig(as, b)))
			b.wait(t)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Token error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tok := res.Token
			if tok.AccessToken != "SNTL-AT" || !strings.EqualFold(tok.TokenType, "bearer") || tok.ExpiresIn != 300 || tok.Expiry.IsZero() ||
				tok.Extra("id_token") != "SNTL-ID" || tok.Extra("scope") != "a b" {
				t.Errorf("token = %+v, id_token %v, scope %v", tok, tok.Extra("id_token"), tok.Extra("scope"))
			}
		})
	}
}

func TestFlow_TokenRedirectNotFollowed_Req22(t *testing.T) {
	as := authtest.New(t)
	var other atomic.Int32
	elsewhere := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { other.Add(1) })}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = elsewhere.Serve(ln) }()
	t.Cleanup(func() { _ = elsewhere.Close() })
	as.Configure(authtest.WithTokenHook(func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, "http://"+ln.Addr().String()+"/token", http.StatusTemporaryRedirect)
		return true
	}))
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) { goodCallback(ctx, b, p) })
	_, err = runFlow(t, mustNew(t, testConfig(as, b)))
	b.wait(t)
	if xe, ok := oauthwire.As(err); !ok || xe.Status != http.StatusTemporaryRedirect || !errors.Is(err, oauthwire.ErrRedirect) {
		t.Fatalf("Token error = %v, want the code exchange's redirect with status 307", err)
	}
	if other.Load() != 0 {
		t.Errorf("the redirect target received %d requests", other.Load())
	}
}

func TestFlow_Timeout_Req06(t *testing.T) {
	as := authtest.New(t)
	var redirect atomic.Value
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) { redirect.Store(p.redirectURI) })
	cfg := testConfig(as, b)
	cfg.Timeout = 300 * time.Millisecond
	start := time.Now()
	_, err := runFlow(t, mustNew(t, cfg))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Token error = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}
	b.wait(t)
	ru, _ := url.Parse(redirect.Load().(string))
	assertRefused(t, ru.Host)
	if n := tokenRequests(as); n != 0 {
		t.Errorf("token requests = %d, want 0", n)
	}
}

func TestFlow_TimeoutDefaultsAndClamp_Req06(t *testing.T) {
	as := authtest.New(t)
	for _, tc := range []struct{ in, want time.Duration }{
		{0, DefaultTimeout}, {-time.Second, DefaultTimeout}, {time.Minute, time.Minute}, {time.Hour, MaxTimeout},
	} {
		cfg := testConfig(as, nil)
		cfg.Timeout = tc.in
		if got := mustNew(t, cfg).timeout; got != tc.want {
			t.Errorf("Timeout %v → %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestFlow_ContextCancel_Req06(t *testing.T) {
	as := authtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var redirect atomic.Value
	cfg := testConfig(as, nil)
	cfg.OnAuthURL = func(u string) {
		pu, _ := url.Parse(u)
		redirect.Store(pu.Query().Get("redirect_uri"))
		time.AfterFunc(100*time.Millisecond, cancel)
	}
	_, err := mustNew(t, cfg).Token(ctx)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("Token error = %v, want context.Canceled", err)
	}
	ru, _ := url.Parse(redirect.Load().(string))
	assertRefused(t, ru.Host)
}

func TestFlow_CancelDuringExchange_Req06(t *testing.T) {
	as := authtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	as.Configure(authtest.WithTokenHook(func(w http.ResponseWriter, r *http.Request) bool {
		cancel()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return false
	}))
	defer close(release)
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) { goodCallback(ctx, b, p) })
	start := time.Now()
	_, err := mustNew(t, testConfig(as, b)).Token(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Token error = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancellation took %v", d)
	}
}

func TestFlow_AlreadyCancelled(t *testing.T) {
	as := authtest.New(t)
	b := newBrowser(t, as, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := mustNew(t, testConfig(as, b)).Token(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Token error = %v", err)
	}
	if len(b.URLs()) != 0 {
		t.Errorf("browser opened for a cancelled login")
	}
}

type failingOpener struct{ msg func(url string) string }

func (o failingOpener) Open(_ context.Context, u string) error { return errors.New(o.msg(u)) }

func TestFlow_OpenerFailure_Req13(t *testing.T) {
	as := authtest.New(t)
	cfg := testConfig(as, failingOpener{msg: func(u string) string { return "xdg-open " + u + ": not found" }})
	_, err := runFlow(t, mustNew(t, cfg))
	if !errors.Is(err, ErrOpenBrowser) {
		t.Fatalf("Token error = %v, want ErrOpenBrowser", err)
	}
	if strings.Contains(err.Error(), "state=") || strings.Contains(err.Error(), "code_challenge=") {
		t.Errorf("opener error leaks the authorization url: %q", err)
	}

	// With OnAuthURL the user has the URL, so the flow keeps waiting.
	cfg.Timeout = 200 * time.Millisecond
	cfg.OnAuthURL = func(string) {}
	if _, err := runFlow(t, mustNew(t, cfg)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Token error = %v, want ErrTimeout", err)
	}
}

func TestFlow_ReplayAfterSuccessFails_Req06(t *testing.T) {
	as := authtest.New(t)
	var callbackURL string
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		callbackURL = p.callback("code", p.code, "state", p.state, "iss", b.as.Issuer())
		get(ctx, callbackURL)
	})
	if _, err := runFlow(t, mustNew(t, testConfig(as, b))); err != nil {
		t.Fatal(err)
	}
	b.wait(t)
	start := time.Now()
	if r := get(context.Background(), callbackURL); r.err == nil {
		t.Errorf("replayed callback got %d, want a refused connection", r.status)
	}
	if time.Since(start) > time.Second {
		t.Errorf("replay took longer than 1 s to be refused")
	}
	if n := tokenRequests(as); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestFlow_IndependentAttempts_Req30(t *testing.T) {
	// Two concurrent attempts: a's code and state delivered to b's listener
	// are rejected and do not disturb a.
	as := authtest.New(t)
	reqs := make(chan authRequest, 2)
	opener := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) { reqs <- p })
	f := mustNew(t, testConfig(as, opener))
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, err := runFlow(t, f); errs <- err }()
	}
	a, b := <-reqs, <-reqs
	if a.state == b.state || a.redirectURI == b.redirectURI {
		t.Fatalf("attempts share state or listener")
	}
	cross := a.callback("code", b.code, "state", b.state, "iss", as.Issuer())
	if r := get(context.Background(), cross); r.status != http.StatusBadRequest {
		t.Errorf("cross-flow callback got %d, want 400", r.status)
	}
	for _, p := range []authRequest{a, b} {
		if r := get(context.Background(), p.callback("code", p.code, "state", p.state, "iss", as.Issuer())); r.body != successPage {
			t.Errorf("callback got %d %q", r.status, r.body)
		}
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Token: %v", err)
		}
	}
}
