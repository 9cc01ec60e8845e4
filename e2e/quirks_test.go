package e2e

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// The server applies OpenID Connect Core §11 as oidc-provider does by
// default: without prompt=consent it drops offline_access, and without
// offline_access it issues no refresh token. sesame's own logins (every
// other test) get one because sesame sends prompt=consent.
func TestRigOfflineAccessNeedsConsent(t *testing.T) {
	srv := rig.StartServer(t, rig.ServerOptions{})
	browser := rig.BuildTestBrowser(t)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.HTTPClient)
	cb := startCallback(t)
	cfg := publicClient(srv, cb.redirectURI)
	verifier := oauth2.GenerateVerifier()
	state := randomString(t)
	runBrowser(t, browser, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	q := cb.wait(t)
	if q.Get("error") != "" || q.Get("state") != state {
		t.Fatalf("callback: error %q, state matches %v", q.Get("error"), q.Get("state") == state)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	scope, _ := tok.Extra("scope").(string)
	if tok.RefreshToken != "" || slices.Contains(strings.Fields(scope), "offline_access") {
		t.Fatalf("without prompt=consent: refresh token %v, scope %q; want none and no offline_access", tok.RefreshToken != "", scope)
	}
}

// A login that gets no refresh token says so, with when a new login is
// needed, and status shows it.
func TestLogin_NoRefreshTokenWarned_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-norefresh")
	r := c.run("login", "-p", c.name, "--issuer", srv.Issuer, "--client-id", srv.ClientID,
		"--ca-file", srv.CAFile, "--scope", "openid", "--scope", "email")
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	warned := regexp.MustCompile(`(?m)^sesame: warning: the server issued no refresh token: this login lasts only as long as its access token, until \S+Z \(\d+s\); then sesame needs a new login$`)
	if !warned.MatchString(r.stderr) || !strings.Contains(r.stderr, `sesame: warning: the scopes of profile "e2e-norefresh" do not ask for offline_access`) {
		t.Fatalf("login did not warn of the missing refresh token:\n%s", r.stderr)
	}
	if rec := c.record(); rec == nil || rec.RefreshToken != "" || rec.AccessToken == "" {
		t.Fatalf("keychain record: %+v", rec)
	}
	r = c.mustRun("status", "-p", c.name)
	if !strings.Contains(r.stdout, "none: log in again when the access token expires") {
		t.Fatalf("status:\n%s", r.stdout)
	}
}

// With PAR (oidc-provider offers it), an unknown client and a redirect URI
// the client has not registered are told before any browser opens, with
// the fix.
func TestLogin_ClientProblemsFailFast_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-stranger")
	r := c.run("login", "-p", c.name, "--issuer", srv.Issuer, "--client-id", "nobody-e2e", "--ca-file", srv.CAFile)
	if r.code != 1 || strings.Contains(r.stderr, "open this URL") ||
		!strings.Contains(r.stderr, "sesame: error: pushed authorization request: the server refused (401 invalid_client)") ||
		!strings.Contains(r.stderr, `sesame: hint: the server does not know the client id of profile "e2e-stranger"`) {
		t.Fatalf("unknown client: exit %d\n%s", r.code, r.stderr)
	}
	// kubelogin-e2e registered http://127.0.0.1/ only, not /callback.
	c = newCLI(t, srv, "e2e-kubelogin")
	r = c.run("login", "-p", c.name, "--issuer", srv.Issuer, "--client-id", "kubelogin-e2e", "--ca-file", srv.CAFile)
	hint := regexp.MustCompile(`(?m)^sesame: hint: the server does not accept http://127\.0\.0\.1:\d+/callback: if it compares the port, register http://127\.0\.0\.1:<port>/callback for a fixed port of your choosing, then log in with --port <port>`)
	if r.code != 1 || strings.Contains(r.stderr, "open this URL") ||
		!strings.Contains(r.stderr, "sesame: error: pushed authorization request: the server refused (400 invalid_request): redirect_uri did not match") || !hint.MatchString(r.stderr) {
		t.Fatalf("refused redirect URI: exit %d\n%s", r.code, r.stderr)
	}
	if runs := c.browserRuns(); len(runs) != 0 {
		t.Fatalf("a browser opened: %+v", runs)
	}
}
