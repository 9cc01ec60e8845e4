package dpop

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func TestProofHeaderAndClaims(t *testing.T) {
	k := mustGenerate(t)
	s, err := k.Proof("POST", "https://as.example/oauth/token?a=1&b=2#frag", "nonce-1", "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	p := verifyProof(t, s)
	for name, want := range k.PublicJWK() {
		if p.jwk[name] != want {
			t.Errorf("header jwk %s = %v, want %s", name, p.jwk[name], want)
		}
	}
	if got := strings.Join(sortedKeys(p.claims), ","); got != "htm,htu,iat,jti,nonce" {
		t.Fatalf("claims = %s, want htm, htu, iat, jti, nonce", got)
	}
	if p.str("htm") != "POST" {
		t.Errorf("htm = %q", p.str("htm"))
	}
	if p.str("htu") != "https://as.example/oauth/token" {
		t.Errorf("htu = %q", p.str("htu"))
	}
	if p.str("nonce") != "nonce-1" {
		t.Errorf("nonce = %q", p.str("nonce"))
	}
	if iat, _ := p.claims["iat"].(json.Number); iat.String() != "1772600767" {
		t.Errorf("iat = %v, want 1772600767 (an integer)", p.claims["iat"])
	}
	if jti := decodeSegment(t, p.str("jti")); len(jti) != 16 {
		t.Errorf("jti is %d bytes, want 16", len(jti))
	}
}

func TestProofOmitsEmptyNonceAndAth(t *testing.T) {
	k := mustGenerate(t)
	s, err := k.Proof("GET", "http://127.0.0.1:8080/x", "", "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	p := verifyProof(t, s)
	if got := strings.Join(sortedKeys(p.claims), ","); got != "htm,htu,iat,jti" {
		t.Fatalf("claims = %s, want htm, htu, iat, jti", got)
	}
	if p.str("htm") != "GET" || p.str("htu") != "http://127.0.0.1:8080/x" {
		t.Fatalf("htm/htu = %q/%q", p.str("htm"), p.str("htu"))
	}
}

func TestProofAth(t *testing.T) {
	k := mustGenerate(t)
	// The access token and "ath" of the example in RFC 9449 §7.1.
	const token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
	const rfcAth = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
	s, err := k.Proof("GET", "https://resource.example.org/protectedresource", "", token, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, token) || strings.Contains(string(decodeSegment(t, strings.Split(s, ".")[1])), token) {
		t.Fatal("the proof carries the access token itself")
	}
	p := verifyProof(t, s)
	sum := sha256.Sum256([]byte(token))
	if got := p.str("ath"); got != base64.RawURLEncoding.EncodeToString(sum[:]) || got != rfcAth {
		t.Fatalf("ath = %q, want %q", got, rfcAth)
	}
	if _, ok := p.claims["nonce"]; ok {
		t.Fatal("nonce present without a nonce")
	}
}

func TestProofHTU(t *testing.T) {
	k := mustGenerate(t)
	tests := []struct{ in, want string }{
		{"https://as.example/token", "https://as.example/token"},
		{"https://as.example/token?x=1", "https://as.example/token"},
		{"https://as.example/token#f", "https://as.example/token"},
		{"https://as.example/token?x=1#f", "https://as.example/token"},
		{"https://as.example/token?", "https://as.example/token"},
		{"https://as.example/token#", "https://as.example/token"},
		{"https://as.example:8443/t1/token?code=secret", "https://as.example:8443/t1/token"},
		{"HTTPS://as.example/token", "https://as.example/token"},
		{"https://as.example", "https://as.example"},
		{"https://as.example/a%20b/c&d", "https://as.example/a%20b/c&d"},
		{"http://[::1]:9000/par", "http://[::1]:9000/par"},
	}
	for _, tt := range tests {
		s, err := k.Proof("POST", tt.in, "", "", testNow)
		if err != nil {
			t.Errorf("Proof(%q): %v", tt.in, err)
			continue
		}
		if got := verifyProof(t, s).str("htu"); got != tt.want {
			t.Errorf("htu for %q = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestProofRejectsTargets(t *testing.T) {
	k := mustGenerate(t)
	for _, target := range []string{
		"",
		"/token",
		"as.example/token",
		"//as.example/token",
		"https:///token",
		"ftp://as.example/token",
		"mailto:someone@as.example",
		"https:opaque-secretvalue",
		"https://as.example/%zz-secretvalue",
		"https://user:secretvalue@as.example/token",
	} {
		_, err := k.Proof("POST", target, "", "", testNow)
		if err == nil {
			t.Errorf("Proof accepted target %q", target)
			continue
		}
		if strings.Contains(err.Error(), "secretvalue") || (target != "" && strings.Contains(err.Error(), target)) {
			t.Errorf("error %q quotes the target", err)
		}
	}
	if _, err := k.Proof("", "https://as.example/token", "", "", testNow); err == nil {
		t.Error("Proof accepted an empty method")
	}
}

func TestProofUniqueJTI(t *testing.T) {
	k := mustGenerate(t)
	seen := make(map[string]bool)
	for i := 0; i < 1000; i++ {
		s, err := k.Proof("POST", "https://as.example/token", "", "", testNow)
		if err != nil {
			t.Fatal(err)
		}
		// Only the claims and the signature length are checked here;
		// verifyProof checks signatures in the other tests.
		var c struct{ JTI string }
		if err := json.Unmarshal(decodeSegment(t, strings.Split(s, ".")[1]), &c); err != nil {
			t.Fatal(err)
		}
		// r and s are each padded to 32 bytes even when they start with
		// a zero byte, which 1000 proofs all but certainly include.
		if sig := decodeSegment(t, strings.Split(s, ".")[2]); len(sig) != 64 {
			t.Fatalf("signature %d is %d bytes, want 64", i, len(sig))
		}
		if len(decodeSegment(t, c.JTI)) != 16 {
			t.Fatalf("jti %d is not 128 bits", i)
		}
		if seen[c.JTI] {
			t.Fatalf("jti repeated after %d proofs", i)
		}
		seen[c.JTI] = true
	}
}

func TestProofIsVerifiedOnlyByItsKey(t *testing.T) {
	a, b := mustGenerate(t), mustGenerate(t)
	other := verifyProof(t, mustProof(t, b)).key
	if _, err := mustParse(t, mustProof(t, a)).Verify(other); err == nil {
		t.Fatal("a proof verified under another key")
	}
}
