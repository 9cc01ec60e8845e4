package dpop

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// proofType is the "typ" header of every proof, which keeps a proof from
// being mistaken for any other kind of JWT (RFC 9449 §4.2, RFC 8725 §3.11).
const proofType = "dpop+jwt"

// jtiBytes is the size of the random "jti": 128 bits make a collision, and
// so a false replay alarm at the server, negligible (RFC 9449 §4.2, §11.1).
const jtiBytes = 16

// proofClaims are the claims of a proof (RFC 9449 §4.2). "nonce" is sent
// only when the server provided one (§8) and "ath" only with an access
// token (§7.1).
type proofClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	Nonce string `json:"nonce,omitempty"`
	ATH   string `json:"ath,omitempty"`
}

// Proof returns a DPoP proof JWT in JWS compact serialization (RFC 7515
// §7.1), signed with the key's algorithm, ES256 or EdDSA (RFC 9449 §4.2).
//
// method is the HTTP method ("htm"). target must be an absolute http or
// https URL without user information; its query and fragment are dropped
// for "htu" (RFC 9449 §4.2, §4.3). nonce, if not empty, is the value the
// server last provided (§8). accessToken, if not empty, is hashed into
// "ath" for a protected resource request (§7.1); the token itself is never
// part of the proof. now is "iat".
//
// Errors never quote the target, the nonce or the token.
func (k *Key) Proof(method, target, nonce, accessToken string, now time.Time) (string, error) {
	if method == "" {
		return "", errors.New("dpop: proof needs an HTTP method")
	}
	htu, err := targetURI(target)
	if err != nil {
		return "", err
	}
	var jti [jtiBytes]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", errors.New("dpop: no randomness for the proof identifier")
	}
	claims := proofClaims{
		JTI:   b64.EncodeToString(jti[:]),
		HTM:   method,
		HTU:   htu,
		IAT:   now.Unix(),
		Nonce: nonce,
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims.ATH = b64.EncodeToString(sum[:])
	}
	return k.sign(claims)
}

// targetURI is the "htu" value: target without query and fragment (RFC 9449
// §4.2, §4.3). Only absolute http and https URLs with a host name a DPoP
// endpoint; user information is refused because it would put a credential
// into a signed, logged proof.
func targetURI(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil || u.Opaque != "" || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", errors.New("dpop: proof target is not an absolute http(s) url")
	}
	if u.User != nil {
		return "", errors.New("dpop: proof target must not carry user information")
	}
	htu := *u
	htu.RawQuery, htu.ForceQuery = "", false
	htu.Fragment, htu.RawFragment = "", ""
	return htu.String(), nil
}

// sign returns the claims signed by go-jose in JWS compact serialization
// (RFC 7515 §7.1). The protected header is exactly what RFC 9449 §4.2 asks
// for: "alg", "typ" and, through EmbedJWK, "jwk" holding the public key
// alone, with no "kid" and no private member. go-jose writes an ES256
// signature as r||s, each padded to 32 bytes (RFC 7518 §3.4), and EdDSA over
// the signing input itself (RFC 8037 §3.1).
func (k *Key) sign(claims proofClaims) (string, error) {
	payload, err := compactJSON(claims)
	if err != nil {
		return "", errors.New("dpop: encoding the proof claims failed")
	}
	var priv any = k.priv
	if k.ed != nil {
		priv = k.ed
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Alg()), Key: priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithType(proofType),
	)
	if err != nil {
		return "", errors.New("dpop: signing the proof failed")
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", errors.New("dpop: signing the proof failed")
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		return "", errors.New("dpop: signing the proof failed")
	}
	return compact, nil
}

// compactJSON is json.Marshal without HTML escaping, so a path or nonce
// with "&" or "<" is signed as the plain characters a server compares.
func compactJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
