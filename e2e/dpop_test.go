package e2e

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/dpop"
)

// DPoP (RFC 9449) against the real oidc-provider: key-bound grants, nonces,
// replay from another key, EdDSA, dpop-proof (requirement 31).

// TestDPoP_BoundGrant_RealServer: login --dpop against a server that also
// demands nonces. The server's records show one key thumbprint on the code
// grant and every refresh; a refresh token replayed with another key is
// refused and the grant survives it; bearer-only helpers refuse the DPoP
// token; dpop-proof signs for the current token; logout deletes the key.
// (requirement 31)
func TestDPoP_BoundGrant_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 20 * time.Second, DPoPNonce: true})
	c := newCLI(t, srv, "e2e-dpop")
	// Every command at --debug: the key and tokens must stay out of the log.
	c.extraEnv = append(c.extraEnv, "SESAME_DEBUG=1")
	ctx := context.Background()

	if r := c.login("--dpop"); r.code != 0 {
		t.Fatalf("login --dpop: exit %d\n%s", r.code, r.stderr)
	}
	first := c.record()
	if first == nil || first.DPoPKey == "" {
		t.Fatal("the keychain record has no DPoP key after login --dpop")
	}
	key, err := dpop.Parse(first.DPoPKey)
	if err != nil {
		t.Fatal(err)
	}
	jkt := key.Thumbprint()
	if !strings.EqualFold(first.TokenType, "DPoP") {
		t.Fatalf("token_type after login = %q, want DPoP (oidc-provider binds the access token too)", first.TokenType)
	}
	claims, err := srv.IntrospectClaims(ctx, first.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if cnf, _ := claims["cnf"].(map[string]any); cnf == nil || cnf["jkt"] != jkt {
		t.Fatalf("introspection cnf = %v, want jkt %s", claims["cnf"], jkt)
	}

	// A script gets the token type and a proof for the current token.
	r := c.mustRun("token", "-p", c.name, "--output", "json")
	var tj struct{ AccessToken, TokenType string }
	if err := json.Unmarshal([]byte(r.stdout), &struct {
		A *string `json:"access_token"`
		T *string `json:"token_type"`
	}{&tj.AccessToken, &tj.TokenType}); err != nil {
		t.Fatal(err)
	}
	if tj.TokenType != "DPoP" || tj.AccessToken != first.AccessToken {
		t.Fatalf("token --output json: token_type %q", tj.TokenType)
	}
	r = c.mustRun("dpop-proof", "-p", c.name, "--method", "GET", "--url", "https://api.e2e.test/v1/me?x=1")
	checkProof(t, strings.TrimSpace(r.stdout), jkt, "GET", "https://api.e2e.test/v1/me", first.AccessToken)

	// Bearer-only callers are refused with an explanation, nothing on stdout.
	saved := c.extraEnv
	c.extraEnv = append(slices.Clone(saved), `KUBERNETES_EXEC_INFO={"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`)
	kr := c.run("kubectl", "-p", c.name)
	c.extraEnv = saved
	if kr.code == 0 || kr.stdout != "" || !strings.Contains(kr.stderr, "DPoP") {
		t.Fatalf("kubectl with a DPoP token: exit %d, stdout %q, stderr %q", kr.code, kr.stdout, kr.stderr)
	}

	// Two refreshes in fresh processes (each must learn the nonce anew).
	for i := range 2 {
		c.expire()
		c.mustRun("token", "-p", c.name)
		if n := refreshes(srv); n != i+1 {
			t.Fatalf("%d refreshes after %d expiries", n, i+1)
		}
	}
	grants := srv.Events("grant.success")
	if len(grants) != 3 {
		t.Fatalf("%d grant.success events, want 3 (code + 2 refreshes)", len(grants))
	}
	for _, g := range grants {
		if g.Str("refresh_token_jkt") != jkt || g.Str("access_token_jkt") != jkt {
			t.Fatalf("%s grant bound to refresh jkt %q / access jkt %q, want %s", g.Str("grant_type"), g.Str("refresh_token_jkt"), g.Str("access_token_jkt"), jkt)
		}
	}
	nonceAsked := 0
	for _, e := range srv.Events("request") {
		if e.Str("error") == "use_dpop_nonce" {
			nonceAsked++
		}
	}
	if nonceAsked == 0 {
		t.Fatal("the server never asked for a DPoP nonce: the nonce path was not exercised")
	}

	// A stolen refresh token is useless with another key, and without one;
	// the refusal does not end the real grant.
	stolen := c.record().RefreshToken
	other, _ := dpop.Generate()
	for _, k := range []*dpop.Key{other, nil} {
		status, code := refreshWith(t, srv, stolen, k)
		if status != http.StatusBadRequest || code != "invalid_grant" {
			t.Fatalf("replayed refresh (key %v): HTTP %d %q, want 400 invalid_grant", k != nil, status, code)
		}
	}
	c.expire()
	c.mustRun("token", "-p", c.name)
	if rec := c.record(); rec.RefreshToken == stolen || rec.DPoPKey != first.DPoPKey {
		t.Fatal("after the refused replays, the real grant did not refresh with its own key")
	}

	// The key lives in the keychain only, and logout deletes it with the grant.
	c.assertNoLeak(first.DPoPKey, first.AccessToken)
	c.mustRun("logout", "-p", c.name)
	if c.record() != nil {
		t.Fatal("logout left the record, and with it the DPoP key")
	}
}

// TestDPoP_EdDSA_RealServer: a server that offers EdDSA but not ES256 gets
// an Ed25519 key; the code grant and a refresh are bound to it.
func TestDPoP_EdDSA_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{DPoPAlgs: []string{"EdDSA"}})
	if got := strings.Join(srv.Metadata.DPoPSigningAlgValuesSupported, ","); got != "EdDSA" {
		t.Fatalf("server offers %q", got)
	}
	c := newCLI(t, srv, "e2e-eddsa")
	if r := c.login("--dpop"); r.code != 0 {
		t.Fatalf("login --dpop: exit %d\n%s", r.code, r.stderr)
	}
	key, err := dpop.Parse(c.record().DPoPKey)
	if err != nil || key.Alg() != dpop.AlgEdDSA {
		t.Fatalf("stored key: %v", err)
	}
	c.expire()
	c.mustRun("token", "-p", c.name)
	grants := srv.Events("grant.success")
	if len(grants) != 2 {
		t.Fatalf("%d grants, want the code grant and one refresh", len(grants))
	}
	for _, g := range grants {
		if g.Str("refresh_token_jkt") != key.Thumbprint() {
			t.Fatalf("%s grant bound to %q, want the Ed25519 key %s", g.Str("grant_type"), g.Str("refresh_token_jkt"), key.Thumbprint())
		}
	}
}

// TestDPoP_PlainLoginStaysUnbound_RealServer: the server offers DPoP, but a
// profile without --dpop sends no proof and keeps a Bearer grant, so
// kubectl and git keep working (the reason for making DPoP a
// per-profile choice). The refusal of a server without ES256 is tested in
// cmd/sesame, where the metadata can be changed.
func TestDPoP_PlainLoginStaysUnbound_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	if !slices.Contains(srv.Metadata.DPoPSigningAlgValuesSupported, "ES256") {
		t.Fatalf("the test server should offer ES256: %v", srv.Metadata.DPoPSigningAlgValuesSupported)
	}
	c := newCLI(t, srv, "e2e-plain")
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	if rec := c.record(); rec.DPoPKey != "" || !strings.EqualFold(rec.TokenType, "bearer") {
		t.Fatalf("a plain login stored a DPoP key or token type %q", rec.TokenType)
	}
	for _, g := range srv.Events("grant.success") {
		if g.Str("refresh_token_jkt") != "" {
			t.Fatal("a login without --dpop got a key-bound refresh token")
		}
	}
}

// refreshWith sends one refresh for refreshToken as the public client,
// with a DPoP proof from k (none when k is nil), and returns the status and
// error code.
func refreshWith(t *testing.T, srv *rig.Server, refreshToken string, k *dpop.Key) (int, string) {
	t.Helper()
	client := srv.HTTPClient
	if k != nil {
		client = dpop.Client(srv.HTTPClient, k, nil, srv.Metadata.TokenEndpoint)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {srv.ClientID}}
	resp, err := client.PostForm(srv.Metadata.TokenEndpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Error
}

// checkProof verifies a DPoP proof as a resource server would (RFC 9449
// §4.3): signature under its embedded key, that key's thumbprint, typ,
// htm, htu and ath.
func checkProof(t *testing.T, proof, jkt, method, htu, accessToken string) {
	t.Helper()
	sig, err := jose.ParseSigned(proof, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("proof: %v", err)
	}
	h := sig.Signatures[0].Protected
	if h.JSONWebKey == nil || h.ExtraHeaders["typ"] != "dpop+jwt" {
		t.Fatalf("proof header: typ %v, jwk %v", h.ExtraHeaders["typ"], h.JSONWebKey != nil)
	}
	tp, _ := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if base64.RawURLEncoding.EncodeToString(tp) != jkt {
		t.Fatal("the proof is signed with another key than the grant's")
	}
	payload, err := sig.Verify(h.JSONWebKey)
	if err != nil {
		t.Fatalf("proof signature: %v", err)
	}
	var c struct {
		JTI string `json:"jti"`
		HTM string `json:"htm"`
		HTU string `json:"htu"`
		ATH string `json:"ath"`
		IAT int64  `json:"iat"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(accessToken))
	if c.JTI == "" || c.HTM != method || c.HTU != htu || c.ATH != base64.RawURLEncoding.EncodeToString(sum[:]) ||
		time.Since(time.Unix(c.IAT, 0)).Abs() > time.Minute {
		t.Fatalf("proof claims: %+v", c)
	}
}
