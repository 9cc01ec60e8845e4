package dpop

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// parsedProof is a proof that passed verifyProof.
type parsedProof struct {
	header map[string]any
	jwk    map[string]any
	claims map[string]any
	key    *jose.JSONWebKey
}

func (p parsedProof) str(name string) string {
	s, _ := p.claims[name].(string)
	return s
}

// parseProof checks s independently of the code under test: go-jose parses
// it, accepting ES256 only, and verifies it with the JWK embedded in its
// header; crypto/ecdsa verifies the raw r||s signature once more. It checks
// the exact set of header and JWK members. It does not need a *testing.T,
// so a test server handler can call it.
func parseProof(s string) (parsedProof, error) {
	jws, err := jose.ParseSigned(s, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return parsedProof{}, fmt.Errorf("go-jose cannot parse the proof: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return parsedProof{}, fmt.Errorf("proof has %d signatures, want 1", len(jws.Signatures))
	}
	jwk := jws.Signatures[0].Header.JSONWebKey
	if jwk == nil || !jwk.IsPublic() || !jwk.Valid() {
		return parsedProof{}, fmt.Errorf("proof header has no valid public jwk")
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return parsedProof{}, fmt.Errorf("proof signature does not verify with its jwk: %v", err)
	}

	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return parsedProof{}, fmt.Errorf("proof has %d parts, want 3", len(parts))
	}
	var p parsedProof
	p.key = jwk
	hdr, err := decode(parts[0])
	if err != nil {
		return parsedProof{}, err
	}
	if err := json.Unmarshal(hdr, &p.header); err != nil {
		return parsedProof{}, fmt.Errorf("header is not JSON: %v", err)
	}
	if got := sortedKeys(p.header); !slices.Equal(got, []string{"alg", "jwk", "typ"}) {
		return parsedProof{}, fmt.Errorf("header members = %v, want alg, jwk, typ", got)
	}
	if p.header["typ"] != "dpop+jwt" || p.header["alg"] != "ES256" {
		return parsedProof{}, fmt.Errorf("header typ/alg = %v/%v", p.header["typ"], p.header["alg"])
	}
	p.jwk, _ = p.header["jwk"].(map[string]any)
	if got := sortedKeys(p.jwk); !slices.Equal(got, []string{"crv", "kty", "x", "y"}) {
		return parsedProof{}, fmt.Errorf("jwk members = %v, want exactly crv, kty, x, y", got)
	}
	if p.jwk["kty"] != "EC" || p.jwk["crv"] != "P-256" {
		return parsedProof{}, fmt.Errorf("jwk kty/crv = %v/%v", p.jwk["kty"], p.jwk["crv"])
	}

	body, err := decode(parts[1])
	if err != nil {
		return parsedProof{}, err
	}
	if !bytes.Equal(body, payload) {
		return parsedProof{}, fmt.Errorf("verified payload differs from the claims segment")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&p.claims); err != nil {
		return parsedProof{}, fmt.Errorf("claims are not JSON: %v", err)
	}

	// ES256 is r||s, 32 bytes each (RFC 7518 §3.4), checked with the
	// standard library against the x and y of the embedded JWK.
	sig, err := decode(parts[2])
	if err != nil {
		return parsedProof{}, err
	}
	if len(sig) != 64 {
		return parsedProof{}, fmt.Errorf("signature is %d bytes, want 64", len(sig))
	}
	xs, _ := p.jwk["x"].(string)
	ys, _ := p.jwk["y"].(string)
	x, errX := decode(xs)
	y, errY := decode(ys)
	if errX != nil || errY != nil {
		return parsedProof{}, fmt.Errorf("jwk x/y are not base64url")
	}
	if len(x) != 32 || len(y) != 32 {
		return parsedProof{}, fmt.Errorf("jwk x/y are %d/%d bytes, want 32/32", len(x), len(y))
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return parsedProof{}, fmt.Errorf("jwk is not a P-256 point: %v", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, ss := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, ss) {
		return parsedProof{}, fmt.Errorf("crypto/ecdsa rejects the r||s signature")
	}
	return p, nil
}

// verifyProof is parseProof for the test goroutine.
func verifyProof(t *testing.T, s string) parsedProof {
	t.Helper()
	p, err := parseProof(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func decode(s string) ([]byte, error) {
	b, err := b64.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("segment is not unpadded base64url: %v", err)
	}
	return b, nil
}

func decodeSegment(t *testing.T, s string) []byte {
	t.Helper()
	b, err := decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func mustGenerate(t testing.TB) *Key {
	t.Helper()
	k, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustProof(t *testing.T, k *Key) string {
	t.Helper()
	s, err := k.Proof("POST", "https://as.example/token", "", "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustParse(t *testing.T, s string) *jose.JSONWebSignature {
	t.Helper()
	jws, err := jose.ParseSigned(s, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return jws
}
