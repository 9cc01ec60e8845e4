package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/session"
)

type logoutOptions struct {
	all    bool
	forget bool
}

func newLogoutCmd(a *app) *cobra.Command {
	o := &logoutOptions{}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Revoke the grant at the server and delete it locally",
		Long: `Revoke the profile's refresh token (and cached access token) at the server's RFC 7009
revocation endpoint, then delete everything sesame keeps for it in the keychain, whatever
the server answered. If the server did not confirm the revocation, logout says so and
exits with code 5: the grant may stay active until it expires. The profile's settings
stay in the configuration file unless --forget is given; --forget also removes what setup
wrote for the profile (its git credential helpers, its kubeconfig users, and docker's
credHelpers entries for registries no other profile serves), saying what it removes. A client id that login --register
made is deleted at the server too (RFC 7592), and the next login registers a new one.`,
		Example: `  sesame logout -p work
  sesame logout --all`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.all && cmd.Flags().Changed("profile") {
				return usageErrorf("--all and --profile exclude each other: --all logs out of every profile")
			}
			return runLogout(cmd.Context(), a, o)
		},
	}
	cmd.Flags().BoolVar(&o.all, "all", false, "log out of every profile")
	cmd.Flags().BoolVar(&o.forget, "forget", false, "also remove the profile's settings, and what setup wrote for it in git, kubectl and docker")
	return cmd
}

// errNotRevoked is what logout's error is (errors.Is) when local data was
// deleted but the server did not confirm the revocation.
var errNotRevoked = errors.New("revocation not confirmed")

func runLogout(ctx context.Context, a *app, o *logoutOptions) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	var targets []*profile.Profile
	if o.all {
		for _, n := range cfg.Names() {
			targets = append(targets, cfg.Profile(n))
		}
	} else {
		_, p, err := a.requireProfile()
		if err != nil {
			return err
		}
		targets = []*profile.Profile{p}
	}
	var unrevoked, undeleted []string
	for _, p := range targets {
		out, err := session.Logout(ctx, a.deps(), a.ui(p, loginUI{}), p, o.forget)
		if err != nil {
			return err
		}
		switch {
		case !out.SignedIn:
			a.say(fmt.Sprintf("profile %q was not signed in", p.Name))
		case out.Revoked:
			a.say(fmt.Sprintf("logged out of %q; the server revoked the grant", p.Name))
		default:
			unrevoked = append(unrevoked, p.Name)
		}
		if !out.Deregistered {
			// The profile and the registration's management token stay, so
			// a later logout can delete the registration.
			undeleted = append(undeleted, p.Name)
		} else if o.forget {
			a.unwire(ctx, p)
		}
	}
	return notConfirmed(unrevoked, undeleted)
}

// notConfirmed is logout's exit-5 error when the server did not confirm a
// revocation or a registration's deletion; nil when it confirmed all.
func notConfirmed(unrevoked, undeleted []string) error {
	var msgs, hints []string
	if len(unrevoked) == 1 {
		msgs = append(msgs, fmt.Sprintf("the server did not confirm the revocation of profile %q: local data was deleted, but the grant may still be active there", unrevoked[0]))
	} else if len(unrevoked) > 1 {
		msgs = append(msgs, fmt.Sprintf("the server did not confirm the revocation of profiles %s: local data was deleted, but the grants may still be active there", quotedList(unrevoked, "and")))
	}
	if len(unrevoked) > 0 {
		// The refresh token is gone from here: no later logout can send it.
		hints = append(hints, "sesame cannot ask again, as it no longer holds the grant: it ends when it expires at the server; to end it now, sign out of the session or remove this client's access in the provider's account page")
	}
	if len(undeleted) == 1 {
		msgs = append(msgs, fmt.Sprintf("the client registration of profile %q was not deleted at the server: the profile keeps it for another logout", undeleted[0]))
		hints = append(hints, fmt.Sprintf("run 'sesame logout -p %s' again when the server is reachable", undeleted[0]))
	} else if len(undeleted) > 1 {
		msgs = append(msgs, fmt.Sprintf("the client registrations of profiles %s were not deleted at the server: the profiles keep them for another logout", quotedList(undeleted, "and")))
		hints = append(hints, "run 'sesame logout --all' again when the server is reachable")
	}
	if len(msgs) == 0 {
		return nil
	}
	return &hintedError{
		err:   &notConfirmedError{msg: strings.Join(msgs, "; ")},
		code:  exitNotRevoked,
		hints: hints,
	}
}

// notConfirmedError is logout's exit-5 error; errors.Is(err, errNotRevoked)
// holds for it.
type notConfirmedError struct{ msg string }

func (e *notConfirmedError) Error() string        { return e.msg }
func (e *notConfirmedError) Is(target error) bool { return target == errNotRevoked }
