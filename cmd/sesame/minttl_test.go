package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// TestToken_UnmetMinTTLWarnsAndRefreshesOncePerLifetime (issue 14): with
// 60-second tokens (handed out for 30 s), --min-ttl 10m cannot be met.
// Every call exits 0 with the best available token and one warning line;
// the login's token is refreshed once, and the refreshed token is handed
// out until its early expiry without another refresh, not refreshed on
// every call.
func TestToken_UnmetMinTTLWarnsAndRefreshesOncePerLifetime(t *testing.T) {
	h := newHarness(t, authtest.WithAccessTokenLifetime(time.Minute))
	h.mustLogin()
	var printed []string
	for i := range 3 {
		h.advance(5 * time.Second)
		r := h.run("token", "-p", "work", "--min-ttl", "10m")
		wantExit(t, r, 0)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "sesame: warning: --min-ttl 10m0s cannot be met") || !strings.Contains(lines[0], "best available") {
			t.Fatalf("call %d: stderr is not the one warning line:\n%s", i, r.stderr)
		}
		printed = append(printed, strings.TrimSpace(r.stdout))
	}
	if h.as.RefreshCount() != 1 {
		t.Fatalf("%d refreshes for three calls within one token's lifetime, want 1", h.as.RefreshCount())
	}
	if at := h.record().AccessToken; printed[0] != at || printed[1] != at || printed[2] != at {
		t.Fatal("the calls did not all print the refreshed token")
	}
	// Past that token's early expiry: one more refresh, then none.
	h.advance(30 * time.Second)
	for range 2 {
		wantExit(t, h.run("token", "-p", "work", "--min-ttl", "10m"), 0)
	}
	if h.as.RefreshCount() != 2 {
		t.Fatalf("%d refreshes over two token lifetimes, want 2", h.as.RefreshCount())
	}
}

// TestToken_MeetableMinTTLNoWarning: a --min-ttl the server's tokens can
// meet is honoured silently, as before, and the json expiry satisfies it.
func TestToken_MeetableMinTTLNoWarning(t *testing.T) {
	h := newHarness(t, authtest.WithAccessTokenLifetime(time.Hour))
	h.mustLogin()
	h.advance(20 * time.Minute)
	r := h.run("token", "-p", "work", "--min-ttl", "40m", "--output", "json")
	wantExit(t, r, 0)
	if r.stderr != "" || h.as.RefreshCount() != 1 {
		t.Fatalf("stderr %q, %d refreshes; want no warning and one refresh", r.stderr, h.as.RefreshCount())
	}
	var out struct {
		Expiry time.Time `json:"expiry"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Expiry.Before(h.now().Add(40*time.Minute)) {
		t.Fatalf("expiry %v (%v), want at least 40 minutes away", out.Expiry, err)
	}
}

// TestToken_MinTTLHelpSaysWhatScriptsGet: token --help documents the cap,
// the warning and the exit code.
func TestToken_MinTTLHelpSaysWhatScriptsGet(t *testing.T) {
	h := newHarness(t)
	r := h.run("token", "--help")
	wantExit(t, r, 0)
	for _, want := range []string{"cannot be met", "at most once per token lifetime", "exits 0"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("token --help does not say %q:\n%s", want, r.stdout)
		}
	}
}
