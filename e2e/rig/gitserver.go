package rig

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// GitRepoPath is the URL path of the one repository a GitServer serves.
const GitRepoPath = "/org/repo.git"

// GitRealm is the realm of the git server's Basic challenge.
const GitRealm = "sesame-e2e"

// GitServer is a git smart-HTTP server over TLS on 127.0.0.1: `git
// http-backend` run as CGI for one bare repository, behind a check of the
// credentials of every request. It stops when the test ends.
//
// A request is let through when it carries `Authorization: Basic` whose
// password is a token (any username), or `Authorization: Bearer <token>`, and
// check(token) is true. Otherwise the answer is 401 with
// `WWW-Authenticate: Basic realm="sesame-e2e"`, which makes git ask its
// credential helpers (and, after a refused password, call their `erase`).
// Pushing is enabled for every authenticated request (REMOTE_USER is set for
// http-backend).
//
// The server never records or logs a token, only its [TokenID]. The
// Authorization header is not passed on to http-backend, so no token reaches
// a CGI environment.
type GitServer struct {
	URL           string // https://127.0.0.1:PORT
	RepoURL       string // URL + GitRepoPath
	Host          string // 127.0.0.1:PORT, as git's credential protocol names it
	CAFile        string // the CA that signed the server certificate, for http.sslCAInfo
	Root          string // GIT_PROJECT_ROOT
	RepoDir       string // the bare repository: Root/org/repo.git
	InitialCommit string // the commit refs/heads/main starts at; HEAD points to main
	BackendLog    string // http-backend's stderr

	check   func(ctx context.Context, token string) bool
	backend string // the git binary
	env     []string
	stderr  *os.File

	mu       sync.Mutex
	requests []GitRequest
}

// GitRequest is one request the git server answered. It never holds a token,
// only its TokenID.
type GitRequest struct {
	Time     time.Time
	Method   string
	Path     string // URL path, e.g. /org/repo.git/info/refs
	Query    string // raw query, e.g. service=git-upload-pack
	Proto    string // HTTP/1.1 or HTTP/2.0
	Chunked  bool   // the request body came with Transfer-Encoding: chunked
	Scheme   string // "basic", "bearer", "" (no Authorization header) or "other"
	Username string // the Basic username
	TokenID  string // TokenID of the Basic password or the bearer token
	Accepted bool   // check accepted the token; false means the answer was 401
	Status   int    // the HTTP status of the answer
}

// StartGitServer creates a bare repository org/repo.git with one commit on
// main in a temporary GIT_PROJECT_ROOT and serves it over HTTPS (certificate
// from ca) on 127.0.0.1 with `git http-backend`, letting through only
// requests whose token check accepts. check is called with the request's
// context, possibly from several goroutines at once. It skips the test
// unless SESAME_E2E=1 and fails it without git (see RequireGit).
func StartGitServer(t testing.TB, ca *CA, check func(ctx context.Context, token string) bool) *GitServer {
	t.Helper()
	RequireGit(t)
	if ca == nil || check == nil {
		t.Fatal("e2e: StartGitServer needs a CA and a check")
		return nil
	}
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	tmp := t.TempDir()
	home := filepath.Join(tmp, "home")
	g := &GitServer{
		CAFile:     ca.CAFile,
		Root:       filepath.Join(tmp, "root"),
		BackendLog: filepath.Join(tmp, "http-backend.log"),
		check:      check,
		backend:    gitBin,
	}
	g.RepoDir = filepath.Join(g.Root, filepath.FromSlash(strings.TrimPrefix(GitRepoPath, "/")))
	for _, d := range []string{home, g.Root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("e2e: %v", err)
		}
	}
	// http-backend's environment: nothing from the user's git configuration.
	g.env = []string{
		"GIT_PROJECT_ROOT=" + g.Root,
		"GIT_HTTP_EXPORT_ALL=1",
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"LC_ALL=C",
	}
	g.InitialCommit = initBareRepo(t, g.RepoDir, GitEnv(t))
	g.stderr, err = os.Create(g.BackendLog)
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = g.stderr.Close()
		t.Fatalf("e2e: %v", err)
	}
	g.Host = ln.Addr().String()
	g.URL = "https://" + g.Host
	g.RepoURL = g.URL + GitRepoPath
	srv := &http.Server{
		Handler:           g,
		TLSConfig:         ca.ServerTLSConfig(t),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.ServeTLS(ln, "", "")
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			_ = srv.Close()
		}
		<-served
		_ = g.stderr.Close()
		if t.Failed() {
			t.Logf("e2e: git server requests:\n%s", g.describeRequests())
			t.Logf("e2e: http-backend stderr (%s):\n%s", g.BackendLog, tail(g.BackendLog, 40))
		}
	})
	return g
}

// initBareRepo makes a bare repository at dir whose main holds one commit
// with README.md, and returns that commit.
func initBareRepo(t testing.TB, dir string, env []string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "seed")
	runGit(t, "", env, "init", "--quiet", "--bare", "--initial-branch=main", dir)
	runGit(t, "", env, "init", "--quiet", "--initial-branch=main", work)
	if err := os.WriteFile(filepath.Join(work, "README.md"), []byte("# repo\n\nServed by the sesame e2e rig.\n"), 0o644); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	runGit(t, work, env, "add", "README.md")
	runGit(t, work, env, "commit", "--quiet", "-m", "Initial commit")
	runGit(t, work, env, "push", "--quiet", dir, "main")
	return strings.TrimSpace(runGit(t, "", env, "--git-dir="+dir, "rev-parse", "refs/heads/main"))
}

func runGit(t testing.TB, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("e2e: git %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out)
}

// Ref returns the commit a ref (e.g. "refs/heads/main") of the served
// repository points to, or "" if there is no such ref.
func (g *GitServer) Ref(t testing.TB, ref string) string {
	t.Helper()
	cmd := exec.Command("git", "--git-dir="+g.RepoDir, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	cmd.Env = GitEnv(t)
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return ""
		}
		t.Fatalf("e2e: git rev-parse %s: %v", ref, err)
	}
	return strings.TrimSpace(string(out))
}

// Requests returns a copy of the requests answered so far, in order.
func (g *GitServer) Requests() []GitRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.requests)
}

// Accepted counts the requests whose token check accepted.
func (g *GitServer) Accepted() int {
	return g.count(func(r GitRequest) bool { return r.Accepted })
}

// Rejected counts the requests that carried credentials the server refused
// (a token check said no, or the Authorization header was unusable).
// Requests without an Authorization header are not counted: git sends its
// first request without credentials and asks its helpers only after the 401.
func (g *GitServer) Rejected() int {
	return g.count(func(r GitRequest) bool { return !r.Accepted && r.Scheme != "" })
}

// Anonymous counts the requests without an Authorization header (each was
// answered 401 with the Basic challenge).
func (g *GitServer) Anonymous() int {
	return g.count(func(r GitRequest) bool { return r.Scheme == "" })
}

func (g *GitServer) count(f func(GitRequest) bool) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, r := range g.requests {
		if f(r) {
			n++
		}
	}
	return n
}

func (g *GitServer) describeRequests() string {
	var b strings.Builder
	for _, r := range g.Requests() {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// String describes the request on one line, without any secret.
func (r GitRequest) String() string {
	s := r.Time.Format("15:04:05.000") + " " + r.Proto + " " + r.Method + " " + r.Path
	if r.Query != "" {
		s += "?" + r.Query
	}
	scheme := r.Scheme
	if scheme == "" {
		scheme = "none"
	}
	s += " auth=" + scheme
	if r.Username != "" {
		s += " user=" + r.Username
	}
	if r.TokenID != "" {
		s += " token=" + r.TokenID
	}
	if r.Chunked {
		s += " chunked"
	}
	return s + " -> " + http.StatusText(r.Status)
}

// ServeHTTP checks the credentials and runs http-backend.
func (g *GitServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := GitRequest{
		Time:    time.Now(),
		Method:  r.Method,
		Path:    r.URL.Path,
		Query:   r.URL.RawQuery,
		Proto:   r.Proto,
		Chunked: slices.Contains(r.TransferEncoding, "chunked"),
	}
	var token string
	rec.Scheme, rec.Username, token = parseAuthorization(r)
	rec.TokenID = TokenID(token)
	rec.Accepted = token != "" && g.check(r.Context(), token)

	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		rec.Status = sw.status
		if rec.Status == 0 {
			rec.Status = http.StatusOK
		}
		g.mu.Lock()
		g.requests = append(g.requests, rec)
		g.mu.Unlock()
	}()
	if !rec.Accepted {
		sw.Header().Set("WWW-Authenticate", `Basic realm="`+GitRealm+`"`)
		http.Error(sw, "authentication required", http.StatusUnauthorized)
		return
	}

	req := r.Clone(r.Context())
	req.Header.Del("Authorization")
	if rec.Chunked {
		// net/http/cgi refuses chunked bodies; http-backend reads to EOF
		// when there is no CONTENT_LENGTH, and git sends chunked bodies
		// over HTTP/1.1 when a pack exceeds http.postBuffer.
		req.TransferEncoding = nil
		req.ContentLength = -1
	}
	user := rec.Username
	if user == "" {
		user = "bearer"
	}
	h := &cgi.Handler{
		Path:   g.backend,
		Args:   []string{"http-backend"},
		Dir:    g.Root,
		Env:    append(slices.Clip(g.env), "REMOTE_USER="+user),
		Stderr: g.stderr,
	}
	h.ServeHTTP(sw, req)
}

// parseAuthorization returns the scheme ("basic", "bearer", "other" or ""
// without a header), the Basic username and the token.
func parseAuthorization(r *http.Request) (scheme, username, token string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", "", ""
	}
	if user, pass, ok := r.BasicAuth(); ok {
		return "basic", user, pass
	}
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return "bearer", "", strings.TrimSpace(h[7:])
	}
	return "other", "", ""
}

// statusWriter remembers the status code of the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// RequireGit skips the test unless SESAME_E2E=1, and then fails it unless
// git and its http-backend are installed.
func RequireGit(t testing.TB) {
	t.Helper()
	SkipUnlessE2E(t)
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("e2e: git is not in PATH; hint: apt-get install -y git, or unset %s to skip these tests", EnvEnable)
	}
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("e2e: git --exec-path: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		if _, err2 := os.Stat(backend + ".exe"); err2 != nil {
			t.Fatalf("e2e: git http-backend is missing: %v", err)
		}
	}
}

// GitEnv is an environment for running git as a user of the test would, and
// nothing of the real user's: the process environment without any GIT_*
// variable (GIT_SSL_CAINFO would override http.sslCAInfo), proxy variable or
// askpass program, with HOME and XDG_CONFIG_HOME in a new temporary
// directory, GIT_CONFIG_NOSYSTEM=1, GIT_TERMINAL_PROMPT=0 (git fails instead
// of prompting), LC_ALL=C (messages in English), a fixed author and
// committer, then extra ("NAME=value", later entries win).
func GitEnv(t testing.TB, extra ...string) []string {
	t.Helper()
	home := t.TempDir()
	env := cleanEnv(func(name string) bool {
		return strings.HasPrefix(name, "GIT_") || name == "SSH_ASKPASS"
	})
	env = append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
		"GIT_AUTHOR_NAME=sesame e2e",
		"GIT_AUTHOR_EMAIL=e2e@sesame.invalid",
		"GIT_COMMITTER_NAME=sesame e2e",
		"GIT_COMMITTER_EMAIL=e2e@sesame.invalid",
	)
	return withEnv(env, extra...)
}

// cleanEnv returns os.Environ() without HOME, XDG_CONFIG_HOME, LC_ALL, the
// proxy variables and every variable drop reports.
func cleanEnv(drop func(name string) bool) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "HOME", "XDG_CONFIG_HOME", "LC_ALL",
			"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY":
			continue
		}
		if drop(name) {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// withEnv appends extra to env, dropping earlier entries of the same names.
func withEnv(env []string, extra ...string) []string {
	for _, kv := range extra {
		name, _, _ := strings.Cut(kv, "=")
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		env = append(env, kv)
	}
	return env
}
