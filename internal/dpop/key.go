package dpop

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
)

// The signing algorithms: ES256 on P-256, and EdDSA on Ed25519 (RFC 8037)
// for servers that accept EdDSA but not ES256. Never "none" and never a
// symmetric algorithm (RFC 9449 §4.2, §11.6). The key's type fixes its
// algorithm, so there is nothing to negotiate or downgrade per request.
const (
	Alg      = "ES256"
	AlgEdDSA = "EdDSA"
)

// HeaderName is the request header that carries a proof (RFC 9449 §4.1).
const HeaderName = "DPoP"

// coordSize is the length of a P-256 field element in bytes; JWK
// coordinates are left-padded to it (RFC 7518 §6.2.1.2, §6.2.1.3).
const coordSize = 32

// b64 is base64url without padding, the encoding of every JOSE value
// (RFC 7515 §2).
var b64 = base64.RawURLEncoding

// Key is a DPoP key pair: P-256 (ES256) or Ed25519 (EdDSA), exactly one
// of the two fields set. It is immutable and safe for concurrent use. The
// zero Key is not usable; make one with [Generate], [GenerateFor] or
// [Parse].
type Key struct {
	priv *ecdsa.PrivateKey
	ed   ed25519.PrivateKey
}

// ErrUnsupported is returned by [GenerateFor] for a server whose
// dpop_signing_alg_values_supported has neither ES256 nor EdDSA.
var ErrUnsupported = errors.New("dpop: the server offers neither ES256 nor EdDSA")

// Choose returns the algorithm to use with a server whose metadata lists
// algs (RFC 9449 §5.1): ES256 when listed, the algorithm every DPoP server
// supports and the one platform key stores (Secure Enclave, TPM) can hold;
// otherwise EdDSA when listed; otherwise "".
func Choose(algs []string) string {
	switch {
	case slices.Contains(algs, Alg):
		return Alg
	case slices.Contains(algs, AlgEdDSA):
		return AlgEdDSA
	}
	return ""
}

// GenerateFor makes a new key for the algorithm [Choose] picks from algs.
func GenerateFor(algs []string) (*Key, error) {
	switch Choose(algs) {
	case Alg:
		return Generate()
	case AlgEdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, errors.New("dpop: generating an Ed25519 key failed")
		}
		return &Key{ed: priv}, nil
	}
	return nil, ErrUnsupported
}

// Alg returns the key's JWS algorithm, ES256 or EdDSA.
func (k *Key) Alg() string {
	if k.ed != nil {
		return AlgEdDSA
	}
	return Alg
}

// usable reports whether k was made by Generate, GenerateFor or Parse.
func (k *Key) usable() bool {
	return k != nil && (k.priv != nil || len(k.ed) == ed25519.PrivateKeySize)
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

// Parse is the inverse of [Key.Marshal]. It accepts only an ECDSA P-256 or
// an Ed25519 key: anything else would make proofs in an algorithm sesame
// does not use. The error never quotes or wraps the input, which is key
// material.
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
	if ed, ok := parsed.(ed25519.PrivateKey); ok {
		return &Key{ed: ed}, nil
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, errors.New("dpop: stored key is not an ECDSA P-256 or Ed25519 key")
	}
	return &Key{priv: priv}, nil
}

// Marshal returns the private key as base64url (no padding) of its PKCS#8
// DER encoding. It is meant for the keychain only: it is the one secret that
// makes a DPoP-bound refresh token usable (RFC 9449 §5).
//
// It panics only if the Key was not made by [Generate] or [Parse].
func (k *Key) Marshal() string {
	var key any = k.priv
	if k.ed != nil {
		key = k.ed
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
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
	if k.ed != nil {
		// RFC 8037 §2: an Ed25519 public key is an OKP key with x only.
		return map[string]string{
			"kty": "OKP",
			"crv": "Ed25519",
			"x":   b64.EncodeToString(k.ed.Public().(ed25519.PublicKey)),
		}
	}
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
	if k.ed != nil {
		// RFC 8037 §2: the required OKP members are crv, kty and x.
		canonical := fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, b64.EncodeToString(k.ed.Public().(ed25519.PublicKey)))
		sum := sha256.Sum256([]byte(canonical))
		return b64.EncodeToString(sum[:])
	}
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
