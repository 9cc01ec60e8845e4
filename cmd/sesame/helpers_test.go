package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/profile"
)

// withProfileSettings edits profile "work" in the harness's config file.
func (h *harness) withProfileSettings(edit func(p *profile.Profile)) {
	h.t.Helper()
	cfg, err := profile.Load(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	edit(cfg.Profile("work"))
	if err := cfg.Save(); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) runStdin(stdin string, args ...string) result {
	h.t.Helper()
	h.stdin = stdin
	defer func() { h.stdin = "" }()
	return h.run(args...)
}

func TestKubectl_ExecCredential(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	for _, v := range []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"} {
		h.env["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"` + v + `","kind":"ExecCredential","spec":{"interactive":false}}`
		r := h.run("kubectl", "-p", "work")
		wantExit(t, r, 0)
		var out struct {
			APIVersion string `json:"apiVersion"`
			Status     struct {
				Token               string    `json:"token"`
				ExpirationTimestamp time.Time `json:"expirationTimestamp"`
			} `json:"status"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.APIVersion != v || out.Status.Token != h.record().AccessToken || out.Status.ExpirationTimestamp.IsZero() {
			t.Fatalf("%s: stdout %s (%v)", v, r.stdout, err)
		}
	}
}

func TestKubectl_NonInteractiveNeverOpensBrowser(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.as.Revoke(h.record().RefreshToken)
	h.advance(time.Hour)
	h.person = true // a terminal, but kubectl says the call is not interactive
	h.env["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	r := h.run("kubectl", "-p", "work")
	wantExit(t, r, exitLoginRequired)
	if r.stdout != "" || h.browser.Calls() != 1 {
		t.Fatalf("stdout %q, browser calls %d", r.stdout, h.browser.Calls())
	}
	wantOneErrorLine(t, r, "login required")
}

func TestKubectl_ForeignClusterRefused_Req40(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.withProfileSettings(func(p *profile.Profile) { p.KubeServer = "https://k8s.example.com:6443" })
	h.env["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":"https://k8s.example.com.evil.example:6443"}}}`
	r := h.run("kubectl", "-p", "work")
	if r.code == 0 || r.stdout != "" {
		t.Fatalf("a foreign cluster got a token: exit %d stdout %q", r.code, r.stdout)
	}
	h.env["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":"https://k8s.example.com:6443/"}}}`
	wantExit(t, h.run("kubectl", "-p", "work"), 0)
}

func TestGitCredential_AnswersOnlyItsHost_Req40(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.withProfileSettings(func(p *profile.Profile) { p.GitHosts = []string{"git.example.com"} })
	r := h.runStdin("protocol=https\nhost=git.example.com\n\n", "git-credential", "get")
	wantExit(t, r, 0)
	at := h.record().AccessToken
	if !strings.HasPrefix(r.stdout, "username=oauth2\npassword="+at+"\n") {
		t.Fatalf("git answer:\n%s", r.stdout)
	}
	for _, req := range []string{
		"protocol=https\nhost=evil.example\n\n",
		"protocol=http\nhost=git.example.com\n\n",
		"protocol=https\n\n",
		"protocol=https\nhost=git.example.com:8443\n\n",
	} {
		r := h.runStdin(req, "git-credential", "get")
		if r.code != 0 || r.stdout != "" {
			t.Fatalf("request %q: exit %d, answer %q; want no answer and exit 0", req, r.code, r.stdout)
		}
	}
	r = h.runStdin("protocol=https\nhost=git.example.com\r\n\n", "git-credential", "get")
	if strings.Contains(r.stdout, "password=") {
		t.Fatal("a request with CR got a password")
	}
}

func TestGitCredential_EraseDropsOnlyTheAccessToken(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.withProfileSettings(func(p *profile.Profile) { p.GitHosts = []string{"git.example.com"} })
	before := h.record()
	r := h.runStdin("protocol=https\nhost=git.example.com\nusername=oauth2\npassword="+before.AccessToken+"\n\n", "git-credential", "erase")
	wantExit(t, r, 0)
	after := h.record()
	if after.AccessToken != "" || after.RefreshToken != before.RefreshToken {
		t.Fatal("erase must drop the access token and keep the grant")
	}
	r = h.runStdin("protocol=https\nhost=git.example.com\n\n", "git-credential", "get")
	wantExit(t, r, 0)
	if h.as.RefreshCount() != 1 || !strings.Contains(r.stdout, "password="+h.record().AccessToken) {
		t.Fatalf("the get after erase did not refresh: %d refreshes", h.as.RefreshCount())
	}
}

func TestDockerCredential(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.withProfileSettings(func(p *profile.Profile) { p.DockerHosts = []string{"registry.example.com"} })
	r := h.runStdin("registry.example.com\n", "docker-credential", "get")
	wantExit(t, r, 0)
	var out map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out["Secret"] != h.record().AccessToken || out["ServerURL"] != "registry.example.com" {
		t.Fatalf("docker get: %s (%v)", r.stdout, err)
	}
	r = h.runStdin("other.example.com\n", "docker-credential", "get")
	if r.code != 1 || strings.TrimSpace(r.stdout) != "credentials not found in native keychain" {
		t.Fatalf("docker get for an unknown registry: exit %d stdout %q", r.code, r.stdout)
	}
	r = h.run("docker-credential", "list")
	wantExit(t, r, 0)
	if strings.TrimSpace(r.stdout) != `{"registry.example.com":"oauth2accesstoken"}` {
		t.Fatalf("docker list: %s", r.stdout)
	}
}

func TestDockerCredential_HintNamesTheMatchedProfile(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	h.withProfileSettings(func(p *profile.Profile) { p.DockerHosts = []string{"registry.example.com"} })
	wantExit(t, h.run("logout", "-p", "work"), 0)
	r := h.runStdin("registry.example.com\n", "docker-credential", "get")
	wantExit(t, r, exitLoginRequired)
	if !strings.Contains(r.stderr, "sesame login -p work") {
		t.Fatalf("the hint does not name the registry's profile:\n%s", r.stderr)
	}
}
