package devicecode

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/clock"
	"github.com/sesame-auth/sesame/internal/urlcheck"
)

const (
	// DefaultInterval is the wait between polls when the server names none
	// (RFC 8628 §3.2).
	DefaultInterval = 5 * time.Second
	// SlowDownStep is added to the interval, for that poll and every later
	// one, each time the server answers slow_down (RFC 8628 §3.5).
	SlowDownStep = 5 * time.Second
	// MaxExpiry caps the device code lifetime the server announces. A
	// server that claims a longer one, or none, is waited for this long at
	// most (requirement 23).
	MaxExpiry = 30 * time.Minute

	// PhishingWarning is the sentence a display must carry next to the user
	// code (requirement 41, RFC 8628 §5.4): a user code forwarded
	// by an attacker looks exactly like one the person asked for.
	PhishingWarning = "enter this code only if you started this login just now"

	// maxBackoffInterval bounds the doubling after connection failures, so
	// a short outage does not leave minutes between polls. An interval the
	// server asked for is never shortened by it.
	maxBackoffInterval = time.Minute
	// requestTimeout bounds every request even when the caller's client has
	// no timeout (http.DefaultClient has none).
	requestTimeout = 30 * time.Second
)

// Clock is the flow's source of time: Now, and After, which waits like
// time.After. Tests supply a fake one so that polling schedules are checked
// without sleeping. It must be safe for concurrent use when a Flow is
// shared. It is the clock the rest of sesame runs on, so the session hands
// its own to the flow.
type Clock = clock.Clock

// QREncoder renders text as a QR code for a terminal, e.g. as block
// characters. The package has no encoder of its own, to keep its
// dependencies to x/oauth2; the CLI supplies one. The text is always the
// value of Prompt.BrowserURI.
type QREncoder interface {
	EncodeQR(text string) (string, error)
}

// UI is how the flow talks to the person. The package itself never writes to
// a terminal; these callbacks decide where and how things are shown.
type UI struct {
	// Show is called once per login, after the verification URI has passed
	// every check and before the first poll, with everything the person
	// must see. It is required. The code's lifetime is already running and
	// the first poll waits for Show to return, so it should not wait for
	// input.
	Show func(Prompt)
	// Waiting, if set, is called before every wait between polls, for a
	// countdown or spinner. It must return promptly.
	Waiting func(Wait)
	// QR, if set, renders Prompt.BrowserURI into Prompt.QR. A failure
	// leaves Prompt.QR empty; the text prompt is always complete without it.
	QR QREncoder
}

// Config describes one public client and how a device login should run. It is
// plain data; New copies it, so later changes do not affect a Flow.
type Config struct {
	// OAuth2 names the client and the server's endpoints:
	// Endpoint.DeviceAuthURL and Endpoint.TokenURL are required, both https.
	// ClientID is sent in the body of every request (public client, RFC 6749
	// §2.3.1); a ClientSecret, for servers that hand one to installed apps,
	// is sent with the polls of the token endpoint only, in the body, or as
	// HTTP Basic with Endpoint.AuthStyle AuthStyleInHeader. Scopes are sent on the device authorization request.
	OAuth2 oauth2.Config
	// Issuer is the configured issuer identifier, required. The
	// verification page is expected on its registrable domain
	// (requirement 42).
	Issuer string
	// HTTPClient sends every request. Nil means a client with dial, TLS,
	// response-header and overall timeouts of 10, 10, 15 and 30 s. Either
	// way redirects are not followed, and each request is bounded by 30 s.
	HTTPClient *http.Client
	// UI shows the prompt and the wait. UI.Show is required.
	UI UI
	// PKCE sends an S256 code_challenge on the device authorization request
	// and its code_verifier on every poll (RFC 7636 §4). RFC 8628 does not
	// ask for it, but Keycloak refuses the device grant without it when
	// the client requires PKCE (int128/kubelogin#1470).
	PKCE bool
	// AllowedVerificationHosts are domains, besides the issuer's, on which
	// the verification page may live: an entry matches itself and every
	// name under it. Bare public suffixes ("com", "co.uk") are refused.
	AllowedVerificationHosts []string
	// AcceptVerificationHost shows a verification page on any other domain
	// instead of refusing it (--accept-verification-host). The prompt still
	// says so in Prompt.DifferentDomain.
	AcceptVerificationHost bool
	// AllowInsecureLoopback permits plain http for the issuer, the
	// endpoints and the verification URI when their host is a loopback IP
	// literal. It exists for test servers only (requirement 20).
	AllowInsecureLoopback bool
	// Clock is the source of time; nil means the system clock.
	Clock Clock
	// AuthParams are extra device authorization request parameters, such as
	// resource (RFC 8707). Parameters the flow sets itself are refused.
	AuthParams url.Values
	// TokenParams are extra token request (poll) parameters, such as the
	// one resource the access token is for (RFC 8707 §2.2). Parameters the
	// flow sets itself are refused.
	TokenParams url.Values
}

// reservedParams are parameters the flow sets itself. Letting AuthParams
// override them would send a challenge that does not match the verifier, or a
// grant the flow does not speak.
var reservedParams = []string{
	"client_id", "client_secret", "code_challenge", "code_challenge_method",
	"code_verifier", "device_code", "grant_type", "scope",
}

// Flow runs device logins for one Config. Each call to Token is an independent
// attempt with its own device code and verifier.
type Flow struct {
	cfg       Config
	client    *http.Client
	clock     Clock
	issuer    hostInfo
	allowlist []string // normalized ASCII names and IP literals
}

// New checks cfg and returns a Flow. It does not touch the network.
func New(cfg Config) (*Flow, error) {
	c := cfg.OAuth2
	if c.ClientID == "" {
		return nil, errors.New("client id is empty")
	}
	if cfg.UI.Show == nil {
		return nil, errors.New("ui has no Show function: the person would never see the code")
	}
	if err := checkEndpoint("device authorization", c.Endpoint.DeviceAuthURL, cfg.AllowInsecureLoopback); err != nil {
		return nil, err
	}
	if err := checkEndpoint("token", c.Endpoint.TokenURL, cfg.AllowInsecureLoopback); err != nil {
		return nil, err
	}
	if err := checkEndpoint("issuer", cfg.Issuer, cfg.AllowInsecureLoopback); err != nil {
		return nil, err
	}
	iu, _ := url.Parse(cfg.Issuer)
	issuer, err := parseHost(issuerASCII(iu.Hostname()))
	if err != nil {
		return nil, fmt.Errorf("issuer host: %w", err)
	}
	allow := make([]string, 0, len(cfg.AllowedVerificationHosts))
	for _, h := range cfg.AllowedVerificationHosts {
		n, err := allowlistEntry(h)
		if err != nil {
			return nil, err
		}
		allow = append(allow, n)
	}
	for k := range cfg.AuthParams {
		if slices.Contains(reservedParams, strings.ToLower(k)) {
			return nil, fmt.Errorf("device authorization parameter %q is set by the flow", k)
		}
	}
	for k := range cfg.TokenParams {
		if slices.Contains(reservedParams, strings.ToLower(k)) {
			return nil, fmt.Errorf("token request parameter %q is set by the flow", k)
		}
	}

	c.Scopes = slices.Clone(c.Scopes)
	cfg.OAuth2 = c
	cfg.AuthParams = cloneValues(cfg.AuthParams)
	cfg.TokenParams = cloneValues(cfg.TokenParams)
	cfg.AllowedVerificationHosts = slices.Clone(cfg.AllowedVerificationHosts)
	clk := cfg.Clock
	if clk == nil {
		clk = clock.System
	}
	return &Flow{
		cfg:       cfg,
		client:    defaultClient(cfg.HTTPClient),
		clock:     clk,
		issuer:    issuer,
		allowlist: allow,
	}, nil
}

// checkEndpoint applies the project's one endpoint rule (absolute https,
// no fragment or user information; http only on a loopback IP literal when
// allowed: RFC 8414 §2, requirement 20) and names the endpoint.
func checkEndpoint(name, raw string, allowInsecure bool) error {
	if err := urlcheck.Endpoint(raw, allowInsecure); err != nil {
		return fmt.Errorf("%s url: %w", name, err)
	}
	return nil
}

// defaultClient returns c, or when it is nil a client with the timeouts of
// requirement 23. Redirects are refused per request by internal/oauthwire:
// Go re-sends a POST body on 307 and 308, which would carry the device code
// and verifier to the redirect target (RFC 9700 §4.12).
func defaultClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 15 * time.Second
	return &http.Client{Transport: t, Timeout: requestTimeout}
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
