package dpop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
)

// Alg is the one signing algorithm: ES256 on P-256, never "none" and never a
// symmetric algorithm (RFC 9449 §4.2, §11.6). One fixed algorithm means no
// negotiation to downgrade; [Supported] checks that the server lists it
// (§5.1).
const Alg = "ES256"

// HeaderName is the request header that carries a proof (RFC 9449 §4.1).
const HeaderName = "DPoP"

// coordSize is the length of a P-256 field element in bytes; JWK
// coordinates are left-padded to it (RFC 7518 §6.2.1.2, §6.2.1.3).
const coordSize = 32

// b64 is base64url without padding, the encoding of every JOSE value
// (RFC 7515 §2).
var b64 = base64.RawURLEncoding

// Key is a DPoP key pair on P-256. It is immutable and safe for concurrent
// use. The zero Key is not usable; make one with [Generate] or [Parse].
type Key struct {
	priv *ecdsa.PrivateKey
}

// Generate makes a new P-256 key from crypto/rand. A client makes one per
// login and keeps it as long as the refresh token bound to it (RFC 9449 §5).
func Generate() (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, errors.New("dpop: generating a P-256 key failed")
	}
	return &Key{priv: priv}, nil
}

// Parse is the inverse of [Key.Marshal]. It accepts only an ECDSA P-256 key:
// anything else would make proofs that do not match [Alg]. The error never
// quotes or wraps the input, which is key material.
func Parse(s string) (*Key, error) {
	der, err := b64.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("dpop: stored key is not base64url")
	}
	// x509 ignores bytes after the PKCS#8 structure; a stored key with a
	// tail is damaged, not a key.
	var outer asn1.RawValue
	rest, err := asn1.Unmarshal(der, &outer)
	if err != nil || len(rest) != 0 {
		return nil, errors.New("dpop: stored key is not a PKCS#8 private key")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("dpop: stored key is not a PKCS#8 private key")
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, errors.New("dpop: stored key is not an ECDSA P-256 key")
	}
	return &Key{priv: priv}, nil
}

// Marshal returns the private key as base64url (no padding) of its PKCS#8
// DER encoding. It is meant for the keychain only: it is the one secret that
// makes a DPoP-bound refresh token usable (RFC 9449 §5).
//
// It panics only if the Key was not made by [Generate] or [Parse].
func (k *Key) Marshal() string {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		// Unreachable for a P-256 key; a message without key material.
		panic("dpop: key cannot be encoded as PKCS#8")
	}
	return b64.EncodeToString(der)
}

// coords returns the public point's x and y, each 32 bytes big-endian, as
// RFC 7518 §6.2.1.2 and §6.2.1.3 require for a JWK.
func (k *Key) coords() (x, y []byte) {
	pt, err := k.priv.PublicKey.Bytes()
	if err != nil || len(pt) != 1+2*coordSize {
		// Unreachable for a P-256 key made by Generate or Parse.
		panic("dpop: public key cannot be encoded")
	}
	// pt is the SEC 1 uncompressed point 0x04 || X || Y.
	return pt[1 : 1+coordSize], pt[1+coordSize:]
}

// PublicJWK returns the public key as a JWK (RFC 7517, RFC 7518 §6.2.1), the
// form embedded in every proof header (RFC 9449 §4.2). It never holds the
// private scalar. Each call returns a new map.
func (k *Key) PublicJWK() map[string]string {
	x, y := k.coords()
	return map[string]string{
		"kty": "EC",
		"crv": "P-256",
		"x":   b64.EncodeToString(x),
		"y":   b64.EncodeToString(y),
	}
}

// Thumbprint returns the RFC 7638 JWK SHA-256 thumbprint of the public key,
// base64url without padding. It is the "jkt" a server puts in a bound
// token's "cnf" claim and the "dpop_jkt" authorization request parameter
// (RFC 9449 §6.1, §10).
func (k *Key) Thumbprint() string {
	x, y := k.coords()
	return thumbprint(x, y)
}

// thumbprint hashes the required EC members crv, kty, x, y in lexicographic
// order with no whitespace (RFC 7638 §3.2, §3.3). The values are built-in
// names and base64url text, so none needs JSON escaping.
func thumbprint(x, y []byte) string {
	canonical := fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`,
		b64.EncodeToString(x), b64.EncodeToString(y))
	sum := sha256.Sum256([]byte(canonical))
	return b64.EncodeToString(sum[:])
}
