package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// dpopKey is a client's DPoP key pair.
type dpopKey struct {
	priv *ecdsa.PrivateKey
	jkt  string
}

func newDPoPKey(t *testing.T) *dpopKey {
	t.Helper()
	return newDPoPKeyOn(t, elliptic.P256())
}

func newDPoPKeyOn(t *testing.T, curve elliptic.Curve) *dpopKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: &priv.PublicKey}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopKey{priv: priv, jkt: base64.RawURLEncoding.EncodeToString(thumb)}
}

// proofClaims are the claims of a fresh, correct proof for POST url.
func proofClaims(url string) map[string]any {
	return map[string]any{
		"jti": randomString(12),
		"htm": http.MethodPost,
		"htu": url,
		"iat": time.Now().Unix(),
	}
}

// sign makes a proof the way a client library would: go-jose with the
// public key embedded and typ dpop+jwt.
func (k *dpopKey) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// proof is sign with fresh claims for POST url, edited by edit.
func (k *dpopKey) proof(t *testing.T, url string, edit ...func(map[string]any)) string {
	t.Helper()
	c := proofClaims(url)
	for _, e := range edit {
		e(c)
	}
	return k.sign(t, c)
}

// handmade builds a proof byte by byte, so the header can say anything:
// jwk is embedded as given and the signature is ES256 by k.
func (k *dpopKey) handmade(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	return compactJWT(header, claims, func(input []byte) []byte {
		sum := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, k.priv, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	})
}

// jwkJSON returns key as a JWK object.
func jwkJSON(t *testing.T, key any) map[string]any {
	t.Helper()
	b, err := jose.JSONWebKey{Key: key}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

type dpopResponse struct {
	status int
	body   map[string]any
	header http.Header
}

// postDPoP posts form to path with one DPoP header per proof.
func postDPoP(t *testing.T, s *Server, path string, form url.Values, proofs ...string) dpopResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	return do(t, s, req)
}

func do(t *testing.T, s *Server, req *http.Request) dpopResponse {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	return dpopResponse{status: resp.StatusCode, body: body, header: resp.Header}
}

func (r dpopResponse) wantError(t *testing.T, status int, code string) {
	t.Helper()
	wantOAuthError(t, r.status, r.body, status, code)
}

func (r dpopResponse) wantOK(t *testing.T, tokenType string) (at, rt string) {
	t.Helper()
	if r.status != http.StatusOK || r.body["token_type"] != tokenType {
		t.Fatalf("got %d %v, want 200 token_type %s", r.status, r.body, tokenType)
	}
	at, _ = r.body["access_token"].(string)
	rt, _ = r.body["refresh_token"].(string)
	return at, rt
}

// pendingCode is an authorization code waiting to be redeemed.
type pendingCode struct {
	code, verifier, redirectURI, clientID string
}

func (c pendingCode) form() url.Values {
	return url.Values{
		"grant_type":    {GrantAuthorizationCode},
		"code":          {c.code},
		"redirect_uri":  {c.redirectURI},
		"client_id":     {c.clientID},
		"code_verifier": {c.verifier},
	}
}

// getCode runs /authorize for clientID without a browser and reads the code
// off the redirect; extra parameters are added to the request.
func getCode(t *testing.T, s *Server, clientID string, extra url.Values) pendingCode {
	t.Helper()
	c := pendingCode{verifier: oauth2.GenerateVerifier(), redirectURI: "http://127.0.0.1:49152/callback", clientID: clientID}
	q := url.Values{
		"client_id":             {clientID},
		"redirect_uri":          {c.redirectURI},
		"response_type":         {"code"},
		"scope":                 {"openid offline_access"},
		"state":                 {"st"},
		"code_challenge":        {S256Challenge(c.verifier)},
		"code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return redeemRedirect(t, s, c, s.URL()+PathAuthorize+"?"+q.Encode())
}

func redeemRedirect(t *testing.T, s *Server, c pendingCode, authURL string) pendingCode {
	t.Helper()
	resp, err := noRedirectClient(s).Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c.code = loc.Query().Get("code")
	return c
}

func refreshForm(s *Server, rt string) url.Values {
	return url.Values{"grant_type": {GrantRefreshToken}, "refresh_token": {rt}, "client_id": {s.ClientID}}
}

func TestDPoP_Metadata(t *testing.T) {
	if _, ok := New(t).Metadata()["dpop_signing_alg_values_supported"]; ok {
		t.Fatal("DPoP advertised while off")
	}
	algs, _ := New(t, WithDPoP(DPoPOptions{})).Metadata()["dpop_signing_alg_values_supported"].([]string)
	if len(algs) != 1 || algs[0] != "ES256" {
		t.Fatalf("dpop_signing_alg_values_supported = %v", algs)
	}
}

func TestDPoP_CodeBindsRefreshToken(t *testing.T) {
	s := New(t, WithDPoP(DPoPOptions{}))
	k, other := newDPoPKey(t), newDPoPKey(t)
	tokenURL := s.URL() + PathToken

	c := getCode(t, s, s.ClientID, nil)
	exProof := k.proof(t, tokenURL)
	r := postDPoP(t, s, PathToken, c.form(), exProof)
	at, rt := r.wantOK(t, "DPoP")
	if s.RefreshTokenJKT(rt) != k.jkt {
		t.Fatalf("refresh token bound to %q, want %q", s.RefreshTokenJKT(rt), k.jkt)
	}
	if r.header.Get("DPoP-Nonce") != "" {
		t.Fatal("DPoP-Nonce sent without RequireNonce")
	}
	iss := s.Issued()
	if len(iss) != 1 || iss[0].JKT != k.jkt || iss[0].TokenType != "DPoP" {
		t.Fatalf("issued %+v", iss)
	}
	proofs := s.DPoPProofs()
	if len(proofs) != 1 || proofs[0].JKT != k.jkt || proofs[0].Path != PathToken ||
		proofs[0].GrantType != GrantAuthorizationCode || proofs[0].HTM != "POST" || proofs[0].HTU != tokenURL || proofs[0].JTI == "" || proofs[0].IAT == 0 {
		t.Fatalf("proofs %+v", proofs)
	}
	// Introspection shows the binding (RFC 9449 §6.2).
	_, ib := post(t, s, PathIntrospect, url.Values{"token": {at}})
	if cnf, _ := ib["cnf"].(map[string]any); ib["token_type"] != "DPoP" || cnf["jkt"] != k.jkt {
		t.Fatalf("introspection %v", ib)
	}

	// Without a proof, or with another key: invalid_grant, and the grant
	// survives (no reuse detection, no revocation).
	postDPoP(t, s, PathToken, refreshForm(s, rt)).wantError(t, http.StatusBadRequest, "invalid_grant")
	postDPoP(t, s, PathToken, refreshForm(s, rt), other.proof(t, tokenURL)).wantError(t, http.StatusBadRequest, "invalid_grant")
	if s.Revoked(rt) || !s.Introspect(rt) || s.LatestRefreshToken() != rt {
		t.Fatal("a refused refresh touched the grant")
	}

	// The right key works, and the new refresh token is bound too.
	_, rt2 := postDPoP(t, s, PathToken, refreshForm(s, rt), k.proof(t, tokenURL)).wantOK(t, "DPoP")
	if rt2 == "" || rt2 == rt || s.RefreshTokenJKT(rt2) != k.jkt {
		t.Fatalf("rotated token %q bound to %q", rt2, s.RefreshTokenJKT(rt2))
	}
	if n := len(s.DPoPProofs()); n != 3 {
		t.Fatalf("%d proofs recorded, want 3 (exchange, other key, refresh)", n)
	}
	// Proofs are recorded with the requests, like anything else.
	var seen int
	for _, req := range s.RequestsTo(PathToken) {
		if req.Header.Get("DPoP") != "" {
			seen++
		}
	}
	if seen != 3 {
		t.Fatalf("%d token requests with a DPoP header recorded, want 3", seen)
	}
}

func TestDPoP_UnboundGrantStaysBearer(t *testing.T) {
	s := New(t, WithDPoP(DPoPOptions{}))
	c := getCode(t, s, s.ClientID, nil)
	_, rt := postDPoP(t, s, PathToken, c.form()).wantOK(t, "Bearer")
	if s.RefreshTokenJKT(rt) != "" {
		t.Fatal("bound without a proof")
	}
	postDPoP(t, s, PathToken, refreshForm(s, rt)).wantOK(t, "Bearer")
}

func TestDPoP_BearerAccessTokens(t *testing.T) {
	s := New(t, WithDPoP(DPoPOptions{BearerAccessTokens: true}))
	k := newDPoPKey(t)
	c := getCode(t, s, s.ClientID, nil)
	at, rt := postDPoP(t, s, PathToken, c.form(), k.proof(t, s.URL()+PathToken)).wantOK(t, "Bearer")
	if s.RefreshTokenJKT(rt) != k.jkt {
		t.Fatal("refresh token not bound")
	}
	_, ib := post(t, s, PathIntrospect, url.Values{"token": {at}})
	if ib["token_type"] != "Bearer" || ib["cnf"] != nil {
		t.Fatalf("introspection %v", ib)
	}
	postDPoP(t, s, PathToken, refreshForm(s, rt)).wantError(t, http.StatusBadRequest, "invalid_grant")
}

func TestDPoP_NonceRoundTrip(t *testing.T) {
	s := New(t, WithDPoP(DPoPOptions{RequireNonce: true}))
	k := newDPoPKey(t)
	tokenURL := s.URL() + PathToken
	c := getCode(t, s, s.ClientID, nil)

	r := postDPoP(t, s, PathToken, c.form(), k.proof(t, tokenURL))
	r.wantError(t, http.StatusBadRequest, "use_dpop_nonce")
	nonce := r.header.Get("DPoP-Nonce")
	if nonce == "" || nonce != s.DPoPNonce() {
		t.Fatalf("DPoP-Nonce %q, server nonce %q", nonce, s.DPoPNonce())
	}
	// The code was not spent: the retry with the nonce succeeds and gets
	// the nonce again.
	withNonce := func(c map[string]any) { c["nonce"] = nonce }
	r = postDPoP(t, s, PathToken, c.form(), k.proof(t, tokenURL, withNonce))
	_, rt := r.wantOK(t, "DPoP")
	if r.header.Get("DPoP-Nonce") != nonce {
		t.Fatalf("success without DPoP-Nonce: %v", r.header)
	}
	if p := s.DPoPProofs(); len(p) != 2 || p[0].Nonce != "" || p[1].Nonce != nonce {
		t.Fatalf("proofs %+v", p)
	}

	// A rotated nonce makes the old one stale.
	fresh := s.RotateDPoPNonce()
	if fresh == nonce || s.DPoPNonce() != fresh {
		t.Fatal("nonce did not rotate")
	}
	r = postDPoP(t, s, PathToken, refreshForm(s, rt), k.proof(t, tokenURL, withNonce))
	r.wantError(t, http.StatusBadRequest, "use_dpop_nonce")
	if r.header.Get("DPoP-Nonce") != fresh {
		t.Fatalf("DPoP-Nonce %q, want %q", r.header.Get("DPoP-Nonce"), fresh)
	}
	postDPoP(t, s, PathToken, refreshForm(s, rt), k.proof(t, tokenURL, func(c map[string]any) { c["nonce"] = fresh })).wantOK(t, "DPoP")
}

func TestDPoP_ReplayedJTIRefused(t *testing.T) {
	s := New(t, WithDPoP(DPoPOptions{}))
	k := newDPoPKey(t)
	c := getCode(t, s, s.ClientID, nil)
	_, rt := postDPoP(t, s, PathToken, c.form(), k.proof(t, s.URL()+PathToken)).wantOK(t, "DPoP")

	p := k.proof(t, s.URL()+PathToken)
	_, rt2 := postDPoP(t, s, PathToken, refreshForm(s, rt), p).wantOK(t, "DPoP")
	postDPoP(t, s, PathToken, refreshForm(s, rt2), p).wantError(t, http.StatusBadRequest, "invalid_dpop_proof")
	// A new proof with the same jti is a replay too.
	var claims map[string]any
	if err := json.Unmarshal(mustSegment(t, p, 1), &claims); err != nil {
		t.Fatal(err)
	}
	jti := claims["jti"]
	postDPoP(t, s, PathToken, refreshForm(s, rt2), k.proof(t, s.URL()+PathToken, func(c map[string]any) { c["jti"] = jti })).
		wantError(t, http.StatusBadRequest, "invalid_dpop_proof")
	if s.LatestRefreshToken() != rt2 || len(s.DPoPProofs()) != 2 {
		t.Fatalf("replays changed state: proofs %+v", s.DPoPProofs())
	}
	postDPoP(t, s, PathToken, refreshForm(s, rt2), k.proof(t, s.URL()+PathToken)).wantOK(t, "DPoP")
}

func mustSegment(t *testing.T, jws string, i int) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDPoP_InvalidProofsRefused(t *testing.T) {
	s := New(t, WithDPoP(DPoPOptions{}))
	k := newDPoPKey(t)
	tokenURL := s.URL() + PathToken
	pub := jwkJSON(t, &k.priv.PublicKey)
	header := func(edit func(h map[string]any)) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": pub}
		if edit != nil {
			edit(h)
		}
		return h
	}
	claim := func(name string, v any) func(map[string]any) {
		return func(c map[string]any) {
			if v == nil {
				delete(c, name)
				return
			}
			c[name] = v
		}
	}
	p384 := newDPoPKeyOn(t, elliptic.P384())
	p384Proof, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES384, Key: p384.priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	es384 := func() string {
		payload, _ := json.Marshal(proofClaims(tokenURL))
		obj, err := p384Proof.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := obj.CompactSerialize()
		return out
	}

	tests := map[string]func() []string{
		"not a JWS":        func() []string { return []string{"not-a-jwt"} },
		"empty header":     func() []string { return []string{""} },
		"two DPoP headers": func() []string { return []string{k.proof(t, tokenURL), k.proof(t, tokenURL)} },
		"wrong htu path":   func() []string { return []string{k.proof(t, s.URL()+PathPAR)} },
		"wrong htu host":   func() []string { return []string{k.proof(t, "https://as.example.test"+PathToken)} },
		"wrong htm":        func() []string { return []string{k.proof(t, tokenURL, claim("htm", "GET"))} },
		"no htm":           func() []string { return []string{k.proof(t, tokenURL, claim("htm", nil))} },
		"no jti":           func() []string { return []string{k.proof(t, tokenURL, claim("jti", nil))} },
		"no iat":           func() []string { return []string{k.proof(t, tokenURL, claim("iat", nil))} },
		"iat as string":    func() []string { return []string{k.proof(t, tokenURL, claim("iat", "1700000000"))} },
		"iat too old": func() []string {
			return []string{k.proof(t, tokenURL, claim("iat", time.Now().Add(-2*time.Minute).Unix()))}
		},
		"iat in future": func() []string {
			return []string{k.proof(t, tokenURL, claim("iat", time.Now().Add(2*time.Minute).Unix()))}
		},
		"typ JWT": func() []string {
			return []string{k.handmade(t, header(func(h map[string]any) { h["typ"] = "JWT" }), proofClaims(tokenURL))}
		},
		"no typ": func() []string {
			return []string{k.handmade(t, header(func(h map[string]any) { delete(h, "typ") }), proofClaims(tokenURL))}
		},
		"alg none": func() []string {
			h := header(func(h map[string]any) { h["alg"] = "none" })
			return []string{compactJWT(h, proofClaims(tokenURL), nil)}
		},
		"alg HS256": func() []string {
			return []string{HS256JWT(proofClaims(tokenURL), []byte("0123456789abcdef0123456789abcdef"), "")}
		},
		"alg ES384 on P-384": func() []string { return []string{es384()} },
		"private jwk": func() []string {
			return []string{k.handmade(t, header(func(h map[string]any) { h["jwk"] = jwkJSON(t, k.priv) }), proofClaims(tokenURL))}
		},
		"no jwk": func() []string {
			return []string{k.handmade(t, header(func(h map[string]any) { delete(h, "jwk") }), proofClaims(tokenURL))}
		},
		"jwk of another key": func() []string {
			h := header(func(h map[string]any) { h["jwk"] = jwkJSON(t, &newDPoPKey(t).priv.PublicKey) })
			return []string{k.handmade(t, h, proofClaims(tokenURL))}
		},
		"tampered payload": func() []string {
			parts := strings.Split(k.proof(t, tokenURL), ".")
			c := proofClaims(tokenURL)
			b, _ := json.Marshal(c)
			parts[1] = base64.RawURLEncoding.EncodeToString(b)
			return []string{strings.Join(parts, ".")}
		},
	}
	// why holds what each refusal's error_description must mention, so a
	// case cannot pass for the wrong reason.
	why := map[string]string{
		"not a JWS":          "three parts",
		"empty header":       "three parts",
		"two DPoP headers":   "exactly one DPoP header",
		"wrong htu path":     "htu",
		"wrong htu host":     "htu",
		"wrong htm":          "htm",
		"no htm":             "htm",
		"no jti":             "jti",
		"no iat":             "iat",
		"iat as string":      "iat",
		"iat too old":        "iat",
		"iat in future":      "iat",
		"typ JWT":            "typ",
		"no typ":             "typ",
		"alg none":           `algorithm "none"`,
		"alg HS256":          `algorithm "HS256"`,
		"alg ES384 on P-384": `algorithm "ES384"`,
		"private jwk":        "public key",
		"no jwk":             "public key",
		"jwk of another key": "signature",
		"tampered payload":   "signature",
	}
	c := getCode(t, s, s.ClientID, nil)
	for name, proofs := range tests {
		t.Run(name, func(t *testing.T) {
			r := postDPoP(t, s, PathToken, c.form(), proofs()...)
			r.wantError(t, http.StatusBadRequest, "invalid_dpop_proof")
			if desc, _ := r.body["error_description"].(string); !strings.Contains(desc, why[name]) {
				t.Fatalf("error_description %q, want it to mention %q", desc, why[name])
			}
		})
	}
	if len(s.DPoPProofs()) != 0 {
		t.Fatalf("invalid proofs recorded: %+v", s.DPoPProofs())
	}
	// None of them reached the grant: the code is still good.
	postDPoP(t, s, PathToken, c.form(), k.handmade(t, header(nil), proofClaims(tokenURL))).wantOK(t, "DPoP")
}

func TestDPoP_ServerClock(t *testing.T) {
	offset := 10 * time.Minute
	s := New(t, WithDPoP(DPoPOptions{}), WithClock(func() time.Time { return time.Now().Add(offset) }))
	k := newDPoPKey(t)
	c := getCode(t, s, s.ClientID, nil)
	postDPoP(t, s, PathToken, c.form(), k.proof(t, s.URL()+PathToken)).wantError(t, http.StatusBadRequest, "invalid_dpop_proof")
	postDPoP(t, s, PathToken, c.form(), k.proof(t, s.URL()+PathToken, func(c map[string]any) { c["iat"] = time.Now().Add(offset).Unix() })).wantOK(t, "DPoP")
}

func TestDPoP_OffIgnoresHeader(t *testing.T) {
	s := New(t)
	c := getCode(t, s, s.ClientID, nil)
	_, rt := postDPoP(t, s, PathToken, c.form(), "garbage").wantOK(t, "Bearer")
	if s.RefreshTokenJKT(rt) != "" || len(s.DPoPProofs()) != 0 {
		t.Fatal("DPoP processed while off")
	}
}

func TestDPoP_PARBindsCode(t *testing.T) {
	s := New(t, WithPAR(false), WithDPoP(DPoPOptions{}))
	k, other := newDPoPKey(t), newDPoPKey(t)
	push := func(extra url.Values, proofs ...string) (pendingCode, dpopResponse) {
		c := pendingCode{verifier: oauth2.GenerateVerifier(), redirectURI: "http://127.0.0.1:49152/callback", clientID: s.ClientID}
		form := url.Values{
			"client_id":             {s.ClientID},
			"redirect_uri":          {c.redirectURI},
			"response_type":         {"code"},
			"scope":                 {"openid offline_access"},
			"code_challenge":        {S256Challenge(c.verifier)},
			"code_challenge_method": {"S256"},
		}
		for k, v := range extra {
			form[k] = v
		}
		r := postDPoP(t, s, PathPAR, form, proofs...)
		if r.status != http.StatusCreated {
			return c, r
		}
		ref, _ := r.body["request_uri"].(string)
		return redeemRedirect(t, s, c, s.URL()+PathAuthorize+"?"+url.Values{"client_id": {s.ClientID}, "request_uri": {ref}}.Encode()), r
	}
	parURL, tokenURL := s.URL()+PathPAR, s.URL()+PathToken

	// A proof at the PAR endpoint binds the code.
	c, _ := push(nil, k.proof(t, parURL))
	if az := s.AuthorizeRequests(); az[len(az)-1].DPoPJKT != k.jkt {
		t.Fatalf("authorize request %+v", az[len(az)-1])
	}
	postDPoP(t, s, PathToken, c.form(), other.proof(t, tokenURL)).wantError(t, http.StatusBadRequest, "invalid_grant")
	c, _ = push(nil, k.proof(t, parURL))
	postDPoP(t, s, PathToken, c.form()).wantError(t, http.StatusBadRequest, "invalid_grant")
	c, _ = push(nil, k.proof(t, parURL))
	if _, rt := postDPoP(t, s, PathToken, c.form(), k.proof(t, tokenURL)).wantOK(t, "DPoP"); s.RefreshTokenJKT(rt) != k.jkt {
		t.Fatal("refresh token not bound")
	}
	if p := s.DPoPProofs(); p[0].Path != PathPAR || p[0].HTU != parURL || p[0].GrantType != "" {
		t.Fatalf("PAR proof %+v", p[0])
	}

	// A proof meant for the token endpoint is refused at PAR.
	_, r := push(nil, k.proof(t, tokenURL))
	r.wantError(t, http.StatusBadRequest, "invalid_dpop_proof")
	// dpop_jkt in a pushed request binds without a proof, and must agree
	// with the proof when both are there.
	c, _ = push(url.Values{"dpop_jkt": {k.jkt}})
	postDPoP(t, s, PathToken, c.form()).wantError(t, http.StatusBadRequest, "invalid_grant")
	_, r = push(url.Values{"dpop_jkt": {other.jkt}}, k.proof(t, parURL))
	r.wantError(t, http.StatusBadRequest, "invalid_dpop_proof")
}

func TestDPoP_PARNonce(t *testing.T) {
	s := New(t, WithPAR(false), WithDPoP(DPoPOptions{RequireNonce: true}))
	k := newDPoPKey(t)
	form := url.Values{
		"client_id":             {s.ClientID},
		"redirect_uri":          {"http://127.0.0.1:49152/callback"},
		"response_type":         {"code"},
		"code_challenge":        {S256Challenge(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"},
	}
	r := postDPoP(t, s, PathPAR, form, k.proof(t, s.URL()+PathPAR))
	r.wantError(t, http.StatusBadRequest, "use_dpop_nonce")
	nonce := r.header.Get("DPoP-Nonce")
	r = postDPoP(t, s, PathPAR, form, k.proof(t, s.URL()+PathPAR, func(c map[string]any) { c["nonce"] = nonce }))
	if r.status != http.StatusCreated || r.header.Get("DPoP-Nonce") != nonce {
		t.Fatalf("PAR with nonce: %d %v %v", r.status, r.body, r.header)
	}
}

func TestDPoP_FrontChannelJKT(t *testing.T) {
	s := New(t, WithDPoP(DPoPOptions{}))
	k, other := newDPoPKey(t), newDPoPKey(t)
	tokenURL := s.URL() + PathToken

	c := getCode(t, s, s.ClientID, url.Values{"dpop_jkt": {k.jkt}})
	postDPoP(t, s, PathToken, c.form()).wantError(t, http.StatusBadRequest, "invalid_grant")
	c = getCode(t, s, s.ClientID, url.Values{"dpop_jkt": {k.jkt}})
	postDPoP(t, s, PathToken, c.form(), other.proof(t, tokenURL)).wantError(t, http.StatusBadRequest, "invalid_grant")
	c = getCode(t, s, s.ClientID, url.Values{"dpop_jkt": {k.jkt}})
	postDPoP(t, s, PathToken, c.form(), k.proof(t, tokenURL)).wantOK(t, "DPoP")

	// A malformed dpop_jkt is an error redirected to the client.
	resp, err := noRedirectClient(s).Get(s.URL() + PathAuthorize + "?" + url.Values{
		"client_id": {s.ClientID}, "redirect_uri": {"http://127.0.0.1:49152/callback"}, "response_type": {"code"},
		"code_challenge": {S256Challenge(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
		"dpop_jkt": {"short"},
	}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusFound || loc.Query().Get("error") != "invalid_request" {
		t.Fatalf("malformed dpop_jkt: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestDPoP_DeviceGrant(t *testing.T) {
	s := New(t, WithDPoP(DPoPOptions{}))
	k := newDPoPKey(t)
	tokenURL := s.URL() + PathToken
	_, body := post(t, s, PathDeviceAuthorization, url.Values{"client_id": {s.ClientID}, "scope": {"openid"}})
	dc, _ := body["device_code"].(string)
	form := url.Values{"grant_type": {GrantDeviceCode}, "device_code": {dc}, "client_id": {s.ClientID}}
	postDPoP(t, s, PathToken, form, k.proof(t, tokenURL)).wantError(t, http.StatusBadRequest, "authorization_pending")
	if err := s.ApproveDevice(s.LastUserCode()); err != nil {
		t.Fatal(err)
	}
	_, rt := postDPoP(t, s, PathToken, form, k.proof(t, tokenURL)).wantOK(t, "DPoP")
	if s.RefreshTokenJKT(rt) != k.jkt {
		t.Fatal("device grant not bound")
	}
	postDPoP(t, s, PathToken, refreshForm(s, rt)).wantError(t, http.StatusBadRequest, "invalid_grant")
	if p := s.DPoPProofs(); len(p) != 2 || p[1].GrantType != GrantDeviceCode {
		t.Fatalf("proofs %+v", p)
	}
}

func TestDPoP_Userinfo(t *testing.T) {
	s := New(t, WithDPoP(DPoPOptions{}))
	k := newDPoPKey(t)
	c := getCode(t, s, s.ClientID, nil)
	at, _ := postDPoP(t, s, PathToken, c.form(), k.proof(t, s.URL()+PathToken)).wantOK(t, "DPoP")
	userinfo := func(scheme string, proof string) dpopResponse {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+PathUserinfo, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", scheme+" "+at)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		return do(t, s, req)
	}
	get := func(c map[string]any) { c["htm"] = http.MethodGet }
	ath := func(c map[string]any) { c["ath"] = S256Challenge(at) }
	uiURL := s.URL() + PathUserinfo

	if r := userinfo("Bearer", ""); r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "DPoP ") {
		t.Fatalf("bound token as bearer: %d %v", r.status, r.header)
	}
	if r := userinfo("DPoP", k.proof(t, uiURL, get)); r.status != http.StatusUnauthorized || r.body["error"] != "invalid_dpop_proof" {
		t.Fatalf("proof without ath: %d %v", r.status, r.body)
	}
	if r := userinfo("DPoP", newDPoPKey(t).proof(t, uiURL, get, ath)); r.status != http.StatusUnauthorized {
		t.Fatalf("proof by another key: %d %v", r.status, r.body)
	}
	if r := userinfo("DPoP", k.proof(t, uiURL, get, ath)); r.status != http.StatusOK || r.body["sub"] != "alice" {
		t.Fatalf("DPoP userinfo: %d %v", r.status, r.body)
	}
}
