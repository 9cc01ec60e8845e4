package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestGeneratePublicJWK(t *testing.T) {
	k := mustGenerate(t)
	jwk := k.PublicJWK()
	if got := sortedKeys(jwk); strings.Join(got, ",") != "crv,kty,x,y" {
		t.Fatalf("PublicJWK members = %v, want crv, kty, x, y", got)
	}
	if jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
		t.Fatalf("kty/crv = %q/%q", jwk["kty"], jwk["crv"])
	}
	x := decodeSegment(t, jwk["x"])
	y := decodeSegment(t, jwk["y"])
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatalf("x, y are not a P-256 point: %v", err)
	}
	if !pub.Equal(&k.priv.PublicKey) {
		t.Fatal("PublicJWK is not the key's public point")
	}
	// A caller changing the returned map must not change the key.
	jwk["x"] = "changed"
	if k.PublicJWK()["x"] == "changed" {
		t.Fatal("PublicJWK returns shared state")
	}
}

func TestGenerateIsRandom(t *testing.T) {
	a, b := mustGenerate(t), mustGenerate(t)
	if a.Thumbprint() == b.Thumbprint() {
		t.Fatal("two generated keys have the same thumbprint")
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	k := mustGenerate(t)
	s := k.Marshal()
	if strings.ContainsAny(s, "=+/") {
		t.Fatal("Marshal is not unpadded base64url")
	}
	der := decodeSegment(t, s)
	if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
		t.Fatalf("Marshal is not PKCS#8: %v", err)
	}
	back, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(Marshal()): %v", err)
	}
	if back.Thumbprint() != k.Thumbprint() {
		t.Fatal("round trip changed the thumbprint")
	}
	if !back.priv.Equal(k.priv) {
		t.Fatal("round trip changed the private key")
	}
	if back.Marshal() != s {
		t.Fatal("Marshal is not stable across a round trip")
	}
	// A proof from the parsed key verifies with the original public key.
	p, err := back.Proof("POST", "https://as.example/token", "", "", time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := verifyProof(t, p); got.jwk["x"] != k.PublicJWK()["x"] || got.jwk["y"] != k.PublicJWK()["y"] {
		t.Fatal("parsed key signs with a different public key")
	}
}

func TestParseRejects(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(key any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	good := decodeSegment(t, mustGenerate(t).Marshal())
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}

	enc := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "not a PKCS#8"},
		{"garbage", "%%% garbage %%%", "not base64url"},
		{"padded", base64.URLEncoding.EncodeToString(good[:len(good)-1]), "not base64url"},
		{"not DER", enc([]byte("secret-looking-text-that-is-not-der")), "not a PKCS#8"},
		{"truncated", enc(good[:len(good)-5]), "not a PKCS#8"},
		{"trailing data", enc(append(append([]byte{}, good...), 0, 0)), "not a PKCS#8"},
		{"SEC 1 not PKCS#8", enc(sec1), "not a PKCS#8"},
		{"RSA", enc(pkcs8(rsaKey)), "not an ECDSA P-256"},
		{"P-384", enc(pkcs8(p384)), "not an ECDSA P-256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse accepted it: %v", k != nil)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q, want it to say %q", msg, tt.want)
			}
			if errors.Unwrap(err) != nil {
				t.Errorf("error wraps another error, which may describe the input")
			}
			// No run of 8 input characters may reach the message.
			for i := 0; i+8 <= len(tt.in); i++ {
				if strings.Contains(msg, tt.in[i:i+8]) {
					t.Fatalf("error %q quotes the input", msg)
				}
			}
		})
	}
}

func TestThumbprintMatchesGoJose(t *testing.T) {
	// Enough keys that some have an x or y with a leading zero byte, which
	// must still be encoded as 32 bytes (RFC 7518 §6.2.1.2).
	var sawShort bool
	for i := 0; i < 2000 && (!sawShort || i < 50); i++ {
		k := mustGenerate(t)
		pt, _ := k.priv.PublicKey.Bytes()
		sawShort = sawShort || pt[1] == 0 || pt[33] == 0

		want, err := (&jose.JSONWebKey{Key: &k.priv.PublicKey}).Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Thumbprint(); got != base64.RawURLEncoding.EncodeToString(want) {
			t.Fatalf("Thumbprint differs from go-jose's for key %d", i)
		}
		// RFC 7638 §3: the required members in lexicographic order,
		// no whitespace, SHA-256, base64url.
		jwk := k.PublicJWK()
		canonical := `{"crv":"` + jwk["crv"] + `","kty":"` + jwk["kty"] + `","x":"` + jwk["x"] + `","y":"` + jwk["y"] + `"}`
		sum := sha256.Sum256([]byte(canonical))
		if k.Thumbprint() != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Fatalf("Thumbprint differs from RFC 7638 §3 computed by hand")
		}
	}
	if !sawShort {
		t.Fatal("no key with a short coordinate in 2000 tries")
	}
}

// TestThumbprintRFC9449Example uses the public key of the proof in RFC 9449
// §4.1 and the "jkt" the RFC gives for it in §6.1.
func TestThumbprintRFC9449Example(t *testing.T) {
	x := decodeSegment(t, "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs")
	y := decodeSegment(t, "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA")
	if got, want := thumbprint(x, y), "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"; got != want {
		t.Fatalf("thumbprint = %s, want %s", got, want)
	}
}
