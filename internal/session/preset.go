package session

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/preset"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/keychain"
)

// serverMetadata returns p's server metadata. A profile without a provider
// preset discovers it (requirement 19). A preset's server is the binary's:
// the profile's issuer must be the one the preset resolves to from its
// host, tenant or realm, and a preset without discovery (GitHub) gets its
// endpoints from the table alone, so the configuration file can never
// point a code or a token anywhere else (requirement 15).
func serverMetadata(ctx context.Context, d *Deps, client *http.Client, p *profile.Profile) (*provider.Metadata, error) {
	if p.Provider == "" {
		return provider.Discover(ctx, client, p.Issuer, p.InsecureLoopbackAS)
	}
	s, err := ResolvePreset(d, p)
	if err != nil {
		return nil, err
	}
	if s.Issuer != p.Issuer {
		return nil, fmt.Errorf("profile %q: its issuer %s is not provider %s's (%s): log in again with --provider", p.Name, p.Issuer, p.Provider, s.Issuer)
	}
	if !s.Preset.Discovery {
		return provider.Fixed(s.Issuer, s.Authorization, s.Token, s.Device, s.Revocation, p.InsecureLoopbackAS)
	}
	return provider.DiscoverTemplated(ctx, client, s.Issuer, p.InsecureLoopbackAS, s.Preset.IssuerPlaceholder)
}

// ResolvePreset resolves p's provider preset with p's options.
func ResolvePreset(d *Deps, p *profile.Profile) (*preset.Server, error) {
	o := p.PresetOptions()
	o.Origin = d.PresetOrigins[p.Provider]
	return preset.Resolve(p.Provider, o)
}

// ClientAuth is how the client authenticates at the token endpoint: a
// public client sends its client_id alone (the zero value); an installed
// app whose provider demands it adds its client secret, in the body
// (client_secret_post) or as HTTP Basic (RFC 6749 §2.3.1). The secret goes
// to the token endpoint only, and is one of the request's secrets, never
// quoted in an error.
type ClientAuth struct {
	Secret string
	Basic  bool
}

// apply adds the client's authentication to a token request.
func (a ClientAuth) apply(req *oauthwire.Request, clientID string) {
	if a.Secret == "" {
		return
	}
	req.Secrets = append(req.Secrets, a.Secret)
	if a.Basic {
		req.Form.Del("client_id")
		basic := url.QueryEscape(clientID) + ":" + url.QueryEscape(a.Secret)
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(basic)))
		return
	}
	req.Form.Set("client_secret", a.Secret)
}

// oauth2Config sets a's authentication on an x/oauth2 configuration, for
// the browser flow's code exchange and the device flow's polls.
func (a ClientAuth) oauth2Config(c oauth2.Config) oauth2.Config {
	c.ClientSecret = a.Secret
	if a.Secret != "" && a.Basic {
		c.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	}
	return c
}

// presetOf returns p's preset, or nil.
func presetOf(p *profile.Profile) *preset.Preset {
	if p.Provider == "" {
		return nil
	}
	pr, _ := preset.Lookup(p.Provider)
	return pr
}

// clientAuthFor returns how p's refreshes authenticate: nil for a public
// client; else the secret is read from the keychain when a refresh needs
// it, never on a warm call.
func clientAuthFor(d *Deps, store keychain.Store, p *profile.Profile) func(context.Context) (ClientAuth, error) {
	pr := presetOf(p)
	if pr == nil || pr.Secret == preset.SecretNone {
		return nil
	}
	return func(ctx context.Context) (ClientAuth, error) {
		secret, err := storedClientSecret(ctx, store, p)
		if err != nil {
			return ClientAuth{}, err
		}
		if secret == "" && pr.Secret == preset.SecretRequired {
			return ClientAuth{}, fmt.Errorf("%w: provider %s needs the client secret of your app, and none is stored for profile %q", ErrLoginRequired, pr.Name, p.Name)
		}
		d.logf("refresh: profile %q: client secret from the keychain (%s)", p.Name, authStyle(pr))
		return ClientAuth{Secret: secret, Basic: pr.SecretInHeader}, nil
	}
}

// loginClientAuth returns how a login's token requests authenticate: with
// the secret given to this login, else the one stored for p's client.
func loginClientAuth(ctx context.Context, store keychain.Store, p *profile.Profile, given string) (ClientAuth, error) {
	pr := presetOf(p)
	if pr == nil || pr.Secret == preset.SecretNone {
		if given != "" {
			return ClientAuth{}, fmt.Errorf("profile %q is a public client: sesame sends no client secret to its server", p.Name)
		}
		return ClientAuth{}, nil
	}
	secret := given
	if secret == "" {
		var err error
		if secret, err = storedClientSecret(ctx, store, p); err != nil {
			return ClientAuth{}, err
		}
	}
	if secret == "" && pr.Secret == preset.SecretRequired {
		return ClientAuth{}, &Problem{Kind: NoClientSecret, Profile: p.Name, Err: fmt.Errorf("provider %s needs the client secret of your app", pr.Name)}
	}
	return ClientAuth{Secret: secret, Basic: pr.SecretInHeader}, nil
}

// storedClientSecret reads p's client secret from the keychain; "" when
// none is stored.
func storedClientSecret(ctx context.Context, store keychain.Store, p *profile.Profile) (string, error) {
	rec, err := store.Get(ctx, keychain.ClientSecretKey(p.Issuer, p.ClientID, p.Name))
	if errors.Is(err, keychain.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return rec.ClientSecret, nil
}

// forgetClientSecret deletes p's stored client secret, if it has one.
func forgetClientSecret(ctx context.Context, d *Deps, p *profile.Profile) error {
	if p.Provider == "" {
		return nil
	}
	store, err := d.store()
	if err != nil {
		return err
	}
	if err := store.Delete(ctx, keychain.ClientSecretKey(p.Issuer, p.ClientID, p.Name)); err != nil && !errors.Is(err, keychain.ErrNotFound) {
		return err
	}
	return nil
}

// storeClientSecret keeps the secret a login was given in the keychain,
// beside the grant, under its own key: it belongs to the client, so it
// stays across logouts until a login is given another.
func storeClientSecret(ctx context.Context, d *Deps, store keychain.Store, p *profile.Profile, tokenEndpoint, secret string) error {
	return store.Set(ctx, keychain.ClientSecretKey(p.Issuer, p.ClientID, p.Name), &keychain.Record{
		Version:       keychain.RecordVersion,
		Profile:       p.Name,
		Issuer:        p.Issuer,
		ClientID:      p.ClientID,
		TokenEndpoint: tokenEndpoint,
		ClientSecret:  secret,
		IssuedAt:      d.now().UTC(),
	})
}

// noConsentPrompt reports whether p's preset says its provider grants
// offline access without prompt=consent (loopback.Config.NoConsentPrompt).
func noConsentPrompt(p *profile.Profile) bool {
	pr := presetOf(p)
	return pr != nil && pr.NoConsentPrompt
}

// presetAuthParams adds p's preset's authorization parameters (Google's
// access_type=offline) to params.
func presetAuthParams(p *profile.Profile, params map[string][]string) map[string][]string {
	pr := presetOf(p)
	if pr == nil || len(pr.AuthParams) == 0 {
		return params
	}
	out := map[string][]string{}
	for k, v := range params {
		out[k] = v
	}
	for _, kv := range pr.AuthParams {
		out[kv[0]] = []string{kv[1]}
	}
	return out
}

func authStyle(pr *preset.Preset) string {
	if pr.SecretInHeader {
		return "HTTP Basic"
	}
	return "client_secret_post"
}
