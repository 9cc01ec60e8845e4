package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// Metadata returns the discovery document the server would send now, after
// [WithMetadataIssuer] and [WithMetadataMutator] have been applied.
func (s *Server) Metadata() map[string]any {
	s.mu.Lock()
	issuer := s.cfg.metadataIssuer
	mutate := s.cfg.metadataMutator
	par, parRequired := s.cfg.parAdvertised, s.cfg.parRequired
	dpop, registration := s.cfg.dpop != nil, s.cfg.registration
	var dpopAlgs []string
	if dpop {
		dpopAlgs = s.cfg.dpop.algs()
	}
	s.mu.Unlock()

	if issuer == "" {
		issuer = s.Issuer()
	}
	u := s.Issuer()
	md := map[string]any{
		"issuer":                                         issuer,
		"authorization_endpoint":                         u + PathAuthorize,
		"token_endpoint":                                 u + PathToken,
		"device_authorization_endpoint":                  u + PathDeviceAuthorization,
		"revocation_endpoint":                            u + PathRevoke,
		"introspection_endpoint":                         u + PathIntrospect,
		"userinfo_endpoint":                              u + PathUserinfo,
		"jwks_uri":                                       u + PathJWKS,
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"none"},
		"revocation_endpoint_auth_methods_supported":     []string{"none"},
		"introspection_endpoint_auth_methods_supported":  []string{"none"},
		"authorization_response_iss_parameter_supported": true,
		"id_token_signing_alg_values_supported":          []string{"RS256"},
		"subject_types_supported":                        []string{"public"},
		"scopes_supported":                               []string{"openid", "email", "profile", "offline_access"},
		"claims_supported":                               []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "email", "email_verified", "name"},
	}
	if par {
		md["pushed_authorization_request_endpoint"] = u + PathPAR
		md["require_pushed_authorization_requests"] = parRequired
	}
	if dpop {
		md["dpop_signing_alg_values_supported"] = dpopAlgs
	}
	if registration {
		md["registration_endpoint"] = u + PathRegister
	}
	if mutate != nil {
		mutate(md)
	}
	return md
}

// handleMetadata serves both well-known documents. They are the same
// document: sesame may use either discovery style (RFC 8414 §3 or OIDC
// Discovery §4), and a test that wants them to differ can say so with a
// hook.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	writeJSON(w, http.StatusOK, s.Metadata())
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	jwks, err := s.JWKS()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(jwks)
}

// signingKey is the server's RSA key, made on first use: many tests never
// ask for an ID token, and RSA generation is the slowest part of starting
// a server.
type signingKey struct {
	mu  sync.Mutex
	key *rsa.PrivateKey
	kid string
}

// spareKeys are the signing keys of servers that have closed, kept for the
// next servers of the test process: generating a 2048-bit RSA key takes
// 50 to 200 ms, and was most of the CPU time of a run of the command-line
// tests, which start a server per test. A key is taken by one running
// server at a time, so servers that run together never share one.
var spareKeys struct {
	sync.Mutex
	keys []*rsa.PrivateKey
}

// rsaKey returns the server's signing key, taking a spare one or
// generating it on first use.
func (s *Server) rsaKey() (*rsa.PrivateKey, string, error) {
	k := &s.keys
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, k.kid, nil
	}
	spareKeys.Lock()
	if n := len(spareKeys.keys); n > 0 {
		k.key = spareKeys.keys[n-1]
		spareKeys.keys = spareKeys.keys[:n-1]
	}
	spareKeys.Unlock()
	if k.key == nil {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, "", err
		}
		k.key = key
	}
	// A random kid per server: a test with two servers must not be able
	// to verify one server's token with the other's JWKS.
	k.kid = "mockas-" + randomString(6)
	return k.key, k.kid, nil
}

// releaseKey gives the key of a closed server to the servers that come
// after it. The server keeps it too, for a test that still signs with it
// after the close, which can no longer serve what it signs.
func (s *Server) releaseKey() {
	s.keys.mu.Lock()
	key := s.keys.key
	s.keys.mu.Unlock()
	if key != nil {
		spareKeys.Lock()
		spareKeys.keys = append(spareKeys.keys, key)
		spareKeys.Unlock()
	}
}

// KeyID returns the kid of the server's signing key, as published in its
// JWKS and set in the header of every ID token it signs.
func (s *Server) KeyID() string {
	_, kid, _ := s.rsaKey()
	return kid
}

// JWKS returns the server's JSON Web Key Set as served at [PathJWKS]: one
// RSA public key for RS256 signatures. Its bytes are also the key an
// "HS256 keyed with the JWKS" confusion attack would use (see [HS256JWT]).
func (s *Server) JWKS() ([]byte, error) {
	key, kid, err := s.rsaKey()
	if err != nil {
		return nil, fmt.Errorf("authtest: generate signing key: %w", err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key:       &key.PublicKey,
		KeyID:     kid,
		Algorithm: string(jose.RS256),
		Use:       "sig",
	}}}
	return json.Marshal(set)
}
