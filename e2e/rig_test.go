package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// TestRigLoginRefreshReuse proves the rig with a hand-written loopback flow:
// the real authorization server, the real browser, then refresh rotation and
// reuse detection.
func TestRigLoginRefreshReuse(t *testing.T) {
	srv := rig.StartServer(t, rig.ServerOptions{})
	browser := rig.BuildTestBrowser(t)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient)

	md := srv.Metadata
	if !md.AuthorizationResponseIssParameterSupported {
		t.Error("discovery: authorization_response_iss_parameter_supported is not true")
	}
	if !slices.Equal(md.CodeChallengeMethodsSupported, []string{"S256"}) {
		t.Errorf("discovery: code_challenge_methods_supported = %v, want [S256]", md.CodeChallengeMethodsSupported)
	}

	cb := startCallback(t)
	cfg := publicClient(srv, cb.redirectURI)
	verifier := oauth2.GenerateVerifier()
	state, nonce := randomString(t), randomString(t)
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce), consentPrompt)

	browserLog := filepath.Join(t.TempDir(), "browser.jsonl")
	started := time.Now()
	runBrowser(t, browser, authURL, "TESTBROWSER_LOG="+browserLog, "TESTBROWSER_LOGIN=alice")
	q := cb.wait(t)
	t.Logf("browser login took %v", time.Since(started).Round(time.Millisecond))

	// RFC 9207 and state before the code.
	if got := q.Get("iss"); got != srv.Issuer {
		t.Fatalf("callback iss = %q, want %q", got, srv.Issuer)
	}
	if q.Get("state") != state {
		t.Fatal("callback state does not match")
	}
	if q.Get("error") != "" {
		t.Fatalf("callback error %q: %q", q.Get("error"), q.Get("error_description"))
	}
	runs := rig.ReadBrowserLog(t, browserLog)
	if len(runs) != 1 {
		t.Fatalf("browser log: %d runs, want 1", len(runs))
	}
	br := runs[0]
	if br.Outcome != "callback" || br.Status != http.StatusOK || br.CallbackNavigations != 1 ||
		br.Title != "sesame e2e callback" || !slices.Equal(br.Pages, []string{"login", "consent"}) ||
		!slices.Equal(br.CallbackParams, []string{"code", "iss", "state"}) {
		t.Errorf("browser saw %+v", br)
	}

	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	if ttl := time.Until(tok.Expiry); ttl < 20*time.Second || ttl > 31*time.Second {
		t.Errorf("access token expires in %v, want about 30 s", ttl)
	}
	verifyIDToken(ctx, t, srv, tok, nonce)
	requireActive(t, srv, tok.AccessToken, true)

	// Refresh once: rotation.
	rt1 := tok.RefreshToken
	tok2, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt1}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	rt2 := tok2.RefreshToken
	if rt2 == "" || rt2 == rt1 {
		t.Fatal("the refresh token was not rotated")
	}
	requireActive(t, srv, tok2.AccessToken, true)

	// Replaying the rotated token is refused and revokes the whole grant.
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt1}).Token()
	requireInvalidGrant(t, "replay of the rotated refresh token", err)
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt2}).Token()
	requireInvalidGrant(t, "the newest refresh token after reuse", err)
	requireActive(t, srv, tok2.AccessToken, false)
	requireActive(t, srv, tok.AccessToken, false)

	// What the server says happened.
	var kinds []string
	for _, e := range srv.Events("") {
		if e.Kind != "request" {
			kinds = append(kinds, e.Kind)
		}
	}
	t.Logf("server events: %s", strings.Join(kinds, " "))
	grants := srv.Events("grant.success")
	if len(grants) != 2 || grants[0].GrantType != "authorization_code" || grants[1].GrantType != "refresh_token" {
		t.Fatalf("grant.success events: %+v", grants)
	}
	if got := grants[1].Str("rotated_refresh_token_id"); got != rig.TokenID(rt1) {
		t.Errorf("rotated refresh token id %q, want %q", got, rig.TokenID(rt1))
	}
	if got := grants[1].Str("refresh_token_id"); got != rig.TokenID(rt2) {
		t.Errorf("new refresh token id %q, want %q", got, rig.TokenID(rt2))
	}
	var details []string
	for _, e := range srv.Events("grant.error") {
		details = append(details, e.ErrorDetail)
	}
	if len(details) != 2 || details[0] != "refresh token already used" {
		t.Errorf("grant.error details: %q, want [refresh token already used, ...]", details)
	}
	revoked := srv.Events("grant.revoked")
	if len(revoked) != 1 || revoked[0].GrantID != grants[0].GrantID {
		t.Errorf("grant.revoked events: %+v, want one for grant %s", revoked, grants[0].GrantID)
	}
	checkNoSecrets(t, srv, tok, tok2)
}

// TestRigConsentDenied: the user aborts on the consent page; the loopback
// gets access_denied, with iss.
func TestRigConsentDenied(t *testing.T) {
	srv := rig.StartServer(t, rig.ServerOptions{})
	browser := rig.BuildTestBrowser(t)
	cb := startCallback(t)
	cfg := publicClient(srv, cb.redirectURI)
	state := randomString(t)
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))

	runBrowser(t, browser, authURL, "TESTBROWSER_DENY=1")
	q := cb.wait(t)
	if q.Get("error") != "access_denied" || q.Get("state") != state || q.Get("iss") != srv.Issuer || q.Has("code") {
		t.Fatalf("callback parameters: %v", slices.Sorted(func(yield func(string) bool) {
			for k := range q {
				if !yield(k) {
					return
				}
			}
		}))
	}
	if len(srv.Events("authorization.error")) != 1 {
		t.Errorf("authorization.error events: %+v", srv.Events("authorization.error"))
	}
}

// TestRigPKCERequired: an authorization request without code_challenge is
// refused; no browser needed.
func TestRigPKCERequired(t *testing.T) {
	srv := rig.StartServer(t, rig.ServerOptions{})
	cfg := publicClient(srv, "http://127.0.0.1:9/callback")
	client := *srv.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(cfg.AuthCodeURL("st"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode/100 != 3 {
		t.Fatalf("status %s, location %v", resp.Status, err)
	}
	if q := loc.Query(); q.Get("error") != "invalid_request" || q.Get("iss") != srv.Issuer {
		t.Fatalf("redirect to %s with error %q", loc.Path, q.Get("error"))
	}
}

// TestRigDeviceFlow: the device flow with the browser on
// verification_uri_complete, and the interval the rig adds.
func TestRigDeviceFlow(t *testing.T) {
	srv := rig.StartServer(t, rig.ServerOptions{DeviceInterval: time.Second})
	browser := rig.BuildTestBrowser(t)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient)
	cfg := publicClient(srv, "")
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("device authorization: %v", err)
	}
	if da.Interval != 1 || da.VerificationURIComplete == "" {
		t.Fatalf("device authorization: interval %d, verification_uri_complete %q", da.Interval, da.VerificationURIComplete)
	}
	browserLog := filepath.Join(t.TempDir(), "browser.jsonl")
	done := make(chan error, 1)
	go func() {
		cmd := exec.Command(browser, da.VerificationURIComplete)
		cmd.Env = append(os.Environ(), "TESTBROWSER_LOG="+browserLog)
		out, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, out)
		}
		done <- err
	}()
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	tok, err := cfg.DeviceAccessToken(tctx, da)
	if err != nil {
		t.Fatalf("device access token: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("testbrowser: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token")
	}
	requireActive(t, srv, tok.AccessToken, true)
	br := rig.ReadBrowserLog(t, browserLog)[0]
	if br.Outcome != "device-success" {
		t.Errorf("browser saw %+v", br)
	}
	t.Logf("browser pages: %v", br.Pages)
}

// callback is the test's loopback listener.
type callback struct {
	redirectURI string
	got         chan url.Values
}

func startCallback(t *testing.T) *callback {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cb := &callback{
		redirectURI: fmt.Sprintf("http://%s/callback", ln.Addr()),
		got:         make(chan url.Values, 4),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		cb.got <- r.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, `<!DOCTYPE html><title>sesame e2e callback</title><p>Signed in. You can close this page.</p>`)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	})
	return cb
}

func (cb *callback) wait(t *testing.T) url.Values {
	t.Helper()
	select {
	case q := <-cb.got:
		return q
	case <-time.After(10 * time.Second):
		t.Fatal("no callback")
		return nil
	}
}

// consentPrompt asks for consent, without which the server drops
// offline_access (OpenID Connect Core §11) and issues no refresh token.
var consentPrompt = oauth2.SetAuthURLParam("prompt", "consent")

func publicClient(srv *rig.Server, redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: srv.ClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:       srv.Metadata.AuthorizationEndpoint,
			TokenURL:      srv.Metadata.TokenEndpoint,
			DeviceAuthURL: srv.Metadata.DeviceAuthorizationEndpoint,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURI,
		// offline_access with prompt=consent (consentPrompt) earns the
		// refresh token: the server applies OpenID Connect Core §11.
		Scopes: []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess},
	}
}

// runBrowser runs testbrowser as a launcher would and checks that it kept
// stdout empty and printed no query value.
func runBrowser(t *testing.T, browser, authURL string, env ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(browser, authURL)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("testbrowser: %v\n%s", err, stderr.String())
	}
	t.Logf("%s", strings.TrimSpace(stderr.String()))
	if stdout.Len() > 0 {
		t.Errorf("testbrowser wrote to stdout: %q", stdout.String())
	}
	if strings.Contains(stderr.String(), "?") {
		t.Errorf("testbrowser's summary has a query: %q", stderr.String())
	}
}

func verifyIDToken(ctx context.Context, t *testing.T, srv *rig.Server, tok *oauth2.Token, nonce string) {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token")
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, srv.HTTPClient), srv.Issuer)
	if err != nil {
		t.Fatalf("oidc discovery: %v", err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: srv.ClientID}).Verify(oidc.ClientContext(ctx, srv.HTTPClient), raw)
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	var claims struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	// go-oidc does not check the nonce.
	if idt.Nonce != nonce || idt.Subject != "alice" || claims.Email != "alice@example.test" {
		t.Errorf("id_token: sub %q email %q nonce matches %v", idt.Subject, claims.Email, idt.Nonce == nonce)
	}
}

func requireActive(t *testing.T, srv *rig.Server, token string, want bool) {
	t.Helper()
	active, err := srv.Introspect(t.Context(), token)
	if err != nil {
		t.Fatal(err)
	}
	if active != want {
		t.Fatalf("access token %s active = %v, want %v", rig.TokenID(token), active, want)
	}
}

func requireInvalidGrant(t *testing.T, what string, err error) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("%s: got %v, want invalid_grant", what, err)
	}
}

// checkNoSecrets: the event log names tokens by fingerprint only.
func checkNoSecrets(t *testing.T, srv *rig.Server, toks ...*oauth2.Token) {
	t.Helper()
	data, err := os.ReadFile(srv.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		idt, _ := tok.Extra("id_token").(string)
		for _, s := range []string{tok.AccessToken, tok.RefreshToken, idt} {
			if s != "" && bytes.Contains(data, []byte(s)) {
				t.Errorf("the event log contains token %s", rig.TokenID(s))
			}
		}
	}
}

func randomString(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
