package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sesame-auth/sesame/internal/preset"
	"github.com/sesame-auth/sesame/internal/profile"
)

// presetFlags are login's provider preset flags and its client secret
// input.
type presetFlags struct {
	provider, host, tenant, realm string
	clientSecretStdin             bool
	// origins are the test-only preset origins of the Env.
	origins map[string]string
}

// clientSecretEnv names the environment variable a login reads a client
// secret from, for providers that demand one (never argv: a command line
// is visible to every user of the machine).
const clientSecretEnv = "SESAME_CLIENT_SECRET"

func (o *presetFlags) addPresetFlags(f *pflag.FlagSet) {
	f.StringVar(&o.provider, "provider", "", "a provider preset instead of --issuer: "+strings.Join(preset.Names(), ", "))
	f.StringVar(&o.host, "host", "", "with --provider: your server's host (GitHub Enterprise, GitLab, Gitea, Forgejo, Keycloak, Okta)")
	f.StringVar(&o.tenant, "tenant", "", "with --provider entra: the tenant ID, or common or organizations")
	f.StringVar(&o.realm, "realm", "", "with --provider keycloak: the realm (okta: the authorization server, default: default)")
	f.BoolVar(&o.clientSecretStdin, "client-secret-stdin", false, "read your app's client secret from standard input, for providers that demand one (also: $"+clientSecretEnv+"); kept in the keychain")
}

// applyPreset sets the provider fields the command line gave, then the issuer
// the preset resolves to and, for a new provider, the preset's defaults
// for what the command line left unset: scopes, flow, git user name and
// the device page's domains.
func (o *presetFlags) applyPreset(changed func(string) bool, merged *profile.Profile, before *profile.Profile) error {
	if changed("provider") && changed("issuer") {
		return &usageError{msg: "--provider and --issuer exclude each other: the preset names the issuer"}
	}
	if changed("issuer") {
		merged.Provider, merged.Host, merged.Tenant, merged.Realm = "", "", "", ""
	}
	for _, f := range []struct {
		flag, value string
		field       *string
	}{
		{"provider", o.provider, &merged.Provider},
		{"host", o.host, &merged.Host},
		{"tenant", o.tenant, &merged.Tenant},
		{"realm", o.realm, &merged.Realm},
	} {
		if changed(f.flag) {
			*f.field = f.value
		}
	}
	if merged.Provider == "" {
		return nil
	}
	opts := merged.PresetOptions()
	opts.Origin = o.origins[merged.Provider]
	s, err := preset.Resolve(merged.Provider, opts)
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	merged.Issuer = s.Issuer
	if before != nil && before.Provider == merged.Provider {
		return nil
	}
	p := s.Preset
	if !changed("scope") && len(p.Scopes) > 0 {
		merged.Scopes = p.DefaultScopes()
	}
	if !changed("flow") && merged.Flow == "" {
		merged.Flow = p.Flow
	}
	if merged.GitUsername == "" {
		merged.GitUsername = p.GitUsername
	}
	if !changed("verification-host") && len(merged.VerificationHosts) == 0 {
		merged.VerificationHosts = slices.Clone(p.VerificationHosts)
	}
	return nil
}

// clientSecret returns the client secret given to this login: standard
// input with --client-secret-stdin (its first line), else
// $SESAME_CLIENT_SECRET when the profile's provider takes a secret.
func (o *presetFlags) clientSecret(a *app, p *profile.Profile) (string, error) {
	pr, ok := preset.Lookup(p.Provider)
	takesSecret := ok && pr.Secret != preset.SecretNone
	if o.clientSecretStdin && !takesSecret {
		return "", &usageError{msg: fmt.Sprintf("--client-secret-stdin: profile %q is a public client, and sesame sends it no client secret", p.Name)}
	}
	if o.clientSecretStdin {
		line, err := bufio.NewReader(io.LimitReader(a.env.Stdin, 64<<10)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("reading the client secret from standard input: %w", err)
		}
		secret := strings.TrimRight(line, "\r\n")
		if secret == "" {
			return "", &usageError{msg: "--client-secret-stdin: standard input holds no client secret"}
		}
		return secret, nil
	}
	if takesSecret {
		return a.env.Getenv(clientSecretEnv), nil
	}
	return "", nil
}
