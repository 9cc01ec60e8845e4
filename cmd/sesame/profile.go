package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/redact"
	"github.com/sesame-auth/sesame/keychain"
)

// `sesame profile` manages the configuration file's profiles as gh auth
// switch and kubectl config use-context / delete-context do theirs: list
// them with the one in use marked, save a default, change settings without
// signing in, remove one.

func newProfileCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile list|use|set|rm",
		Short: "List profiles, choose the default, change or remove one",
		Long: `Manage profiles. The profile a command uses is the one named with -p, else
$SESAME_PROFILE, else the default saved with 'sesame profile use', else "default".`,
		Example: `  sesame profile list
  sesame profile use work
  sesame profile use --none
  sesame profile set -p work --scope openid,email --port 18080
  sesame profile rm old`,
		Args: noArgs,
	}
	cmd.AddCommand(newProfileListCmd(a), newProfileUseCmd(a), newProfileSetCmd(a), newProfileRmCmd(a))
	return cmd
}

func newProfileListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the profiles; * marks the one used without -p",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if len(cfg.Profiles) == 0 {
				a.say(noProfilesYet)
				return nil
			}
			active, from := a.defaultProfile()
			if err := profile.ValidateName(active); err != nil {
				return &usageError{msg: err.Error()}
			}
			tw := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
			if _, err := fmt.Fprintln(tw, "PROFILE\tISSUER\tCLIENT ID"); err != nil {
				return err
			}
			for _, n := range cfg.Names() {
				p := cfg.Profile(n)
				if _, err := fmt.Fprintf(tw, "%s%s\t%s\t%s\n", n, activeMark(n == active), redact.Line(p.Issuer), redact.Line(p.ClientID)); err != nil {
					return err
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			return activeFootnote(a, cfg, active, from)
		},
	}
}

// noProfilesYet is what list and status say when there is no profile.
const noProfilesYet = "no profiles yet; create one with 'sesame login -p NAME --issuer URL --client-id ID'"

// activeMark follows a profile's name in list and status: * for the
// profile used without -p. It comes after the name, so a line still
// starts with the profile's name.
func activeMark(active bool) string {
	if active {
		return " *"
	}
	return ""
}

// activeLegend says what * means in list and status.
func activeLegend(from string) string {
	return fmt.Sprintf("* marks the profile used without -p (%s)", from)
}

// activeFootnote follows the list on stdout: what * means and where the
// choice comes from, or that the profile used without -p does not exist.
func activeFootnote(a *app, cfg *profile.Config, active, from string) error {
	line := activeLegend(from)
	if cfg.Profile(active) == nil {
		line = fmt.Sprintf("without -p, sesame uses profile %q, which does not exist; choose one with 'sesame profile use NAME'", active)
		if from != fromBuiltin {
			line = fmt.Sprintf("without -p, sesame uses profile %q (%s), which does not exist", active, from)
		}
	}
	_, err := fmt.Fprintf(a.env.Stdout, "\n%s\n", line)
	return err
}

func newProfileUseCmd(a *app) *cobra.Command {
	var none bool
	cmd := &cobra.Command{
		Use:   "use NAME | use --none",
		Short: "Make a profile the default, used when -p is not given",
		Long: `Save NAME as the default profile in the configuration file: commands without -p use it,
unless $SESAME_PROFILE names another. --none removes the saved default: commands without
-p then use $SESAME_PROFILE, else the profile named "default".`,
		Example: `  sesame profile use work
  sesame profile use --none`,
		Args: func(cmd *cobra.Command, args []string) error {
			if none {
				if len(args) != 0 {
					return usageErrorf("--none takes no profile name: it saves none")
				}
				return nil
			}
			return oneArg(cmd, args)
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return a.profileNames(args), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if none {
				return useNoProfile(cmd.Context(), a)
			}
			name := args[0]
			if err := a.requireNamed(name, true); err != nil {
				return err
			}
			err := a.updateConfig(cmd.Context(), func(c *profile.Config) error {
				if c.Profile(name) == nil {
					return fmt.Errorf("no profile %q", name)
				}
				c.Default = name
				return nil
			})
			if err != nil {
				return err
			}
			a.say(fmt.Sprintf("profile %q is now the default: commands without -p use it", name))
			if env := a.env.Getenv("SESAME_PROFILE"); env != "" && env != name {
				a.warn(fmt.Sprintf("$SESAME_PROFILE=%s still chooses profile %q in this shell; unset it to use the default", redact.Line(env), env))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&none, "none", false, "remove the saved default profile")
	return cmd
}

// useNoProfile removes the saved default profile, as kubectl config unset
// current-context does, and says which profile commands without -p use
// now.
func useNoProfile(ctx context.Context, a *app) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	// Nothing saved, nothing written: --none does not create the file.
	was := ""
	if cfg.Default != "" {
		err := a.updateConfig(ctx, func(c *profile.Config) error {
			was, c.Default = c.Default, ""
			return nil
		})
		if err != nil {
			return err
		}
		if cfg, err = a.loadConfig(); err != nil {
			return err
		}
	}
	if was == "" {
		a.say("no default profile was saved")
	} else {
		a.say(fmt.Sprintf("profile %q is no longer the default", was))
	}
	name, from := a.defaultProfile()
	switch {
	case from == fromEnv:
		a.say(fmt.Sprintf("without -p, commands use profile %q ($SESAME_PROFILE)", redact.Line(name)))
	case cfg.Profile(name) != nil:
		a.say(fmt.Sprintf("without -p, commands use profile %q", name))
	default:
		a.say(fmt.Sprintf("without -p, commands use profile %q, which does not exist: add -p NAME, or choose a default with 'sesame profile use NAME'", name))
	}
	return nil
}

// requireNamed checks that the profile an argument names exists, with
// requireProfile's hints when it does not; without create, a name that is
// no typo gets the list of profiles, not how to create it.
func (a *app) requireNamed(name string, create bool) error {
	if err := profile.ValidateName(name); err != nil {
		return &usageError{msg: err.Error()}
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if cfg.Profile(name) != nil {
		return nil
	}
	hints := a.missingProfileHints(cfg, name, fromFlag)
	if !create && closestName(name, cfg.Names()) == "" {
		hints = []string{"profiles: " + strings.Join(cfg.Names(), ", ")}
		if len(cfg.Profiles) == 0 {
			hints = []string{"there are no profiles"}
		}
	}
	return withHint(fmt.Errorf("no profile %q", name), hints...)
}

// profileNames completes a profile name argument.
func (a *app) profileNames(args []string) []string {
	if len(args) > 0 {
		return nil
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return nil
	}
	return cfg.Names()
}

func newProfileSetCmd(a *app) *cobra.Command {
	o := &loginOptions{}
	login := loginCommand(a, o)
	cmd := &cobra.Command{
		Use:   "set",
		Short: "Change a profile's settings without signing in",
		Long: `Change the settings of the profile (-p) that login's flags of the same names set, without
signing in: the next login, and every helper-started one, uses them. --issuer, --client-id,
--register and --dpop change the grant itself: give them to 'sesame login', which replaces
the grant.`,
		Example: `  sesame profile set -p work --scope openid,email,offline_access
  sesame profile set -p work --flow device
  sesame profile set -p work --port 18080 --browser-command firefox`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.changed = func(name string) bool { return cmd.Flags().Changed(name) }
			return runProfileSet(cmd.Context(), a, o)
		},
	}
	for _, f := range profileFlags {
		flag := login.Flags().Lookup(f.name)
		// The grant's own settings are taken only to be refused with a
		// pointer to login (runProfileSet), not as an unknown flag.
		flag.Hidden = f.grant
		cmd.Flags().AddFlag(flag)
	}
	return cmd
}

func runProfileSet(ctx context.Context, a *app, o *loginOptions) error {
	for _, f := range profileFlags {
		if f.grant && o.changed(f.name) {
			return &usageError{msg: fmt.Sprintf("--%s changes the grant itself: give it to 'sesame login -p %s', which replaces the grant", f.name, a.profile()), help: "sesame profile set"}
		}
	}
	if err := o.resolveCAFile(); err != nil {
		return err
	}
	_, before, err := a.requireProfile()
	if err != nil {
		return err
	}
	after, err := o.mergeProfile(before.Name, before)
	if err != nil {
		return err
	}
	changed := changedSettings(before, after)
	if len(changed) == 0 {
		a.say(fmt.Sprintf("profile %q unchanged", before.Name))
		return nil
	}
	err = a.updateConfig(ctx, func(c *profile.Config) error {
		cur := c.Profile(before.Name)
		if cur == nil {
			return fmt.Errorf("profile %q was removed meanwhile", before.Name)
		}
		next, err := o.mergeProfile(before.Name, cur)
		if err != nil {
			return err
		}
		c.Profiles[before.Name] = next
		return nil
	})
	if err != nil {
		return err
	}
	a.say(fmt.Sprintf("saved in profile %q: %s", before.Name, strings.Join(changed, ", ")))
	return nil
}

func newProfileRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"remove"},
		Short:   "Remove a profile that is not signed in",
		Long: `Remove the profile NAME from the configuration file. A profile that still holds a grant
(or a client registration) is refused: 'sesame logout -p NAME --forget' revokes the grant at
the server, then removes the profile.`,
		Example: `  sesame profile rm old`,
		Args:    oneArg,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return a.profileNames(args), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProfileRm(cmd.Context(), a, args[0])
		},
	}
}

func runProfileRm(ctx context.Context, a *app, name string) error {
	if err := a.requireNamed(name, false); err != nil {
		return err
	}
	p := a.cfg.Profile(name)
	store, err := a.store()
	if err != nil {
		return err
	}
	// A grant (even one that no longer reads) or a registration left in
	// the keychain would outlive the profile that could end it.
	switch _, err := store.Get(ctx, p.KeychainKey()); {
	case err == nil || errors.Is(err, keychain.ErrCorrupt):
		return withHint(fmt.Errorf("profile %q is signed in", name), fmt.Sprintf("run 'sesame logout -p %s --forget': it revokes the grant at the server, then removes the profile", name))
	case !errors.Is(err, keychain.ErrNotFound):
		return err
	}
	if p.Register && p.ClientID != "" {
		switch _, err := store.Get(ctx, keychain.RegistrationKey(p.Issuer, p.ClientID, p.Name)); {
		case err == nil || errors.Is(err, keychain.ErrCorrupt):
			return withHint(fmt.Errorf("profile %q has a client registration at the server", name), fmt.Sprintf("run 'sesame logout -p %s --forget': it deletes the registration, then removes the profile", name))
		case !errors.Is(err, keychain.ErrNotFound):
			return err
		}
	}
	var wasDefault bool
	err = a.updateConfig(ctx, func(c *profile.Config) error {
		wasDefault = c.Remove(name)
		return nil
	})
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("removed profile %q", name)
	if wasDefault {
		msg += "; it was the default, and no other is saved as default now"
	}
	a.say(msg)
	return nil
}
