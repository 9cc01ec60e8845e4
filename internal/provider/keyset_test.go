package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestVerifyIDToken_JWKSRefetchRateLimited_Req24: tokens no cached key
// verifies make go-oidc fetch the key set again; sesame lets one fetch per
// refetchInterval through. A token signed with a cached key still verifies
// meanwhile, and a rotated key is found once the interval has passed.
func TestVerifyIDToken_JWKSRefetchRateLimited_Req24(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	fetchClock = func() time.Time { return time.Unix(0, clock.Load()) }
	t.Cleanup(func() { fetchClock = time.Now })

	p := newIDP(t)
	ctx := context.Background()
	now := time.Now()
	good := p.sign(jose.ES256, p.es, "k1", p.claims(now))
	if _, err := VerifyIDToken(ctx, p.client, p.meta, testClientID, good, "", nil); err != nil {
		t.Fatal(err)
	}
	rotated, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	unknown := p.sign(jose.ES256, rotated, "k3", p.claims(now))
	for range 20 {
		_, err := VerifyIDToken(ctx, p.client, p.meta, testClientID, unknown, "", nil)
		if err == nil || !strings.Contains(err.Error(), "signature does not match") {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if n := p.jwksFetch.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches for one good and 20 unknown-kid tokens within the interval, want 1", n)
	}
	if _, err := VerifyIDToken(ctx, p.client, p.meta, testClientID, good, "", nil); err != nil {
		t.Fatalf("a token with a cached key no longer verifies while the limit holds: %v", err)
	}

	// The server rotates to k3; after the interval one fetch finds it.
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &rotated.PublicKey, KeyID: "k3", Algorithm: "ES256", Use: "sig"}}}
	body, _ := json.Marshal(set)
	p.jwksBody.Store(body)
	clock.Add(int64(refetchInterval + time.Second))
	// go-oidc hands a caller that arrives just after a fetch ended that
	// fetch's result (its goroutine clears the in-flight request a moment
	// later, and nothing tells when), so an attempt may still see the last
	// refusal. Such an attempt sends nothing: retry, letting that goroutine
	// run, until one reaches the server; the limiter lets exactly one new
	// fetch through either way.
	for range 100_000 {
		_, err = VerifyIDToken(ctx, p.client, p.meta, testClientID, unknown, "", nil)
		if err == nil || p.jwksFetch.Load() > 1 {
			break
		}
		runtime.Gosched()
	}
	if err != nil {
		t.Fatalf("after the interval, the rotated key was not fetched: %v", err)
	}
	if n := p.jwksFetch.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches, want 2", n)
	}
}

// TestWarmKeySet_RefreshNeedsNoFetchAfterRotation: the keys fetched with
// the stored, expired ID token before a refresh verify the refreshed one
// even when the key endpoint fails just after the rotation.
func TestWarmKeySet_RefreshNeedsNoFetchAfterRotation(t *testing.T) {
	p := newIDP(t)
	ctx := context.Background()
	now := time.Now()
	stored := p.claims(now.Add(-3 * time.Hour))
	stored["exp"] = now.Add(-2 * time.Hour).Unix()
	if err := WarmKeySet(ctx, p.client, p.meta, p.sign(jose.ES256, p.es, "k1", stored)); err != nil {
		t.Fatalf("an expired but well-signed ID token must warm the key set: %v", err)
	}
	p.jwksCode.Store(503)
	fresh := p.sign(jose.ES256, p.es, "k1", p.claims(now))
	if _, err := VerifyIDToken(ctx, p.client, p.meta, testClientID, fresh, "", nil); err != nil {
		t.Fatalf("the refreshed ID token needed the failing key endpoint: %v", err)
	}
	if n := p.jwksFetch.Load(); n != 1 {
		t.Fatalf("%d key fetches, want the one before the refresh", n)
	}
}
