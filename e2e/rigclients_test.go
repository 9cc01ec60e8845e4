package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// These tests prove the rig's real-protocol servers with the real clients
// and no sesame code: git 2.39 against rig.GitServer (git http-backend) and
// kubectl 1.32 against rig.KubeAPI, each asking a tiny shell script for the
// token.

// TestRigGitCloneAndPush: a credential helper that answers the good token
// lets git clone and push, over HTTP/2 and over HTTP/1.1 with a chunked
// request body.
func TestRigGitCloneAndPush(t *testing.T) {
	rig.RequireGit(t)
	ca := rig.NewCA(t)
	good := rigcToken(t)
	gs := rig.StartGitServer(t, ca, rigcAccept(good))
	helperLog := filepath.Join(t.TempDir(), "helper.log")
	helper := rigcGitHelper(t, good, helperLog)
	env := rig.GitEnv(t)
	work := filepath.Join(t.TempDir(), "clone")
	cfg := []string{"-c", "credential.helper=" + helper, "-c", "http.sslCAInfo=" + ca.CAFile}

	r := rigcRun(t, "", env, "git", append(cfg, "clone", gs.RepoURL, work)...)
	if r.code != 0 {
		t.Fatalf("git clone: exit %d\n%s", r.code, r.stderr)
	}
	if data, err := os.ReadFile(filepath.Join(work, "README.md")); err != nil || !strings.Contains(string(data), "sesame e2e rig") {
		t.Fatalf("clone: README.md = %q, %v", data, err)
	}
	if head := strings.TrimSpace(rigcRun(t, work, env, "git", "rev-parse", "HEAD").stdout); head != gs.InitialCommit {
		t.Fatalf("clone: HEAD %s, want %s", head, gs.InitialCommit)
	}

	// git 2.39 sends its first request without credentials and asks the
	// helper only after the 401 challenge; then it tells the helper "store".
	reqs := gs.Requests()
	if len(reqs) < 2 || reqs[0].Scheme != "" || reqs[0].Status != 401 {
		t.Fatalf("first request: want an anonymous one answered 401; requests:\n%s", rigcGitRequests(reqs))
	}
	if gs.Rejected() != 0 || gs.Accepted() == 0 {
		t.Fatalf("accepted %d, rejected %d; requests:\n%s", gs.Accepted(), gs.Rejected(), rigcGitRequests(reqs))
	}
	for _, rq := range reqs[1:] {
		if !rq.Accepted || rq.Scheme != "basic" || rq.Username != "oauth2" || rq.TokenID != rig.TokenID(good) {
			t.Fatalf("after the challenge, want only Basic oauth2 with the good token; requests:\n%s", rigcGitRequests(reqs))
		}
	}
	log := rigcReadFile(t, helperLog)
	for _, want := range []string{"action=get\nprotocol=https\nhost=" + gs.Host + "\n", "action=store\n"} {
		if !strings.Contains(log, want) {
			t.Fatalf("helper log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "path=") {
		t.Errorf("git sent path= without credential.useHttpPath:\n%s", log)
	}

	// Push a new commit (receive-pack is enabled for authenticated users).
	if err := os.WriteFile(filepath.Join(work, "change.txt"), []byte("pushed by the rig test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rigcMust(t, rigcRun(t, work, env, "git", "add", "change.txt"))
	rigcMust(t, rigcRun(t, work, env, "git", "commit", "--quiet", "-m", "change"))
	before := len(gs.Requests())
	r = rigcRun(t, work, env, "git", append(cfg, "push", "origin", "main")...)
	if r.code != 0 {
		t.Fatalf("git push: exit %d\n%s", r.code, r.stderr)
	}
	head := strings.TrimSpace(rigcRun(t, work, env, "git", "rev-parse", "HEAD").stdout)
	if got := gs.Ref(t, "refs/heads/main"); got != head {
		t.Fatalf("server main = %s after push, want %s", got, head)
	}
	if !rigcHasRequest(gs.Requests()[before:], func(rq rig.GitRequest) bool {
		return rq.Method == "POST" && strings.HasSuffix(rq.Path, "/git-receive-pack") && rq.Accepted && rq.Status == 200
	}) {
		t.Fatalf("no accepted POST git-receive-pack; requests:\n%s", rigcGitRequests(gs.Requests()[before:]))
	}

	// A pack bigger than http.postBuffer (1 MiB) goes as a chunked body over
	// HTTP/1.1, which net/http/cgi alone would refuse.
	big := make([]byte, 2<<20)
	_, _ = rand.Read(big)
	if err := os.WriteFile(filepath.Join(work, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	rigcMust(t, rigcRun(t, work, env, "git", "add", "big.bin"))
	rigcMust(t, rigcRun(t, work, env, "git", "commit", "--quiet", "-m", "big"))
	before = len(gs.Requests())
	r = rigcRun(t, work, env, "git", append(cfg, "-c", "http.version=HTTP/1.1", "push", "origin", "main")...)
	if r.code != 0 {
		t.Fatalf("git push (HTTP/1.1, 2 MiB): exit %d\n%s", r.code, r.stderr)
	}
	head = strings.TrimSpace(rigcRun(t, work, env, "git", "rev-parse", "HEAD").stdout)
	if got := gs.Ref(t, "refs/heads/main"); got != head {
		t.Fatalf("server main = %s after the big push, want %s", got, head)
	}
	if !rigcHasRequest(gs.Requests()[before:], func(rq rig.GitRequest) bool {
		return rq.Chunked && rq.Proto == "HTTP/1.1" && rq.Accepted && rq.Status == 200
	}) {
		t.Errorf("the big push sent no chunked body; requests:\n%s", rigcGitRequests(gs.Requests()[before:]))
	}

	// Ten fetches at once: the server serves them in parallel.
	before = len(gs.Requests())
	errs := make(chan error, 10)
	for range 10 {
		go func() {
			cmd := exec.CommandContext(t.Context(), "git", append(cfg, "fetch", "--quiet", "origin")...)
			cmd.Dir, cmd.Env = work, env
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("git fetch: %v\n%s", err, out)
				return
			}
			errs <- nil
		}()
	}
	for range 10 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(gs.Requests()) - before; n < 20 || gs.Rejected() != 0 {
		t.Errorf("parallel fetches: %d requests, %d rejected", n, gs.Rejected())
	}
	t.Logf("requests:\n%s", rigcGitRequests(gs.Requests()))
}

// TestRigGitWrongToken: a helper answering a token the server refuses makes
// git fail (after telling the helper "erase"), without a prompt.
func TestRigGitWrongToken(t *testing.T) {
	rig.RequireGit(t)
	ca := rig.NewCA(t)
	good, bad := rigcToken(t), rigcToken(t)
	gs := rig.StartGitServer(t, ca, rigcAccept(good))
	helperLog := filepath.Join(t.TempDir(), "helper.log")
	helper := rigcGitHelper(t, bad, helperLog)

	r := rigcRun(t, "", rig.GitEnv(t), "git", "-c", "credential.helper="+helper, "-c", "http.sslCAInfo="+ca.CAFile,
		"clone", gs.RepoURL, filepath.Join(t.TempDir(), "clone"))
	if r.code == 0 {
		t.Fatal("git clone with a wrong token succeeded")
	}
	if !strings.Contains(r.stderr, "Authentication failed") {
		t.Errorf("git clone stderr lacks 'Authentication failed':\n%s", r.stderr)
	}
	if gs.Accepted() != 0 || gs.Rejected() == 0 {
		t.Fatalf("accepted %d, rejected %d; requests:\n%s", gs.Accepted(), gs.Rejected(), rigcGitRequests(gs.Requests()))
	}
	for _, rq := range gs.Requests() {
		if rq.Scheme == "basic" && rq.TokenID != rig.TokenID(bad) {
			t.Errorf("request with an unexpected token: %s", rq)
		}
	}
	if log := rigcReadFile(t, helperLog); !strings.Contains(log, "action=erase\n") {
		t.Errorf("git did not tell the helper to erase the refused credential:\n%s", log)
	}
}

// TestRigGitNoHelper: with no helper and GIT_TERMINAL_PROMPT=0, git fails at
// once instead of prompting.
func TestRigGitNoHelper(t *testing.T) {
	rig.RequireGit(t)
	ca := rig.NewCA(t)
	gs := rig.StartGitServer(t, ca, rigcAccept(rigcToken(t)))

	r := rigcRun(t, "", rig.GitEnv(t), "git", "-c", "http.sslCAInfo="+ca.CAFile,
		"clone", gs.RepoURL, filepath.Join(t.TempDir(), "clone"))
	if r.code == 0 {
		t.Fatal("git clone without credentials succeeded")
	}
	if !strings.Contains(r.stderr, "terminal prompts disabled") {
		t.Errorf("git clone stderr lacks 'terminal prompts disabled':\n%s", r.stderr)
	}
	if gs.Accepted() != 0 || gs.Rejected() != 0 || gs.Anonymous() == 0 {
		t.Fatalf("accepted %d, rejected %d, anonymous %d; requests:\n%s",
			gs.Accepted(), gs.Rejected(), gs.Anonymous(), rigcGitRequests(gs.Requests()))
	}
}

// TestRigGitBearerHeader: the server takes `Authorization: Bearer` too (git
// 2.39 sends it only through http.extraHeader; here given by environment, so
// the token is not in argv).
func TestRigGitBearerHeader(t *testing.T) {
	rig.RequireGit(t)
	ca := rig.NewCA(t)
	good := rigcToken(t)
	gs := rig.StartGitServer(t, ca, rigcAccept(good))
	env := rig.GitEnv(t, "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader",
		"GIT_CONFIG_VALUE_0=Authorization: Bearer "+good)

	r := rigcRun(t, "", env, "git", "-c", "http.sslCAInfo="+ca.CAFile, "clone", gs.RepoURL, filepath.Join(t.TempDir(), "clone"))
	if r.code != 0 {
		t.Fatalf("git clone: exit %d\n%s", r.code, r.stderr)
	}
	reqs := gs.Requests()
	for _, rq := range reqs {
		if !rq.Accepted || rq.Scheme != "bearer" || rq.TokenID != rig.TokenID(good) {
			t.Fatalf("want only accepted bearer requests; requests:\n%s", rigcGitRequests(reqs))
		}
	}
}

// rigcExecPlugin prints an ExecCredential with $E2E_TOKEN and appends
// KUBERNETES_EXEC_INFO (which ends with a newline) to $E2E_INFO.
const rigcExecPlugin = `#!/bin/sh
printf '%s' "$KUBERNETES_EXEC_INFO" >> "$E2E_INFO"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}\n' "$E2E_TOKEN"
`

// rigcExecInfo is the part of KUBERNETES_EXEC_INFO the tests read.
type rigcExecInfo struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Interactive bool `json:"interactive"`
		Cluster     *struct {
			Server                   string `json:"server"`
			CertificateAuthorityData []byte `json:"certificate-authority-data"`
		} `json:"cluster"`
	} `json:"spec"`
}

// TestRigKubeGetNamespaces: kubectl with an exec plugin answering the good
// token lists namespaces, reads /version and runs auth whoami.
//
// What kubectl 1.32 passes in KUBERNETES_EXEC_INFO when its stdin is not a
// terminal and the user has interactiveMode IfAvailable and
// provideClusterInfo true (one line, checked below):
//
//	{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",
//	 "spec":{"cluster":{"server":"https://127.0.0.1:PORT",
//	   "certificate-authority-data":"<base64 of the CA PEM file>",
//	   "config":null},"interactive":false}}
//
// Without provideClusterInfo there is no "cluster".
func TestRigKubeGetNamespaces(t *testing.T) {
	rig.RequireKubectl(t)
	ca := rig.NewCA(t)
	good := rigcToken(t)
	api := rig.StartKubeAPI(t, ca, rigcAccept(good))
	plugin := rigcScript(t, "plugin", rigcExecPlugin)
	info := filepath.Join(t.TempDir(), "exec-info.jsonl")
	kubeconfig := rig.WriteKubeconfig(t, api, plugin, nil, map[string]string{"E2E_TOKEN": good, "E2E_INFO": info}, "IfAvailable", true)
	env := rig.KubectlEnv(t)

	r := rigcRun(t, "", env, "kubectl", "--kubeconfig", kubeconfig, "get", "namespaces")
	if r.code != 0 {
		t.Fatalf("kubectl get namespaces: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "NAME") || !strings.Contains(r.stdout, "STATUS") {
		t.Errorf("kubectl get namespaces printed no table:\n%s", r.stdout)
	}
	for _, ns := range rig.KubeNamespaces {
		if !strings.Contains(r.stdout, ns) {
			t.Errorf("kubectl get namespaces lacks %s:\n%s", ns, r.stdout)
		}
	}
	t.Logf("kubectl get namespaces:\n%s", r.stdout)

	r = rigcRun(t, "", env, "kubectl", "--kubeconfig", kubeconfig, "get", "--raw", "/version")
	if r.code != 0 || !strings.Contains(r.stdout, `"gitVersion":"v1.32.0-sesame-e2e"`) {
		t.Fatalf("kubectl get --raw /version: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = rigcRun(t, "", env, "kubectl", "--kubeconfig", kubeconfig, "auth", "whoami")
	if r.code != 0 || !strings.Contains(r.stdout, "token-"+rig.TokenID(good)) {
		t.Fatalf("kubectl auth whoami: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	if api.Accepted() == 0 || api.Rejected() != 0 {
		t.Fatalf("accepted %d, rejected %d; requests:\n%s", api.Accepted(), api.Rejected(), rigcKubeRequests(api.Requests()))
	}
	for _, rq := range api.Requests() {
		if rq.Scheme != "bearer" || rq.TokenID != rig.TokenID(good) {
			t.Errorf("unexpected credentials: %s", rq)
		}
	}
	t.Logf("requests:\n%s", rigcKubeRequests(api.Requests()))

	// One plugin run per kubectl process (it keeps the token in memory).
	caPEM, err := os.ReadFile(ca.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	runs := rigcExecInfos(t, info)
	if len(runs) != 3 {
		t.Errorf("plugin ran %d times for 3 kubectl commands", len(runs))
	}
	for _, in := range runs {
		if in.APIVersion != "client.authentication.k8s.io/v1" || in.Kind != "ExecCredential" {
			t.Errorf("KUBERNETES_EXEC_INFO: apiVersion %q kind %q", in.APIVersion, in.Kind)
		}
		if in.Spec.Interactive {
			t.Error("KUBERNETES_EXEC_INFO: spec.interactive is true with stdin not a terminal")
		}
		if in.Spec.Cluster == nil {
			t.Fatal("KUBERNETES_EXEC_INFO: no spec.cluster with provideClusterInfo")
		}
		if in.Spec.Cluster.Server != api.URL {
			t.Errorf("KUBERNETES_EXEC_INFO: spec.cluster.server %q, want %q", in.Spec.Cluster.Server, api.URL)
		}
		if !bytes.Equal(in.Spec.Cluster.CertificateAuthorityData, caPEM) {
			t.Errorf("KUBERNETES_EXEC_INFO: certificate-authority-data is not the CA file's contents")
		}
	}

	// Without provideClusterInfo: no cluster.
	info2 := filepath.Join(t.TempDir(), "exec-info.jsonl")
	kubeconfig = rig.WriteKubeconfig(t, api, plugin, nil, map[string]string{"E2E_TOKEN": good, "E2E_INFO": info2}, "Never", false)
	r = rigcRun(t, "", env, "kubectl", "--kubeconfig", kubeconfig, "get", "--raw", "/version")
	if r.code != 0 {
		t.Fatalf("kubectl get --raw /version: exit %d\n%s", r.code, r.stderr)
	}
	for _, in := range rigcExecInfos(t, info2) {
		if in.Spec.Cluster != nil || in.Spec.Interactive {
			t.Errorf("KUBERNETES_EXEC_INFO without provideClusterInfo, Never: %+v", in.Spec)
		}
	}
	t.Logf("KUBERNETES_EXEC_INFO: %s", strings.TrimSpace(rigcReadFile(t, info)))
}

// TestRigKubeBadToken: kubectl fails when the plugin's token is refused:
// "error: You must be logged in to the server (the server has asked for the
// client to provide credentials)", exit 1.
func TestRigKubeBadToken(t *testing.T) {
	rig.RequireKubectl(t)
	ca := rig.NewCA(t)
	good, bad := rigcToken(t), rigcToken(t)
	api := rig.StartKubeAPI(t, ca, rigcAccept(good))
	plugin := rigcScript(t, "plugin", rigcExecPlugin)
	info := filepath.Join(t.TempDir(), "exec-info.jsonl")
	kubeconfig := rig.WriteKubeconfig(t, api, plugin, nil, map[string]string{"E2E_TOKEN": bad, "E2E_INFO": info}, "IfAvailable", true)

	r := rigcRun(t, "", rig.KubectlEnv(t), "kubectl", "--kubeconfig", kubeconfig, "get", "namespaces")
	if r.code == 0 {
		t.Fatalf("kubectl get namespaces with a bad token succeeded:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "You must be logged in to the server") {
		t.Errorf("kubectl stderr lacks 'You must be logged in to the server':\n%s", r.stderr)
	}
	if api.Accepted() != 0 || api.Rejected() == 0 {
		t.Fatalf("accepted %d, rejected %d; requests:\n%s", api.Accepted(), api.Rejected(), rigcKubeRequests(api.Requests()))
	}
	// kubectl runs the plugin once, then again after every 401 (the next
	// request carries the new token; the refused one is not retried).
	if runs := len(rigcExecInfos(t, info)); runs != api.Rejected()+1 {
		t.Errorf("plugin ran %d times for %d refused requests, want one more run than refusals", runs, api.Rejected())
	}
	t.Logf("kubectl stderr:\n%s", r.stderr)
	t.Logf("requests:\n%s", rigcKubeRequests(api.Requests()))
}

// rigcToken returns a random token.
func rigcToken(t *testing.T) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// rigcAccept is a check that accepts only good.
func rigcAccept(good string) func(context.Context, string) bool {
	return func(_ context.Context, token string) bool {
		return subtle.ConstantTimeCompare([]byte(token), []byte(good)) == 1
	}
}

// rigcScript writes an executable script into a temporary directory.
func rigcScript(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

// rigcGitHelper writes a git credential helper that answers get with
// username oauth2 and the token, and appends "action=<get|store|erase>" and
// the attributes git sent (without any password) to log.
func rigcGitHelper(t *testing.T, token, log string) string {
	t.Helper()
	return rigcScript(t, "git-credential-test", `#!/bin/sh
{ echo "action=$1"; grep -v '^password='; echo; } >> '`+log+`'
case "$1" in
get) printf 'username=oauth2\npassword=%s\n' '`+token+`' ;;
esac
`)
}

type rigcResult struct {
	stdout, stderr string
	code           int
}

// rigcRun runs a command with stdin from /dev/null (not a terminal) and a
// 60 s limit.
func rigcRun(t *testing.T, dir string, env []string, name string, args ...string) rigcResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := rigcResult{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %s: still running after 60 s\n%s", name, strings.Join(args, " "), res.stderr)
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func rigcMust(t *testing.T, r rigcResult) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}

func rigcReadFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// rigcExecInfos parses the KUBERNETES_EXEC_INFO values the plugin
// appended to path. Each ends with a newline (kubectl writes the value with a
// json.Encoder); a run without the variable would make the stream invalid.
func rigcExecInfos(t *testing.T, path string) []rigcExecInfo {
	t.Helper()
	data := rigcReadFile(t, path)
	var infos []rigcExecInfo
	dec := json.NewDecoder(strings.NewReader(data))
	for dec.More() {
		var in rigcExecInfo
		if err := dec.Decode(&in); err != nil {
			t.Fatalf("KUBERNETES_EXEC_INFO is not JSON (%v):\n%s", err, data)
		}
		infos = append(infos, in)
	}
	if n := strings.Count(data, "}\n"); n != len(infos) {
		t.Errorf("%d KUBERNETES_EXEC_INFO values, %d of them end with a newline", len(infos), n)
	}
	return infos
}

func rigcHasRequest(reqs []rig.GitRequest, f func(rig.GitRequest) bool) bool {
	for _, r := range reqs {
		if f(r) {
			return true
		}
	}
	return false
}

func rigcGitRequests(reqs []rig.GitRequest) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString("  " + r.String() + "\n")
	}
	return b.String()
}

func rigcKubeRequests(reqs []rig.KubeRequest) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString("  " + r.String() + "\n")
	}
	return b.String()
}
