package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/dpop"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/keychain"
)

// Issue 8 in process: DPoP (requirement 31), resource indicators on the
// token and refresh requests (requirement 11), dynamic client registration.

// dpopHarness is a harness whose server offers DPoP and shares sesame's
// clock, so proofs made after advance() carry an iat the server accepts.
func dpopHarness(t *testing.T, o authtest.DPoPOptions) *harness {
	h := newHarness(t, authtest.WithDPoP(o))
	h.as.Configure(authtest.WithClock(h.now))
	return h
}

func TestDPoP_ForcedAgainstServerWithout_FailsBeforeBrowser_Req31(t *testing.T) {
	h := newHarness(t) // no dpop_signing_alg_values_supported
	r := h.login("--dpop")
	wantExit(t, r, exitUsage)
	wantOneErrorLine(t, r, "does not offer it with ES256")
	if h.browser.Calls() != 0 || h.record() != nil {
		t.Fatalf("browser calls %d, record %v: the login went on", h.browser.Calls(), h.record() != nil)
	}
	for _, req := range h.as.Requests() {
		if req.Path == authtest.PathToken || req.Header.Get("DPoP") != "" {
			t.Fatalf("a %s request was sent", req.Path)
		}
	}
}

func TestDPoP_OneKeyOnEveryTokenRequest_NonceRetriedOnce_Req31(t *testing.T) {
	h := dpopHarness(t, authtest.DPoPOptions{RequireNonce: true})
	wantExit(t, h.login("--dpop"), 0)
	rec := h.record()
	key, err := dpop.Parse(rec.DPoPKey)
	if err != nil {
		t.Fatalf("stored DPoP key: %v", err)
	}
	if rec.TokenType != "DPoP" || h.as.RefreshTokenJKT(rec.RefreshToken) != key.Thumbprint() {
		t.Fatalf("token_type %q, refresh token bound to %q", rec.TokenType, h.as.RefreshTokenJKT(rec.RefreshToken))
	}

	// A new process (a new nonce memory) refreshes: the first proof has
	// no nonce, the server asks, exactly one retry carries it.
	before := len(h.as.DPoPProofs())
	h.advance(time.Hour)
	h.stdoutTTY = false
	wantExit(t, h.run("token", "-p", "work"), 0)
	proofs := h.as.DPoPProofs()[before:]
	if len(proofs) != 2 {
		t.Fatalf("%d proofs for one refresh, want 2 (one without the nonce, one retry)", len(proofs))
	}
	if proofs[0].Nonce != "" || proofs[1].Nonce != h.as.DPoPNonce() || proofs[0].JTI == proofs[1].JTI {
		t.Fatalf("proofs: %+v", proofs)
	}
	seen := map[string]bool{}
	for _, p := range h.as.DPoPProofs() {
		if p.JKT != key.Thumbprint() {
			t.Fatalf("a %s proof signed with another key", p.Path)
		}
		if seen[p.JTI] {
			t.Fatal("a jti was used twice")
		}
		seen[p.JTI] = true
	}
	after := h.record()
	if after.RefreshToken == rec.RefreshToken || after.DPoPKey != rec.DPoPKey {
		t.Fatal("the refresh did not rotate the grant under the same key")
	}

	// Logout deletes the key with the grant.
	wantExit(t, h.run("logout", "-p", "work"), 0)
	if h.record() != nil {
		t.Fatal("the record, and with it the key, survived logout")
	}
}

// TestDPoP_BoundAccessToken_BearerCallersRefused_Req31: kubectl, git and
// docker can only send Bearer tokens; a DPoP-bound one is refused with an
// explanation, while scripts get the type and a proof.
func TestDPoP_BoundAccessToken_BearerCallersRefused_Req31(t *testing.T) {
	h := dpopHarness(t, authtest.DPoPOptions{})
	wantExit(t, h.login("--dpop"), 0)
	h.env["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	r := h.run("kubectl", "-p", "work")
	if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, "DPoP") {
		t.Fatalf("kubectl: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	cfg, err := profile.Load(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Profile("work").GitHosts = []string{"git.example.com"}
	cfg.Profile("work").DockerHosts = []string{"registry.example.com"}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	r = h.runStdin("protocol=https\nhost=git.example.com\n\n", "git-credential", "get")
	if r.code == 0 || strings.Contains(r.stdout, "password") || !strings.Contains(r.stderr, "DPoP") {
		t.Fatalf("git-credential get: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = h.runStdin("registry.example.com", "docker-credential", "get")
	if r.code == 0 || strings.Contains(r.stdout, "Secret") || !strings.Contains(r.stdout+r.stderr, "DPoP") {
		t.Fatalf("docker-credential get: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = h.run("token", "-p", "work", "--output", "json")
	wantExit(t, r, 0)
	var out struct {
		TokenType string `json:"token_type"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.TokenType != "DPoP" {
		t.Fatalf("token --output json: %s", r.stdout)
	}
	r = h.run("dpop-proof", "-p", "work", "--method", "POST", "--url", "https://rs.example/x")
	wantExit(t, r, 0)
	if strings.Count(strings.TrimSpace(r.stdout), ".") != 2 {
		t.Fatalf("dpop-proof printed %q", r.stdout)
	}
	wantExit(t, h.run("dpop-proof", "-p", "work", "--method", "get", "--url", "https://rs.example/x"), exitUsage)
}

// TestDPoP_BearerAccessTokens_HelpersKeepWorking_Req31: a server that binds
// only the refresh token issues Bearer access tokens, which every helper
// can hand out; the refresh token still needs the key.
func TestDPoP_BearerAccessTokens_HelpersKeepWorking_Req31(t *testing.T) {
	h := dpopHarness(t, authtest.DPoPOptions{BearerAccessTokens: true})
	wantExit(t, h.login("--dpop"), 0)
	rec := h.record()
	if rec.TokenType != "Bearer" || h.as.RefreshTokenJKT(rec.RefreshToken) == "" {
		t.Fatalf("token_type %q, refresh bound %v", rec.TokenType, h.as.RefreshTokenJKT(rec.RefreshToken) != "")
	}
	h.env["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	h.advance(time.Hour)
	r := h.run("kubectl", "-p", "work")
	wantExit(t, r, 0)
	if !strings.Contains(r.stdout, `"token":"`) {
		t.Fatalf("kubectl: %s", r.stdout)
	}
}

// TestResource_SentOnTokenAndRefresh_Req11: the authorization request names
// every resource; the code exchange and the refresh name the first; a
// helper bound to the second gets a token for it by a refresh naming it,
// kept apart from the first's.
func TestResource_SentOnTokenAndRefresh_Req11(t *testing.T) {
	h := newHarness(t)
	h.as.Configure(authtest.WithClock(h.now))
	const a, b = "https://a.example/", "https://b.example/"
	wantExit(t, h.login("--resource", a, "--resource", b), 0)
	first := h.record()
	if first.Resource != a {
		t.Fatalf("record resource %q", first.Resource)
	}
	h.advance(time.Hour)
	wantExit(t, h.run("token", "-p", "work"), 0)
	r := h.run("token", "-p", "work", "--resource", b)
	wantExit(t, r, 0)
	var auth, token []string
	for _, req := range h.as.Requests() {
		switch {
		case req.Path == authtest.PathToken:
			token = append(token, req.PostForm.Get("grant_type")+" "+strings.Join(req.PostForm["resource"], ","))
		case len(req.Form["resource"]) > 0 && req.Form.Get("response_type") == "code":
			auth = append(auth, strings.Join(req.Form["resource"], ","))
		}
	}
	want := []string{"authorization_code " + a, "refresh_token " + a, "refresh_token " + b}
	if strings.Join(token, "|") != strings.Join(want, "|") {
		t.Fatalf("token requests %q, want %q", token, want)
	}
	if len(auth) != 1 || auth[0] != a+","+b {
		t.Fatalf("authorization requests named %q, want both resources", auth)
	}
	rec := h.record()
	if rec.ResourceTokens[b] == nil || strings.TrimSpace(r.stdout) != rec.ResourceTokens[b].AccessToken || rec.AccessToken == rec.ResourceTokens[b].AccessToken {
		t.Fatal("the second resource's token is not kept apart from the first's")
	}
	// Served again from the keychain record, without a request.
	n := len(h.as.Requests())
	h.cache.Delete(rec.Profile) // not the cache key: the cache stays warm
	wantExit(t, h.run("token", "-p", "work", "--resource", b), 0)
	wantExit(t, h.run("token", "-p", "work"), 0)
	if len(h.as.Requests()) != n {
		t.Fatal("a fresh per-resource token was refreshed again")
	}
	wantExit(t, h.run("token", "-p", "work", "--resource", "https://c.example/"), exitUsage)
}

func TestRegister_LoginRefreshLogoutDeregisters(t *testing.T) {
	h := newHarness(t, authtest.WithRegistration())
	h.as.Configure(authtest.WithClock(h.now))
	r := h.run("login", "-p", "work", "--issuer", h.as.Issuer(), "--register", "--ca-file", h.as.CAFile())
	wantExit(t, r, 0)
	ids := h.as.RegisteredClients()
	if len(ids) != 1 || ids[0] == h.as.ClientID {
		t.Fatalf("registered clients %v", ids)
	}
	reg := h.as.Registrations()[0]
	if reg["token_endpoint_auth_method"] != "none" || reg["application_type"] != "native" {
		t.Fatalf("registration metadata %v", reg)
	}
	cfg, _ := os.ReadFile(filepath.Join(h.dir, "config.json"))
	if !strings.Contains(string(cfg), ids[0]) || strings.Contains(string(cfg), "SNTL-") {
		t.Fatalf("config:\n%s", cfg)
	}
	ctx := context.Background()
	grant, err := h.store.Get(ctx, keychain.Key(h.as.Issuer(), ids[0], "work"))
	if err != nil || grant.ClientID != ids[0] {
		t.Fatalf("grant of the registered client: %v", err)
	}
	h.advance(time.Hour)
	wantExit(t, h.run("token", "-p", "work"), 0)

	r = h.run("logout", "-p", "work")
	wantExit(t, r, 0)
	if d := h.as.DeletedClients(); len(d) != 1 || d[0] != ids[0] {
		t.Fatalf("deleted clients %v", d)
	}
	if keys := h.store.Keys(); len(keys) != 0 {
		t.Fatalf("%d keychain entries left after logout", len(keys))
	}
	r = h.run("token", "-p", "work")
	wantExit(t, r, exitLoginRequired)
}

func TestRegister_ServerWithoutRegistration_Fails(t *testing.T) {
	h := newHarness(t)
	r := h.run("login", "-p", "work", "--issuer", h.as.Issuer(), "--register", "--ca-file", h.as.CAFile())
	wantExit(t, r, exitUsage)
	wantOneErrorLine(t, r, "does not offer dynamic client registration")
	if h.browser.Calls() != 0 {
		t.Fatal("a browser opened")
	}
	wantExit(t, h.run("login", "-p", "work", "--issuer", h.as.Issuer(), "--register", "--client-id", "x"), exitUsage)
}

// TestScope_ConsumerNeedingUngrantedScopeRefused_Req11: the server grants
// less than was asked; a caller that needs the missing scope gets an error
// instead of a token that fails later, one that needs a granted scope gets
// its token.
func TestScope_ConsumerNeedingUngrantedScopeRefused_Req11(t *testing.T) {
	h := newHarness(t, authtest.WithTokenResponseMutator(func(resp map[string]any) { resp["scope"] = "openid" }))
	wantExit(t, h.login("--scope", "openid", "--scope", "email"), 0)
	if got := h.record().Scope; got != "openid" {
		t.Fatalf("recorded scope %q, want the granted openid", got)
	}
	r := h.run("token", "-p", "work", "--require-scope", "email")
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "lacks the scope email")
	if r.stdout != "" {
		t.Fatalf("a token was printed: %q", r.stdout)
	}
	h.env["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	if r := h.run("kubectl", "-p", "work", "--require-scope", "email"); r.code == 0 || r.stdout != "" {
		t.Fatalf("kubectl: exit %d stdout %q", r.code, r.stdout)
	}
	wantExit(t, h.run("token", "-p", "work", "--require-scope", "openid"), 0)

	// A response without scope means the requested scopes were granted.
	h2 := newHarness(t, authtest.WithTokenResponseMutator(func(resp map[string]any) { delete(resp, "scope") }))
	wantExit(t, h2.login("--scope", "openid", "--scope", "email"), 0)
	wantExit(t, h2.run("token", "-p", "work", "--require-scope", "email"), 0)
	wantExit(t, h2.run("token", "-p", "work", "--require-scope", "admin"), exitError)
}

// TestSetupKubectl_BindsHelperToResource: setup passes --resource and
// --require-scope on to the helper it writes, after checking the resource
// is the profile's.
func TestSetupKubectl_BindsHelperToResource(t *testing.T) {
	h := newHarness(t)
	wantExit(t, h.login("--resource", "https://a.example/", "--resource", "https://b.example/"), 0)
	r := h.run("setup", "kubectl", "-p", "work", "--resource", "https://b.example/", "--require-scope", "openid")
	wantExit(t, r, 0)
	for _, want := range []string{"--exec-arg=kubectl --exec-arg=-p --exec-arg=work --exec-arg=--resource --exec-arg=https://b.example/ --exec-arg=--require-scope --exec-arg=openid",
		"args: [kubectl, -p, work, --resource, https://b.example/, --require-scope, openid]"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("setup kubectl output lacks %q:\n%s", want, r.stdout)
		}
	}
	wantExit(t, h.run("setup", "kubectl", "-p", "work", "--resource", "https://c.example/"), exitUsage)
}

func TestStatus_ShowsDPoPBindingAndResources(t *testing.T) {
	h := dpopHarness(t, authtest.DPoPOptions{})
	wantExit(t, h.login("--dpop", "--resource", "https://a.example/"), 0)
	key, err := dpop.Parse(h.record().DPoPKey)
	if err != nil {
		t.Fatal(err)
	}
	r := h.run("status", "-p", "work", "--json")
	wantExit(t, r, 0)
	var out statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Profiles) != 1 {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	st := out.Profiles[0]
	if st.DPoPJKT != key.Thumbprint() || len(st.Resources) != 1 || st.Resources[0] != "https://a.example/" || st.RegisteredClient {
		t.Fatalf("status: %+v", st)
	}
	if strings.Contains(r.stdout, "SNTL-") || strings.Contains(r.stdout, h.record().DPoPKey) {
		t.Fatal("status printed a secret")
	}
	r = h.run("status", "-p", "work")
	if !strings.Contains(r.stdout, "DPoP-bound") {
		t.Fatalf("status table:\n%s", r.stdout)
	}
}

// TestDPoP_EdDSAWhereOnlyEdDSAIsAccepted_Req31: a server that accepts
// EdDSA but not ES256 gets an Ed25519 key, used for the login and every
// refresh.
func TestDPoP_EdDSAWhereOnlyEdDSAIsAccepted_Req31(t *testing.T) {
	h := dpopHarness(t, authtest.DPoPOptions{Algs: []string{"EdDSA"}})
	wantExit(t, h.login("--dpop"), 0)
	key, err := dpop.Parse(h.record().DPoPKey)
	if err != nil || key.Alg() != dpop.AlgEdDSA {
		t.Fatalf("stored key: %v", err)
	}
	h.advance(time.Hour)
	wantExit(t, h.run("token", "-p", "work"), 0)
	proofs := h.as.DPoPProofs()
	if len(proofs) < 2 {
		t.Fatalf("%d proofs", len(proofs))
	}
	for _, p := range proofs {
		if p.JKT != key.Thumbprint() {
			t.Fatal("a proof with another key")
		}
	}
	if h.as.RefreshTokenJKT(h.record().RefreshToken) != key.Thumbprint() {
		t.Fatal("the rotated refresh token is not bound to the Ed25519 key")
	}
}

// TestDPoP_DeviceFlow_Req31: the device flow's token polls carry proofs
// (with the nonce dance), so a grant made on a headless machine is bound
// too; the device authorization request carries none.
func TestDPoP_DeviceFlow_Req31(t *testing.T) {
	h := dpopHarness(t, authtest.DPoPOptions{RequireNonce: true})
	h.as.Configure(authtest.WithDeviceTiming(time.Minute, time.Second))
	go func() {
		for h.as.LastUserCode() == "" {
			time.Sleep(20 * time.Millisecond)
		}
		_ = h.as.ApproveDevice(h.as.LastUserCode())
	}()
	wantExit(t, h.login("--flow", "device", "--dpop"), 0)
	key, err := dpop.Parse(h.record().DPoPKey)
	if err != nil {
		t.Fatal(err)
	}
	if h.as.RefreshTokenJKT(h.record().RefreshToken) != key.Thumbprint() {
		t.Fatal("the device grant's refresh token is not bound to the key")
	}
	for _, req := range h.as.Requests() {
		if req.Path == authtest.PathDeviceAuthorization && req.Header.Get("DPoP") != "" {
			t.Fatal("the device authorization request carried a proof")
		}
	}
}

// TestRegister_DeletionNotConfirmed_KeptForAnotherLogout: a server that
// fails the RFC 7592 deletion leaves the profile's client id and the
// management token in place (exit 5, said so), and the next logout
// deletes the registration.
func TestRegister_DeletionNotConfirmed_KeptForAnotherLogout(t *testing.T) {
	h := newHarness(t, authtest.WithRegistration())
	wantExit(t, h.run("login", "-p", "work", "--issuer", h.as.Issuer(), "--register", "--ca-file", h.as.CAFile()), 0)
	id := h.as.RegisteredClients()[0]
	h.as.Configure(authtest.WithHook(authtest.PathRegister+"/"+id, func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}))
	r := h.run("logout", "-p", "work", "--forget")
	wantExit(t, r, exitNotRevoked)
	wantOneErrorLine(t, r, "client registration")
	ctx := context.Background()
	if _, err := h.store.Get(ctx, keychain.RegistrationKey(h.as.Issuer(), id, "work")); err != nil {
		t.Fatalf("the management token was dropped: %v", err)
	}
	cfg, err := profile.Load(h.dir)
	if err != nil || cfg.Profile("work") == nil || cfg.Profile("work").ClientID != id {
		t.Fatal("the profile or its client id was dropped although the registration still exists")
	}
	h.as.Configure(authtest.WithHook(authtest.PathRegister+"/"+id, nil))
	wantExit(t, h.run("logout", "-p", "work", "--forget"), 0)
	if d := h.as.DeletedClients(); len(d) != 1 || d[0] != id {
		t.Fatalf("deleted clients %v", d)
	}
	if cfg, _ := profile.Load(h.dir); cfg.Profile("work") != nil {
		t.Fatal("--forget kept the profile after the registration was deleted")
	}
}

// unavailableStore is a keychain that is not there.
type unavailableStore struct{}

func (unavailableStore) Get(context.Context, string) (*keychain.Record, error) {
	return nil, keychain.ErrUnavailable
}
func (unavailableStore) Set(context.Context, string, *keychain.Record) error {
	return keychain.ErrUnavailable
}
func (unavailableStore) Delete(context.Context, string) error { return keychain.ErrUnavailable }
func (unavailableStore) Name() string                         { return "secret-service" }

// TestFileStore_OptInWithoutKeychain_Req38: without a keychain and without
// the opt-in, login fails before the browser and says how to opt in; with
// it, the grant goes to a private file, login warns so, status names the
// store, token works, logout deletes the file.
func TestFileStore_OptInWithoutKeychain_Req38(t *testing.T) {
	h := newHarness(t)
	h.altStore = unavailableStore{}
	r := h.login()
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "SESAME_STORE=file")
	if h.browser.Calls() != 0 {
		t.Fatal("the browser opened without a store")
	}

	dir := filepath.Join(t.TempDir(), "grants")
	h.altStore = &keychain.Fallback{Primary: unavailableStore{}, Secondary: keychain.NewFile(dir)}
	r = h.login()
	wantExit(t, r, 0)
	if !strings.Contains(r.stderr, "warning: there is no keychain here") || !strings.Contains(r.stderr, dir) {
		t.Fatalf("login did not warn about the file store:\n%s", r.stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("grant files: %v %v", entries, err)
	}
	if st, _ := os.Stat(filepath.Join(dir, entries[0].Name())); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o", st.Mode().Perm())
	}
	r = h.run("status", "-p", "work")
	if !strings.Contains(r.stdout, "file "+dir) {
		t.Fatalf("status does not name the file store:\n%s", r.stdout)
	}
	wantExit(t, h.run("token", "-p", "work"), 0)
	wantExit(t, h.run("logout", "-p", "work"), 0)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("%d grant files left after logout", len(entries))
	}
}

// TestResource_DeviceFlow_Req11: the device flow names every resource on
// its device authorization request and the first on its token polls.
func TestResource_DeviceFlow_Req11(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(time.Minute, time.Second))
	go func() {
		for h.as.LastUserCode() == "" {
			time.Sleep(20 * time.Millisecond)
		}
		_ = h.as.ApproveDevice(h.as.LastUserCode())
	}()
	const a, b = "https://a.example/", "https://b.example/"
	wantExit(t, h.login("--flow", "device", "--resource", a, "--resource", b), 0)
	polls := 0
	for _, req := range h.as.Requests() {
		switch req.Path {
		case authtest.PathDeviceAuthorization:
			if got := strings.Join(req.PostForm["resource"], ","); got != a+","+b {
				t.Fatalf("device authorization resources %q", got)
			}
		case authtest.PathToken:
			polls++
			if got := strings.Join(req.PostForm["resource"], ","); got != a {
				t.Fatalf("token poll resources %q, want the first only", got)
			}
		}
	}
	if polls == 0 || h.record().Resource != a {
		t.Fatalf("%d polls, record resource %q", polls, h.record().Resource)
	}
}
