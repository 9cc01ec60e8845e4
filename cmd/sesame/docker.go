package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/credhelper"
	"github.com/sesame-auth/sesame/internal/profile"
)

func newDockerCredentialCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "docker-credential get|store|erase|list",
		Short: "docker credential helper: answer docker with a fresh access token",
		Long: `Speak the docker-credential-helpers protocol. get reads a registry address on stdin
and, when a profile's docker hosts name that registry, prints {"ServerURL","Username",
"Secret"} with a fresh access token; list prints the registries sesame serves; store and
erase change nothing (sesame keeps the grant itself). Errors are written to stdout as
docker expects, with exit code 1, or 4 when the profile needs a login. The same commands run when sesame is installed as
docker-credential-sesame (a link), so "credsStore": "sesame" works in docker's config.`,
		Example:   `  echo registry.example.com | sesame docker-credential get`,
		Args:      oneArg,
		ValidArgs: []string{"get", "store", "erase", "list"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.dockerError(runDockerCredential(cmd.Context(), a, args[0]))
		},
	}
	addResourceFlag(cmd, a)
	return cmd
}

// dockerError writes err, if any, on stdout, where docker reads a
// helper's error, and returns it.
func (a *app) dockerError(err error) error {
	if err != nil {
		_ = credhelper.WriteDockerError(a.env.Stdout, err)
	}
	return err
}

func runDockerCredential(ctx context.Context, a *app, op string) error {
	switch op {
	case "store":
		_, err := credhelper.ReadDockerStore(a.env.Stdin)
		return err
	case "erase":
		_, err := credhelper.ReadDockerServerURL(a.env.Stdin)
		return err
	case "list":
		return a.dockerList()
	case "get":
	default:
		return usageErrorf("unknown docker-credential operation %q: use get, store, erase or list", op)
	}
	serverURL, err := credhelper.ReadDockerServerURL(a.env.Stdin)
	if err != nil {
		return err
	}
	p, err := a.dockerProfile(serverURL)
	if err != nil {
		return err
	}
	rec, err := a.freshToken(ctx, p, 0, false)
	if err != nil {
		return err
	}
	tok := &oauth2.Token{AccessToken: rec.AccessToken, TokenType: tokenType(rec)}
	return credhelper.DockerRespond(a.env.Stdout, serverURL, dockerUsername(p), tok)
}

// dockerProfile is the profile whose docker hosts name serverURL.
func (a *app) dockerProfile(serverURL string) (*profile.Profile, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	for _, n := range cfg.Names() {
		for _, h := range cfg.Profile(n).DockerHosts {
			if credhelper.DockerHostMatches(serverURL, h) {
				return cfg.Profile(n), nil
			}
		}
	}
	// docker drops a helper's stderr (it reads only stdout), so this hint
	// reaches only a person who runs the helper by hand to see why docker
	// has no credentials; docker itself gets its "not found" answer.
	return nil, withHint(credhelper.ErrCredentialsNotFound,
		fmt.Sprintf("no profile serves registry %q: add it with 'sesame setup docker -p PROFILE --registry HOST'", serverURL))
}

// dockerUsername is the user name answered to docker for p's registries.
func dockerUsername(p *profile.Profile) string {
	return firstNonEmpty(p.DockerUsername, profile.DefaultDockerUsername)
}

func (a *app) dockerList() error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	list := map[string]string{}
	for _, n := range cfg.Names() {
		for _, h := range cfg.Profile(n).DockerHosts {
			list[h] = dockerUsername(cfg.Profile(n))
		}
	}
	return credhelper.WriteDockerList(a.env.Stdout, list)
}
