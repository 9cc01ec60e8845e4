package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/internal/preset"
	"github.com/sesame-auth/sesame/internal/profile"
)

func newSetupCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "setup kubectl|git|docker",
		Short: "Wire sesame into kubectl, git or docker",
		Args:  noArgs,
	}
	cmd.AddCommand(newSetupKubectlCmd(a), newSetupGitCmd(a), newSetupDockerCmd(a))
	return cmd
}

type setupKubectlOptions struct {
	server string
	user   string
	apply  bool
}

func newSetupKubectlCmd(a *app) *cobra.Command {
	o := &setupKubectlOptions{}
	cmd := &cobra.Command{
		Use:   "kubectl",
		Short: "Print (or --apply) the kubeconfig user that runs sesame as its credential plugin",
		Long: `Print the exact 'kubectl config set-credentials' command, and the kubeconfig users: entry
it creates, that make kubectl get its tokens from this profile (interactiveMode
IfAvailable: a browser only when kubectl runs on a terminal). --server binds the profile
to the cluster's API server, so sesame refuses to give its token to another cluster.
--apply runs the command.`,
		Example: `  sesame setup kubectl -p work --server https://k8s.example.com:6443
  sesame setup kubectl -p work --apply && kubectl config set-context work --user work`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSetupKubectl(cmd.Context(), a, o)
		},
	}
	cmd.Flags().StringVar(&o.server, "server", "", "the cluster's API server URL, saved in the profile")
	cmd.Flags().StringVar(&o.user, "user", "", "kubeconfig user name (default: the profile name)")
	cmd.Flags().BoolVar(&o.apply, "apply", false, "run the kubectl command instead of only printing it")
	cmd.Flags().BoolVar(&a.idToken, "id-token", false, "make kubectl get the ID token (clusters with OIDC authentication)")
	addResourceFlag(cmd, a)
	return cmd
}

func runSetupKubectl(ctx context.Context, a *app, o *setupKubectlOptions) error {
	_, p, err := a.requireProfile()
	if err != nil {
		return err
	}
	if o.server != "" {
		p.KubeServer = o.server
		if err := p.Validate(); err != nil {
			return &usageError{msg: err.Error()}
		}
		err := a.updateConfig(ctx, func(c *profile.Config) error {
			cp := c.Profile(p.Name)
			if cp == nil {
				return fmt.Errorf("profile %q was removed meanwhile", p.Name)
			}
			cp.KubeServer = o.server
			return nil
		})
		if err != nil {
			return err
		}
	}
	self, err := selfPath()
	if err != nil {
		return err
	}
	helperArgs, err := a.helperArgs(p)
	if err != nil {
		return err
	}
	user := firstNonEmpty(o.user, p.Name)
	args := []string{"config", "set-credentials", user,
		"--exec-api-version=client.authentication.k8s.io/v1",
		"--exec-command=" + self,
	}
	for _, arg := range append([]string{"kubectl"}, helperArgs...) {
		args = append(args, "--exec-arg="+arg)
	}
	args = append(args,
		"--exec-interactive-mode=IfAvailable",
		fmt.Sprintf("--exec-provide-cluster-info=%v", p.KubeServer != ""),
	)
	w := a.env.Stdout
	if _, err := fmt.Fprintln(w, "kubectl "+shellJoin(args)); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, `
# the kubeconfig entry it creates:
users:
- name: %s
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: %s
      args: [%s]
      interactiveMode: IfAvailable
      provideClusterInfo: %v
`, user, self, strings.Join(append([]string{"kubectl"}, helperArgs...), ", "), p.KubeServer != ""); err != nil {
		return err
	}
	if !o.apply {
		return nil
	}
	return a.runTool(ctx, "kubectl", args)
}

type setupGitOptions struct{ host, username string }

func newSetupGitCmd(a *app) *cobra.Command {
	o := &setupGitOptions{}
	cmd := &cobra.Command{
		Use:   "git [--host HOST[/PATH]]",
		Short: "Configure git to ask sesame for credentials for one host",
		Long: `Add HOST (with an optional path prefix) to the profile's git hosts and write the global
git configuration that resets the credential helper chain for https://HOST and makes
sesame its helper, as gh's setup-git does. With a path prefix the configuration is for
https://HOST/PATH alone: the helpers of the host's other paths stay as they are, and git
is told to send the path (credential.useHttpPath), so sesame can match it. The commands
are printed. For a profile of a provider that hosts git (github, gitlab, gitea,
forgejo, codeberg) with no git host yet, --host defaults to the provider's host.`,
		Example: `  sesame setup git -p work --host git.example.com
  sesame setup git -p work --host git.example.com/team
  sesame setup git -p gh                       # a --provider github profile: github.com`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSetupGit(cmd.Context(), a, o)
		},
	}
	cmd.Flags().StringVar(&o.host, "host", "", "the git server's host name, with an optional :port and /path prefix")
	cmd.Flags().StringVar(&o.username, "username", "", "user name to answer git with (default oauth2)")
	addResourceFlag(cmd, a)
	return cmd
}

func runSetupGit(ctx context.Context, a *app, o *setupGitOptions) error {
	_, p, err := a.requireProfile()
	if o.host == "" {
		// Without --host, a missing profile is still the usage error it
		// was before a preset could name the host.
		if err == nil {
			o.host = presetGitHost(p)
		}
		if o.host == "" {
			return usageErrorf("setup git needs --host HOST")
		}
		a.say(fmt.Sprintf("no --host: using %s, where provider %s serves git", o.host, p.Provider))
	}
	if err != nil {
		return err
	}
	if !slices.Contains(p.GitHosts, o.host) {
		p.GitHosts = append(p.GitHosts, o.host)
	}
	if o.username != "" {
		p.GitUsername = o.username
	}
	if err := p.Validate(); err != nil {
		return &usageError{msg: err.Error()}
	}
	self, err := selfPath()
	if err != nil {
		return err
	}
	// git matches a credential.<url> section against the remote's whole
	// URL, path included, whether or not useHttpPath is set
	// (gitcredentials(7), "credential contexts"): a section for HOST/PATH
	// resets only the helpers of URLs under PATH.
	_, prefix := profile.SplitGitHost(o.host)
	key := "credential.https://" + o.host
	helperArgs, err := a.helperArgs(p)
	if err != nil {
		return err
	}
	helper := "!" + shellQuote(self) + " git-credential " + shellJoin(helperArgs)
	steps := [][]string{
		{"config", "--global", "--replace-all", key + ".helper", ""},
		{"config", "--global", "--add", key + ".helper", helper},
	}
	if prefix != "" {
		steps = append(steps, []string{"config", "--global", key + ".useHttpPath", "true"})
	}
	for _, s := range steps {
		// An echo of the step about to run: a failed write must not stop
		// the steps halfway, with the old helper removed and no new one.
		_, _ = fmt.Fprintln(a.env.Stdout, "git "+shellJoin(s))
		if err := a.runTool(ctx, "git", s); err != nil {
			return err
		}
	}
	return a.updateConfig(ctx, func(c *profile.Config) error {
		cp := c.Profile(p.Name)
		if cp == nil {
			return fmt.Errorf("profile %q was removed meanwhile", p.Name)
		}
		if !slices.Contains(cp.GitHosts, o.host) {
			cp.GitHosts = append(cp.GitHosts, o.host)
		}
		if o.username != "" {
			cp.GitUsername = o.username
		}
		return nil
	})
}

// presetGitHost is the git host of a profile of a git-hosting provider
// preset (GitHub, GitLab, Gitea, Forgejo, Codeberg) that has none yet:
// its --host, else the provider's public service. "" otherwise: the
// profile's server, or a host it already has, says nothing of which host
// is meant now.
func presetGitHost(p *profile.Profile) string {
	if p.Provider == "" || len(p.GitHosts) > 0 {
		return ""
	}
	pr, ok := preset.Lookup(p.Provider)
	if !ok {
		return ""
	}
	return pr.GitHostFor(p.PresetOptions())
}

// runTool runs kubectl or git with sesame's HOME, its output on stderr.
func (a *app) runTool(ctx context.Context, name string, args []string) error {
	cmd := a.toolCmd(ctx, name, args)
	cmd.Stdout, cmd.Stderr = a.env.Stderr, a.env.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			return cannotRun(name, err)
		}
		return fmt.Errorf("%s %s: %w", name, args[0], err)
	}
	return nil
}

// toolCmd is kubectl or git with args, run with sesame's HOME, KUBECONFIG
// and GIT_CONFIG_GLOBAL: the configuration sesame was pointed at.
func (a *app) toolCmd(ctx context.Context, name string, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	// The variables that say where the tools keep their configuration
	// come from sesame's environment (its Getenv), set or unset, so that
	// a test's environment is never mixed with the process's.
	located := []string{"HOME", "KUBECONFIG", "GIT_CONFIG_GLOBAL", "DOCKER_CONFIG", "XDG_CONFIG_HOME"}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !slices.Contains(located, k) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for _, k := range located {
		if v := a.env.Getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	return cmd
}

// selfPath is the absolute path of this sesame binary, for configuration
// that must find it again whatever PATH the caller has.
func selfPath() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find sesame's own path: %w", err)
	}
	return p, nil
}

// shellJoin quotes args for a POSIX shell, for commands shown to a person.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, s := range args {
		q[i] = shellQuote(s)
	}
	return strings.Join(q, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// helperArgs are the arguments after the helper command's name in what
// setup writes: the profile, and the --resource and --require-scope given
// to setup, so the helper asks for the token its caller needs.
func (a *app) helperArgs(p *profile.Profile) ([]string, error) {
	args := []string{"-p", p.Name}
	if a.resource != "" {
		if _, err := a.resourceFor(p); err != nil {
			return nil, err
		}
		args = append(args, "--resource", a.resource)
	}
	for _, s := range a.requireScopes {
		args = append(args, "--require-scope", s)
	}
	if a.idToken {
		args = append(args, "--id-token")
	}
	return args, nil
}
