package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/session"
)

// activeAt makes the test resource servers accept exactly the tokens the
// real authorization server introspects as active.
func activeAt(srv *rig.Server) func(ctx context.Context, token string) bool {
	return func(ctx context.Context, token string) bool {
		active, err := srv.Introspect(ctx, token)
		return err == nil && active
	}
}

// runTool runs a real client (kubectl, git) and returns its exit code and
// combined output.
func runTool(t *testing.T, env []string, dir, name string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = env, dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	default:
		t.Fatalf("%s %v: %v", name, args, err)
		return -1, ""
	}
}

// expireNow is c.expire reporting to t (a subtest's, say).
func expireNow(t *testing.T, c *cli) {
	t.Helper()
	c.expireKey(t, c.key())
}

// TestKubectl_RealKubectl_RealServer: the real kubectl runs `sesame kubectl`
// as its exec plugin against an API stub that accepts only tokens the real
// oidc-provider calls active.
func TestKubectl_RealKubectl_RealServer(t *testing.T) {
	rig.RequireTools(t)
	rig.RequireKubectl(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 20 * time.Second})
	c := newCLI(t, srv, "e2e-kubectl")
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	api := rig.StartKubeAPI(t, srv.CA, activeAt(srv))
	r := c.mustRun("setup", "kubectl", "-p", c.name, "--server", api.URL)
	if !strings.Contains(r.stdout, "kubectl config set-credentials "+c.name) || !strings.Contains(r.stdout, "--exec-interactive-mode=IfAvailable") {
		t.Fatalf("setup kubectl printed:\n%s", r.stdout)
	}
	kubeconfig := rig.WriteKubeconfig(t, api, c.bin, []string{"kubectl", "-p", c.name}, nil, "IfAvailable", true)
	env := rig.KubectlEnv(t, c.env()...)
	kubectl := func() (int, string) {
		return runTool(t, env, c.home, "kubectl", "--kubeconfig", kubeconfig, "get", "--raw", "/version")
	}

	if code, out := kubectl(); code != 0 || !strings.Contains(out, "gitVersion") {
		t.Fatalf("kubectl get --raw /version: exit %d\n%s", code, out)
	}
	if refreshes(srv) != 0 || api.Accepted() == 0 {
		t.Fatalf("refreshes %d, accepted %d", refreshes(srv), api.Accepted())
	}

	// After the access token's expiry, kubectl still works: one refresh.
	time.Sleep(time.Until(session.EarlyExpiry(c.record())) + 500*time.Millisecond)
	if code, out := kubectl(); code != 0 {
		t.Fatalf("kubectl after expiry: exit %d\n%s", code, out)
	}
	if got := refreshes(srv); got != 1 {
		t.Fatalf("%d refreshes after expiry, want 1", got)
	}

	// No grant, and kubectl's call is not interactive (stdin is not a
	// terminal): fail fast with the hint, never a browser.
	c.mustRun("logout", "-p", c.name)
	browsersBefore := len(c.waitBrowserRuns(1))
	began := time.Now()
	code, out := kubectl()
	if code == 0 || !strings.Contains(out, "sesame login -p "+c.name) {
		t.Fatalf("kubectl without a grant: exit %d, want a failure with the login hint:\n%s", code, out)
	}
	if d := time.Since(began); d > 20*time.Second {
		t.Fatalf("kubectl without a grant took %v", d)
	}
	if len(c.browserRuns()) != browsersBefore {
		t.Fatal("a non-interactive kubectl call opened a browser")
	}
}

// TestGit_RealGit_RealServer: real git 2.39 clones and fetches over smart
// HTTP from a server that requires a token the real oidc-provider calls
// active, with sesame as its credential helper (configured by sesame setup
// git).
func TestGit_RealGit_RealServer(t *testing.T) {
	rig.RequireTools(t)
	rig.RequireGit(t)
	srv := rig.StartServer(t, rig.ServerOptions{AccessTokenTTL: 20 * time.Second})
	c := newCLI(t, srv, "e2e-git")
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	gs := rig.StartGitServer(t, srv.CA, activeAt(srv))
	r := c.mustRun("setup", "git", "-p", c.name, "--host", gs.Host)
	if !strings.Contains(r.stdout, "credential.https://"+gs.Host+".helper") {
		t.Fatalf("setup git printed:\n%s", r.stdout)
	}
	env := rig.GitEnv(t, append(c.env(), "GIT_SSL_CAINFO="+srv.CAFile)...)
	work := t.TempDir()
	repo := filepath.Join(work, "repo")

	if code, out := runTool(t, env, work, "git", "clone", gs.RepoURL, repo); code != 0 {
		t.Fatalf("git clone: exit %d\n%s", code, out)
	}
	if refreshes(srv) != 0 {
		t.Fatalf("clone caused %d refreshes", refreshes(srv))
	}

	// After expiry, fetch works with one refresh.
	time.Sleep(time.Until(session.EarlyExpiry(c.record())) + 500*time.Millisecond)
	if code, out := runTool(t, env, repo, "git", "fetch"); code != 0 {
		t.Fatalf("git fetch after expiry: exit %d\n%s", code, out)
	}
	if got := refreshes(srv); got != 1 {
		t.Fatalf("%d refreshes after expiry, want 1", got)
	}

	// Ten parallel fetches on an expired token: one refresh.
	c.expire()
	var wg sync.WaitGroup
	codes := make([]int, 10)
	outs := make([]string, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], outs[i] = runTool(t, env, repo, "git", "fetch")
		}()
	}
	wg.Wait()
	for i := range 10 {
		if codes[i] != 0 {
			t.Fatalf("parallel fetch %d: exit %d\n%s", i, codes[i], outs[i])
		}
	}
	if got := refreshes(srv); got != 2 {
		t.Fatalf("ten parallel fetches caused %d refreshes, want 1 more (2 in all)", got-1)
	}

	// A host no profile names gets no answer: git moves on.
	cmd := c.command(context.Background(), "git-credential", "get")
	cmd.Stdin = strings.NewReader("protocol=https\nhost=other.example\n\n")
	out, err := cmd.Output()
	if err != nil || len(out) != 0 {
		t.Fatalf("a foreign host got %q (%v)", out, err)
	}
	rec := c.record()
	c.assertNoLeak(rec.AccessToken, rec.RefreshToken)
}

// TestExecAndDockerLink_RealServer: `sesame exec` hands the command a fresh
// token in exactly the variable asked for and passes on its exit code; the
// binary installed as docker-credential-sesame speaks docker's protocol.
func TestExecAndDockerLink_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "e2e-exec")
	if r := c.login(); r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	at := c.record().AccessToken
	r := c.mustRun("exec", "-p", c.name, "--env", "MY_TOKEN", "--", "sh", "-c", `printf %s "$MY_TOKEN"; test -z "$SESAME_ACCESS_TOKEN"`)
	if r.stdout != at {
		t.Fatal("the command did not get the access token in MY_TOKEN")
	}
	if r := c.run("exec", "-p", c.name, "--", "sh", "-c", "exit 7"); r.code != 7 {
		t.Fatalf("exec exit code %d, want the command's 7", r.code)
	}

	link := filepath.Join(t.TempDir(), "docker-credential-sesame")
	if err := os.Symlink(c.bin, link); err != nil {
		t.Fatal(err)
	}
	c.mustRun("logout", "-p", c.name) // the profile stays; add a registry to it
	cfgPath := filepath.Join(c.cfgDir, "config.json")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte(`"client_id"`), []byte(`"docker_hosts": ["registry.example.com"], "client_id"`), 1)
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(link, "list")
	cmd.Env = c.env()
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) != `{"registry.example.com":"oauth2accesstoken"}` {
		t.Fatalf("docker-credential-sesame list: %q (%v)", out, err)
	}
	cmd = exec.Command(link, "get")
	cmd.Env, cmd.Stdin = c.env(), strings.NewReader("registry.example.com\n")
	out, _ = cmd.Output()
	if cmd.ProcessState.ExitCode() == 0 || strings.Contains(string(out), "Secret") {
		t.Fatalf("docker get without a grant: exit %d, %q", cmd.ProcessState.ExitCode(), out)
	}
}
