package main

import (
	"net/http"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sesame-auth/sesame/internal/profile"
)

// fixedFlagValues are the flags that take one of a few words: the shell
// completes them from this list. The keys are the command path and the flag
// name.
var fixedFlagValues = map[[2]string][]string{
	{"sesame login", "flow"}:        {profile.FlowAuto, profile.FlowBrowser, profile.FlowDevice},
	{"sesame token", "output"}:      {"raw", "json", "header"},
	{"sesame dpop-proof", "method"}: {http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions},
}

// noFileFlags take a name, a host or a URL, never a file: the shell must
// not offer the files of the working directory for them.
var noFileFlags = map[string]bool{
	"issuer": true, "client-id": true, "scope": true, "require-scope": true, "verification-host": true,
	"server": true, "user": true, "username": true, "host": true, "registry": true, "env": true,
	"url": true, "nonce": true, "min-ttl": true, "callback-port": true, "timeout": true,
}

// registerCompletions gives every command of the tree its flag-value
// completions: the fixed words of fixedFlagValues, the selected profile's
// scopes for --require-scope, and no file names where a file makes no
// sense. A flag with a completion of its own keeps it.
func registerCompletions(root *cobra.Command, a *app) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if _, ok := c.GetFlagCompletionFunc(f.Name); ok || f.Value.Type() == "bool" {
				return
			}
			var complete cobra.CompletionFunc
			switch values, fixed := fixedFlagValues[[2]string{c.CommandPath(), f.Name}]; {
			case fixed:
				complete = cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
			case f.Name == "require-scope":
				complete = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
					if cfg, err := a.loadConfig(); err == nil {
						if p := cfg.Profile(a.profile()); p != nil {
							return p.EffectiveScopes(), cobra.ShellCompDirectiveNoFileComp
						}
					}
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
			case noFileFlags[f.Name]:
				complete = cobra.NoFileCompletions
			default:
				return
			}
			_ = c.RegisterFlagCompletionFunc(f.Name, complete)
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
