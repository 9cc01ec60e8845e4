package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// wantStderr checks the exit code and every stderr line a person sees.
func wantStderr(t *testing.T, r result, code int, lines ...string) {
	t.Helper()
	want := strings.Join(lines, "\n") + "\n"
	if r.code != code || r.stderr != want {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit %d, stderr:\n%s", r.code, r.stderr, code, want)
	}
}

// Each message says its subject once: the wrapper adds nothing the error
// it wraps already says.
func TestMessages_NoStutter(t *testing.T) {
	h := newHarness(t)
	h.stdin = "protocol=https\nhost\n"
	wantStderr(t, h.run("git-credential", "get"), exitError,
		"sesame: error: git credential request: a line has no '='")
	h.stdin = "url=git.example.com\n"
	wantStderr(t, h.run("git-credential", "get"), exitError,
		"sesame: error: git credential request: url has no scheme")
	h.stdin = ""

	h.env["KUBERNETES_EXEC_INFO"] = "{"
	wantStderr(t, h.run("kubectl"), exitError,
		"sesame: error: KUBERNETES_EXEC_INFO is not valid JSON: unexpected end of JSON input")
	h.env["KUBERNETES_EXEC_INFO"] = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}`
	wantStderr(t, h.run("kubectl"), exitError,
		"sesame: error: KUBERNETES_EXEC_INFO: unsupported ExecCredential apiVersion or kind; sesame speaks client.authentication.k8s.io/v1 and v1beta1")
	delete(h.env, "KUBERNETES_EXEC_INFO")

	wantStderr(t, h.run("exec", "--", "sesame-test-no-such-command"), exitError,
		`sesame: error: cannot run "sesame-test-no-such-command": executable file not found in $PATH`)
}

// setup --apply without the tool: the tool is named once.
func TestMessages_SetupApplyWithoutKubectl(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.env["HOME"] = t.TempDir()
	h.env["KUBECONFIG"] = filepath.Join(h.env["HOME"], "kubeconfig")
	t.Setenv("PATH", t.TempDir())
	r := h.run("setup", "kubectl", "-p", "work", "--apply")
	wantStderr(t, r, exitError, `sesame: error: cannot run "kubectl": executable file not found in $PATH`)
	if !strings.HasPrefix(r.stdout, "kubectl config set-credentials work ") {
		t.Fatalf("stdout does not show the command first:\n%s", r.stdout)
	}
}

// A bad flag value is said in sesame's words, not Go's parser's.
func TestMessages_BadFlagValues(t *testing.T) {
	h := newHarness(t)
	help := "sesame: hint: run 'sesame --help' for usage"
	wantStderr(t, h.run("token", "--min-ttl", "abc"), exitUsage,
		`sesame: error: invalid --min-ttl "abc": use a duration such as 90s, 10m or 1h`, help)
	wantStderr(t, h.run("login", "--port", "abc"), exitUsage,
		`sesame: error: invalid --port "abc": use a whole number`, help)
	wantStderr(t, h.run("login", "--dpop=maybe"), exitUsage,
		`sesame: error: invalid --dpop "maybe": use true or false`, help)
}

// A configuration file of the wrong shape is described in its own terms:
// a field and a JSON kind, not a Go type.
func TestMessages_ConfigShape(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(h.dir, "config.json")
	for body, want := range map[string]string{
		`{"version":1,"profiles":{"work":{"scopes":"openid"}}}`: `invalid configuration at line 1: "scopes" must be an array of strings, not a string`,
		`[]`:                  `invalid configuration at line 1: the file holds an array, not an object`,
		`{"version":1,"x":1}`: `invalid configuration: unknown field "x"`,
		`{"version":1,`:       `invalid configuration: the file ends in the middle of the JSON`,
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		wantStderr(t, h.run("status"), exitError, "sesame: error: "+path+": "+want)
	}
}

// git-credential -p names a profile that does not exist: the same hint as
// every other command gives.
func TestMessages_GitCredentialMissingProfileHint(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.stdin = "protocol=https\nhost=git.example.com\n\n"
	wantStderr(t, h.run("git-credential", "-p", "wrok", "get"), exitError,
		`sesame: error: no profile "wrok"`,
		`sesame: hint: did you mean "work"? (profiles: work)`)
}

// logout names the profiles whose revocation the server did not confirm
// the way a person reads them, not as a Go slice.
func TestMessages_LogoutNotConfirmed(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	hint := "sesame: hint: sesame cannot ask again, as it no longer holds the grant: it ends when it expires at the server; to end it now, sign out of the session or remove this client's access in the provider's account page"
	// Each profile's logout asks three times for its refresh token and
	// three for its access token; the warning says why, per profile.
	warning := "sesame: warning: refresh token revocation: the server answered 503 Service Unavailable 3 times"
	h.as.Configure(authtest.WithRevokeStatuses("0", 503, 503, 503, 503, 503, 503))
	wantStderr(t, h.run("logout", "-p", "work"), exitNotRevoked,
		warning,
		`sesame: error: the server did not confirm the revocation of profile "work": local data was deleted, but the grant may still be active there`,
		hint)

	h.mustLogin()
	if r := h.run("login", "-p", "home", "--issuer", h.as.Issuer(), "--client-id", h.as.ClientID, "--ca-file", h.as.CAFile()); r.code != 0 {
		t.Fatalf("login -p home: exit %d\n%s", r.code, r.stderr)
	}
	h.as.Configure(authtest.WithRevokeStatuses("0", 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503))
	wantStderr(t, h.run("logout", "--all"), exitNotRevoked,
		warning, warning,
		`sesame: error: the server did not confirm the revocation of profiles "home" and "work": local data was deleted, but the grants may still be active there`,
		hint)
}

func TestQuotedList(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"a"}, `"a"`},
		{[]string{"a", "b"}, `"a" and "b"`},
		{[]string{"a", "b", "c"}, `"a", "b" and "c"`},
	} {
		if got := quotedList(c.in, "and"); got != c.want {
			t.Errorf("quotedList(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}
