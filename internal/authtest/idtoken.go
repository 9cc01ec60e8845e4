package authtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	jose "github.com/go-jose/go-jose/v4"
)

// SignIDToken signs claims with the server's RSA key (RS256). An empty kid
// names the server's own key; any other kid produces a token whose
// signature is valid but whose key the JWKS does not list. Errors are
// reported on the server's testing.TB and yield "".
func (s *Server) SignIDToken(claims map[string]any, kid string) string {
	key, ownKID, err := s.rsaKey()
	if err != nil {
		s.t.Errorf("authtest: generate signing key: %v", err)
		return ""
	}
	if kid == "" {
		kid = ownKID
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: string(jose.RS256)}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		s.t.Errorf("authtest: new signer: %v", err)
		return ""
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		s.t.Errorf("authtest: marshal claims: %v", err)
		return ""
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		s.t.Errorf("authtest: sign ID token: %v", err)
		return ""
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		s.t.Errorf("authtest: serialize ID token: %v", err)
		return ""
	}
	return tok
}

// UnsignedJWT encodes claims as a JWT with "alg":"none" and an empty
// signature, the classic token a client must refuse.
func UnsignedJWT(claims map[string]any) string {
	return compactJWT(map[string]any{"alg": "none", "typ": "JWT"}, claims, nil)
}

// HS256JWT encodes claims as a JWT signed with HMAC-SHA256 under key, with
// kid in the header when not empty. With key set to the server's JWKS (or
// the public key) and kid to [Server.KeyID] it is the algorithm-confusion
// attack a client must refuse.
func HS256JWT(claims map[string]any, key []byte, kid string) string {
	header := map[string]any{"alg": "HS256", "typ": "JWT"}
	if kid != "" {
		header["kid"] = kid
	}
	return compactJWT(header, claims, func(signingInput []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(signingInput)
		return m.Sum(nil)
	})
}

// compactJWT builds header.payload.signature by hand, because go-jose
// rightly refuses to produce "none" tokens and short HMAC keys.
func compactJWT(header, claims map[string]any, sign func([]byte) []byte) string {
	enc := base64.RawURLEncoding
	// A claim value that cannot be marshalled leaves its part empty, which
	// every verifier rejects; that is a fine outcome for a forged token.
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + enc.EncodeToString(sig)
}

// encodeIDToken turns claims into the id_token to send, honouring the
// tests' mutator, encoder and raw override in that order. It runs without
// the lock held: the tests' functions may call back into the server.
func (s *Server) encodeIDToken(claims map[string]any) string {
	s.mu.Lock()
	mutate, encode, raw := s.cfg.idTokenMutator, s.cfg.idTokenEncoder, s.cfg.rawIDToken
	s.mu.Unlock()

	if mutate != nil {
		mutate(claims)
	}
	switch {
	case raw != "":
		return raw
	case encode != nil:
		return encode(claims)
	default:
		return s.SignIDToken(claims, "")
	}
}
