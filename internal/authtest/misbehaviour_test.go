package authtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestMetadata_DocumentsAndOverrides(t *testing.T) {
	s := New(t)
	for _, path := range []string{PathOIDCDiscovery, PathOAuthMetadata} {
		md := getJSON(t, s, path)
		if md["issuer"] != s.Issuer() || md["authorization_response_iss_parameter_supported"] != true {
			t.Fatalf("%s: %v", path, md)
		}
		if got := md["code_challenge_methods_supported"].([]any); len(got) != 1 || got[0] != "S256" {
			t.Fatalf("%s: challenge methods %v", path, got)
		}
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "device_authorization_endpoint", "revocation_endpoint", "introspection_endpoint", "userinfo_endpoint", "jwks_uri"} {
			if v, _ := md[k].(string); !strings.HasPrefix(v, s.URL()+"/") {
				t.Fatalf("%s: %s = %q", path, k, v)
			}
		}
		if _, ok := md["pushed_authorization_request_endpoint"]; ok {
			t.Fatal("PAR advertised by default")
		}
	}
	s.Configure(
		WithMetadataIssuer(s.Issuer()+"/"),
		WithMetadataMutator(func(md map[string]any) { md["code_challenge_methods_supported"] = []string{"plain"} }),
	)
	md := getJSON(t, s, PathOIDCDiscovery)
	if md["issuer"] != s.Issuer()+"/" || md["code_challenge_methods_supported"].([]any)[0] != "plain" {
		t.Fatalf("overrides not applied: %v", md)
	}
	if _, err := oidc.NewProvider(oidc.ClientContext(t.Context(), s.Client()), s.Issuer()); err == nil {
		t.Fatal("go-oidc accepted a mismatched issuer")
	}
}

func TestIDToken_Variants(t *testing.T) {
	tests := []struct {
		name string
		opt  func(s *Server) Option
	}{
		{"alg none", func(*Server) Option { return WithIDTokenEncoder(UnsignedJWT) }},
		{"HS256 keyed with JWKS", func(s *Server) Option {
			return WithIDTokenEncoder(func(c map[string]any) string {
				jwks, err := s.JWKS()
				if err != nil {
					t.Error(err)
				}
				return HS256JWT(c, jwks, s.KeyID())
			})
		}},
		{"unknown kid", func(s *Server) Option {
			return WithIDTokenEncoder(func(c map[string]any) string { return s.SignIDToken(c, "other-kid") })
		}},
		{"wrong iss", func(*Server) Option {
			return WithIDTokenMutator(func(c map[string]any) { c["iss"] = "https://evil.example" })
		}},
		{"extra audience", func(*Server) Option {
			return WithIDTokenMutator(func(c map[string]any) { c["aud"] = []string{DefaultClientID, "other"} })
		}},
		{"expired", func(*Server) Option {
			return WithIDTokenMutator(func(c map[string]any) { c["exp"] = time.Now().Add(-6 * time.Minute).Unix() })
		}},
		{"raw", func(*Server) Option { return WithRawIDToken("not.a.jwt") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			s.Configure(tt.opt(s))
			raw, _ := login(t, s).Extra("id_token").(string)
			ctx := oidc.ClientContext(t.Context(), s.Client())
			provider, err := oidc.NewProvider(ctx, s.Issuer())
			if err != nil {
				t.Fatal(err)
			}
			// go-oidc's own checks catch everything here except the extra
			// audience, which the client has to refuse itself.
			idt, err := provider.Verifier(&oidc.Config{ClientID: s.ClientID}).Verify(ctx, raw)
			if tt.name == "extra audience" {
				if err != nil || len(idt.Audience) != 2 {
					t.Fatalf("audience %v, err %v", idt, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("go-oidc accepted the %s token", tt.name)
			}
		})
	}
}

func TestIDToken_MutatorChangesNonce(t *testing.T) {
	s := New(t, WithIDTokenMutator(func(c map[string]any) { c["nonce"] = "other" }))
	raw, _ := login(t, s).Extra("id_token").(string)
	ctx := oidc.ClientContext(t.Context(), s.Client())
	provider, err := oidc.NewProvider(ctx, s.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: s.ClientID}).Verify(ctx, raw)
	if err != nil || idt.Nonce != "other" {
		t.Fatalf("nonce %v, err %v", idt, err)
	}
	if s.Issued()[0].IDToken != raw {
		t.Fatal("Issued does not record the ID token sent")
	}
}

func TestTokenHook_RedirectAndHugeBody(t *testing.T) {
	other := New(t)
	s := New(t, WithTokenHook(func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, other.URL()+PathToken, http.StatusTemporaryRedirect)
		return true
	}))
	res := authorize(t, s)
	// x/oauth2's client follows the 307 and re-sends the body; the point of
	// the hook is that a test can see it happen.
	_, _ = res.conf.Exchange(clientContext(t, s), res.callback.Get("code"), oauth2.VerifierOption(res.verifier))
	if s.CountRequests(PathToken) != 1 || s.TokenRequests() != 0 {
		t.Fatalf("hooked server: %d recorded, %d handled", s.CountRequests(PathToken), s.TokenRequests())
	}

	s.Configure(WithTokenHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		chunk := strings.Repeat("x", 64<<10)
		for i := 0; i < 64 && r.Context().Err() == nil; i++ {
			_, _ = io.WriteString(w, chunk)
		}
		return true
	}))
	form := url.Values{"grant_type": {GrantRefreshToken}, "refresh_token": {"x"}, "client_id": {s.ClientID}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if n != 64*64<<10 {
		t.Fatalf("body %d bytes", n)
	}
	s.Configure(WithTokenHook(nil))
	status, body := refresh(t, s, "x")
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
}

func TestDelay_ClientGivesUpFirst(t *testing.T) {
	s := New(t, WithDelay(PathToken, time.Minute))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Give up once the server holds the request, however long the machine
	// took to get it there.
	arrived := s.Received(PathToken)
	go func() {
		select {
		case <-arrived:
			cancel()
		case <-ctx.Done():
		}
	}()
	form := url.Values{"grant_type": {GrantRefreshToken}, "refresh_token": {"x"}, "client_id": {s.ClientID}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.Client().Do(req)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatalf("got %d for an abandoned request, want no answer", resp.StatusCode)
	}
	if s.TokenRequests() != 0 {
		t.Fatal("the abandoned request was processed")
	}
}

func TestTokenResponseMutator(t *testing.T) {
	s := New(t, WithTokenResponseMutator(func(r map[string]any) {
		r["expires_in"] = 1e12
		r["token_type"] = "DPoP"
	}))
	res := authorize(t, s)
	status, body := post(t, s, PathToken, url.Values{
		"grant_type":    {GrantAuthorizationCode},
		"code":          {res.callback.Get("code")},
		"redirect_uri":  {res.conf.RedirectURL},
		"code_verifier": {res.verifier},
		"client_id":     {s.ClientID},
	})
	if status != http.StatusOK || body["expires_in"] != 1e12 || body["token_type"] != "DPoP" {
		t.Fatalf("%d %v", status, body)
	}
}

func TestUserinfo_HeaderOnly(t *testing.T) {
	s := New(t)
	tok := login(t, s)
	get := func(target string, header string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(s.URL()+PathUserinfo, "Bearer "+tok.AccessToken); got != http.StatusOK {
		t.Fatalf("header: %d", got)
	}
	if got := get(s.URL()+PathUserinfo+"?access_token="+tok.AccessToken, ""); got != http.StatusBadRequest {
		t.Fatalf("query: %d", got)
	}
	if got := get(s.URL()+PathUserinfo, "Bearer "+tok.RefreshToken); got != http.StatusUnauthorized {
		t.Fatalf("refresh token as bearer: %d", got)
	}
	if reqs := s.RequestsTo(PathUserinfo); len(reqs) != 3 || !strings.Contains(reqs[1].RequestURI, "SNTL-AT-") {
		t.Fatal("userinfo requests not recorded with their URI")
	}
}

func TestCAFile(t *testing.T) {
	s := New(t)
	path := s.CAFile()
	if s.CAFile() != path {
		t.Fatal("CAFile not stable")
	}
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("CA file holds no certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer c.CloseIdleConnections()
	resp, err := c.Get(s.URL() + PathOAuthMetadata)
	if err != nil {
		t.Fatalf("client trusting the CA file: %v", err)
	}
	_ = resp.Body.Close()
	// Without it, verification fails: there is no way around TLS.
	if _, err := http.DefaultClient.Get(s.URL() + PathJWKS); err == nil {
		t.Fatal("default client trusted the test server")
	}
}

func getJSON(t *testing.T, s *Server, path string) map[string]any {
	t.Helper()
	resp, err := s.Client().Get(s.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}
