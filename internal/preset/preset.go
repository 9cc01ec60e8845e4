// Package preset holds the provider presets built into sesame: for each
// provider people sign in to (GitHub, GitLab, Google, Microsoft Entra ID,
// Gitea, Forgejo, Codeberg, Keycloak, Okta), where its issuer or its
// endpoints are, the scopes to ask for, how a refresh token is asked for,
// whether the token endpoint wants a client secret, and its known quirks.
//
// The table is part of the binary, never of the configuration file: a
// profile names a preset and, where the provider needs one, a host, a
// tenant or a realm, and the endpoints follow from those alone. So the
// file cannot send a token, a code or a client secret anywhere the
// provider does not live (requirement 15), and a provider without a
// discovery document (GitHub) can still be used.
package preset

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Secret says whether a provider's token endpoint wants a client secret
// from an installed app. Such a secret is shipped with, or typed into,
// every copy of the app and is not confidential (RFC 8252 §8.5): it only
// satisfies the provider.
type Secret int

const (
	// SecretNone: a public client; no secret is ever sent.
	SecretNone Secret = iota
	// SecretOptional: sent when the user gave one (GitHub: the web flow
	// and refreshes of its tokens need it, the device flow does not).
	SecretOptional
	// SecretRequired: the token endpoint refuses a code or a refresh
	// token without it (Google's "Desktop app" clients).
	SecretRequired
)

// Preset is one provider. The URL fields are templates: {origin} is
// https://<host>, {tenant} and {realm} the profile's values.
type Preset struct {
	// Name is what --provider takes.
	Name string
	// Title is the provider's name for people.
	Title string
	// Docs is the provider documentation the preset follows.
	Docs string

	// DefaultHost is the host of the provider's public service; "" means
	// --host is required (a self-hosted server). FixedHost refuses
	// another host (the provider exists in one place only).
	DefaultHost string
	FixedHost   bool
	// NeedsTenant and NeedsRealm require --tenant or --realm; DefaultRealm
	// is used when --realm is not given and the realm is optional.
	NeedsTenant  bool
	NeedsRealm   bool
	DefaultRealm string

	// Issuer is the issuer identifier. With Discovery, it is checked
	// against the discovery document byte for byte (requirement 19);
	// without, it only names the server (keychain key, status).
	Issuer    string
	Discovery bool
	// Endpoints of a provider without discovery.
	Authorization, Token, Device, Revocation string
	// IssuerPlaceholder is the part of a multi-tenant discovery
	// document's issuer that stands for the signed-in user's tenant
	// (Entra's "{tenantid}"); ID tokens are then checked against the
	// issuer with the placeholder replaced by their tid claim.
	IssuerPlaceholder string

	// Scopes are requested when the profile names none.
	Scopes []string
	// AuthParams are added to the authorization request: how some
	// providers are asked for a refresh token (Google: access_type=offline).
	AuthParams [][2]string
	// NoConsentPrompt: the provider grants offline_access without
	// prompt=consent (it does not apply OpenID Connect Core §11 to it),
	// so none is sent; on Entra ID one would even ask for an
	// administrator's approval where users may not consent themselves.
	NoConsentPrompt bool
	// Secret says whether a client secret is sent to the token endpoint;
	// SecretInHeader sends it as HTTP Basic (RFC 6749 §2.3.1) rather than
	// in the body (client_secret_post).
	Secret         Secret
	SecretInHeader bool
	// Flow is the login flow when the profile names none ("" = auto).
	Flow string
	// VerificationHosts are the domains, besides the issuer's, of the
	// provider's device verification page (requirement 42).
	VerificationHosts []string
	// GitUsername is the user name git is given with the token.
	GitUsername string
	// User is the REST endpoint that names the signed-in user, for a
	// provider that issues no ID token (GitHub's GET /user): {api} is
	// API on the provider's public host, HostAPI (a template of {origin})
	// on a self-hosted one. Only this endpoint of the table is given the
	// access token, never one from the configuration file.
	User, API, HostAPI string
	// GitHost says the provider hosts git repositories at its host (the
	// public service's, or the profile's --host): `sesame setup git`
	// needs no --host for it.
	GitHost bool
	// Quirks are what the preset does about the provider's known
	// departures from the standards, for `sesame login --help` and the
	// README.
	Quirks []string
}

// Options are a profile's provider settings.
type Options struct {
	Host, Tenant, Realm string
	// AllowInsecureLoopback gives an http origin to a host that is a
	// loopback IP literal: local test servers only (requirement 20).
	AllowInsecureLoopback bool
	// Origin, when set, replaces scheme://host: a test's in-process
	// server standing in for a provider with a fixed host. It is never
	// read from the configuration file or the environment: only tests
	// set it, through cmd's Env.
	Origin string
}

// Server is a preset resolved for one profile.
type Server struct {
	Preset *Preset
	Issuer string
	// Endpoints of a preset without discovery; empty with discovery.
	Authorization, Token, Device, Revocation string
	// User is the resolved [Preset.User]; "" when the preset has none.
	User string
}

// Lookup returns the preset called name.
func Lookup(name string) (*Preset, bool) {
	for i := range table {
		if table[i].Name == name {
			return &table[i], true
		}
	}
	return nil, false
}

// Names lists the presets, in table order.
func Names() []string {
	names := make([]string, len(table))
	for i := range table {
		names[i] = table[i].Name
	}
	return names
}

// ErrUnknown is wrapped by Resolve for a name that is not a preset.
var ErrUnknown = errors.New("unknown provider")

// Resolve returns the issuer and endpoints of preset name for o.
func Resolve(name string, o Options) (*Server, error) {
	p, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("%w %q: use one of %s", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	return p.Resolve(o)
}

// Resolve returns p's issuer and endpoints for o.
func (p *Preset) Resolve(o Options) (*Server, error) {
	if err := p.Check(o); err != nil {
		return nil, err
	}
	origin, api := o.Origin, p.API
	if o.Host != "" {
		api = p.HostAPI
	}
	if origin == "" {
		host := firstNonEmpty(o.Host, p.DefaultHost)
		scheme := "https"
		if h, _, err := net.SplitHostPort(host); o.AllowInsecureLoopback && err == nil && isLoopbackIP(h) {
			scheme = "http"
		}
		origin = scheme + "://" + host
	} else if o.Host == "" {
		// A test server standing in for the public service stands in
		// for its API host too.
		api = origin
	}
	api = strings.ReplaceAll(api, "{origin}", origin)
	r := strings.NewReplacer("{origin}", origin, "{api}", api, "{tenant}", o.Tenant, "{realm}", firstNonEmpty(o.Realm, p.DefaultRealm))
	s := &Server{Preset: p, Issuer: r.Replace(p.Issuer)}
	if !p.Discovery {
		s.Authorization, s.Token = r.Replace(p.Authorization), r.Replace(p.Token)
		s.Device, s.Revocation = r.Replace(p.Device), r.Replace(p.Revocation)
	}
	if p.User != "" {
		s.User = r.Replace(p.User)
	}
	return s, nil
}

// Check reports what o lacks, or has too much of, for p.
func (p *Preset) Check(o Options) error {
	switch {
	case o.Host != "" && p.FixedHost:
		return fmt.Errorf("provider %s has no --host: it is %s only", p.Name, p.DefaultHost)
	case o.Host == "" && p.DefaultHost == "":
		return fmt.Errorf("provider %s needs --host: your server's host name", p.Name)
	case o.Host != "" && !validHost(o.Host):
		return fmt.Errorf("invalid host %q: a host name with an optional port, like git.example.com", o.Host)
	case p.NeedsTenant && o.Tenant == "":
		return fmt.Errorf("provider %s needs --tenant: your tenant ID, or common or organizations for a multi-tenant app", p.Name)
	case !p.NeedsTenant && o.Tenant != "":
		return fmt.Errorf("provider %s has no --tenant", p.Name)
	case p.NeedsRealm && o.Realm == "":
		return fmt.Errorf("provider %s needs --realm", p.Name)
	case !p.NeedsRealm && p.DefaultRealm == "" && o.Realm != "":
		return fmt.Errorf("provider %s has no --realm", p.Name)
	}
	for _, v := range []string{o.Tenant, o.Realm} {
		if v != "" && (url.PathEscape(v) != v || v == "." || v == "..") {
			return fmt.Errorf("invalid tenant or realm %q: letters, digits, '.', '-' and '_'", v)
		}
	}
	return nil
}

// validHost accepts host[:port] and nothing else: no scheme, user, path,
// query or fragment can ride along into the endpoints.
func validHost(h string) bool {
	u, err := url.Parse("https://" + h)
	return err == nil && u.Host == h && u.User == nil && u.Path == "" && !u.ForceQuery && u.RawQuery == "" && u.Fragment == "" &&
		!strings.ContainsAny(h, " \t\r\n\\/?#@")
}

func isLoopbackIP(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// GitHostFor returns the host p serves git at for o: o's host, else the
// public service's; "" when p hosts no git.
func (p *Preset) GitHostFor(o Options) string {
	if !p.GitHost {
		return ""
	}
	return firstNonEmpty(o.Host, p.DefaultHost)
}

// DefaultScopes returns a copy of p's scopes.
func (p *Preset) DefaultScopes() []string { return slices.Clone(p.Scopes) }
