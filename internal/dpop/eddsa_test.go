package dpop

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestEdDSA_ProofVerifies: a server that accepts EdDSA but not ES256 gets
// an Ed25519 key (RFC 8037); its proofs verify under the embedded OKP key,
// whose RFC 7638 thumbprint matches go-jose's, and the key survives the
// keychain round trip.
func TestEdDSA_ProofVerifies(t *testing.T) {
	k, err := GenerateFor([]string{"EdDSA"})
	if err != nil {
		t.Fatal(err)
	}
	if k.Alg() != AlgEdDSA {
		t.Fatalf("alg %q", k.Alg())
	}
	back, err := Parse(k.Marshal())
	if err != nil || back.Alg() != AlgEdDSA || back.Thumbprint() != k.Thumbprint() {
		t.Fatalf("round trip: %v", err)
	}
	jwk := k.PublicJWK()
	if jwk["kty"] != "OKP" || jwk["crv"] != "Ed25519" || jwk["y"] != "" || jwk["d"] != "" {
		t.Fatalf("public jwk %v", jwk)
	}
	now := time.Unix(1_700_000_000, 0)
	p, err := back.Proof("POST", "https://as.example/token?x=1#f", "n-1", "tok", now)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := jose.ParseSigned(p, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	h := sig.Signatures[0].Protected
	if h.Algorithm != "EdDSA" || h.ExtraHeaders["typ"] != "dpop+jwt" || h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		t.Fatalf("header %+v", h)
	}
	if _, ok := h.JSONWebKey.Key.(ed25519.PublicKey); !ok {
		t.Fatalf("embedded key is %T", h.JSONWebKey.Key)
	}
	// RFC 9449 §4.2: exactly typ, alg and jwk; the jwk holds the public
	// OKP members only (RFC 8037 §2), no kid and no "d".
	var header map[string]json.RawMessage
	var jwkMembers map[string]string
	seg := decodeSegment(t, strings.Split(p, ".")[0])
	if json.Unmarshal(seg, &header) != nil || json.Unmarshal(header["jwk"], &jwkMembers) != nil {
		t.Fatalf("header is not JSON: %s", seg)
	}
	if got := strings.Join(sortedKeys(header), ","); got != "alg,jwk,typ" {
		t.Fatalf("header members = %s, want alg, jwk, typ", got)
	}
	if got := strings.Join(sortedKeys(jwkMembers), ","); got != "crv,kty,x" {
		t.Fatalf("jwk members = %s, want crv, kty, x", got)
	}
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil || b64.EncodeToString(tp) != k.Thumbprint() {
		t.Fatalf("thumbprint %v", err)
	}
	payload, err := sig.Verify(h.JSONWebKey)
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var c proofClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	ath := sha256.Sum256([]byte("tok"))
	if c.HTM != "POST" || c.HTU != "https://as.example/token" || c.IAT != now.Unix() || c.Nonce != "n-1" || c.ATH != b64.EncodeToString(ath[:]) || c.JTI == "" {
		t.Fatalf("claims %+v", c)
	}
	if strings.Contains(p, k.Marshal()) {
		t.Fatal("the proof carries the private key")
	}
}
