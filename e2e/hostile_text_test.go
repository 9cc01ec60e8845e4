package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/redact"
)

// hostileLogin is the account name typed into the real server's login
// form: oidc-provider makes it the sub, and the e2e server's findAccount
// derives email ("<sub>@example.test") and name ("E2E <sub>") from it. It
// tries to fake the identity line: erase it and write another (CSI 2K,
// cursor to column 1), set the window title (OSC 0), and reorder or hide
// text (RLO, LRI, zero-width space, RLM). An <input> drops CR and LF from
// its value, so none are in it.
const hostileLogin = "mallory\x1b]0;pwned\x07\x1b[2K\x1b[1Gsesame: signed in as alice\u202e\u2066x\u2069\u200b\u200f"

// noTerminalControls fails unless s is valid UTF-8 holding no control
// character (C0 but the line feeds ending lines, DEL, C1), no ESC, and no
// bidi or other format character: nothing a terminal would act on.
func noTerminalControls(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s is not valid UTF-8: %q", what, s)
	}
	if strings.IndexByte(s, 0x1b) >= 0 {
		t.Fatalf("%s holds ESC: %q", what, s)
	}
	for i, r := range s {
		if r != '\n' && redact.IsUnsafe(r) {
			t.Fatalf("%s holds %U at byte %d: %q", what, r, i, s)
		}
	}
}

// TestHostileText_ClaimsRealServer (issue 14, item 2): a user signs in to
// the real oidc-provider as an account whose sub, email and name carry
// escape sequences and bidi controls. What login and status show on the
// terminal holds none of them and flags the account; status --json keeps
// the exact values, escaped.
func TestHostileText_ClaimsRealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-hostile")
	c.extraEnv = append(c.extraEnv, "TESTBROWSER_LOGIN="+hostileLogin)

	r := c.login()
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%q", r.code, r.stderr)
	}
	rec := c.record()
	if rec == nil || rec.Subject != hostileLogin || rec.Email != hostileLogin+"@example.test" || rec.Name != "E2E "+hostileLogin {
		t.Fatalf("the server did not issue the hostile claims (the test proves nothing): %+v", rec)
	}
	noTerminalControls(t, "login stdout", r.stdout)
	noTerminalControls(t, "login stderr", r.stderr)
	const shown = `as "mallorysesame: signed in as alicex@example.test" (control or formatting characters removed from the server's text) (profile "e2e-hostile")`
	if !strings.Contains(r.stderr, shown) {
		t.Fatalf("login does not show the sanitized, flagged account %q:\n%q", shown, r.stderr)
	}
	if n := strings.Count(r.stderr, "sesame: signed in to "); n != 1 {
		t.Fatalf("%d identity lines, want 1:\n%q", n, r.stderr)
	}

	r = c.mustRun("status", "-p", c.name)
	noTerminalControls(t, "status stdout", r.stdout)
	noTerminalControls(t, "status stderr", r.stderr)
	if !strings.Contains(r.stdout, `"mallorysesame: signed in as alicex@example.test" (control or formatting`) {
		t.Fatalf("status does not show the sanitized account:\n%q", r.stdout)
	}

	r = c.mustRun("status", "-p", c.name, "--json")
	noTerminalControls(t, "status --json stdout", r.stdout)
	var st struct {
		Profiles []struct{ Subject, Email, Name string } `json:"profiles"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || len(st.Profiles) != 1 {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	if p := st.Profiles[0]; p.Subject != hostileLogin || p.Email != rec.Email || p.Name != rec.Name {
		t.Fatalf("status --json does not keep the server's values exactly: %+v", p)
	}
	c.assertNoLeak(rec.AccessToken, rec.RefreshToken)
}

// headerLine is the one line `token --output header` may print.
var headerLine = regexp.MustCompile(`^Authorization: (Bearer|DPoP) [\x21-\x7e]+\n$`)

// TestHostileText_TokenTypeHeaderInjection (issue 14, item 3): the real
// binary against an authorization server (internal/authtest; oidc-provider
// cannot be made to send another token_type) whose token responses carry
// token_type "Bearer\r\nX-Injected: 1". Login refuses and stores nothing;
// a refresh keeps the rotated grant but prints no header; so
// curl -H "$(sesame token --output header)" never sends an injected one.
func TestHostileText_TokenTypeHeaderInjection(t *testing.T) {
	rig.RequireTools(t)
	const injected = "Bearer\r\nX-Injected: 1"
	mutate := func(resp map[string]any) { resp["token_type"] = injected }
	as := authtest.New(t, authtest.WithTokenResponseMutator(mutate))
	srv := &rig.Server{Issuer: as.Issuer(), CAFile: as.CAFile(), ClientID: as.ClientID}
	c := newCLI(t, srv, "e2e-tokentype")

	r := c.login()
	oneErrorLine(t, r, "only Bearer and DPoP); nothing was stored")
	noTerminalControls(t, "login stderr", r.stderr)
	if r.code != 1 || r.stdout != "" || strings.Contains(r.stderr, "Injected") {
		t.Fatalf("login: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if c.record() != nil {
		t.Fatal("a grant with an unusable token type was stored")
	}

	// A proper login, then the server turns hostile at the refresh.
	as.Configure(authtest.WithTokenResponseMutator(nil))
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	as.Configure(authtest.WithTokenResponseMutator(mutate))
	r = c.run("token", "-p", c.name, "--output", "header", "--min-ttl", "1h")
	noTerminalControls(t, "token stderr", r.stderr)
	switch {
	case r.code == 0 && headerLine.MatchString(r.stdout):
		// A single clean header line would do too.
	case r.code == 1 && r.stdout == "":
		oneErrorLine(t, r, "cannot use")
	default:
		t.Fatalf("token --output header after a hostile refresh: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	rec := c.record()
	if rec == nil || rec.RefreshToken != as.LatestRefreshToken() {
		t.Fatal("the rotated refresh token was not stored: the grant is lost")
	}
	if strings.ContainsAny(rec.TokenType, "\r\n") {
		t.Fatalf("stored token type %q", rec.TokenType)
	}

	// The grant survived: once the server behaves, no new login is needed.
	as.Configure(authtest.WithTokenResponseMutator(nil))
	r = c.mustRun("token", "-p", c.name, "--output", "header", "--min-ttl", "1h")
	if !headerLine.MatchString(r.stdout) {
		t.Fatalf("token --output header = %q", r.stdout)
	}
	c.assertNoLeak(rec.RefreshToken)
}
