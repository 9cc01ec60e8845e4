package main

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/redact"
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

// hostileClaims are ID-token claims that try to fake the identity line:
// escape sequences that erase and rewrite it, a carriage return, bidi
// overrides and isolates, zero-width characters.
var hostileClaims = map[string]any{
	"sub":   "mallory\x1b]0;title\x07\u2066x\u2069",
	"email": "mallory@evil.example\r\x1b[2K\x1b[1Gsesame: signed in as alice@corp.example\u202e\u200b",
	"name":  "\x1b[8mAlice\u200f\u0085\u009b31m",
}

// terminalSafe reports the first rune of s that must not reach a terminal:
// anything redact.IsUnsafe reports, except the line feeds that end lines.
func terminalSafe(t *testing.T, what, s string) {
	t.Helper()
	for i, r := range s {
		if r != '\n' && redact.IsUnsafe(r) {
			t.Fatalf("%s holds %U at byte %d:\n%q", what, r, i, s)
		}
	}
	if !utf8.ValidString(s) {
		t.Fatalf("%s is not valid UTF-8: %q", what, s)
	}
}

// loginFlow runs the first login of "work" in flow ("browser" or
// "device"), approving the device code as the person would.
func loginFlow(h *harness, flow string) result {
	h.t.Helper()
	if flow == "device" {
		h.as.Configure(authtest.WithDeviceAutoApprove())
	}
	return h.login("--flow", flow)
}

// TestLogin_HostileClaims_Issue14: control, escape, bidi and zero-width
// characters in the ID token's claims never reach the terminal, through
// the "signed in ... as" line of login (browser and device flow) or a
// helper login, or through status; status --json escapes them and keeps
// the values exact.
func TestLogin_HostileClaims_Issue14(t *testing.T) {
	for _, flow := range []string{"browser", "device"} {
		t.Run(flow, func(t *testing.T) {
			h := newHarness(t, authtest.WithDeviceTiming(time.Minute, time.Second),
				authtest.WithIDTokenMutator(func(c map[string]any) { maps.Copy(c, hostileClaims) }))
			r := loginFlow(h, flow)
			wantExit(t, r, 0)
			terminalSafe(t, "login stderr", r.stderr)
			want := `as "mallory@evil.example sesame: signed in as alice@corp.example" ` + alteredNote + ` (profile "work")`
			if !strings.Contains(r.stderr, want) {
				t.Fatalf("login does not say %q:\n%s", want, r.stderr)
			}
			if rec := h.record(); rec.Email != hostileClaims["email"] || rec.Subject != hostileClaims["sub"] {
				t.Fatalf("the stored claims are not the server's: %+v", rec)
			}

			r = h.run("status")
			wantExit(t, r, 0)
			terminalSafe(t, "status stdout", r.stdout)
			terminalSafe(t, "status stderr", r.stderr)
			if !strings.Contains(r.stdout, `"mallory@evil.example sesame: signed in as alice@corp.example" `+alteredNote) {
				t.Fatalf("status does not show the sanitized account:\n%s", r.stdout)
			}
			if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 4 {
				t.Fatalf("status is not a header, one row and the storage line:\n%s", r.stdout)
			}

			r = h.run("status", "--json")
			wantExit(t, r, 0)
			terminalSafe(t, "status --json", r.stdout)
			for _, esc := range []string{`\u001b`, `\u202e`, `\u200b`, `\u2066`, `\u0085`, `\u009b`, `\r`} {
				if !strings.Contains(r.stdout, esc) {
					t.Errorf("status --json does not escape %s: %s", esc, r.stdout)
				}
			}
			var out statusJSON
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Profiles) != 1 {
				t.Fatalf("status --json = %s (%v)", r.stdout, err)
			}
			if p := out.Profiles[0]; p.Subject != hostileClaims["sub"] || p.Email != hostileClaims["email"] || p.Name != hostileClaims["name"] {
				t.Fatalf("status --json changed the claims: %+v", p)
			}
		})
	}
}

// The helper login of `token` says who signed in through the same
// sanitizer. (Its record comes from the volatile cache, which keeps no
// claims, so today it says "an unnamed account"; the line must be clean
// either way.)
func TestToken_HelperLoginHostileClaims_Issue14(t *testing.T) {
	h := newHarness(t, authtest.WithIDTokenMutator(func(c map[string]any) { maps.Copy(c, hostileClaims) }))
	h.mustLogin()
	wantExit(t, h.run("logout", "-p", "work"), 0)
	h.person = true
	r := h.run("token", "-p", "work", "--reveal")
	wantExit(t, r, 0)
	terminalSafe(t, "token stderr", r.stderr)
	if !strings.Contains(r.stderr, "sesame: signed in to ") {
		t.Fatalf("the helper login does not say who signed in:\n%s", r.stderr)
	}
}

func TestAccount_Issue14(t *testing.T) {
	for _, tt := range []struct {
		claims []string
		want   string
	}{
		{[]string{"alice@example.test", "Alice", "alice"}, "alice@example.test"},
		{[]string{"", "Alice Smith", "alice"}, "Alice Smith"},
		{[]string{"", "", "alice"}, "alice"},
		{[]string{"", "", ""}, "fallback"},
		{[]string{"al\u202eice"}, `"alice" ` + alteredNote},
		{[]string{"\x1b[0m", "Bob"}, `"Bob" ` + alteredNote},
		{[]string{"\u200b", "", "\x1b"}, "fallback " + alteredNote},
		{[]string{"a\xffb"}, `"a` + "\ufffd" + `b" ` + alteredNote},
		{[]string{`say "hi"` + "\t"}, `"say \"hi\"" ` + alteredNote},
		{[]string{"日本 🔑"}, "日本 🔑"},
	} {
		if got := account("fallback", tt.claims...); got != tt.want {
			t.Errorf("account(%q) = %q, want %q", tt.claims, got, tt.want)
		}
	}
}

// unusableTypes are token_type values sesame must refuse: one it cannot
// use, and one that would inject a header into `token --output header`.
var unusableTypes = []string{"mac", "Bearer\r\nX-Injected: 1"}

// TestLogin_UnusableTokenType_Issue14: a login whose token response has a
// token_type other than Bearer or DPoP fails with one clean line and
// stores nothing, in either flow.
func TestLogin_UnusableTokenType_Issue14(t *testing.T) {
	for _, flow := range []string{"browser", "device"} {
		for _, typ := range unusableTypes {
			t.Run(flow+"/"+typ, func(t *testing.T) {
				h := newHarness(t, authtest.WithDeviceTiming(time.Minute, time.Second),
					authtest.WithTokenResponseMutator(func(resp map[string]any) { resp["token_type"] = typ }))
				r := loginFlow(h, flow)
				wantExit(t, r, 1)
				wantOneErrorLine(t, r, "only Bearer and DPoP); nothing was stored")
				terminalSafe(t, "login stderr", r.stderr)
				if strings.Contains(r.stderr, "X-Injected: 1") || r.stdout != "" {
					t.Fatalf("login quoted the token type:\n%s", r.stderr)
				}
				if len(h.store.Keys()) != 0 {
					t.Fatal("a grant was stored")
				}
			})
		}
	}
}

// TestToken_RefreshUnusableTokenType_Issue14: a refresh answered with an
// unusable token_type prints nothing on stdout (so `curl -H "$(sesame token
// --output header)"` sends no injected header) and fails with one line, but
// keeps the rotated refresh token: the grant survives, and once the server
// answers properly the next call works without a login.
func TestToken_RefreshUnusableTokenType_Issue14(t *testing.T) {
	for _, typ := range unusableTypes {
		t.Run(typ, func(t *testing.T) {
			h := newHarness(t)
			h.mustLogin()
			h.as.Configure(authtest.WithTokenResponseMutator(func(resp map[string]any) { resp["token_type"] = typ }))
			r := h.run("token", "-p", "work", "--output", "header", "--min-ttl", "1h")
			if r.stdout != "" {
				t.Fatalf("token printed %q", r.stdout)
			}
			wantExit(t, r, 1)
			wantOneErrorLine(t, r, "cannot use")
			terminalSafe(t, "token stderr", r.stderr)
			rec := h.record()
			if rec == nil || rec.RefreshToken == "" || rec.RefreshToken != h.as.LatestRefreshToken() {
				t.Fatal("the rotated refresh token was not stored: the grant is lost")
			}
			if rec.AccessToken != "" || rec.TokenType != "" {
				t.Fatalf("stored an access token of type %q", rec.TokenType)
			}

			h.as.Configure(authtest.WithTokenResponseMutator(func(resp map[string]any) { resp["token_type"] = "bEaReR" }))
			r = h.run("token", "-p", "work", "--output", "header")
			wantExit(t, r, 0)
			if !strings.HasPrefix(r.stdout, "Authorization: Bearer ") || strings.Count(r.stdout, "\n") != 1 || strings.ContainsAny(strings.TrimSuffix(r.stdout, "\n"), "\r\n") {
				t.Fatalf("token --output header = %q", r.stdout)
			}
		})
	}
}
