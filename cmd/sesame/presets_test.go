package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/keychain"
)

// The provider simulations: authtest configured to behave as each
// provider's documentation says, and a full login, refresh and logout of
// a profile made with `sesame login --provider`. A provider with its own
// host (GitHub Enterprise, GitLab, Gitea, Entra's national clouds) is
// reached with --host; one with a fixed host (Google) through the test-only
// Env.PresetOrigins.

// host is the server's host:port, for --host.
func host(as *authtest.Server) string { return strings.TrimPrefix(as.URL(), "https://") }

// presetLifecycle logs in with args, refreshes once the access token is
// stale, and logs out; it returns the logout's result.
func presetLifecycle(t *testing.T, h *harness, args ...string) result {
	t.Helper()
	r := h.run(append([]string{"login", "-p", "work", "--client-id", h.as.ClientID, "--ca-file", h.as.CAFile()}, args...)...)
	wantExit(t, r, 0)
	first := grantRecord(t, h)
	if first == nil || first.RefreshToken == "" {
		t.Fatalf("login stored no refresh token: %+v", first)
	}
	h.advance(time.Hour)
	r = h.run("token", "-p", "work")
	wantExit(t, r, 0)
	if got := strings.TrimSpace(r.stdout); got == first.AccessToken || !strings.HasPrefix(got, "SNTL-AT-") {
		t.Fatalf("token after an hour: %q, want a refreshed access token", got)
	}
	if grantRecord(t, h).RefreshToken == first.RefreshToken {
		t.Fatal("the rotated refresh token was not stored")
	}
	return h.run("logout", "-p", "work")
}

// grantRecord returns the stored grant of profile "work".
func grantRecord(t *testing.T, h *harness) *keychain.Record {
	t.Helper()
	rec, err := h.store.Get(t.Context(), savedProfile(t, h).KeychainKey())
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// savedProfile reads profile "work" from the configuration file.
func savedProfile(t *testing.T, h *harness) *profile.Profile {
	t.Helper()
	c, err := profile.Load(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Profile("work")
	if p == nil {
		t.Fatal("profile work was not saved")
	}
	return p
}

// gitHubBehaviour makes as answer as GitHub does (see TestPreset_GitHub).
func gitHubBehaviour(as *authtest.Server) []authtest.Option {
	return []authtest.Option{
		authtest.WithoutDiscovery(),
		authtest.WithFormAnswers(),
		authtest.WithRoutes(map[string]string{
			"/login/oauth/authorize":    authtest.PathAuthorize,
			"/login/oauth/access_token": authtest.PathToken,
			"/login/device/code":        authtest.PathDeviceAuthorization,
			// GET /user: at api.github.com, which a test origin
			// stands for too, or under /api/v3 of an Enterprise Server.
			"/user":        authtest.PathGitHubUser,
			"/api/v3/user": authtest.PathGitHubUser,
		}),
		authtest.WithVerificationURI(as.URL()+"/login/device", ""),
		// GitHub's callback carries code and state, no RFC 9207 iss.
		authtest.WithoutCallbackIssuer(),
	}
}

// TestPreset_GitHub follows GitHub's documentation of OAuth app and GitHub
// App user authorization
// (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps,
// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens):
// no discovery document; the device flow at /login/device/code and
// /login/oauth/access_token with no client secret; answers form-encoded
// unless JSON is asked for, and errors (authorization_pending, slow_down)
// with HTTP 200; a GitHub App's expiring user token with a rotating
// refresh token, refreshed without a secret since the device flow issued
// it; no RFC 7009 revocation, so logout deletes locally and exits 5.
func TestPreset_GitHub(t *testing.T) {
	h := newHarness(t,
		authtest.WithDeviceAutoApprove(),
		authtest.WithDevicePolls("authorization_pending", "slow_down"),
		authtest.WithTokenResponseMutator(func(resp map[string]any) {
			resp["refresh_token_expires_in"] = 15897600
			resp["token_type"] = "bearer"
		}),
	)
	h.as.Configure(gitHubBehaviour(h.as)...)
	r := presetLifecycle(t, h, "--provider", "github", "--host", host(h.as))
	wantExit(t, r, exitNotRevoked)

	p := savedProfile(t, h)
	if p.Issuer != h.as.URL() || p.Flow != profile.FlowDevice || p.GitUsername != "x-access-token" || strings.Join(p.Scopes, " ") != "repo" {
		t.Errorf("saved profile: issuer %q flow %q git user %q scopes %v", p.Issuer, p.Flow, p.GitUsername, p.Scopes)
	}
	for _, req := range h.as.Requests() {
		if req.Path == authtest.PathOIDCDiscovery || req.Path == authtest.PathOAuthMetadata {
			continue
		}
		if req.RequestURI == "/api/v3/user" {
			continue
		}
		if !strings.HasPrefix(req.RequestURI, "/login/") {
			t.Errorf("%s %s: not one of GitHub's endpoints", req.Method, req.RequestURI)
		}
		if req.PostForm.Has("client_secret") || req.Header.Get("Authorization") != "" {
			t.Errorf("%s %s carried a client secret", req.Method, req.RequestURI)
		}
	}
	if n := len(h.as.RequestsTo(authtest.PathToken)); n != 4 {
		t.Errorf("%d token requests, want 4: pending, slow_down, the token, the refresh", n)
	}
	// An Enterprise Server's REST API is under /api/v3 of its host.
	if u := h.as.RequestsTo(authtest.PathGitHubUser); len(u) != 1 || u[0].RequestURI != "/api/v3/user" {
		t.Errorf("user requests: %+v, want one GET /api/v3/user", u)
	}
	if len(h.store.Keys()) != 0 {
		t.Error("logout left the grant")
	}
}

// gitHubLogin signs in to a GitHub simulation standing for github.com,
// whose user is octocat, and returns the login's result.
func gitHubLogin(t *testing.T, opts ...authtest.Option) (*harness, result) {
	t.Helper()
	h := newHarness(t, append([]authtest.Option{
		authtest.WithDeviceAutoApprove(),
		authtest.WithUser(authtest.User{Subject: "octocat", Name: "The Octocat", Email: "octocat@github.com"}),
	}, opts...)...)
	h.as.Configure(gitHubBehaviour(h.as)...)
	h.presetOrigins = map[string]string{"github": h.as.URL()}
	return h, h.run("login", "-p", "work", "--provider", "github", "--client-id", h.as.ClientID, "--ca-file", h.as.CAFile())
}

// TestPreset_GitHubNamesTheAccount: GitHub issues no ID token, so the
// login asks its REST API who the token is for (GET /user) and names the
// account by its login, as GitHub names its users (issue 15). The access
// token goes to that endpoint only, with the headers GitHub documents,
// and only at the login: a refresh keeps the name without asking again.
func TestPreset_GitHubNamesTheAccount(t *testing.T) {
	h, r := gitHubLogin(t,
		authtest.WithTokenResponseMutator(func(resp map[string]any) { resp["token_type"] = "bearer" }))
	wantExit(t, r, 0)
	if want := "signed in to " + h.as.URL() + " as octocat (profile \"work\")"; !strings.Contains(r.stderr, want) {
		t.Fatalf("login said:\n%s\nwant %q", r.stderr, want)
	}
	rec := grantRecord(t, h)
	if rec.Username != "octocat" || rec.Name != "The Octocat" || rec.Subject != "583231" || rec.Email != "" {
		t.Errorf("stored identity: sub %q username %q name %q email %q, want 583231, octocat, The Octocat and none", rec.Subject, rec.Username, rec.Name, rec.Email)
	}
	if p := savedProfile(t, h); p.GitUsername != "x-access-token" {
		t.Errorf("git user name %q, want the preset's x-access-token", p.GitUsername)
	}

	h.advance(time.Hour)
	wantExit(t, h.run("token", "-p", "work"), 0)
	if grantRecord(t, h).Username != "octocat" {
		t.Error("the refresh lost the account's name")
	}
	r = h.run("status", "-p", "work")
	wantExit(t, r, 0)
	if !strings.Contains(r.stdout+r.stderr, "octocat") {
		t.Errorf("status does not name octocat:\n%s%s", r.stdout, r.stderr)
	}

	users := h.as.RequestsTo(authtest.PathGitHubUser)
	if len(users) != 1 {
		t.Fatalf("%d user requests, want the login's only", len(users))
	}
	if u := users[0]; u.Method != http.MethodGet || u.RequestURI != "/user" || u.Header.Get("Accept") != "application/vnd.github+json" {
		t.Errorf("user request: %s %s Accept %q", u.Method, u.RequestURI, u.Header.Get("Accept"))
	}
	for _, req := range h.as.Requests() {
		for _, is := range h.as.Issued() {
			tok := is.AccessToken
			sent := strings.Contains(req.Header.Get("Authorization"), tok) || strings.Contains(req.RequestURI, tok) || strings.Contains(req.PostForm.Encode(), tok)
			if sent && (req.RequestURI != "/user" || req.Header.Get("Authorization") != "Bearer "+tok) {
				t.Errorf("%s %s: the access token was sent there", req.Method, req.RequestURI)
			}
		}
	}
}

// TestPreset_GitHubUserFails: a user endpoint that fails costs the account its name and nothing else: the login
// succeeds, and only the debug log says why.
func TestPreset_GitHubUserFails(t *testing.T) {
	h, r := gitHubLogin(t, authtest.WithHook(authtest.PathGitHubUser, func(w http.ResponseWriter, _ *http.Request) bool {
		http.Error(w, `{"message":"Server Error"}`, http.StatusInternalServerError)
		return true
	}))
	wantExit(t, r, 0)
	if !strings.Contains(r.stderr, "signed in to "+h.as.URL()+" as an unnamed account") {
		t.Fatalf("login said:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "500") || strings.Contains(r.stderr, "Server Error") {
		t.Errorf("the failure reached the person:\n%s", r.stderr)
	}
	if rec := grantRecord(t, h); rec.AccessToken == "" || rec.Name != "" {
		t.Errorf("grant: %+v", rec)
	}
	// The debug log says why, without the token.
	r = h.run("login", "-p", "work", "--debug")
	wantExit(t, r, 0)
	if !strings.Contains(r.stderr, "the account stays unnamed: GET "+h.as.URL()+"/user: HTTP 500") || strings.Contains(r.stderr, "SNTL-AT-") {
		t.Errorf("debug log:\n%s", r.stderr)
	}
}

// TestPreset_Google follows Google's "OAuth 2.0 for iOS & Desktop Apps"
// (https://developers.google.com/identity/protocols/oauth2/native-app): the
// discovery document at https://accounts.google.com; a "Desktop app"
// client whose secret the token endpoint requires (not confidential,
// RFC 8252 §8.5); offline_access refused as a scope; a refresh token only
// with access_type=offline; revocation without the secret.
func TestPreset_Google(t *testing.T) {
	const secret = "SNTL-CS-desktop"
	h := newHarness(t,
		authtest.WithClientSecret(secret, false),
		authtest.WithRefreshTokenOnlyWith("access_type", "offline"),
		authtest.WithAuthorizeHook(func(w http.ResponseWriter, _ *http.Request, req authtest.AuthorizeRequest) bool {
			if strings.Contains(req.Scope, "offline_access") {
				http.Error(w, "Error 400: invalid_scope", http.StatusBadRequest)
				return true
			}
			return false
		}),
	)
	h.presetOrigins = map[string]string{"google": h.as.URL()}

	// Without the secret the login stops before the browser opens.
	r := h.run("login", "-p", "work", "--provider", "google", "--client-id", h.as.ClientID, "--ca-file", h.as.CAFile())
	wantExit(t, r, exitUsage)
	wantOneErrorLine(t, r, "provider google needs the client secret of your app")
	if n := len(h.as.AuthorizeRequests()); n != 0 {
		t.Fatalf("%d authorization requests without a secret", n)
	}
	// A Google profile cannot be pointed anywhere else.
	r = h.run("login", "-p", "work", "--provider", "google", "--host", "evil.example", "--client-id", h.as.ClientID)
	wantExit(t, r, exitUsage)

	h.env[clientSecretEnv] = secret
	r = presetLifecycle(t, h, "--provider", "google")
	wantExit(t, r, 0)

	authz := h.as.AuthorizeRequests()
	if len(authz) != 1 || authz[0].Scope != "openid email" || authz[0].Params.Get("access_type") != "offline" || authz[0].Params.Get("prompt") != "consent" {
		t.Fatalf("authorization request: %+v", authz)
	}
	tokens := h.as.RequestsTo(authtest.PathToken)
	if len(tokens) != 2 {
		t.Fatalf("%d token requests, want the exchange and the refresh", len(tokens))
	}
	for _, req := range h.as.Requests() {
		has := req.PostForm.Get("client_secret") == secret
		if has != (req.Path == authtest.PathToken) {
			t.Errorf("%s %s: client secret sent: %v", req.Method, req.Path, has)
		}
	}
	if s := savedProfile(t, h); s.Issuer != h.as.URL() || s.Flow != profile.FlowBrowser {
		t.Errorf("saved profile: issuer %q flow %q", s.Issuer, s.Flow)
	}

	// The secret was kept in the keychain, not in the file: a second
	// login and its refresh need no $SESAME_CLIENT_SECRET.
	delete(h.env, clientSecretEnv)
	wantExit(t, h.run("login", "-p", "work"), 0)
	h.advance(time.Hour)
	wantExit(t, h.run("token", "-p", "work"), 0)
	if n := len(h.as.RequestsTo(authtest.PathToken)); n != 4 {
		t.Errorf("%d token requests, want 4", n)
	}

	// It goes with the profile: logout --forget leaves no secret behind.
	cfg, err := profile.Load(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Profile("work")
	key := keychain.ClientSecretKey(p.Issuer, p.ClientID, p.Name)
	if _, err := h.store.Get(context.Background(), key); err != nil {
		t.Fatalf("the client secret is not in the keychain before logout: %v", err)
	}
	h.run("logout", "-p", "work", "--forget")
	if _, err := h.store.Get(context.Background(), key); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("after logout --forget the client secret is still kept: %v", err)
	}
}

// TestPreset_Google_SecretOnStdin: --client-secret-stdin reads the secret
// from standard input, never from the command line.
func TestPreset_Google_SecretOnStdin(t *testing.T) {
	h := newHarness(t, authtest.WithClientSecret("SNTL-CS-stdin", false))
	h.presetOrigins = map[string]string{"google": h.as.URL()}
	h.stdin = "SNTL-CS-stdin\n"
	r := h.run("login", "-p", "work", "--provider", "google", "--client-id", h.as.ClientID, "--ca-file", h.as.CAFile(), "--client-secret-stdin")
	wantExit(t, r, 0)
	if got := h.as.RequestsTo(authtest.PathToken)[0].PostForm.Get("client_secret"); got != "SNTL-CS-stdin" {
		t.Errorf("client_secret %q", got)
	}
}

// TestPreset_Entra follows the Microsoft identity platform's OpenID Connect
// documentation
// (https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc,
// https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference):
// the discovery document of the multi-tenant /common/v2.0 endpoint names
// the issuer .../{tenantid}/v2.0, and each ID token's iss carries the
// user's tenant, also given as its tid claim; no revocation endpoint.
func TestPreset_Entra(t *testing.T) {
	const tid = "9188040d-6c67-4c5b-b112-36a304b66dad"
	h := newHarness(t, authtest.WithBasePath("/common/v2.0"))
	tenantIssuer := h.as.URL() + "/" + tid + "/v2.0"
	h.as.Configure(
		authtest.WithMetadataIssuer(h.as.URL()+"/{tenantid}/v2.0"),
		authtest.WithMetadataMutator(func(md map[string]any) { delete(md, "revocation_endpoint") }),
		authtest.WithIDTokenMutator(func(c map[string]any) { c["iss"], c["tid"] = tenantIssuer, tid }),
	)
	r := presetLifecycle(t, h, "--provider", "entra", "--host", host(h.as), "--tenant", "common")
	wantExit(t, r, exitNotRevoked)
	if p := savedProfile(t, h); p.Issuer != h.as.Issuer() || p.Tenant != "common" {
		t.Errorf("saved profile: issuer %q tenant %q", p.Issuer, p.Tenant)
	}
	// Entra grants offline_access without consent, and prompt=consent
	// would ask for an administrator's approval where users may not
	// consent: the preset sends none (OpenID Connect Core §11 aside).
	authorized := 0
	for _, req := range h.as.Requests() {
		if strings.HasSuffix(req.Path, "/authorize") && strings.Contains(req.Query.Get("scope"), "offline_access") {
			authorized++
			if req.Query.Has("prompt") {
				t.Errorf("entra authorization request with prompt=%q", req.Query.Get("prompt"))
			}
		}
	}
	if authorized == 0 {
		t.Error("no authorization request asked for offline_access")
	}

	// The device flow's page is on microsoft.com, which the preset
	// accepts (requirement 42).
	h.as.Configure(authtest.WithDeviceAutoApprove(), authtest.WithVerificationURI("https://microsoft.com/devicelogin", ""))
	r = h.run("login", "-p", "tv", "--provider", "entra", "--host", host(h.as), "--tenant", "common", "--flow", "device", "--client-id", h.as.ClientID, "--ca-file", h.as.CAFile())
	wantExit(t, r, 0)
	if !strings.Contains(r.stderr, "page: https://microsoft.com/devicelogin") {
		t.Errorf("device page not shown:\n%s", r.stderr)
	}

	// An ID token whose iss is not its tid's is refused, as Microsoft's
	// libraries refuse it.
	h.as.Configure(authtest.WithIDTokenMutator(func(c map[string]any) { c["iss"], c["tid"] = tenantIssuer, "another-tenant" }))
	r = h.run("login", "-p", "work")
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "its tenant's issuer is")
}

// TestPreset_GitLab follows GitLab's OAuth 2.0 identity provider API
// (https://docs.gitlab.com/api/oauth2/): OpenID Connect discovery at the
// instance URL; a public application with PKCE; refresh tokens without
// offline_access, which is not a GitLab scope; revocation at
// /oauth/revoke; git over HTTPS with the user name oauth2.
func TestPreset_GitLab(t *testing.T) {
	h := newHarness(t)
	r := presetLifecycle(t, h, "--provider", "gitlab", "--host", host(h.as))
	wantExit(t, r, 0)
	authz := h.as.AuthorizeRequests()
	if len(authz) != 1 || authz[0].Scope != "openid email read_repository write_repository" {
		t.Fatalf("authorization requests: %+v", authz)
	}
	if p := savedProfile(t, h); p.GitUsername != "oauth2" || p.Provider != "gitlab" {
		t.Errorf("saved profile: git user %q provider %q", p.GitUsername, p.Provider)
	}
	if n := len(h.as.RequestsTo(authtest.PathRevoke)); n == 0 {
		t.Error("logout revoked nothing")
	}
}

// TestPreset_Gitea follows Gitea's and Forgejo's OAuth2 provider
// documentation (https://docs.gitea.com/development/oauth2-provider,
// https://forgejo.org/docs/latest/user/oauth2-provider/): discovery at
// /.well-known/openid-configuration, whose issuer is the instance's
// ROOT_URL with its trailing slash; public clients with PKCE; refresh
// tokens; no device flow and no revocation endpoint.
func TestPreset_Gitea(t *testing.T) {
	h := newHarness(t)
	issuer := h.as.URL() + "/"
	h.as.Configure(
		authtest.WithMetadataIssuer(issuer),
		authtest.WithCallbackIssuer(issuer),
		authtest.WithMetadataMutator(func(md map[string]any) {
			delete(md, "revocation_endpoint")
			delete(md, "device_authorization_endpoint")
		}),
		authtest.WithIDTokenMutator(func(c map[string]any) { c["iss"] = issuer }),
	)
	r := presetLifecycle(t, h, "--provider", "forgejo", "--host", host(h.as))
	wantExit(t, r, exitNotRevoked)
	if p := savedProfile(t, h); p.Issuer != issuer {
		t.Errorf("saved issuer %q, want %q", p.Issuer, issuer)
	}
}

// TestPreset_ConfigCannotRedirect: the issuer of a preset's profile is
// the binary's to say: a hand-edited one is replaced by the preset's at the
// next login, which goes to the preset's server (requirement 15).
func TestPreset_ConfigCannotRedirect(t *testing.T) {
	h := newHarness(t)
	wantExit(t, presetLifecycle(t, h, "--provider", "gitlab", "--host", host(h.as)), 0)
	_, err := profile.Update(t.Context(), h.dir, func(c *profile.Config) error {
		c.Profiles["work"].Issuer = "https://evil.example"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantExit(t, h.run("login", "-p", "work"), 0)
	if p := savedProfile(t, h); p.Issuer != h.as.URL() {
		t.Errorf("issuer %q after the login, want the preset's %q", p.Issuer, h.as.URL())
	}
}

// TestPreset_SecretOnlyWhereDemanded: $SESAME_CLIENT_SECRET is read only
// for a provider that takes a secret, so one set for Google never reaches
// another server; --client-secret-stdin for a public client is refused.
func TestPreset_SecretOnlyWhereDemanded(t *testing.T) {
	h := newHarness(t)
	h.env[clientSecretEnv] = "SNTL-CS-google"
	wantExit(t, h.run("login", "-p", "work", "--provider", "gitlab", "--host", host(h.as), "--client-id", h.as.ClientID, "--ca-file", h.as.CAFile()), 0)
	for _, req := range h.as.Requests() {
		if req.PostForm.Has("client_secret") {
			t.Errorf("%s: a client secret was sent to a public client's server", req.Path)
		}
	}
	h.stdin = "SNTL-CS-google\n"
	r := h.run("login", "-p", "work", "--client-secret-stdin")
	wantExit(t, r, exitUsage)
	wantOneErrorLine(t, r, `profile "work" is a public client, and sesame sends it no client secret`)
	if len(h.store.Keys()) != 1 {
		t.Errorf("%d keychain entries, want the grant alone", len(h.store.Keys()))
	}
}

// TestPreset_GitHubWebFlow: GitHub's web flow, which needs the app's client
// secret at /login/oauth/access_token for the code and for the refreshes
// of the tokens it issued (GitHub's "Refreshing user access tokens"); the
// secret given once is taken from the keychain for the refresh.
func TestPreset_GitHubWebFlow(t *testing.T) {
	const secret = "SNTL-CS-github"
	h := newHarness(t, authtest.WithClientSecret(secret, false))
	h.as.Configure(gitHubBehaviour(h.as)...)
	h.env[clientSecretEnv] = secret
	wantExit(t, h.run("login", "-p", "work", "--provider", "github", "--host", host(h.as), "--flow", "browser", "--client-id", h.as.ClientID, "--ca-file", h.as.CAFile()), 0)
	delete(h.env, clientSecretEnv)
	h.advance(time.Hour)
	wantExit(t, h.run("token", "-p", "work"), 0)
	authz := h.as.RequestsTo(authtest.PathAuthorize)
	if len(authz) != 1 || !strings.HasPrefix(authz[0].RequestURI, "/login/oauth/authorize?") {
		t.Fatalf("authorization requests: %+v", authz)
	}
	tokens := h.as.RequestsTo(authtest.PathToken)
	if len(tokens) != 2 || tokens[0].PostForm.Get("client_secret") != secret || tokens[1].PostForm.Get("client_secret") != secret {
		t.Fatalf("token requests: %d, or without the secret", len(tokens))
	}
}

// TestPreset_IssuerWithAPath: Keycloak's realms
// (https://www.keycloak.org/securing-apps/oidc-layers: the issuer
// https://<host>/realms/<realm>) and Okta's custom authorization servers
// (https://developer.okta.com/docs/api/openapi/okta-oauth/oauth/tag/CustomAS: the issuer
// https://<org>/oauth2/<id>, "default" unless named) are plain OpenID
// Connect discovery under the path the preset builds; Codeberg is Forgejo at
// codeberg.org (moved to the test server), with its trailing-slash issuer.
func TestPreset_IssuerWithAPath(t *testing.T) {
	tests := []struct {
		name, base string
		args       []string
	}{
		{name: "keycloak", base: "/realms/corp", args: []string{"--realm", "corp"}},
		{name: "okta", base: "/oauth2/default"},
		{name: "okta", base: "/oauth2/aus1a2b3c", args: []string{"--realm", "aus1a2b3c"}},
		{name: "codeberg", base: "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name+tt.base, func(t *testing.T) {
			var h *harness
			args := append([]string{"--provider", tt.name}, tt.args...)
			if tt.name == "codeberg" {
				h = newHarness(t)
				issuer := h.as.URL() + "/"
				h.as.Configure(authtest.WithMetadataIssuer(issuer), authtest.WithCallbackIssuer(issuer),
					authtest.WithIDTokenMutator(func(c map[string]any) { c["iss"] = issuer }))
				h.presetOrigins = map[string]string{"codeberg": h.as.URL()}
			} else {
				h = newHarness(t, authtest.WithBasePath(tt.base))
				args = append(args, "--host", host(h.as))
			}
			wantExit(t, presetLifecycle(t, h, args...), 0)
			if p := savedProfile(t, h); p.Issuer != h.as.URL()+tt.base {
				t.Errorf("issuer %q", p.Issuer)
			}
		})
	}
}

// TestPreset_OriginsAreTestOnly: a release binary's Env moves no preset,
// and the configuration file cannot: it has no such setting, and the
// strict reader refuses one.
func TestPreset_OriginsAreTestOnly(t *testing.T) {
	if systemEnv().PresetOrigins != nil {
		t.Fatal("the process Env moves presets")
	}
	h := newHarness(t)
	config := `{"version":1,"profiles":{"work":{"provider":"google","issuer":"https://accounts.google.com","client_id":"x","preset_origins":{"google":"https://evil.example"}}}}`
	if err := os.WriteFile(filepath.Join(h.dir, "config.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.run("status", "-p", "work")
	if r.code == 0 || !strings.Contains(r.stderr, "preset_origins") {
		t.Fatalf("a configuration naming preset origins was accepted: exit %d\n%s", r.code, r.stderr)
	}
}
