package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/keychain"
)

const execInfoV1 = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":"https://k8s.example.com:6443"}}}`

// warmHarness is a harness signed in to profile "work", which serves
// kubectl, git and docker, on a stopped clock, so that two runs of one
// command print the same expiry.
func warmHarness(t *testing.T) *harness {
	h := newHarness(t)
	h.clock.epoch = time.Now()
	h.mustLogin()
	h.withProfileSettings(func(p *profile.Profile) {
		p.KubeServer = "https://k8s.example.com:6443"
		p.GitHosts = []string{"git.example.com"}
		p.DockerHosts = []string{"registry.example.com"}
	})
	return h
}

// TestWarm_AnswersAsTheTree: every helper command line, warm or not, well
// formed or not, gets the same stdout, stderr and exit code through Main
// (the warm path first) as through the command tree alone. None of them
// changes the grant, so each pair starts from the same state.
func TestWarm_AnswersAsTheTree(t *testing.T) {
	h := warmHarness(t)
	const gitGet = "protocol=https\nhost=git.example.com\n\n"
	for _, c := range []struct {
		args      []string
		stdin     string
		execInfo  string
		stdoutTTY bool
	}{
		{args: []string{"token", "-p", "work"}},
		{args: []string{"token", "--profile", "work", "--output", "json"}},
		{args: []string{"token", "--profile=work", "--output=header"}},
		{args: []string{"token", "-p", "work", "--output", "yaml"}},
		{args: []string{"token", "-p", "work", "--min-ttl", "2m"}},
		{args: []string{"token", "-p", "work", "--min-ttl", "soon"}},
		{args: []string{"token", "-p", "work", "--min-ttl", "-1s"}},
		{args: []string{"token", "-p", "work", "--require-scope", "openid", "--require-scope", "payroll"}},
		{args: []string{"token", "-p", "work", "--resource", "https://api.example.com/"}},
		{args: []string{"token", "-p", "work", "extra"}},
		{args: []string{"token", "-p", "work", "--reveal"}, stdoutTTY: true},
		{args: []string{"token", "-p", "work"}, stdoutTTY: true},
		{args: []string{"token", "-p", "work", "--reveal=false"}, stdoutTTY: true},
		{args: []string{"token", "-p", "work", "--debug"}},
		{args: []string{"token", "-p", "work", "-h"}},
		{args: []string{"token", "-p", "work", "--frob"}},
		{args: []string{"token", "-p"}},
		{args: []string{"token", "-p", ""}},
		{args: []string{"token", "-p", "no such"}},
		{args: []string{"token", "-p", "wrok"}},
		{args: []string{"token"}},
		{args: []string{"-p", "work", "token"}},
		{args: []string{"kubectl", "-p", "work"}, execInfo: execInfoV1},
		{args: []string{"kubectl", "-p", "work"}, execInfo: strings.Replace(execInfoV1, "k8s.example.com", "k8s.evil.example", 1)},
		{args: []string{"kubectl", "-p", "work"}, execInfo: `{"kind":"ExecCredential"`},
		{args: []string{"kubectl", "-p", "work"}},
		{args: []string{"kubectl", "-p", "work", "--id-token"}, execInfo: execInfoV1},
		{args: []string{"git-credential", "-p", "work", "get"}, stdin: gitGet},
		{args: []string{"git-credential", "get"}, stdin: gitGet},
		{args: []string{"git-credential", "get", "-p", "work"}, stdin: gitGet},
		{args: []string{"git-credential", "get"}, stdin: "protocol=https\nhost=other.example.com\n\n"},
		{args: []string{"git-credential", "get"}, stdin: "protocol=https\nhost=git.example.com\r\n\n"},
		{args: []string{"git-credential", "get"}, stdin: strings.Repeat("x", 1<<17)},
		{args: []string{"git-credential", "store"}, stdin: gitGet + "username=oauth2\npassword=x\n"},
		{args: []string{"git-credential", "fetch"}, stdin: gitGet},
		{args: []string{"git-credential"}, stdin: gitGet},
		{args: []string{"docker-credential", "get"}, stdin: "registry.example.com\n"},
		{args: []string{"docker-credential", "get"}, stdin: "other.example.com\n"},
		{args: []string{"docker-credential", "get"}, stdin: ""},
		{args: []string{"docker-credential", "get", "--resource", "https://x.example/"}, stdin: "registry.example.com\n"},
		{args: []string{"docker-credential", "list"}},
	} {
		name := strings.Join(c.args, " ")
		h.env["KUBERNETES_EXEC_INFO"] = c.execInfo
		h.stdoutTTY = c.stdoutTTY
		h.treeOnly = true
		tree := h.runStdin(c.stdin, c.args...)
		h.treeOnly = false
		warm := h.runStdin(c.stdin, c.args...)
		if warm != tree {
			t.Errorf("%s:\nwarm path: exit %d\nstdout %q\nstderr %q\ntree: exit %d\nstdout %q\nstderr %q",
				name, warm.code, warm.stdout, warm.stderr, tree.code, tree.stdout, tree.stderr)
		}
	}
	if n := h.as.RefreshCount(); n != 0 {
		t.Errorf("%d refreshes, want none: every token was fresh", n)
	}
}

// TestWarm_SavedDefaultAsTheTree: without -p both paths use the default
// saved with 'profile use', and answer alike.
func TestWarm_SavedDefaultAsTheTree(t *testing.T) {
	h := warmHarness(t)
	wantExit(t, h.run("profile", "use", "work"), exitOK)
	for _, args := range [][]string{
		{"token"},
		{"token", "--require-scope", "openid,offline_access"},
		{"token", "--require-scope", "openid payroll"},
		{"kubectl"},
	} {
		h.env["KUBERNETES_EXEC_INFO"] = execInfoV1
		h.treeOnly = true
		tree := h.run(args...)
		h.treeOnly = false
		warm := h.run(args...)
		if warm != tree || (args[0] == "token" && len(args) == 1 && (tree.code != exitOK || tree.stdout == "")) {
			t.Errorf("%v:\nwarm path: exit %d\nstdout %q\nstderr %q\ntree: exit %d\nstdout %q\nstderr %q",
				args, warm.code, warm.stdout, warm.stderr, tree.code, tree.stdout, tree.stderr)
		}
	}
}

// TestWarm_SetupCommandLinesAnswerWarm: the command lines `sesame setup`
// writes, and docker's, are answered by the warm path when a fresh token
// is cached, with nothing left for the command tree.
func TestWarm_SetupCommandLinesAnswerWarm(t *testing.T) {
	h := warmHarness(t)
	at := h.record().AccessToken
	for _, c := range []struct {
		args  []string
		stdin string
		env   string
		quiet bool // the answer is no output
	}{
		{args: []string{"token", "-p", "work", "--output", "header"}},
		{args: []string{"kubectl", "-p", "work"}, env: execInfoV1},
		{args: []string{"git-credential", "-p", "work", "get"}, stdin: "protocol=https\nhost=git.example.com\n\n"},
		{args: []string{"git-credential", "-p", "work", "store"}, stdin: "protocol=https\nhost=git.example.com\n\n", quiet: true},
		{args: []string{"docker-credential", "get"}, stdin: "registry.example.com\n"},
	} {
		var out, errOut strings.Builder
		env := &Env{
			Stdin: strings.NewReader(c.stdin), Stdout: &out, Stderr: &errOut,
			Getenv: func(k string) string {
				return map[string]string{"SESAME_CONFIG_DIR": h.dir, "KUBERNETES_EXEC_INFO": c.env}[k]
			},
			Clock: &h.clock,
			Cache: h.cache,
			Store: func() (keychain.Store, error) { return h.store, nil },
		}
		code, handled := runWarm(c.args, env)
		if !handled || code != 0 || errOut.Len() > 0 || strings.Contains(out.String(), at) == c.quiet {
			t.Errorf("%v: handled %v, exit %d, stdout %q, stderr %q", c.args, handled, code, out.String(), errOut.String())
		}
	}
}

// TestWarm_DeclinedCallReadsTheSameInput: when the warm path reads git's
// request and then finds no fresh token in the cache (its trust in the
// keychain's last word has run out), the command tree reads the same
// request, and the end of the input is not asked for twice: a terminal
// would wait for a second Ctrl-D.
func TestWarm_DeclinedCallReadsTheSameInput(t *testing.T) {
	h := warmHarness(t)
	h.advance(session.CacheTrust + time.Second)
	in := &endOnce{r: strings.NewReader("protocol=https\nhost=git.example.com\n")}
	r := h.runIn(t.Context(), in, func(k string) string { return h.env[k] }, "git-credential", "get")
	wantExit(t, r, 0)
	if !strings.Contains(r.stdout, "password="+h.record().AccessToken+"\n") {
		t.Fatalf("git answer:\n%s\nstderr: %s", r.stdout, r.stderr)
	}
}

// endOnce is a terminal's input: once it has said end of input, reading
// again would wait for the person.
type endOnce struct {
	r     io.Reader
	ended bool
}

func (e *endOnce) Read(p []byte) (int, error) {
	if e.ended {
		return 0, errors.New("read again after the end of input")
	}
	n, err := e.r.Read(p)
	e.ended = err == io.EOF
	return n, err
}
