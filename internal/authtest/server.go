// Package authtest is sesame's in-process test authorization server
// ("mockas") and a scripted test browser.
//
// A [Server] is a real OAuth 2.0 / OpenID Connect authorization server over
// TLS, small enough to read in one sitting: discovery (RFC 8414 and OIDC),
// JWKS, authorization code with PKCE S256 only (RFC 7636), pushed
// authorization requests (RFC 9126, advertised on request), the device grant
// (RFC 8628), rotating refresh tokens with reuse detection (RFC 9700 §4.14.2),
// revocation (RFC 7009), introspection (RFC 7662) and userinfo, and on
// request DPoP (RFC 9449, [WithDPoP]) and dynamic client registration
// (RFC 7591/7592, [WithRegistration]). It knows one public client (plus
// those registered dynamically) and one user. It records every request it
// receives and misbehaves on demand: a wrong or missing iss in the callback
// (RFC 9207), a rewritten discovery document, ID tokens that are badly
// signed or carry wrong claims, dropped connections after a token request
// was processed, scripted status codes, slow answers and arbitrary custom
// responses.
//
// A [Browser] stands in for the system browser: it records the URLs it is
// asked to open and, unless told otherwise, follows the authorization
// server's redirects into the client's loopback listener, the way a user who
// clicks "allow" would.
//
// Tests configure a server with [Option] values, either in [New] or later with
// [Server.Configure], and inspect it with [Server.Requests],
// [Server.CountRequests], [Server.Issued], [Server.Introspect] and friends.
//
// # Security
//
// This package exists for tests only; nothing in a release build imports it.
// Even so it keeps the habits the client must be tested against: TLS is
// verified everywhere (clients trust the server through [Server.CAFile] or
// [Server.Client], never by skipping verification), and every secret it
// mints is a random sentinel ("SNTL-AT-…", "SNTL-RT-…", "SNTL-CODE-…",
// "SNTL-DC-…") drawn from crypto/rand, so a test can grep any output for
// "SNTL-" and fail on a leak.
//
// # Concurrency
//
// All methods of Server and Browser are safe for concurrent use. Settings
// changed with [Server.Configure] apply to requests that arrive afterwards;
// hooks and mutators supplied by tests are called without any lock held, so
// they may call back into the Server.
package authtest

import (
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Endpoint paths served by every Server. The metadata document advertises
// them as absolute URLs under [Server.URL].
const (
	PathOIDCDiscovery       = "/.well-known/openid-configuration"
	PathOAuthMetadata       = "/.well-known/oauth-authorization-server"
	PathJWKS                = "/jwks"
	PathAuthorize           = "/authorize"
	PathPAR                 = "/par"
	PathToken               = "/token"
	PathDeviceAuthorization = "/device_authorization"
	PathDeviceVerification  = "/device"
	PathRevoke              = "/revoke"
	PathIntrospect          = "/introspect"
	PathUserinfo            = "/userinfo"
	// PathRegister is the dynamic client registration endpoint (RFC 7591),
	// served only with [WithRegistration]; a registered client is managed
	// at PathRegister + "/" + client_id (RFC 7592).
	PathRegister = "/register"
)

// maxRequestBody bounds what the server reads from a request body. Clients
// under test never need more; a larger body is a client bug worth seeing as
// a failed parse rather than a hung test.
const maxRequestBody = 1 << 20

// Server is a running test authorization server. Create one with [New].
type Server struct {
	// ClientID is the client_id the server is configured with. It is fixed
	// when the server starts (see [WithClientID]) and must not be assigned.
	// Clients registered dynamically ([WithRegistration]) are accepted
	// besides it.
	ClientID string

	basePath string // WithBasePath, fixed at start

	t    testing.TB
	srv  *httptest.Server
	mux  *http.ServeMux
	keys signingKey

	caOnce sync.Once
	caPath string

	mu    sync.Mutex // guards everything below
	cfg   config
	reqs  []Request
	st    store
	stats counters
	// awaited are the channels [Server.Received] handed out for paths no
	// request has arrived for yet, by path.
	awaited map[string]chan struct{}
}

// New starts a TLS authorization server configured by opts and registers a
// cleanup on t that closes it. The server's issuer is its base URL.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, cfg: defaultConfig(), st: newStore()}
	for _, o := range opts {
		o(&s.cfg)
	}
	s.ClientID = s.cfg.clientID
	s.basePath = s.cfg.basePath
	s.mux = s.routes()
	// NewUnstartedServer + StartTLS rather than NewTLSServer so the server
	// speaks HTTP/1.1 only: dropping a connection after processing needs
	// http.Hijacker, which HTTP/2 response writers do not implement.
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	cert, err := serverCertificate()
	if err != nil {
		t.Fatalf("authtest: server certificate: %v", err)
	}
	s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.srv.StartTLS()
	t.Cleanup(func() {
		// Cutting the connections first cancels the contexts of requests
		// held by a delay or a hook, so Close does not wait on them.
		s.srv.CloseClientConnections()
		s.srv.Close()
		s.releaseKey()
	})
	return s
}

// URL is the server's base URL, https://127.0.0.1:<port>, with no trailing
// slash.
func (s *Server) URL() string { return s.srv.URL }

// Issuer is the server's issuer identifier. It equals [Server.URL]; a
// different issuer in the metadata is a misbehaviour set by
// [WithMetadataIssuer].
func (s *Server) Issuer() string { return s.srv.URL + s.basePath }

// Client returns an HTTP client that trusts the server's certificate. It
// follows redirects like any default client; tests of redirect handling
// should use their own client built on [Server.CAFile].
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Certificate returns the server's self-signed certificate in PEM form.
func (s *Server) Certificate() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// CAFile writes the server's certificate as PEM into a directory from
// t.TempDir the first time it is called and returns the file's path, the
// value a CLI test passes to --ca-file.
func (s *Server) CAFile() string {
	s.caOnce.Do(func() {
		path := filepath.Join(s.t.TempDir(), "mockas-ca.pem")
		if err := os.WriteFile(path, s.Certificate(), 0o600); err != nil {
			s.t.Fatalf("authtest: write CA file: %v", err)
		}
		s.caPath = path
	})
	return s.caPath
}

// Configure changes the server's behaviour while it runs. Requests that
// arrive afterwards see the new settings. [WithClientID] is ignored here:
// the client id is fixed at start.
func (s *Server) Configure(opts ...Option) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clientID := s.cfg.clientID
	for _, o := range opts {
		o(&s.cfg)
	}
	s.cfg.clientID = clientID
}

// now reads the configured clock. The caller holds s.mu.
func (s *Server) now() time.Time {
	if s.cfg.now != nil {
		return s.cfg.now()
	}
	return time.Now()
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(PathOIDCDiscovery, s.handleMetadata)
	mux.HandleFunc(PathOAuthMetadata, s.handleMetadata)
	mux.HandleFunc(PathJWKS, s.handleJWKS)
	mux.HandleFunc(PathAuthorize, s.handleAuthorize)
	mux.HandleFunc(PathPAR, s.handlePAR)
	mux.HandleFunc(PathToken, s.handleToken)
	mux.HandleFunc(PathDeviceAuthorization, s.handleDeviceAuthorization)
	mux.HandleFunc(PathDeviceVerification, s.handleDeviceVerification)
	mux.HandleFunc(PathRevoke, s.handleRevoke)
	mux.HandleFunc(PathIntrospect, s.handleIntrospect)
	mux.HandleFunc(PathUserinfo, s.handleUserinfo)
	mux.HandleFunc(PathGitHubUser, s.handleGitHubUser)
	mux.HandleFunc(PathRegister, s.handleRegister)
	mux.HandleFunc(PathRegister+"/{id}", s.handleClientConfiguration)
	return mux
}

// serveHTTP records the request, then applies the scripted delay and hook
// for its path before the real handler runs, so every misbehaviour composes
// with recording and none needs code in the individual handlers.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	// A parse error (bad encoding, body too large) leaves the form empty;
	// the handlers then answer invalid_request, which is what a test of a
	// malformed client request wants to observe.
	_ = r.ParseForm()
	s.route(r)

	s.mu.Lock()
	s.record(r)
	delay := s.cfg.delays[r.URL.Path]
	hook := s.cfg.hooks[r.URL.Path]
	s.mu.Unlock()

	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The client gave up (or half-closed the connection); a
			// real server that had not started processing would not act
			// on the request either. Aborting rather than returning
			// keeps net/http from sending an empty 200 the client might
			// still read as an answer.
			panic(http.ErrAbortHandler)
		}
	}
	if hook != nil && hook(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// writeJSON answers with a JSON body and the no-store headers RFC 6749 §5.1
// requires on token responses; the other endpoints do not mind them.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "authtest: marshal response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// oauthError is an RFC 6749 §5.2 error answer.
type oauthError struct {
	status      int
	code        string
	description string
}

func (e *oauthError) body() map[string]any {
	m := map[string]any{"error": e.code}
	if e.description != "" {
		m["error_description"] = e.description
	}
	return m
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.status == http.StatusUnauthorized {
		// RFC 6749 §5.2: a 401 for invalid_client names the scheme the
		// client tried, or the one it should use.
		w.Header().Set("WWW-Authenticate", `Basic realm="authtest"`)
	}
	writeJSON(w, e.status, e.body())
}

func badRequest(code, description string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: code, description: description}
}

// checkPublicClient enforces token_endpoint_auth_method "none": the client
// identifies itself with client_id in the form and authenticates with
// nothing. Any credential is refused with invalid_client, so a client that
// lets x/oauth2 auto-detect the auth style, or that holds a "secret", shows
// up as a 401 and an extra recorded request. known reports whether a
// client_id belongs to the server.
func checkPublicClient(r *http.Request, known func(clientID string) bool) *oauthError {
	unauthorized := func(desc string) *oauthError {
		return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: desc}
	}
	switch {
	case r.Header.Get("Authorization") != "":
		return unauthorized("public client: the Authorization header is not accepted")
	case r.PostForm.Has("client_secret"):
		return unauthorized("public client: client_secret is not accepted")
	case r.PostForm.Has("client_assertion"):
		return unauthorized("public client: client_assertion is not accepted")
	case len(r.PostForm["client_id"]) != 1:
		return unauthorized("exactly one client_id is required in the request body")
	case !known(r.PostForm.Get("client_id")):
		return unauthorized("unknown client_id")
	}
	return nil
}

// requirePost answers 405 for anything but POST, as RFC 6749 §3.2 requires
// of the token endpoint and RFC 7009/8628/9126 of the others.
func requirePost(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", http.MethodPost)
	writeOAuthError(w, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", description: "POST required"})
	return false
}

// hasScope reports whether the space-separated scope string contains want.
func hasScope(scope, want string) bool {
	for _, s := range strings.Fields(scope) {
		if s == want {
			return true
		}
	}
	return false
}
