package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// notLocal says why an example cannot run here; an example that matches
// none of these runs, so a new example in the docs is tested by default.
var notLocal = []struct{ contains, why string }{
	{"|", "a shell pipeline"},
	{">", "a shell redirection"},
	{"$(", "a command substitution"},
	{"&&", "a shell command list"},
	{"--no-browser", "waits for a person to open the URL elsewhere"},
	{"--flow device", "waits for approval on a second device"},
	{"-p ci", "uses the profile of the device-flow example"},
	{"sso.example.com", "names a provider that is not here"},
	{"./deploy.sh", "runs a script of the reader's"},
	{"gh api", "runs gh, not installed here"},
	{"curl ", "calls an API on the internet"},
	{"--provider", "signs in at a provider on the internet"},
	{"-p gh", "uses the profile of the GitHub example"},
}

// TestDocsExamplesRun_RealServer runs every sesame example of README.md and
// of every command's --help that can run on this machine, in order, against
// the local oidc-provider (id.example.com becomes its issuer), with headless
// chromium as the browser and the real keychain. Each must exit 0, so the
// docs cannot drift from the binary.
func TestDocsExamplesRun_RealServer(t *testing.T) {
	rig.RequireTools(t)
	srv := rig.StartServer(t, rig.ServerOptions{})
	c := newCLI(t, srv, "work")
	c.extraEnv = append(c.extraEnv, "KUBECONFIG="+filepath.Join(c.home, ".kube", "config"))

	_, file, _, _ := runtime.Caller(0)
	readme := readmeExamples(t, filepath.Join(filepath.Dir(file), "..", "README.md"))
	var help []string
	for _, cmd := range [][]string{{}, {"login"}, {"token"}, {"status"}, {"logout"}, {"kubectl"}, {"git-credential"},
		{"docker-credential"}, {"exec"}, {"setup", "kubectl"}, {"setup", "git"}, {"setup", "docker"}, {"version"}} {
		r := c.mustRun(append(cmd, "--help")...)
		help = append(help, helpExamples(r.stdout)...)
	}
	ran := 0
	for _, group := range []struct {
		name     string
		examples []string
	}{{"README.md", readme}, {"--help", help}} {
		for _, ex := range group.examples {
			if why := whyNotLocal(ex); why != "" {
				t.Logf("%s: not run (%s): %s", group.name, why, ex)
				continue
			}
			line := strings.ReplaceAll(ex, "--client-id sesame", "--client-id "+srv.ClientID)
			line = strings.ReplaceAll(line, "--issuer https://id.example.com", "--issuer "+srv.Issuer+" --ca-file "+srv.CAFile)
			args := strings.Fields(line)
			r := c.run(args[1:]...)
			if r.code != 0 {
				t.Fatalf("%s example %q: exit %d\n%s", group.name, ex, r.code, r.stderr)
			}
			ran++
		}
	}
	if ran < 15 {
		t.Fatalf("only %d examples ran: the extraction is broken", ran)
	}
	t.Logf("%d examples ran", ran)
}

// whyNotLocal is the reason an example cannot run here, or "".
func whyNotLocal(ex string) string {
	for _, n := range notLocal {
		if strings.Contains(ex, n.contains) {
			return n.why
		}
	}
	return ""
}

// readmeExamples are the sesame command lines of the README's sh blocks,
// without trailing comments.
func readmeExamples(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```sh"):
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case in:
			if i := strings.Index(line, " #"); i >= 0 {
				line = line[:i]
			}
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "sesame ") {
				out = append(out, line)
			}
		}
	}
	return out
}

// helpExamples are the sesame command lines of a --help text's Examples.
func helpExamples(help string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(help, "\n") {
		switch {
		case strings.HasPrefix(line, "Examples:"):
			in = true
		case in && (line == "" || !strings.HasPrefix(line, " ")):
			in = false
		case in:
			if l := strings.TrimSpace(line); strings.HasPrefix(l, "sesame ") && !strings.HasSuffix(l, "\\") {
				out = append(out, l)
			}
		}
	}
	return out
}
