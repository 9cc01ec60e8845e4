package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/sesame-auth/sesame/credhelper"
	"github.com/sesame-auth/sesame/internal/profile"
)

// unwire removes what setup wrote for p, once logout --forget has removed
// the profile: git's credential helpers, kubectl's exec user and docker's
// credHelpers entries, which would otherwise call sesame for a profile
// that is gone. Only entries sesame can tell are its own for p are
// removed: a helper command that runs "git-credential -p NAME", a
// kubeconfig user whose exec runs "kubectl -p NAME", a credHelpers entry
// "sesame" for a registry of p's that no other profile serves. A tool that
// is not installed had nothing written by setup; a tool that fails is
// reported with what to remove by hand, and the logout stands.
func (a *app) unwire(ctx context.Context, p *profile.Profile) {
	if _, err := exec.LookPath("git"); err == nil {
		for _, host := range p.GitHosts {
			a.unwireGit(ctx, p.Name, host)
		}
	}
	if _, err := exec.LookPath("kubectl"); err == nil {
		a.unwireKubectl(ctx, p.Name)
	}
	a.unwireDocker(p)
}

// unwireDocker removes the credHelpers entries setup docker wrote for p's
// registries that no remaining profile serves.
func (a *app) unwireDocker(p *profile.Profile) {
	if len(p.DockerHosts) == 0 {
		return
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return
	}
	var gone []string
	for _, h := range p.DockerHosts {
		served := false
		for _, n := range cfg.Names() {
			served = served || slices.Contains(cfg.Profile(n).DockerHosts, h)
		}
		if !served {
			gone = append(gone, h)
		}
	}
	path, err := dockerConfigPath(a.env.Getenv)
	if err != nil || len(gone) == 0 {
		return
	}
	var removed []string
	path, err = rewriteFile(path, func(old []byte) ([]byte, bool, error) {
		if old == nil {
			return nil, false, nil
		}
		data, r, err := credhelper.RemoveDockerCredHelpers(old, dockerHelperName, gone)
		removed = r
		return data, len(r) > 0, err
	})
	switch {
	case err != nil:
		a.warn(fmt.Sprintf("could not remove sesame's credHelpers entries from %s: %v", path, err))
		a.say("remove the entries for " + strings.Join(gone, ", ") + " from its \"credHelpers\" by hand")
	case len(removed) > 0:
		a.say(fmt.Sprintf("removed %s from the credHelpers of %s", quotedList(removed, "and"), path))
	}
}

// unwireGit removes p's helper from the credential.https://HOST section
// setup git wrote, then the helper-chain reset and, for a path, the
// useHttpPath setup wrote with it, when no other helper is left there.
func (a *app) unwireGit(ctx context.Context, name, host string) {
	key := "credential.https://" + host
	out, err := a.toolOutput(ctx, "git", []string{"config", "--global", "--get-all", key + ".helper"})
	if err != nil {
		return // git exits 1 for a key it does not have
	}
	values := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var ours, others []string
	for _, v := range values {
		switch {
		case isSesameGitHelper(v, name):
			if !slices.Contains(ours, v) {
				ours = append(ours, v)
			}
		case v != "":
			others = append(others, v)
		}
	}
	if len(ours) == 0 {
		return
	}
	steps := make([][]string, 0, len(ours)+2)
	for _, v := range ours {
		steps = append(steps, []string{"config", "--global", "--fixed-value", "--unset-all", key + ".helper", v})
	}
	if len(others) == 0 {
		steps = append(steps, []string{"config", "--global", "--fixed-value", "--unset-all", key + ".helper", ""})
		if _, prefix := profile.SplitGitHost(host); prefix != "" {
			steps = append(steps, []string{"config", "--global", "--unset-all", key + ".useHttpPath"})
		}
	}
	for _, s := range steps {
		a.say("git " + shellJoin(s))
		if _, err := a.toolOutput(ctx, "git", s); err != nil && !isGitNothingToUnset(err) {
			a.warn(fmt.Sprintf("could not remove sesame's git helper for %s: %v", host, err))
			a.say(fmt.Sprintf("remove it by hand: git config --global --edit (the [credential %q] section)", "https://"+host))
			return
		}
	}
}

// isSesameGitHelper reports whether v is the helper setup git writes for
// profile name: "!'/path/to/sesame' git-credential -p NAME [flags]".
func isSesameGitHelper(v, name string) bool {
	marker := " git-credential -p " + name
	i := strings.Index(v, marker)
	rest := ""
	if i >= 0 {
		rest = v[i+len(marker):]
	}
	return strings.HasPrefix(v, "!") && i >= 0 && (rest == "" || rest[0] == ' ')
}

// isGitNothingToUnset is git config's exit code 5 for an --unset of a
// key or value that is not there.
func isGitNothingToUnset(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == 5
}

// unwireKubectl removes the kubeconfig users whose exec runs
// "sesame kubectl -p NAME", and names the contexts that still use them.
func (a *app) unwireKubectl(ctx context.Context, name string) {
	out, err := a.toolOutput(ctx, "kubectl", []string{"config", "view", "-o", "json"})
	if err != nil {
		return
	}
	var cfg struct {
		Users []struct {
			Name string `json:"name"`
			User struct {
				Exec *struct {
					Args []string `json:"args"`
				} `json:"exec"`
			} `json:"user"`
		} `json:"users"`
		Contexts []struct {
			Name    string `json:"name"`
			Context struct {
				User string `json:"user"`
			} `json:"context"`
		} `json:"contexts"`
	}
	if json.Unmarshal([]byte(out), &cfg) != nil {
		return
	}
	for _, u := range cfg.Users {
		if e := u.User.Exec; e == nil || len(e.Args) < 3 || !slices.Equal(e.Args[:3], []string{"kubectl", "-p", name}) {
			continue
		}
		args := []string{"config", "unset", "users." + u.Name}
		a.say("kubectl " + shellJoin(args))
		if _, err := a.toolOutput(ctx, "kubectl", args); err != nil {
			a.warn(fmt.Sprintf("could not remove the kubeconfig user %q: %v", u.Name, err))
			a.say("remove it by hand: kubectl " + shellJoin(args))
			continue
		}
		for _, c := range cfg.Contexts {
			if c.Context.User == u.Name {
				a.say(fmt.Sprintf("the kubeconfig context %q still names the user %q: kubectl config delete-context %s", c.Name, u.Name, shellQuote(c.Name)))
			}
		}
	}
}

// toolOutput runs git or kubectl as runTool does and returns its stdout;
// its stderr is dropped (git and kubectl say "not found" there for what
// unwire only looks for).
func (a *app) toolOutput(ctx context.Context, name string, args []string) (string, error) {
	cmd := a.toolCmd(ctx, name, args)
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	return out.String(), err
}
