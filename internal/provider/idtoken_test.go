package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const testClientID = "sesame-cli"

// idp is a test issuer: metadata, a JWKS with an ES256 key "k1" and an
// EdDSA key "k2", and a signer for ID token variants.
type idp struct {
	t         *testing.T
	meta      *Metadata
	client    *http.Client
	es        *ecdsa.PrivateKey
	ed        ed25519.PrivateKey
	jwksJSON  []byte
	jwksFetch atomic.Int32
	jwksBody  atomic.Value // []byte override, for misbehaving variants
	jwksCode  atomic.Int32
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	es, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{t: t, es: es, ed: ed}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &es.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"},
		{Key: ed.Public(), KeyID: "k2", Algorithm: "EdDSA", Use: "sig"},
	}}
	if p.jwksJSON, err = json.Marshal(set); err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		p.jwksFetch.Add(1)
		body := p.jwksJSON
		if b, ok := p.jwksBody.Load().([]byte); ok {
			body = b
		}
		code := http.StatusOK
		if c := p.jwksCode.Load(); c != 0 {
			code = int(c)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write(body)
	})
	p.meta = &Metadata{Issuer: srv.URL, TokenEndpoint: srv.URL + "/token", JWKSURI: srv.URL + "/jwks"}
	p.client = clientFor(t, srv, Options{})
	return p
}

// claims returns a valid claim set for testClientID at now.
func (p *idp) claims(now time.Time) map[string]any {
	return map[string]any{
		"iss":   p.meta.Issuer,
		"sub":   "user-1",
		"aud":   testClientID,
		"exp":   now.Add(time.Hour).Unix(),
		"iat":   now.Unix(),
		"nonce": "nonce-1",
		"email": "u@example.com",
		"name":  "U Ser",
	}
}

func (p *idp) sign(alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	p.t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		p.t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		p.t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		p.t.Fatal(err)
	}
	return raw
}

// unsigned builds an alg "none" token by hand: go-jose will not.
func unsigned(claims map[string]any) string {
	enc := base64.RawURLEncoding
	payload, _ := json.Marshal(claims)
	return enc.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`)) + "." + enc.EncodeToString(payload) + "."
}

func TestVerifyIDToken_Req09_Req24_Req32(t *testing.T) {
	p := newIDP(t)
	now := time.Now()
	clock := func() time.Time { return now }
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecdhPub, err := p.es.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}

	es := func(edit func(c map[string]any)) string {
		c := p.claims(now)
		if edit != nil {
			edit(c)
		}
		return p.sign(jose.ES256, p.es, "k1", c)
	}

	tests := []struct {
		name      string
		raw       string
		nonce     string
		wantErr   string // substring; "" means valid
		wantClock bool
	}{
		{"valid ES256", es(nil), "nonce-1", "", false},
		{"valid EdDSA", p.sign(jose.EdDSA, p.ed, "k2", p.claims(now)), "nonce-1", "", false},
		{"aud as one-element array", es(func(c map[string]any) { c["aud"] = []string{testClientID} }), "nonce-1", "", false},
		{"azp equal to client", es(func(c map[string]any) { c["azp"] = testClientID }), "nonce-1", "", false},
		{"no nonce expected (refresh)", es(nil), "", "", false},
		{"exp within leeway", es(func(c map[string]any) { c["exp"] = now.Add(-4 * time.Minute).Unix() }), "nonce-1", "", false},
		{"iat within leeway", es(func(c map[string]any) { c["iat"] = now.Add(4 * time.Minute).Unix() }), "nonce-1", "", false},

		{"alg none", unsigned(p.claims(now)), "nonce-1", "none", false},
		{"HS256 keyed with the JWKS", p.sign(jose.HS256, p.jwksJSON, "k1", p.claims(now)), "nonce-1", "HS256", false},
		{"HS256 keyed with the public key", p.sign(jose.HS256, ecdhPub.Bytes(), "k1", p.claims(now)), "nonce-1", "HS256", false},
		{"unknown kid", p.sign(jose.ES256, other, "k9", p.claims(now)), "nonce-1", "signature", false},
		{"known kid, other key", p.sign(jose.ES256, other, "k1", p.claims(now)), "nonce-1", "signature", false},
		{"wrong iss", es(func(c map[string]any) { c["iss"] = "https://evil.example" }), "nonce-1", "different provider", false},
		{"iss with trailing slash", es(func(c map[string]any) { c["iss"] = p.meta.Issuer + "/" }), "nonce-1", "different provider", false},
		{"aud other", es(func(c map[string]any) { c["aud"] = "other" }), "nonce-1", "audience", false},
		{"aud client and other", es(func(c map[string]any) { c["aud"] = []string{testClientID, "other"} }), "nonce-1", "untrusted extra audience", false},
		{"azp other", es(func(c map[string]any) { c["azp"] = "other" }), "nonce-1", "azp", false},
		{"exp 6 min past", es(func(c map[string]any) { c["exp"] = now.Add(-6 * time.Minute).Unix() }), "nonce-1", "expired", true},
		{"iat 10 min ahead", es(func(c map[string]any) { c["iat"] = now.Add(10 * time.Minute).Unix() }), "nonce-1", "future", true},
		{"iat missing", es(func(c map[string]any) { delete(c, "iat") }), "nonce-1", "iat", false},
		{"nonce mismatch", es(func(c map[string]any) { c["nonce"] = "nonce-2" }), "nonce-1", "nonce", false},
		{"nonce missing", es(func(c map[string]any) { delete(c, "nonce") }), "nonce-1", "nonce", false},
		{"sub missing", es(func(c map[string]any) { delete(c, "sub") }), "nonce-1", "sub", false},
		{"garbage", "not.a.jwt", "nonce-1", "malformed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := VerifyIDToken(context.Background(), p.client, p.meta, testClientID, tt.raw, tt.nonce, clock)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected a valid token: %v", err)
				}
				if id.Subject != "user-1" || id.Issuer != p.meta.Issuer || id.Email != "u@example.com" || id.Name != "U Ser" ||
					id.Expiry.IsZero() || id.IssuedAt.IsZero() {
					t.Errorf("id = %+v", id)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", id)
			}
			t.Log(err)
			var ide *IDTokenError
			if !errors.As(err, &ide) || !strings.HasPrefix(err.Error(), "id token: ") {
				t.Errorf("error type %T: %v", err, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %q, want it to mention %q", err, tt.wantErr)
			}
			if ide != nil && ide.ClockSkew != tt.wantClock {
				t.Errorf("ClockSkew = %v, want %v", ide.ClockSkew, tt.wantClock)
			}
			if tt.wantClock && !strings.Contains(err.Error(), "check the system clock") {
				t.Errorf("no clock hint: %v", err)
			}
			if strings.Contains(err.Error(), tt.raw) || strings.Contains(err.Error(), "eyJ") {
				t.Errorf("error quotes the token: %v", err)
			}
		})
	}
}

func TestVerifyIDToken_UnverifiedEmail(t *testing.T) {
	p := newIDP(t)
	c := p.claims(time.Now())
	c["email_verified"] = false
	id, err := VerifyIDToken(context.Background(), p.client, p.meta, testClientID, p.sign(jose.ES256, p.es, "k1", c), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if id.Email != "" {
		t.Errorf("unverified email kept: %q", id.Email)
	}
}

func TestVerifyIDToken_KeySetCached(t *testing.T) {
	p := newIDP(t)
	raw := p.sign(jose.ES256, p.es, "k1", p.claims(time.Now()))
	for range 3 {
		if _, err := VerifyIDToken(context.Background(), p.client, p.meta, testClientID, raw, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.jwksFetch.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times for 3 verifications", n)
	}
}

func TestVerifyIDToken_JWKSErrorsSanitized_Req23_Req37(t *testing.T) {
	p := newIDP(t)
	raw := p.sign(jose.ES256, p.es, "k1", p.claims(time.Now()))

	p.jwksCode.Store(http.StatusInternalServerError)
	p.jwksBody.Store([]byte(`{"refresh_token":"SNTL-RT","msg":"` + "\x1b[31m" + `"}`))
	_, err := VerifyIDToken(context.Background(), p.client, p.meta, testClientID, raw, "", nil)
	if err == nil || strings.Contains(err.Error(), "SNTL") || strings.Contains(err.Error(), "\x1b") {
		t.Errorf("err = %q", err)
	}

	// A JWKS over 256 KiB is refused even though other bodies may be 1 MiB.
	p2 := newIDP(t)
	p2.jwksBody.Store([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", 300<<10) + `"}`))
	_, err = VerifyIDToken(context.Background(), p2.client, p2.meta, testClientID, p2.sign(jose.ES256, p2.es, "k1", p2.claims(time.Now())), "", nil)
	if err == nil || !strings.Contains(err.Error(), "256 KiB") {
		t.Errorf("err = %v", err)
	}
}

func TestVerifyIDToken_Misuse(t *testing.T) {
	p := newIDP(t)
	raw := p.sign(jose.ES256, p.es, "k1", p.claims(time.Now()))
	if _, err := VerifyIDToken(context.Background(), p.client, &Metadata{Issuer: p.meta.Issuer}, testClientID, raw, "", nil); err == nil {
		t.Error("no jwks_uri accepted")
	}
	if _, err := VerifyIDToken(context.Background(), p.client, p.meta, "", raw, "", nil); err == nil {
		t.Error("empty client id accepted")
	}
	if _, err := VerifyIDToken(context.Background(), nil, p.meta, testClientID, raw, "", nil); err == nil {
		t.Error("nil client accepted")
	}
}

func TestCheckSameSubject_Req24(t *testing.T) {
	a := &IDToken{Issuer: "https://as.example", Subject: "u1"}
	if err := CheckSameSubject(a, &IDToken{Issuer: "https://as.example", Subject: "u1", Email: "new@example.com"}); err != nil {
		t.Errorf("same subject: %v", err)
	}
	for _, b := range []*IDToken{
		{Issuer: "https://as.example", Subject: "u2"},
		{Issuer: "https://as.example/", Subject: "u1"},
		nil,
	} {
		if err := CheckSameSubject(a, b); err == nil {
			t.Errorf("%+v accepted", b)
		}
	}
}
