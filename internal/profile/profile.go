package profile

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/internal/urlcheck"
	"github.com/sesame-auth/sesame/keychain"
)

// DefaultName is the profile used when neither -p nor $SESAME_PROFILE names one.
const DefaultName = "default"

// DefaultScopes are requested when a profile names none: an ID token for
// `sesame status`, and a refresh token so helpers never need the browser
// again until the grant ends.
var DefaultScopes = []string{"openid", "offline_access"}

// Flows a profile may fix.
const (
	FlowAuto    = "auto"
	FlowBrowser = "browser"
	FlowDevice  = "device"
)

// Profile is one named sign-in configuration.
type Profile struct {
	// Name is the profile's key in the file; it is not stored in the value.
	Name string `json:"-"`

	Issuer   string   `json:"issuer"`
	ClientID string   `json:"client_id"`
	Scopes   []string `json:"scopes,omitempty"`
	// Resources are RFC 8707 resource indicators.
	Resources []string `json:"resources,omitempty"`
	Flow      string   `json:"flow,omitempty"`
	// CallbackPort fixes the loopback listener's port (0: OS-assigned),
	// for SSH tunnels and servers that registered one port.
	CallbackPort int `json:"callback_port,omitempty"`
	// CAFile is a PEM file of CA certificates added to the system roots.
	// It is an absolute path (login resolves --ca-file once): a relative
	// one would be read from each caller's working directory, such as the
	// top of whatever git repository runs the credential helper.
	CAFile string `json:"ca_file,omitempty"`
	// InsecureLoopbackAS allows an http issuer whose host is a loopback
	// IP literal (a local test server), and nothing else (requirement 20).
	InsecureLoopbackAS bool `json:"insecure_loopback_as,omitempty"`
	// AllowUnannouncedIss accepts an RFC 9207 iss on the callback from a
	// server whose metadata did not announce it (requirement 14).
	AllowUnannouncedIss bool `json:"allow_unannounced_iss,omitempty"`
	// BrowserCommand opens the authorization URL instead of the system
	// browser; the URL is passed as its single argument.
	BrowserCommand string `json:"browser_command,omitempty"`

	// GitHosts are the https hosts, each with an optional path prefix
	// ("git.example.com" or "git.example.com/org"), whose git credential
	// requests this profile answers (requirement 40).
	GitHosts []string `json:"git_hosts,omitempty"`
	// GitUsername is the user name answered to git (default "oauth2").
	GitUsername string `json:"git_username,omitempty"`
	// DockerHosts are the registries whose docker credential requests this
	// profile answers.
	DockerHosts []string `json:"docker_hosts,omitempty"`
	// DockerUsername is the user name answered to docker (default
	// DefaultDockerUsername), for registries that check it.
	DockerUsername string `json:"docker_username,omitempty"`
	// NoHelperLogin forbids helper commands (token, kubectl, git, docker,
	// exec) from starting a login even for a person at a terminal: they
	// exit 4 instead, and only `sesame login` signs in.
	NoHelperLogin bool `json:"no_helper_login,omitempty"`
	// VerificationHosts are domains, besides the issuer's, where the device
	// flow's verification page may live (requirement 42), for
	// providers whose device page is on another domain.
	VerificationHosts []string `json:"verification_hosts,omitempty"`
	// KubeServer is the API server URL of the cluster this profile's
	// tokens are for; kubectl's cluster info must match it.
	KubeServer string `json:"kube_server,omitempty"`
	// DPoP binds the grant to a per-profile key (RFC 9449,
	// requirement 31): a login fails when the server does not
	// offer DPoP with ES256, rather than silently leaving the refresh token
	// unbound.
	DPoP bool `json:"dpop,omitempty"`
	// Register means the client id is this installation's own, made by
	// dynamic client registration (RFC 7591) at the first login; an empty
	// ClientID then asks the next login to register anew. The
	// registration's management token is in the keychain, never here.
	Register bool `json:"register,omitempty"`

	// Provider names a preset built into sesame (internal/preset); Host,
	// Tenant and Realm are its options. The preset, not this file, gives
	// the endpoints; Issuer must be the one the preset resolves to.
	Provider string `json:"provider,omitempty"`
	Host     string `json:"host,omitempty"`
	Tenant   string `json:"tenant,omitempty"`
	Realm    string `json:"realm,omitempty"`
}

// DefaultResource is the resource indicator the login's access token is
// for: the first of Resources, or "" when the profile names none.
func (p *Profile) DefaultResource() string {
	if len(p.Resources) == 0 {
		return ""
	}
	return p.Resources[0]
}

// DefaultGitUsername is answered to git when the profile names none.
const DefaultGitUsername = "oauth2"

// DefaultDockerUsername is answered to docker when the profile names none:
// registries that take an OAuth access token as a password accept any
// name, and this one says what the password is.
const DefaultDockerUsername = "oauth2accesstoken"

// SplitGitHost splits a git host entry into host and path prefix.
func SplitGitHost(entry string) (host, pathPrefix string) {
	host, pathPrefix, _ = strings.Cut(entry, "/")
	return host, pathPrefix
}

// ValidateName checks that name can be a profile name: a short word of
// letters, digits, dot, dash and underscore, so it is safe in a lock file
// name, a shell completion and a kubeconfig.
func ValidateName(name string) error {
	ok := len(name) > 0 && len(name) <= 64
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		ok = alnum || (i > 0 && (c == '.' || c == '-' || c == '_'))
	}
	if !ok {
		return fmt.Errorf("invalid profile name %q: use letters, digits, '.', '-' and '_' (at most 64)", name)
	}
	return nil
}

// Validate checks the profile's fields. It does not contact the server.
func (p *Profile) Validate() error {
	if err := ValidateName(p.Name); err != nil {
		return err
	}
	if p.Issuer == "" {
		return errors.New("no issuer")
	}
	if err := CheckIssuer(p.Issuer, p.InsecureLoopbackAS); err != nil {
		return err
	}
	if p.Register && p.ClientID == "" {
		// The next login registers a client id.
	} else if strings.TrimSpace(p.ClientID) == "" || p.ClientID != strings.TrimSpace(p.ClientID) {
		return errors.New("no client id (or one with surrounding spaces)")
	}
	for _, s := range p.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			return fmt.Errorf("invalid scope %q: one scope per --scope, no spaces or quotes", s)
		}
	}
	for _, r := range p.Resources {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || u.Fragment != "" {
			return fmt.Errorf("invalid resource %q: an absolute URI without a fragment (RFC 8707 §2)", r)
		}
	}
	switch p.Flow {
	case "", FlowAuto, FlowBrowser, FlowDevice:
	default:
		return fmt.Errorf("invalid flow %q: use auto, browser or device", p.Flow)
	}
	if p.CAFile != "" && !filepath.IsAbs(p.CAFile) {
		return &RelativeCAFileError{Profile: p.Name, CAFile: p.CAFile}
	}
	if p.CallbackPort < 0 || p.CallbackPort > 65535 {
		return fmt.Errorf("invalid callback port %d", p.CallbackPort)
	}
	for _, h := range p.VerificationHosts {
		if h == "" || strings.ContainsAny(h, " \t\r\n/\\?#@:") {
			return fmt.Errorf("invalid verification host %q: a domain name, like login.example.com", h)
		}
	}
	for _, h := range append(slices.Clone(p.GitHosts), p.DockerHosts...) {
		host, _ := SplitGitHost(h)
		if host == "" || strings.ContainsAny(h, " \t\r\n\\?#@") || strings.Contains(h, "://") {
			return fmt.Errorf("invalid host %q: a host name with an optional port and path, like git.example.com/org", h)
		}
	}
	if err := p.validatePreset(); err != nil {
		return err
	}
	if err := checkUsername(p.GitUsername); err != nil {
		return err
	}
	if err := checkUsername(p.DockerUsername); err != nil {
		return err
	}
	if p.DockerUsername == "<token>" {
		// docker reads "<token>" as "the secret is an identity token" and
		// would trade the access token at the registry as a refresh token.
		return errors.New(`invalid docker username "<token>": docker would treat the access token as an identity token`)
	}
	if p.KubeServer != "" {
		if u, err := url.Parse(p.KubeServer); err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("invalid kube server %q: the cluster's https URL", p.KubeServer)
		}
	}
	return nil
}

// checkUsername refuses a user name that a credential helper's line or
// JSON answer could not carry as it is: control characters, surrounding
// spaces or invalid UTF-8. Empty means the default.
func checkUsername(name string) error {
	if name != strings.TrimSpace(name) || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return fmt.Errorf("invalid user name %q: no control characters or surrounding spaces", name)
	}
	return nil
}

// EffectiveScopes returns the scopes to request: the profile's, or DefaultScopes.
func (p *Profile) EffectiveScopes() []string {
	if len(p.Scopes) == 0 {
		return slices.Clone(DefaultScopes)
	}
	return slices.Clone(p.Scopes)
}

// KeychainKey is the collision-free key of this profile's keychain record
// (requirement 39): a change of issuer or client id yields another key, so
// a stored refresh token is never sent to another server.
func (p *Profile) KeychainKey() string {
	return keychain.Key(p.Issuer, p.ClientID, p.Name)
}

// CheckIssuer validates an issuer identifier: an https URL with no query
// or fragment (RFC 8414 §2). An http issuer is accepted only when
// allowInsecureLoopback is set and its host is a loopback IP literal, as for
// every endpoint (requirement 20).
func CheckIssuer(issuer string, allowInsecureLoopback bool) error {
	if err := urlcheck.Endpoint(issuer, allowInsecureLoopback); err != nil {
		return fmt.Errorf("invalid issuer: %w", err)
	}
	if u, _ := url.Parse(issuer); u.RawQuery != "" || u.ForceQuery {
		return fmt.Errorf("invalid issuer %q: an issuer has no query (RFC 8414 §2)", issuer)
	}
	return nil
}
