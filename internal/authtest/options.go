package authtest

import (
	"maps"
	"net/http"
	"time"
)

// User is the resource owner the server signs in. Every approved request
// authenticates as the configured user.
type User struct {
	Subject string
	// Username is preferred_username; empty leaves the claim out.
	Username string
	Email    string
	Name     string
}

// DefaultClientID is the client_id a server accepts unless [WithClientID]
// says otherwise.
const DefaultClientID = "sesame-test"

// Hook answers a request in place of the server. It returns true when it
// wrote a response (or deliberately wrote none); false lets the server's
// own handler run. The request's form is already parsed. A hook that
// stalls (a slow or endless body) must return once r.Context() is done;
// the server cancels it when the client goes away or the test ends.
type Hook func(w http.ResponseWriter, r *http.Request) bool

// AuthorizeHook decides an authorization request after the server has
// validated the client, redirect URI and PKCE parameters. It returns true
// when it wrote the response itself, false to let the configured approval
// (approve or deny) proceed.
type AuthorizeHook func(w http.ResponseWriter, r *http.Request, req AuthorizeRequest) bool

// Option configures a Server, in [New] or later through [Server.Configure].
type Option func(*config)

// config is the tunable part of a Server. It lives under Server.mu; the
// queues in it (drops, device polls, revoke statuses) are consumed by the
// handlers.
type config struct {
	clientID      string
	user          User
	redirectHosts []string

	accessTTL  time.Duration
	idTokenTTL time.Duration
	codeTTL    time.Duration
	now        func() time.Time

	rotate     bool
	reuseGrace time.Duration

	deny            bool
	denyDescription string
	authorizeHook   AuthorizeHook

	callbackIssuer     string // "" means the real issuer
	omitCallbackIssuer bool
	metadataIssuer     string // "" means the real issuer
	metadataMutator    func(map[string]any)
	parAdvertised      bool
	parRequired        bool
	parLifetime        time.Duration

	idTokenMutator       func(claims map[string]any)
	idTokenEncoder       func(claims map[string]any) string
	rawIDToken           string
	tokenResponseMutator func(resp map[string]any)
	dropTokenResponses   int
	lostStatus           int // how a dropped token response is lost: 0 closes the connection

	hooks  map[string]Hook
	delays map[string]time.Duration

	deviceTTL               time.Duration
	deviceInterval          time.Duration
	devicePolls             []string
	deviceAnswer            deviceAnswer
	verificationURI         string
	verificationURIComplete string

	revokeStatuses   []int
	revokeRetryAfter string

	dpop         *DPoPOptions // nil: DPoP is off
	registration bool

	strictOffline        bool
	confidential         bool
	oneGrant             bool
	claimsOnlyInUserinfo bool

	// Provider behaviours (provider.go).
	basePath                   string
	aliases                    map[string]string
	noDiscovery                bool
	clientSecret               string
	secretBasic                bool
	formAnswers                bool
	offlineParam, offlineValue string
}

func defaultConfig() config {
	return config{
		clientID:       DefaultClientID,
		user:           User{Subject: "alice", Email: "alice@example.test", Name: "Alice Example"},
		redirectHosts:  []string{"127.0.0.1", "::1"},
		accessTTL:      300 * time.Second,
		idTokenTTL:     time.Hour,
		codeTTL:        time.Minute,
		parLifetime:    60 * time.Second,
		rotate:         true,
		deviceTTL:      10 * time.Minute,
		deviceInterval: 5 * time.Second,
		hooks:          map[string]Hook{},
		delays:         map[string]time.Duration{},
	}
}

// WithClientID sets the client_id the server knows from the start (default
// [DefaultClientID]); clients registered through [WithRegistration] join
// it. It takes effect in [New] only.
func WithClientID(id string) Option { return func(c *config) { c.clientID = id } }

// WithUser sets the user every approved request signs in as (default
// subject "alice", alice@example.test, "Alice Example").
func WithUser(u User) Option { return func(c *config) { c.user = u } }

// WithRedirectHosts replaces the loopback hosts accepted in redirect_uri
// (default "127.0.0.1" and "::1"). Add "localhost" to test the profile
// switch of requirement 2.
func WithRedirectHosts(hosts ...string) Option {
	return func(c *config) { c.redirectHosts = append([]string(nil), hosts...) }
}

// WithAccessTokenLifetime sets expires_in for new access tokens (default
// 300 s). Introspection and userinfo treat the token as expired after it.
func WithAccessTokenLifetime(d time.Duration) Option { return func(c *config) { c.accessTTL = d } }

// WithIDTokenLifetime sets the distance from iat to exp in new ID tokens
// (default 1 h, deliberately unlike the access token's lifetime).
func WithIDTokenLifetime(d time.Duration) Option { return func(c *config) { c.idTokenTTL = d } }

// WithClock replaces the server's clock, for tests that offset the server
// from the client's fake clock.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRefreshRotation turns refresh-token rotation on (the default) or off.
// Without rotation a refresh response carries no refresh_token, and the
// client must keep the one it has (RFC 6749 §6).
func WithRefreshRotation(on bool) Option { return func(c *config) { c.rotate = on } }

// WithReuseGrace lets a rotated refresh token be used again for d after its
// rotation, as servers do to survive lost responses (RFC 9700 §4.14.2). A
// use inside the grace issues a new token and supersedes the one before.
// Zero (the default) is strict: any reuse revokes the whole family.
func WithReuseGrace(d time.Duration) Option { return func(c *config) { c.reuseGrace = d } }

// WithApprove makes the authorize and device verification endpoints approve
// every request, the default.
func WithApprove() Option { return func(c *config) { c.deny, c.denyDescription = false, "" } }

// WithDeny makes the user refuse: authorize redirects with
// error=access_denied (and error_description when description is not
// empty), and device codes approved through the verification page are
// denied.
func WithDeny(description string) Option {
	return func(c *config) { c.deny, c.denyDescription = true, description }
}

// WithAuthorizeHook installs h to decide validated authorization requests;
// nil removes it.
func WithAuthorizeHook(h AuthorizeHook) Option { return func(c *config) { c.authorizeHook = h } }

// WithCallbackIssuer puts iss in the authorization response instead of the
// real issuer (RFC 9207 mix-up tests); "" restores the real issuer and
// undoes [WithoutCallbackIssuer].
func WithCallbackIssuer(iss string) Option {
	return func(c *config) { c.callbackIssuer, c.omitCallbackIssuer = iss, false }
}

// WithoutCallbackIssuer leaves iss out of the authorization response even
// though the metadata announces it.
func WithoutCallbackIssuer() Option { return func(c *config) { c.omitCallbackIssuer = true } }

// WithMetadataIssuer serves iss as the discovery documents' issuer.
func WithMetadataIssuer(iss string) Option { return func(c *config) { c.metadataIssuer = iss } }

// WithMetadataMutator lets f edit each discovery document just before it is
// sent (remove S256, add "plain", make an endpoint http://...). The map is
// fresh for every request.
func WithMetadataMutator(f func(md map[string]any)) Option {
	return func(c *config) { c.metadataMutator = f }
}

// WithPAR advertises the pushed authorization request endpoint (RFC 9126)
// in the metadata, and with required also
// require_pushed_authorization_requests, which makes /authorize refuse
// front-channel parameters.
func WithPAR(required bool) Option {
	return func(c *config) { c.parAdvertised, c.parRequired = true, required }
}

// WithPARLifetime sets how long a pushed request's request_uri is valid
// and the expires_in the PAR endpoint answers (default 60 s, the example
// of RFC 9126 §2.2). The server's clock decides (see [WithClock]).
func WithPARLifetime(d time.Duration) Option { return func(c *config) { c.parLifetime = d } }

// WithIDTokenMutator lets f edit the claims of each ID token before it is
// signed, e.g. to change nonce, aud, exp or iat.
func WithIDTokenMutator(f func(claims map[string]any)) Option {
	return func(c *config) { c.idTokenMutator = f }
}

// WithIDTokenEncoder replaces signing: f gets the final claims and returns
// the id_token string to send, e.g. from [UnsignedJWT], [HS256JWT] or
// [Server.SignIDToken] with a foreign kid.
func WithIDTokenEncoder(f func(claims map[string]any) string) Option {
	return func(c *config) { c.idTokenEncoder = f }
}

// WithRawIDToken sends raw, verbatim, as the id_token of every response
// that carries one; "" restores signing.
func WithRawIDToken(raw string) Option { return func(c *config) { c.rawIDToken = raw } }

// WithTokenResponseMutator lets f edit each successful token response
// (remove expires_in, set it to 1e12, narrow scope, set token_type to DPoP).
func WithTokenResponseMutator(f func(resp map[string]any)) Option {
	return func(c *config) { c.tokenResponseMutator = f }
}

// WithDroppedTokenResponses makes the next n token requests be processed in
// full (codes spent, tokens rotated) and then answered by closing the
// connection, so the client sees a transport error for a request the server
// acted on.
func WithDroppedTokenResponses(n int) Option {
	return func(c *config) { c.dropTokenResponses, c.lostStatus = n, 0 }
}

// WithHook installs h in front of the handler for path (e.g. [PathToken]),
// to send a 307, a huge or endless body, a 5xx or anything else. A nil h
// removes the hook.
func WithHook(path string, h Hook) Option {
	return func(c *config) {
		c.hooks = maps.Clone(c.hooks)
		if h == nil {
			delete(c.hooks, path)
			return
		}
		c.hooks[path] = h
	}
}

// WithTokenHook is WithHook(PathToken, h).
func WithTokenHook(h Hook) Option { return WithHook(PathToken, h) }

// WithDelay holds every request for path for d before handling it. If the
// client gives up first, the request is neither processed nor answered.
func WithDelay(path string, d time.Duration) Option {
	return func(c *config) {
		c.delays = maps.Clone(c.delays)
		c.delays[path] = d
	}
}

// WithDeviceTiming sets the device grant's expires_in and interval
// (defaults 10 min and 5 s). A zero interval is left out of the response.
func WithDeviceTiming(expiresIn, interval time.Duration) Option {
	return func(c *config) { c.deviceTTL, c.deviceInterval = expiresIn, interval }
}

// deviceAnswer is what the person does with a device code as soon as it is
// issued: nothing (wait for [Server.ApproveDevice], [Server.DenyDevice] or
// the verification page), approve it, or deny it.
type deviceAnswer int

const (
	deviceAnswerLater deviceAnswer = iota
	deviceAnswerApprove
	deviceAnswerDeny
)

// WithDeviceAutoApprove makes the person approve every device
// authorization the moment the server issues it, before the client's first
// poll: a test of what follows an approval needs no goroutine waiting for
// [Server.LastUserCode].
func WithDeviceAutoApprove() Option {
	return func(c *config) { c.deviceAnswer = deviceAnswerApprove }
}

// WithDeviceAutoDeny makes the person refuse every device authorization the
// moment the server issues it: the client's first poll gets access_denied.
func WithDeviceAutoDeny() Option {
	return func(c *config) { c.deviceAnswer = deviceAnswerDeny }
}

// WithDevicePolls queues answers for the next device_code token requests,
// one per poll: an RFC 8628 §3.5 error code such as "authorization_pending"
// or "slow_down" is returned as is; "" lets the poll be decided normally.
// Once the queue is empty every poll is decided normally.
func WithDevicePolls(answers ...string) Option {
	return func(c *config) { c.devicePolls = append(c.devicePolls, answers...) }
}

// WithVerificationURI overrides verification_uri and
// verification_uri_complete in device authorization responses. An empty
// complete leaves verification_uri_complete out.
func WithVerificationURI(uri, complete string) Option {
	return func(c *config) { c.verificationURI, c.verificationURIComplete = uri, complete }
}

// WithRevokeStatuses queues status codes for the next revocation requests,
// e.g. 503, 503, 200. A non-200 answer revokes nothing and carries
// Retry-After: retryAfter when that is not empty. After the queue, every
// request gets 200.
func WithRevokeStatuses(retryAfter string, statuses ...int) Option {
	return func(c *config) {
		c.revokeStatuses = append(c.revokeStatuses, statuses...)
		c.revokeRetryAfter = retryAfter
	}
}
