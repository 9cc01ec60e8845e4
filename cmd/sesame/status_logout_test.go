package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/internal/authtest"
)

func TestStatus_ShowsIdentityNotTokens(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	r := h.run("status")
	wantExit(t, r, 0)
	for _, want := range []string{"work", h.as.Issuer(), "alice@example.test", "valid for", "Grants are stored in: memory"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("status lacks %q:\n%s", want, r.stdout)
		}
	}
	r = h.run("status", "--json")
	wantExit(t, r, 0)
	if strings.Contains(r.stdout, "SNTL-") {
		t.Fatal("status prints a token")
	}
	var out statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Profiles) != 1 || !out.Profiles[0].SignedIn || out.Profiles[0].Subject != "alice" {
		t.Fatalf("status --json = %s (%v)", r.stdout, err)
	}
}

func TestLogout_RevokesAndDeletes_Req33(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	rec := h.record()
	r := h.run("logout", "-p", "work")
	wantExit(t, r, 0)
	if !h.as.Revoked(rec.RefreshToken) || h.as.Introspect(rec.AccessToken) {
		t.Fatal("the grant is still active at the server")
	}
	if len(h.store.Keys()) != 0 {
		t.Fatal("the keychain still holds the grant")
	}
	req := h.as.RequestsTo(authtest.PathRevoke)
	if len(req) == 0 || req[0].Form.Get("token_type_hint") != "refresh_token" || req[0].Form.Get("client_id") != h.as.ClientID {
		t.Fatalf("revocation requests = %+v", req)
	}
	// The profile's settings stay: logging in again needs only -p.
	wantExit(t, h.run("login", "-p", "work"), 0)
}

func TestLogout_UnconfirmedExit5_Req33(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.as.Configure(authtest.WithRevokeStatuses("0", 503, 503, 503, 503, 503, 503))
	r := h.run("logout", "-p", "work")
	wantExit(t, r, exitNotRevoked)
	wantOneErrorLine(t, r, "may still be active")
	if len(h.store.Keys()) != 0 {
		t.Fatal("local data kept after an unconfirmed revocation")
	}
}

func TestLogout_AllAndForget(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	wantExit(t, h.run("logout", "--all", "--forget"), 0)
	r := h.run("status", "--json")
	if !strings.Contains(r.stdout, `"profiles":[]`) {
		t.Fatalf("profiles remain after --forget: %s", r.stdout)
	}
}

func TestCompletion_ProfileNames(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	r := h.run("__complete", "token", "-p", "")
	wantExit(t, r, 0)
	if !strings.HasPrefix(r.stdout, "work\n") {
		t.Fatalf("completion of -p: %q", r.stdout)
	}
}
