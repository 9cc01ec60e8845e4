package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/profile"
)

// kubeloginEnv names a kubelogin binary to compare with (get-token with its
// disk cache, and with its keyring cache); without it the comparison is
// with the Go floor only.
const kubeloginEnv = "SESAME_BENCH_KUBELOGIN"

// baselineEnv names another sesame binary (an earlier build, say) whose
// helper calls run in the same rounds, for a before and after measured
// under the same load.
const baselineEnv = "SESAME_BENCH_BASELINE"

// Hosts the benchmark profile serves; nothing is ever sent to them.
const (
	benchKubeServer = "https://kube.bench.test:6443"
	benchGitHost    = "git.bench.test"
	benchRegistry   = "registry.bench.test"
)

// BenchmarkWarmHelpers_RealServer times whole processes of the warm helper
// calls (a fresh access token already cached), the hot path of sesame that
// kubectl, git, docker and IDEs call many times a minute: `sesame token`,
// `sesame kubectl` as kubectl runs it (KUBERNETES_EXEC_INFO with cluster
// information), `sesame git-credential get` with git's request on stdin and
// `docker-credential-sesame get` with docker's. sesame is built as the
// release is (static, stripped, -trimpath) and signed in to oidc-provider
// with a real browser login; next to it runs a static, stripped Go
// hello-world, the floor of any Go process, and, when SESAME_BENCH_KUBELOGIN
// names a kubelogin binary, kubelogin's get-token from its disk cache and
// from its keyring cache, each signed in once through the same server and
// browser; and with SESAME_BENCH_BASELINE, the same helper calls of
// another sesame binary. Every iteration is one round in which each
// command runs once, in an order that rotates from round to round, so
// that a change in the machine's load falls on all of them alike and the
// ratios stay fair.
//
// It prints a table (median, p90, ratio of the medians to the hello-world
// and to kubelogin's disk cache, peak resident memory) and the stripped
// binary's size; it asserts nothing about time.
//
//	SESAME_E2E=1 SESAME_REAL_KEYRING=1 scripts/keyring-session go test -run '^$' -bench WarmHelpers -benchtime 60x ./e2e/
func BenchmarkWarmHelpers_RealServer(b *testing.B) {
	rig.RequireTools(b)
	// Access tokens that outlive the run: every call is a warm one.
	srv := rig.StartServer(b, rig.ServerOptions{AccessTokenTTL: time.Hour})
	dir := b.TempDir()
	sesame, size := buildReleaseSesame(b, dir)
	hello := buildHelloWorld(b, dir)

	c := newCLI(b, srv, "bench")
	c.bin = sesame
	if r := c.login(); r.code != 0 {
		b.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	bindBenchProfile(b, c)
	token := c.record().AccessToken
	has := func(want string) func(string) bool {
		return func(out string) bool { return strings.Contains(out, want) }
	}

	caPEM, err := os.ReadFile(srv.CAFile)
	if err != nil {
		b.Fatal(err)
	}
	execInfo := fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":%q,"certificate-authority-data":%q},"interactive":false}}`,
		benchKubeServer, base64.StdEncoding.EncodeToString(caPEM))
	// The helper calls of one sesame binary; suffix tells a baseline's
	// from this tree's.
	helpers := func(sesame, suffix string) []*procCase {
		linkDir := filepath.Join(dir, "link"+metricName(suffix))
		dockerLink := filepath.Join(linkDir, "docker-credential-sesame")
		if err := os.MkdirAll(linkDir, 0o700); err != nil {
			b.Fatal(err)
		}
		if err := os.Symlink(sesame, dockerLink); err != nil {
			b.Fatal(err)
		}
		return []*procCase{
			{name: "sesame token" + suffix, path: sesame, args: []string{"token", "-p", c.name}, ok: func(out string) bool { return out == token+"\n" }},
			{name: "sesame kubectl" + suffix, path: sesame, args: []string{"kubectl", "-p", c.name},
				env: []string{"KUBERNETES_EXEC_INFO=" + execInfo}, ok: has(`"token":"` + token + `"`)},
			{name: "sesame git-credential get" + suffix, path: sesame, args: []string{"git-credential", "-p", c.name, "get"},
				stdin: "protocol=https\nhost=" + benchGitHost + "\n\n", ok: has("password=" + token + "\n")},
			{name: "docker-credential-sesame get" + suffix, path: dockerLink, args: []string{"get"},
				stdin: benchRegistry + "\n", ok: has(`"Secret":"` + token + `"`)},
		}
	}
	cases := append([]*procCase{{name: "hello-world", path: hello, ok: has("hello, world")}}, helpers(sesame, "")...)
	var baseline []*procCase
	if bin := os.Getenv(baselineEnv); bin != "" {
		baseline = helpers(bin, " (baseline)")
		cases = append(cases, baseline...)
	}
	var kubelogin *procCase
	if kl := os.Getenv(kubeloginEnv); kl != "" {
		kubelogin = kubeloginCase(b, c, kl, "disk")
		cases = append(cases, kubelogin, kubeloginCase(b, c, kl, "keyring"))
	}
	for _, pc := range cases {
		pc.prepare(b, dir, c.env())
	}

	load := loadAverage()
	round := 0
	for b.Loop() {
		for i := range cases {
			cases[(round+i)%len(cases)].run(b)
		}
		round++
	}
	b.StopTimer()
	for _, pc := range cases {
		pc.measurePeakRSS(b, 3)
	}

	floor := cases[0].median()
	var w bytes.Buffer
	fmt.Fprintf(&w, "%d rounds, %d CPUs, load average %s before and %s after\n", round, runtime.NumCPU(), load, loadAverage())
	fmt.Fprintf(&w, "sesame: %s stripped (release build)\n", mib(size))
	tw := tabwriter.NewWriter(&w, 0, 0, 2, ' ', tabwriter.AlignRight)
	_, _ = fmt.Fprintln(tw, "command\tmedian\tp90\t× hello-world\t× kubelogin disk\tpeak RSS\t")
	for _, pc := range cases {
		vsKubelogin := "-"
		if kubelogin != nil {
			vsKubelogin = fmt.Sprintf("%.2f", pc.median().Seconds()/kubelogin.median().Seconds())
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%s\t\n", pc.name, ms(pc.median()), ms(pc.percentile(90)),
			pc.median().Seconds()/floor.Seconds(), vsKubelogin, peakText(pc.peak))
		b.ReportMetric(float64(pc.median().Microseconds())/1000, metricName(pc.name)+"-ms")
	}
	_ = tw.Flush()
	for i, pc := range baseline {
		fmt.Fprintf(&w, "%s: %.2f × the baseline\n", cases[1+i].name, cases[1+i].median().Seconds()/pc.median().Seconds())
	}
	// On stdout: the testing package keeps only ten lines of a benchmark's
	// log.
	fmt.Print(w.String())
	b.ReportMetric(float64(size)/(1<<20), "MiB-stripped")
}

// procCase is one command the benchmark times, with what it took each
// round.
type procCase struct {
	name  string
	path  string
	args  []string
	env   []string // added to the sandbox's environment
	stdin string
	ok    func(stdout string) bool

	fullEnv        []string
	stdinPath      string
	stdout, stderr *os.File
	times          []time.Duration
	peak           int64 // bytes; 0: not measured
}

// prepare writes the case's stdin to a file and opens files for its
// output: a process given files, not pipes, costs its parent no copying
// goroutine, so only the process itself is timed.
func (pc *procCase) prepare(b *testing.B, dir string, env []string) {
	pc.fullEnv = append(slices.Clone(env), pc.env...)
	base := filepath.Join(dir, metricName(pc.name))
	pc.stdinPath = base + ".stdin"
	if err := os.WriteFile(pc.stdinPath, []byte(pc.stdin), 0o600); err != nil {
		b.Fatal(err)
	}
	var err error
	if pc.stdout, err = os.Create(base + ".stdout"); err != nil {
		b.Fatal(err)
	}
	if pc.stderr, err = os.Create(base + ".stderr"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pc.stdout.Close(); _ = pc.stderr.Close() })
}

// command is the case's process, not started, reading its stdin from a
// file and writing to the case's files, emptied.
func (pc *procCase) command(b *testing.B) (*exec.Cmd, func()) {
	b.Helper()
	in, err := os.Open(pc.stdinPath)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []*os.File{pc.stdout, pc.stderr} {
		if err := f.Truncate(0); err != nil {
			b.Fatal(err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			b.Fatal(err)
		}
	}
	cmd := exec.Command(pc.path, pc.args...)
	cmd.Env = pc.fullEnv
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, pc.stdout, pc.stderr
	return cmd, func() { _ = in.Close() }
}

// check fails the benchmark unless the command succeeded with the output
// it should have.
func (pc *procCase) check(b *testing.B, err error) {
	b.Helper()
	out, _ := os.ReadFile(pc.stdout.Name())
	if err != nil || !pc.ok(string(out)) {
		errOut, _ := os.ReadFile(pc.stderr.Name())
		b.Fatalf("%s: %v\nstdout: %q\nstderr: %s", pc.name, err, out, errOut)
	}
}

// run runs the command once and times it from its start to its exit.
func (pc *procCase) run(b *testing.B) {
	b.Helper()
	cmd, done := pc.command(b)
	defer done()
	start := time.Now()
	err := cmd.Start()
	if err == nil {
		err = cmd.Wait()
	}
	took := time.Since(start)
	pc.check(b, err)
	pc.times = append(pc.times, took)
}

// measurePeakRSS runs the command n times, untimed, and keeps the largest
// peak resident memory.
func (pc *procCase) measurePeakRSS(b *testing.B, n int) {
	b.Helper()
	for range n {
		cmd, done := pc.command(b)
		rss, err := peakRSS(cmd)
		done()
		if errors.Is(err, errNoPeakRSS) {
			return
		}
		pc.check(b, err)
		pc.peak = max(pc.peak, rss)
	}
}

func (pc *procCase) median() time.Duration { return pc.percentile(50) }

// percentile is the p-th percentile of the times (nearest rank).
func (pc *procCase) percentile(p int) time.Duration {
	s := slices.Clone(pc.times)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	rank := (p*len(s) + 99) / 100
	return s[max(rank, 1)-1]
}

// buildReleaseSesame builds cmd/sesame as .goreleaser.yaml does (static,
// -trimpath, stripped) and returns its path and size.
func buildReleaseSesame(b *testing.B, dir string) (string, int64) {
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(dir, "sesame")
	goBuild(b, filepath.Join(filepath.Dir(file), ".."), bin,
		"-ldflags", "-s -w -X main.version=bench -X main.commit=bench -X main.date=2026-01-01T00:00:00Z", "./cmd/sesame")
	st, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	return bin, st.Size()
}

// buildHelloWorld builds the floor: a static, stripped Go program that
// prints one line.
func buildHelloWorld(b *testing.B, dir string) string {
	src := filepath.Join(dir, "hello-src")
	if err := os.MkdirAll(src, 0o700); err != nil {
		b.Fatal(err)
	}
	files := map[string]string{
		"go.mod":  "module hello\n\ngo 1.26\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello, world\") }\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "hello")
	goBuild(b, src, bin, "-ldflags", "-s -w", ".")
	return bin
}

func goBuild(b *testing.B, dir, out string, args ...string) {
	cmd := exec.Command("go", append([]string{"build", "-trimpath", "-o", out}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", dir, err, msg)
	}
}

// bindBenchProfile gives the profile what `setup kubectl --server`, `setup
// git --host` and a docker_hosts entry would: every helper serves it.
func bindBenchProfile(b *testing.B, c *cli) {
	cfg, err := profile.Load(c.cfgDir)
	if err != nil {
		b.Fatal(err)
	}
	p := cfg.Profile(c.name)
	p.KubeServer = benchKubeServer
	p.GitHosts = []string{benchGitHost}
	p.DockerHosts = []string{benchRegistry}
	if err := cfg.Save(); err != nil {
		b.Fatal(err)
	}
}

// kubeloginCase signs kubelogin in through the test server and browser
// with the given token cache storage, and returns its warm get-token.
func kubeloginCase(b *testing.B, c *cli, kubelogin, storage string) *procCase {
	port := freePort(b)
	args := []string{"get-token",
		"--oidc-issuer-url", c.srv.Issuer, "--oidc-client-id", rig.KubeloginClientID,
		"--certificate-authority", c.srv.CAFile, "--oidc-extra-scope", "email",
		"--token-cache-dir", filepath.Join(c.home, ".kube", "cache", "oidc-login"), "--token-cache-storage", storage,
		"--listen-address", "127.0.0.1:" + port, "--oidc-redirect-url", "http://127.0.0.1:" + port + "/",
		"--skip-open-browser"}
	kubeloginSignIn(b, c, kubelogin, args)
	return &procCase{name: "kubelogin get-token (" + storage + " cache)", path: kubelogin, args: args,
		ok: func(out string) bool { return strings.Contains(out, `"token":"`) }}
}

// kubeloginSignIn runs kubelogin's first get-token: it prints the URL of
// its loopback listener, which redirects to the authorization request;
// testbrowser signs in there and brings the code back to the listener.
func kubeloginSignIn(b *testing.B, c *cli, kubelogin string, args []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubelogin, args...)
	cmd.Env = c.env()
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	const prompt = "Please visit the following URL in your browser: "
	var said bytes.Buffer
	found := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			said.WriteString(s.Text() + "\n")
			if _, u, ok := strings.Cut(s.Text(), prompt); ok {
				select {
				case found <- strings.TrimSpace(u):
				default:
				}
			}
		}
	}()
	var listener string
	select {
	case listener = <-found:
	case <-drained:
		_ = cmd.Wait()
		b.Fatalf("kubelogin ended without a sign-in URL:\n%s", said.String())
	}
	authURL := redirectTarget(b, listener)
	browser := exec.CommandContext(ctx, rig.BuildTestBrowser(b), authURL)
	browser.Env = c.env()
	if out, err := browser.CombinedOutput(); err != nil {
		b.Fatalf("testbrowser for kubelogin: %v\n%s", err, out)
	}
	<-drained
	if err := cmd.Wait(); err != nil || !strings.Contains(stdout.String(), `"token":"`) {
		b.Fatalf("kubelogin sign-in: %v\n%s", err, said.String())
	}
}

// redirectTarget is where the page at u redirects to.
func redirectTarget(b *testing.B, u string) string {
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	_ = resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		b.Fatalf("%s: status %d, no redirect", u, resp.StatusCode)
	}
	return loc
}

// freePort is a loopback port free a moment ago.
func freePort(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// loadAverage is the 1, 5 and 15 minute load average, "?" where unknown.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func peakText(n int64) string {
	if n == 0 {
		return "-"
	}
	return mib(n)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// metricName turns a case's name into a benchmark unit: no spaces.
func metricName(name string) string {
	r := strings.NewReplacer(" ", "-", "(", "", ")", "")
	return r.Replace(name)
}
