package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/redact"
	"github.com/sesame-auth/sesame/internal/session"
	"github.com/sesame-auth/sesame/keychain"
)

// app is the state shared by the commands of one run: the environment and
// the global flags.
type app struct {
	env         *Env
	profileName string
	debug       bool
	log         *redact.Logger
	// used is the profile a command actually worked on, when it chose one
	// itself (git and docker pick theirs by host); hints name it.
	used string
	// resource is a helper command's --resource.
	resource string
	// requireScopes is a helper command's --require-scope.
	requireScopes []string
	// idToken is kubectl --id-token: hand out the ID token, refreshed
	// when it is about to expire.
	idToken bool
	// debugFile is --debug-file; closeDebugFile closes it at the end.
	debugFile      string
	closeDebugFile func() error
	// helpErr is the usage mistake found where cobra would show help
	// (refuseUnknownTopics); Main reports it.
	helpErr error
	// warm: a helper call answered without the command tree, from a
	// cached token only (warm.go).
	warm bool
	// cfg is the configuration as loadConfig last read it; the saved
	// default profile comes from it.
	cfg *profile.Config
	// countdown: the device flow's countdown is on the terminal's last
	// line, unfinished (endCountdown).
	countdown bool
}

// Main runs sesame with args and returns the exit code: a warm helper
// call without the command tree (warm.go), anything else with it.
func Main(ctx context.Context, args []string, env *Env) int {
	if code, ok := runWarm(args, env); ok {
		return code
	}
	return runTree(ctx, args, env)
}

// runTree runs sesame's command tree with args and returns the exit code.
func runTree(ctx context.Context, args []string, env *Env) int {
	a := &app{env: env}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	_, err := root.ExecuteContextC(ctx)
	if a.closeDebugFile != nil {
		_ = a.closeDebugFile()
	}
	if err == nil {
		err = a.helpErr
	}
	return a.exit(err)
}

// exit reports how a command ended and returns the exit code.
func (a *app) exit(err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if !errors.As(err, &ue) && strings.HasPrefix(err.Error(), "unknown command") {
		// cobra's own, from a command of its (completion bash x); one
		// line, without the suggestions it appends on lines of their own.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		err = &usageError{msg: msg}
	}
	return report(a.env.Stderr, firstNonEmpty(a.used, a.profile()), err)
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "sesame",
		Short: "Sign in to OAuth 2.0 / OpenID Connect servers and hand fresh tokens to your tools",
		Long: `sesame signs you in to an OAuth 2.0 / OpenID Connect authorization server as a public
client (browser + PKCE on a loopback redirect), keeps the grant in the OS keychain, and
hands fresh access tokens to kubectl, git, docker, curl and scripts.`,
		Example: `  sesame login -p work --issuer https://id.example.com --client-id sesame
  sesame token -p work --output header
  sesame status`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := checkExclusive(cmd); err != nil {
				return err
			}
			if a.profileName != "" {
				if err := profile.ValidateName(a.profileName); err != nil {
					return &usageError{msg: err.Error()}
				}
			}
			a.debug = a.debug || a.env.Getenv("SESAME_DEBUG") != ""
			var sink io.Writer
			if a.debug {
				sink = a.env.Stderr
			}
			if path := firstNonEmpty(a.debugFile, a.env.Getenv("SESAME_DEBUG_FILE")); path != "" {
				f, w, err := openDebugFile(path, a.env.Clock.Now)
				if err != nil {
					return err
				}
				a.closeDebugFile = f.Close
				if sink != nil {
					sink = io.MultiWriter(sink, w)
				} else {
					sink = w
				}
			}
			a.log = redact.New(sink, sink != nil)
			return nil
		},
	}
	var showVersion bool
	root.Flags().BoolVar(&showVersion, "version", false, "print sesame's version (as 'sesame version')")
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if showVersion {
			_, err := fmt.Fprintln(a.env.Stdout, versionLine())
			return err
		}
		return cmd.Help()
	}
	for _, extra := range extraCommands {
		root.AddCommand(extra())
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return flagError(err)
	})
	root.SetUsageTemplate(root.UsageTemplate() + "\n" + exitCodesHelp + "\n")
	root.PersistentFlags().StringVarP(&a.profileName, "profile", "p", "", "profile name (default: $SESAME_PROFILE, else the one 'sesame profile use' saved, else \"default\")")
	_ = root.RegisterFlagCompletionFunc("profile", func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		cfg, err := a.loadConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cfg.Names(), cobra.ShellCompDirectiveNoFileComp
	})
	root.PersistentFlags().BoolVar(&a.debug, "debug", false, "log requests and decisions to stderr, secrets redacted (also SESAME_DEBUG=1)")
	root.PersistentFlags().StringVar(&a.debugFile, "debug-file", "", "append the same log, time-stamped, to this file (0600; also SESAME_DEBUG_FILE), for helpers whose stderr is hidden")
	root.AddCommand(
		newLoginCmd(a),
		newTokenCmd(a),
		newStatusCmd(a),
		newLogoutCmd(a),
		newKubectlCmd(a),
		newGitCredentialCmd(a),
		newDockerCredentialCmd(a),
		newExecCmd(a),
		newDPoPProofCmd(a),
		newSetupCmd(a),
		newProfileCmd(a),
		newVersionCmd(a.env),
		newRefresherCmd(a),
		newEnvironmentTopic(),
	)
	registerCompletions(root, a)
	refuseUnknownTopics(root, &a.helpErr)
	return root
}

// Where the profile used without -p comes from (defaultProfile).
const (
	fromEnv     = "$SESAME_PROFILE"
	fromSaved   = "saved with 'sesame profile use'"
	fromBuiltin = `its name is "default"`
)

// profile is the selected profile name: -p, else defaultProfile.
func (a *app) profile() string {
	if a.profileName != "" {
		return a.profileName
	}
	name, _ := a.defaultProfile()
	return name
}

// defaultProfile is the profile used when -p is not given, and where
// that choice comes from: $SESAME_PROFILE, else the saved default, else
// "default".
func (a *app) defaultProfile() (name, from string) {
	if p := a.env.Getenv("SESAME_PROFILE"); p != "" {
		return p, fromEnv
	}
	if a.cfg == nil {
		_, _ = a.loadConfig()
	}
	if a.cfg != nil && a.cfg.Default != "" {
		return a.cfg.Default, fromSaved
	}
	return profile.DefaultName, fromBuiltin
}

// loadConfig reads the configuration file.
func (a *app) loadConfig() (*profile.Config, error) {
	dir, err := profile.Dir(a.env.Getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := profile.Load(dir)
	if err == nil {
		a.cfg = cfg
	}
	return cfg, err
}

// updateConfig changes the configuration file under its lock, on a fresh
// read of it (session.UpdateConfig).
func (a *app) updateConfig(ctx context.Context, change func(*profile.Config) error) error {
	return session.UpdateConfig(ctx, a.deps(), change)
}

// requireProfile loads the configuration and returns the selected profile,
// or an error that says how to create it.
func (a *app) requireProfile() (*profile.Config, *profile.Profile, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	name := a.profile()
	if err := profile.ValidateName(name); err != nil {
		return nil, nil, &usageError{msg: err.Error()}
	}
	p := cfg.Profile(name)
	if p == nil {
		return nil, nil, a.noProfile(cfg, name)
	}
	return cfg, p, nil
}

// noProfile is the error for the selected profile name, which cfg does
// not have.
func (a *app) noProfile(cfg *profile.Config, name string) error {
	from := fromFlag
	if a.profileName == "" {
		_, from = a.defaultProfile()
	}
	return withHint(fmt.Errorf("no profile %q", name), a.missingProfileHints(cfg, name, from)...)
}

// missingProfileHints say what to do when the selected profile does not
// exist: pick the only one there is, or the one whose name is a typo away,
// or make one the default, or create it. from says where name came from
// (fromFlag, or defaultProfile's).
func (a *app) missingProfileHints(cfg *profile.Config, name, from string) []string {
	names := cfg.Names()
	list := strings.Join(names, ", ")
	create := fmt.Sprintf("create it with 'sesame login -p %s --issuer URL --client-id ID'", name)
	switch {
	case len(names) == 0:
		return []string{create}
	case from == fromBuiltin && len(names) == 1:
		return []string{fmt.Sprintf("the only profile is %q: add -p %s, or make it the default with 'sesame profile use %s'", names[0], names[0], names[0])}
	case from == fromBuiltin:
		return []string{fmt.Sprintf("no default profile is saved: add -p NAME, or choose one with 'sesame profile use NAME' (profiles: %s)", list)}
	}
	var hints []string
	switch from {
	case fromEnv:
		hints = append(hints, fmt.Sprintf("$SESAME_PROFILE names it: unset it, or set it to one of: %s", list))
	case fromSaved:
		hints = append(hints, fmt.Sprintf("it is the saved default: choose another with 'sesame profile use NAME' (profiles: %s)", list))
	}
	if near := closestName(name, names); near != "" {
		return append(hints, fmt.Sprintf("did you mean %q? (profiles: %s)", near, list))
	}
	return append(hints, create)
}

// fromFlag: the profile was named with -p.
const fromFlag = "-p"

// closestName is the name in names at most two edits from name, the
// closest one; "" when none is that close.
func closestName(name string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if d := editDistance(strings.ToLower(name), strings.ToLower(n)); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between two short names.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// store opens the credential store.
func (a *app) store() (keychain.Store, error) {
	s, err := a.env.Store()
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errors.New("no credential store")
	}
	return s, nil
}

// noArgs is cobra.NoArgs reported as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// oneArg is cobra.ExactArgs(1) reported as a usage error.
func oneArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageErrorf("%s takes one argument, got %d", cmd.CommandPath(), len(args))
	}
	return nil
}

// extraCommands are added by files built only with a build tag (man.go).
var extraCommands []func() *cobra.Command
