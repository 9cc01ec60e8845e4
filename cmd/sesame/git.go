package main

import (
	"context"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/credhelper"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/session"
)

func newGitCredentialCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "git-credential get|store|erase",
		Short: "git credential helper: answer git with a fresh access token",
		Long: `Speak git's credential helper protocol (gitcredentials(7)).

get: read git's request and, when protocol is https and host (and path, when the
profile names one) match a profile's git hosts exactly, answer a username and the
access token as password (or, for git 2.46 and later, authtype=Bearer). A request for
any other host gets no answer and exit 0, so git asks its next helper.
store: nothing to do; sesame keeps the grant itself.
erase: when git rejects the token sesame gave, drop that cached access token (the
grant stays; the next get refreshes).

'sesame setup git' writes the git configuration.`,
		Example: `  git config --global credential.https://git.example.com.helper '!sesame git-credential -p work'
  printf 'protocol=https\nhost=git.example.com\n\n' | sesame git-credential get`,
		Args:      oneArg,
		ValidArgs: []string{"get", "store", "erase"},
		RunE: func(cmd *cobra.Command, args []string) error {
			explicit := cmd.Flags().Changed("profile") || a.env.Getenv("SESAME_PROFILE") != ""
			return runGitCredential(cmd.Context(), a, args[0], explicit)
		},
	}
	addResourceFlag(cmd, a)
	return cmd
}

func runGitCredential(ctx context.Context, a *app, op string, explicitProfile bool) error {
	switch op {
	case "get", "store", "erase":
	default:
		return usageErrorf("unknown git-credential operation %q: use get, store or erase", op)
	}
	req, err := credhelper.ReadGitRequest(a.env.Stdin)
	if err != nil {
		return err
	}
	if op == "store" {
		return nil
	}
	p, err := a.gitProfile(req, explicitProfile)
	if err != nil || p == nil {
		return err
	}
	if op == "erase" {
		return a.eraseGitToken(ctx, p, req)
	}
	// git runs helpers with stdin as the protocol pipe; a person is there
	// when stderr is a terminal and git may prompt.
	interactive := a.env.StderrTTY && a.env.Getenv("GIT_TERMINAL_PROMPT") != "0"
	rec, err := a.freshToken(ctx, p, 0, interactive)
	if err != nil {
		return err
	}
	user := firstNonEmpty(p.GitUsername, profile.DefaultGitUsername)
	tok := &oauth2.Token{AccessToken: rec.AccessToken, TokenType: tokenType(rec)}
	return credhelper.GitRespond(a.env.Stdout, req, user, tok, session.EarlyExpiry(rec))
}

// gitProfile picks the profile that serves req: the one named with -p, or
// the profile whose git host entry matches with the longest path prefix.
// It returns nil when none matches: git then asks its next helper
// (requirement 40).
func (a *app) gitProfile(req *credhelper.GitRequest, explicit bool) (*profile.Profile, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	names := cfg.Names()
	if explicit {
		names = []string{a.profile()}
	}
	var best *profile.Profile
	bestLen := -1
	for _, n := range names {
		p := cfg.Profile(n)
		if p == nil {
			return nil, a.noProfile(cfg, n)
		}
		for _, entry := range p.GitHosts {
			host, prefix := profile.SplitGitHost(entry)
			if credhelper.GitHostMatches(req, host, prefix) && len(prefix) > bestLen {
				best, bestLen = p, len(prefix)
			}
		}
	}
	if best == nil {
		a.log.Printf("git-credential: no profile serves this host; no answer")
	}
	return best, nil
}

// eraseGitToken handles git's erase: the credential git rejected is
// dropped only if it is an access token sesame holds for the profile, and
// only the access token: the grant stays, and the next get refreshes.
func (a *app) eraseGitToken(ctx context.Context, p *profile.Profile, req *credhelper.GitRequest) error {
	g, err := a.grantOf(p)
	if err != nil {
		return err
	}
	dropped, err := g.DropAccessToken(ctx, req.Secret())
	if dropped {
		a.log.Printf("git-credential: git rejected the access token; dropped it, the next get refreshes")
	}
	return err
}
