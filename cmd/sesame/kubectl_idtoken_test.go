package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/session"
)

// execCredential is what kubectl reads from sesame kubectl.
type execCredential struct {
	Status struct {
		Token               string    `json:"token"`
		ExpirationTimestamp time.Time `json:"expirationTimestamp"`
	} `json:"status"`
}

// TestKubectl_IDToken: with --id-token kubectl gets the ID token and its
// early expiry; an ID token about to expire is refreshed even while the
// access token is fresh; a server whose refresh gives no new ID token
// ends in "login required"; a profile without openid is a usage error.
func TestKubectl_IDToken(t *testing.T) {
	h := newHarness(t, authtest.WithAccessTokenLifetime(time.Hour), authtest.WithIDTokenLifetime(10*time.Minute))
	h.as.Configure(authtest.WithClock(h.now))
	h.mustLogin()
	h.env["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	get := func() execCredential {
		t.Helper()
		r := h.run("kubectl", "-p", "work", "--id-token")
		wantExit(t, r, 0)
		var out execCredential
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := get()
	rec := h.record()
	if first.Status.Token != rec.IDToken || first.Status.Token == rec.AccessToken {
		t.Fatal("kubectl --id-token did not get the ID token")
	}
	if want := session.IDTokenEarlyExpiry(rec).UTC().Truncate(time.Second); !first.Status.ExpirationTimestamp.Equal(want) {
		t.Fatalf("expirationTimestamp %v, want the ID token's early expiry %v", first.Status.ExpirationTimestamp, want)
	}
	refreshes := func() int { return h.as.CountRequests(authtest.PathToken) - 1 }

	// Ten minutes on: the access token (1 h) is fresh, the ID token not.
	h.advance(10 * time.Minute)
	second := get()
	if second.Status.Token == first.Status.Token || refreshes() != 1 {
		t.Fatalf("the expiring ID token was not refreshed (%d refreshes)", refreshes())
	}
	if get().Status.Token != second.Status.Token || refreshes() != 1 {
		t.Fatal("a fresh ID token was refreshed again")
	}

	// A server that gives no ID token on refresh: login required.
	h.as.Configure(authtest.WithTokenResponseMutator(func(resp map[string]any) { delete(resp, "id_token") }))
	h.advance(10 * time.Minute)
	r := h.run("kubectl", "-p", "work", "--id-token")
	wantExit(t, r, exitLoginRequired)
	wantOneErrorLine(t, r, "no new ID token")
	if r.stdout != "" {
		t.Fatalf("stdout %q", r.stdout)
	}

	h2 := newHarness(t)
	wantExit(t, h2.login("--scope", "email"), 0)
	h2.env["KUBERNETES_EXEC_INFO"] = h.env["KUBERNETES_EXEC_INFO"]
	wantExit(t, h2.run("kubectl", "-p", "work", "--id-token"), exitUsage)
}
