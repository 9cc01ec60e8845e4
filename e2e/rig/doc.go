// Package rig runs sesame's end-to-end tests against real programs: panva's
// oidc-provider (Node) as the authorization server, served over TLS with a
// certificate from a CA the test makes, and Debian's chromium, driven by the
// testbrowser program, as the user's browser.
//
// Every helper takes the test's testing.TB, registers its own cleanup and
// leaves no process running. The tests are opt-in: unless SESAME_E2E=1 is set,
// [SkipUnlessE2E], [RequireTools] and [StartServer] skip the calling test, so
// `go test ./...` on a machine without node or chromium stays green. With
// SESAME_E2E=1, a missing tool fails the test instead: CI must not
// silently skip.
//
// # Security
//
// The server's event log and everything the rig logs identify tokens by
// [TokenID], a short SHA-256 fingerprint, never by value. The CA's key lives
// only in memory and in the test's temporary directory.
//
// # Concurrency
//
// Helpers are safe to call from parallel tests; each [StartServer] call starts
// its own server on its own port. The one-time `npm ci` is shared by every
// test of a process and serialised across processes with a file lock.
package rig

import (
	"crypto/sha256"
	"encoding/base64"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// EnvEnable is the environment variable that turns the end-to-end tests on.
const EnvEnable = "SESAME_E2E"

// EnvChromium overrides the browser binary used by testbrowser and checked by
// RequireTools.
const EnvChromium = "TESTBROWSER_CHROMIUM"

// DefaultChromium is Debian's chromium launcher.
const DefaultChromium = "/usr/bin/chromium"

// Enabled reports whether SESAME_E2E=1.
func Enabled() bool { return os.Getenv(EnvEnable) == "1" }

// SkipUnlessE2E skips the test unless SESAME_E2E=1.
func SkipUnlessE2E(t testing.TB) {
	t.Helper()
	if !Enabled() {
		t.Skipf("end-to-end test: set %s=1 to run it (needs node, npm and chromium)", EnvEnable)
	}
}

// ChromiumPath is the browser testbrowser starts: $TESTBROWSER_CHROMIUM or
// /usr/bin/chromium.
func ChromiumPath() string {
	if p := os.Getenv(EnvChromium); p != "" {
		return p
	}
	return DefaultChromium
}

// RequireTools skips the test unless SESAME_E2E=1, and then fails it, with
// the list of what is missing, unless node, npm and chromium are installed.
func RequireTools(t testing.TB) {
	t.Helper()
	SkipUnlessE2E(t)
	var missing []string
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool+" (not in PATH)")
		}
	}
	chromium := ChromiumPath()
	if st, err := os.Stat(chromium); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		missing = append(missing, "chromium ("+chromium+" is not an executable file; set "+EnvChromium+")")
	}
	if len(missing) > 0 {
		t.Fatalf("e2e: missing tools: %s\n"+
			"e2e: hint: on Debian: apt-get install -y nodejs npm chromium; or unset %s to skip these tests",
			strings.Join(missing, ", "), EnvEnable)
	}
}

// TokenID is the fingerprint under which the test server's event log names
// a token: the first 16 characters of the unpadded base64url SHA-256 of its
// jti. oidc-provider's opaque tokens are their jti, so this works on the
// token string a client holds.
func TokenID(token string) string {
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:16]
}
