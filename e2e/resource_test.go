package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/internal/tokencache"
)

// Resource indicators (RFC 8707) against the real oidc-provider
// (requirement 11).

// TestResourceIndicators_RealServer: the login's token is for the
// profile's first resource (aud at the server), stays so across a refresh,
// and a helper bound to the second resource gets a token whose aud is that
// resource, by a refresh of the same grant. (requirement 11)
func TestResourceIndicators_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 20 * time.Second})
	c := newCLI(t, srv, "e2e-resource")
	ctx := context.Background()
	const api, other = "https://api.e2e.test/", "https://other.e2e.test/"

	r := c.login("--scope", "api:read", "--scope", "other:read", "--resource", api, "--resource", other)
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	audOf := func(token string) (string, string) {
		t.Helper()
		claims, err := srv.IntrospectClaims(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if claims["active"] != true {
			t.Fatalf("token not active: %v", claims)
		}
		scope, _ := claims["scope"].(string)
		switch aud := claims["aud"].(type) {
		case string:
			return aud, scope
		case []any:
			if len(aud) == 1 {
				s, _ := aud[0].(string)
				return s, scope
			}
		}
		t.Fatalf("aud = %v", claims["aud"])
		return "", ""
	}
	first := c.record()
	if aud, scope := audOf(first.AccessToken); aud != api || scope != "api:read" {
		t.Fatalf("login token: aud %q scope %q, want %s api:read", aud, scope, api)
	}

	c.expire()
	tok := strings.TrimSpace(c.mustRun("token", "-p", c.name).stdout)
	if aud, _ := audOf(tok); aud != api || tok == first.AccessToken {
		t.Fatalf("refreshed token: aud %q (new token: %v), want %s", aud, tok != first.AccessToken, api)
	}

	before := refreshes(srv)
	otherTok := strings.TrimSpace(c.mustRun("token", "-p", c.name, "--resource", other).stdout)
	if aud, scope := audOf(otherTok); aud != other || scope != "other:read" {
		t.Fatalf("token --resource %s: aud %q scope %q", other, aud, scope)
	}
	if n := refreshes(srv) - before; n != 1 {
		t.Fatalf("%d refreshes for the second resource, want 1", n)
	}
	// Both tokens are kept; asking again is served without a request.
	again := strings.TrimSpace(c.mustRun("token", "-p", c.name, "--resource", other).stdout)
	main := strings.TrimSpace(c.mustRun("token", "-p", c.name).stdout)
	if again != otherTok || main != tok || refreshes(srv)-before != 1 {
		t.Fatal("the per-resource tokens were not reused")
	}
	if rec := c.record(); rec.ResourceTokens[other] == nil || rec.ResourceTokens[other].AccessToken != otherTok {
		t.Fatal("the keychain record does not keep the second resource's token")
	}
	// A resource the grant does not cover is a usage error, with no request.
	r = c.run("token", "-p", c.name, "--resource", "https://nope.e2e.test/")
	if r.code != 2 || !strings.Contains(r.stderr, "not one of profile") {
		t.Fatalf("unknown resource: exit %d\n%s", r.code, r.stderr)
	}
	c.mustRun("logout", "-p", c.name)
	if rec := c.record(); rec != nil {
		t.Fatal("logout left the record")
	}
	if _, ok := tokencache.New().Get(session.CacheKey(c.key(), other)); ok {
		t.Fatal("logout left the second resource's access token in the volatile cache")
	}
}
