package authtest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DPoPOptions configures DPoP (RFC 9449), see [WithDPoP].
type DPoPOptions struct {
	// RequireNonce makes every proof carry the server's current nonce
	// ([Server.DPoPNonce]). A proof without it, or with another, is answered
	// 400 {"error":"use_dpop_nonce"} with the nonce in a DPoP-Nonce header
	// (RFC 9449 §8); the request is not processed, so no code is spent. The
	// header is also sent on every other token and PAR response.
	RequireNonce bool
	// Algs are the proof algorithms announced and accepted: "ES256",
	// "EdDSA" (Ed25519, RFC 8037) or both. Empty means ES256 only.
	Algs []string
	// BearerAccessTokens binds only the refresh token and answers
	// token_type "Bearer", as RFC 9449 §5 allows for public clients.
	BearerAccessTokens bool
}

// WithDPoP turns DPoP (RFC 9449) on; it is off by default, and a server
// without it ignores DPoP headers and dpop_jkt. With it the metadata
// announces dpop_signing_alg_values_supported (DPoPOptions.Algs, default
// ["ES256"]), and the token and PAR endpoints check the proof in a DPoP
// header whenever there is one:
//
//   - a compact JWS with typ "dpop+jwt", an announced alg, and in jwk the
//     public key of that alg (EC P-256 for ES256, Ed25519 for EdDSA) that
//     verifies the signature;
//   - htm "POST", htu the endpoint's URL (query and fragment ignored), iat
//     within 60 s of the server's clock, a jti never seen before and, with
//     RequireNonce, the current nonce.
//
// A bad proof, or more than one DPoP header, is answered 400
// {"error":"invalid_dpop_proof"}. A code or device code redeemed with a
// proof yields a refresh token bound to the proof's key and, unless
// BearerAccessTokens, an access token of token_type "DPoP". A bound refresh
// token used without a proof or with another key gets 400 invalid_grant,
// and its grant stays valid. A dpop_jkt authorization parameter, or a proof
// sent with a pushed authorization request, binds the code the same way
// (RFC 9449 §10). The userinfo endpoint accepts DPoP-bound access tokens
// only with the DPoP scheme and a proof carrying ath.
func WithDPoP(o DPoPOptions) Option { return func(c *config) { c.dpop = &o } }

// algs are the proof algorithms the server announces and accepts.
func (o *DPoPOptions) algs() []string {
	if len(o.Algs) == 0 {
		return []string{string(jose.ES256)}
	}
	return slices.Clone(o.Algs)
}

// DPoPProof is a DPoP proof the server checked and found valid, whether or
// not the request then succeeded (a proof refused only for its nonce is
// included; a replayed one is not).
type DPoPProof struct {
	// Path is the endpoint the proof was sent to, e.g. [PathToken].
	Path string
	// GrantType is the grant_type of a token request, "" elsewhere.
	GrantType string
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's key,
	// base64url-encoded.
	JKT string
	// JTI, HTM, HTU, Nonce and ATH are the proof's claims ("" if absent).
	JTI, HTM, HTU, Nonce, ATH string
	IAT                       int64
}

// Header names of RFC 9449.
const (
	headerDPoP      = "DPoP"
	headerDPoPNonce = "DPoP-Nonce"
)

// dpopMaxSkew is how far a proof's iat may stray from the server's clock.
const dpopMaxSkew = 60 * time.Second

// dpopState is the server's memory of DPoP; it lives in the store, under
// Server.mu.
type dpopState struct {
	nonce  string
	jtis   map[string]bool
	proofs []DPoPProof
}

// DPoPProofs returns every valid DPoP proof the server checked, oldest
// first.
func (s *Server) DPoPProofs() []DPoPProof {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.dpop.proofs)
}

// DPoPNonce returns the nonce proofs must carry under
// DPoPOptions.RequireNonce. It stays the same until
// [Server.RotateDPoPNonce].
func (s *Server) DPoPNonce() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dpopNonceLocked()
}

// RotateDPoPNonce replaces the current DPoP nonce with a new one and
// returns it, so a test can see a client recover from a stale nonce.
func (s *Server) RotateDPoPNonce() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.dpop.nonce = ""
	return s.dpopNonceLocked()
}

// RefreshTokenJKT returns the DPoP key thumbprint refreshToken is bound to,
// "" when it is not bound or not known.
func (s *Server) RefreshTokenJKT(refreshToken string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt := s.st.refresh[refreshToken]; rt != nil {
		return rt.fam.jkt
	}
	return ""
}

// dpopNonceLocked returns the current nonce, minting the first one. A nonce
// is public, hence no "SNTL-" prefix. The caller holds s.mu.
func (s *Server) dpopNonceLocked() string {
	if s.st.dpop.nonce == "" {
		s.st.dpop.nonce = "nonce-" + randomString(16)
	}
	return s.st.dpop.nonce
}

// setDPoPNonceHeader sends the current nonce when proofs need one.
func (s *Server) setDPoPNonceHeader(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.cfg.dpop; o != nil && o.RequireNonce {
		w.Header().Set(headerDPoPNonce, s.dpopNonceLocked())
	}
}

func invalidProof(desc string) *oauthError { return badRequest("invalid_dpop_proof", desc) }

// checkDPoP checks the DPoP header of a token or PAR request and returns
// the thumbprint of the proof's key, or "" when DPoP is off or the request
// carries no proof.
func (s *Server) checkDPoP(r *http.Request, grantType string) (string, *oauthError) {
	s.mu.Lock()
	on := s.cfg.dpop != nil
	s.mu.Unlock()
	if !on || len(r.Header.Values(headerDPoP)) == 0 {
		return "", nil
	}
	p, oerr := s.acceptDPoP(r, grantType, "")
	return p.JKT, oerr
}

// acceptDPoP verifies the request's single DPoP proof for its method and
// URL, and, when accessToken is not empty, its ath (RFC 9449 §4.3). A valid
// proof is recorded; its jti is spent unless the proof is refused for its
// nonce, since the client must then send a new proof anyway.
func (s *Server) acceptDPoP(r *http.Request, grantType, accessToken string) (DPoPProof, *oauthError) {
	vals := r.Header.Values(headerDPoP)
	if len(vals) != 1 {
		return DPoPProof{}, invalidProof("exactly one DPoP header is required")
	}
	s.mu.Lock()
	now := s.now()
	algs := s.cfg.dpop.algs()
	s.mu.Unlock()
	p, err := verifyDPoPProof(vals[0], algs, r.Method, s.URL()+r.URL.Path, accessToken, now)
	if err != nil {
		return DPoPProof{}, invalidProof(err.Error())
	}
	p.Path, p.GrantType = r.URL.Path, grantType

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.dpop.jtis[p.JTI] {
		return DPoPProof{}, invalidProof("jti already used")
	}
	s.st.dpop.proofs = append(s.st.dpop.proofs, p)
	if o := s.cfg.dpop; o != nil && o.RequireNonce && p.Nonce != s.dpopNonceLocked() {
		desc := "a DPoP nonce is required"
		if p.Nonce != "" {
			desc = "stale DPoP nonce"
		}
		return p, badRequest("use_dpop_nonce", desc)
	}
	if s.st.dpop.jtis == nil {
		s.st.dpop.jtis = map[string]bool{}
	}
	s.st.dpop.jtis[p.JTI] = true
	return p, nil
}

// verifyDPoPProof checks everything about a proof that needs no server
// state: form, header, key, signature and claims.
func verifyDPoPProof(raw string, algs []string, method, endpoint, accessToken string, now time.Time) (DPoPProof, error) {
	allowed := make([]jose.SignatureAlgorithm, 0, len(algs))
	for _, a := range algs {
		allowed = append(allowed, jose.SignatureAlgorithm(a))
	}
	obj, err := jose.ParseSignedCompact(raw, allowed)
	if err != nil {
		// Covers a wrong alg ("none", HS256, RS256...), a malformed JWS
		// and a private or invalid key in jwk.
		return DPoPProof{}, fmt.Errorf("malformed proof: %v", err)
	}
	if len(obj.Signatures) != 1 {
		return DPoPProof{}, errors.New("proof must carry one signature")
	}
	h := obj.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return DPoPProof{}, errors.New(`typ must be "dpop+jwt"`)
	}
	if !slices.Contains(algs, h.Algorithm) {
		return DPoPProof{}, fmt.Errorf("alg must be one of %v", algs)
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		return DPoPProof{}, errors.New("jwk must be a public key")
	}
	var pub any
	switch k := h.JSONWebKey.Key.(type) {
	case *ecdsa.PublicKey:
		if h.Algorithm != string(jose.ES256) || k.Curve != elliptic.P256() {
			return DPoPProof{}, errors.New("an ES256 proof needs an EC P-256 public key")
		}
		pub = k
	case ed25519.PublicKey:
		if h.Algorithm != string(jose.EdDSA) {
			return DPoPProof{}, errors.New("an Ed25519 key signs EdDSA proofs only")
		}
		pub = k
	default:
		return DPoPProof{}, errors.New("jwk must be an EC P-256 or Ed25519 public key")
	}
	payload, err := obj.Verify(pub)
	if err != nil {
		return DPoPProof{}, errors.New("signature does not verify under jwk")
	}
	thumb, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return DPoPProof{}, fmt.Errorf("jwk thumbprint: %v", err)
	}

	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return DPoPProof{}, errors.New("claims are not a JSON object")
	}
	str := func(name string) (string, error) {
		v, ok := claims[name]
		if !ok {
			return "", nil
		}
		if s, ok := v.(string); ok {
			return s, nil
		}
		return "", fmt.Errorf("%s must be a string", name)
	}
	p := DPoPProof{JKT: base64.RawURLEncoding.EncodeToString(thumb)}
	for _, c := range []struct {
		name string
		dst  *string
	}{{"jti", &p.JTI}, {"htm", &p.HTM}, {"htu", &p.HTU}, {"nonce", &p.Nonce}, {"ath", &p.ATH}} {
		if *c.dst, err = str(c.name); err != nil {
			return DPoPProof{}, err
		}
	}
	iat, ok := claims["iat"].(json.Number)
	if !ok {
		return DPoPProof{}, errors.New("iat missing or not a number")
	}
	f, err := iat.Float64()
	if err != nil {
		return DPoPProof{}, errors.New("iat is not a number")
	}
	p.IAT = int64(f)

	switch {
	case p.JTI == "":
		return DPoPProof{}, errors.New("jti missing")
	case p.HTM != method:
		return DPoPProof{}, fmt.Errorf("htm must be %q", method)
	case !sameHTU(p.HTU, endpoint):
		return DPoPProof{}, fmt.Errorf("htu must be %q", endpoint)
	case f < float64(now.Add(-dpopMaxSkew).Unix()) || f > float64(now.Add(dpopMaxSkew).Unix()):
		return DPoPProof{}, errors.New("iat too far from the server's clock")
	}
	if accessToken != "" && subtle.ConstantTimeCompare([]byte(p.ATH), []byte(S256Challenge(accessToken))) != 1 {
		return DPoPProof{}, errors.New("ath does not match the access token")
	}
	return p, nil
}

// sameHTU compares a proof's htu with the endpoint's URL as RFC 9449 §4.3
// asks: without query and fragment, after syntax-based normalization of
// scheme and host (RFC 3986 §6.2.2).
func sameHTU(htu, endpoint string) bool {
	u, err := url.Parse(htu)
	if err != nil || !u.IsAbs() || u.User != nil || u.Opaque != "" {
		return false
	}
	want, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	hostport := func(u *url.URL) string {
		host := strings.ToLower(u.Host)
		if strings.EqualFold(u.Scheme, "https") {
			host = strings.TrimSuffix(host, ":443")
		}
		return host
	}
	return strings.EqualFold(u.Scheme, want.Scheme) && hostport(u) == hostport(want) &&
		u.EscapedPath() == want.EscapedPath()
}

// validJKT checks the form of a SHA-256 JWK thumbprint: 32 bytes,
// base64url without padding.
func validJKT(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == sha256.Size && base64.RawURLEncoding.EncodeToString(b) == v
}

// authorizeDPoPJKT reads the dpop_jkt authorization parameter (RFC 9449
// §10). A non-empty desc is an invalid_request to answer.
func (s *Server) authorizeDPoPJKT(params url.Values) (jkt, desc string) {
	s.mu.Lock()
	on := s.cfg.dpop != nil
	s.mu.Unlock()
	vs := params["dpop_jkt"]
	switch {
	case !on || len(vs) == 0:
		return "", ""
	case len(vs) > 1:
		return "", "dpop_jkt repeated"
	case !validJKT(vs[0]):
		return "", "dpop_jkt is not a SHA-256 JWK thumbprint"
	}
	return vs[0], ""
}

// parDPoP returns the key a pushed request binds its code to: its DPoP
// proof's or its dpop_jkt, which must agree when both are present (RFC 9449
// §10.1).
func (s *Server) parDPoP(r *http.Request) (string, *oauthError) {
	jkt, oerr := s.checkDPoP(r, "")
	if oerr != nil {
		return "", oerr
	}
	param, desc := s.authorizeDPoPJKT(r.PostForm)
	switch {
	case desc != "":
		return "", badRequest("invalid_request", desc)
	case jkt == "":
		return param, nil
	case param != "" && param != jkt:
		return "", invalidProof("dpop_jkt does not match the DPoP proof's key")
	}
	return jkt, nil
}

// bindAccessTokenLocked records the request's proof on ts and, unless
// BearerAccessTokens, binds its access token to the proof's key. The caller
// holds s.mu.
func (s *Server) bindAccessTokenLocked(ts *tokenSet, jkt string) {
	ts.proofJKT = jkt
	if jkt == "" || s.cfg.dpop == nil || s.cfg.dpop.BearerAccessTokens {
		return
	}
	ts.boundJKT = jkt
	if at := s.st.access[ts.accessToken]; at != nil {
		at.jkt = jkt
	}
}

// checkResourceDPoP enforces an access token's DPoP binding at a resource
// endpoint (RFC 9449 §7): a bound token (thumbprint bound) needs the DPoP
// scheme and a proof by its key with ath; an unbound one the Bearer scheme.
// Errors are answered 401 with a DPoP challenge; it reports whether the
// request may proceed.
func (s *Server) checkResourceDPoP(w http.ResponseWriter, r *http.Request, token string, dpopScheme bool, bound string) bool {
	challenge := func(code, desc string) bool {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`DPoP algs="ES256", error=%q, error_description=%q`, code, desc))
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": code, "error_description": desc})
		return false
	}
	switch {
	case !dpopScheme && bound == "":
		return true
	case !dpopScheme:
		return challenge("invalid_token", "DPoP-bound access token presented as a bearer token")
	case bound == "":
		return challenge("invalid_token", "access token is not DPoP-bound")
	}
	s.setDPoPNonceHeader(w)
	p, oerr := s.acceptDPoP(r, "", token)
	switch {
	case oerr != nil:
		return challenge(oerr.code, oerr.description)
	case p.JKT != bound:
		return challenge("invalid_dpop_proof", "proof key does not match the access token's binding")
	}
	return true
}
