package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/dpop"
	"github.com/sesame-auth/sesame/internal/profile"
)

// DPoP (RFC 9449, requirement 31) in process: login --dpop,
// proofs and nonces, bearer-only callers, dpop-proof, status.

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
	h.as.Configure(authtest.WithDeviceTiming(time.Minute, time.Second), authtest.WithDeviceAutoApprove())
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
