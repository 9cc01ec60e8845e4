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
	u := s.URL()
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

// signingKey is the server's RSA key, generated on first use: many tests
// never ask for an ID token, and RSA generation is the slowest part of
// starting a server under -race.
type signingKey struct {
	once sync.Once
	key  *rsa.PrivateKey
	kid  string
	err  error
}

// rsaKey returns the server's signing key, generating it on first use.
func (s *Server) rsaKey() (*rsa.PrivateKey, string, error) {
	s.keys.once.Do(func() {
		s.keys.key, s.keys.err = rsa.GenerateKey(rand.Reader, 2048)
		// A random kid per server: a test with two servers must not be
		// able to verify one server's token with the other's JWKS.
		s.keys.kid = "mockas-" + randomString(6)
	})
	return s.keys.key, s.keys.kid, s.keys.err
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
