package rig

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Client IDs registered in the test server.
const (
	// PublicClientID is the native public client sesame signs in as: PKCE
	// S256, loopback redirect URIs http://127.0.0.1/callback and
	// http://[::1]/callback on any port, code, refresh and device grants.
	PublicClientID = "sesame-e2e"
	// SecondPublicClientID is a second public client, identical to
	// PublicClientID but for its id, for tests that re-point a profile at
	// another client.
	SecondPublicClientID = "sesame-e2e-2"
	// KubeloginClientID is a public client like PublicClientID whose
	// redirect URI is http://127.0.0.1/ on any port, where kubelogin's
	// listener takes the code, for the benchmark that compares the two.
	KubeloginClientID = "kubelogin-e2e"
	// IntrospectionClientID is a confidential client (client_secret_basic)
	// that the rig uses to introspect tokens.
	IntrospectionClientID = "e2e-rs"
)

// ServerOptions configure StartServer. The zero value is a good default.
type ServerOptions struct {
	CA              *CA           // nil: NewCA(t)
	Port            int           // 0: any free port on 127.0.0.1
	AccessTokenTTL  time.Duration // 0: 30 s; whole seconds
	RefreshTokenTTL time.Duration // 0: 24 h; whole seconds
	DeviceInterval  time.Duration // 0: 1 s; the interval sent in device authorization responses
	DeviceSlowDown  bool          // answer slow_down to device polls faster than DeviceInterval
	DeviceCodeTTL   time.Duration // 0: 10 min; the device code's lifetime
	DPoPNonce       bool          // require a server-provided DPoP nonce (RFC 9449 §8)
	DPoPAlgs        []string      // nil: ES256, Ed25519, EdDSA (oidc-provider's default)
	IDTokenTTL      time.Duration // 0: 1 h; whole seconds

	// Fault injection; the zero values inject nothing.

	// ClockOffset sets the server's clock that far off (whole seconds,
	// either sign): the iat, exp and auth_time it issues and the Date
	// header it sends, not its cookies' lifetimes (a browser sign-in works).
	ClockOffset time.Duration
	// ClockOffsetOnSignal starts the server on the right clock: ClockOffset
	// (which must then be non-zero) takes effect only when the test calls
	// Server.ApplyClockOffset, e.g. after a sign-in.
	ClockOffsetOnSignal bool
	// JWKSFailAfterRefresh: after each successful refresh_token grant, the
	// next JWKSFailAfterRefresh requests to the jwks_uri are answered 503
	// with an empty body (event jwks.failed).
	JWKSFailAfterRefresh int
	// RefreshDelay: every refresh_token grant is processed (the refresh
	// token rotated) at once, but answered only RefreshDelay later (whole
	// milliseconds; the request event's delay_ms).
	RefreshDelay time.Duration
	// RefreshErrorCode, if set, replaces invalid_grant in the answer to a
	// failed refresh_token grant, status (400) and error_description kept:
	// "unauthorized_client" as Gitea answers a reused refresh token,
	// "invalid_request" as LemonLDAP::NG does. The request event's
	// rewritten_from says invalid_grant; grant.error keeps the real error.
	RefreshErrorCode string
}

// Metadata is the part of the server's discovery document the tests use.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	RegistrationEndpoint                       string   `json:"registration_endpoint"`
	DPoPSigningAlgValuesSupported              []string `json:"dpop_signing_alg_values_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// Server is a running oidc-provider test server. It stops when the test
// ends.
type Server struct {
	Issuer     string       // https://127.0.0.1:PORT, no trailing slash
	CAFile     string       // PEM file of the CA that signed the server's certificate
	CA         *CA          // the CA
	ClientID   string       // PublicClientID
	LogPath    string       // the server's event log, JSON lines
	OutputPath string       // the server's stdout and stderr
	PID        int          // the node process
	Metadata   Metadata     // the discovery document
	HTTPClient *http.Client // trusts only the CA; 10 s timeout

	rsSecret       string
	offsetOnSignal bool // started with ClockOffsetOnSignal
	stopOnce       sync.Once
	stop           func()
}

// StartServer starts the test authorization server (node server.js) and
// registers a cleanup that stops it and every process it started. It skips
// the test unless SESAME_E2E=1 and fails it if node, npm or chromium are
// missing (see RequireTools). The first call in a process runs `npm ci` if
// node_modules is missing or stale.
func StartServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	RequireTools(t)
	dir := ServerDir()
	if err := ensureNodeModules(dir); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	ca := opts.CA
	if ca == nil {
		ca = NewCA(t)
	}
	tmp := t.TempDir()
	s := &Server{
		CAFile:     ca.CAFile,
		CA:         ca,
		ClientID:   PublicClientID,
		LogPath:    filepath.Join(tmp, "events.jsonl"),
		OutputPath: filepath.Join(tmp, "server.out"),
		rsSecret:   randomHex(t, 16),
		HTTPClient: &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{TLSClientConfig: ca.TLSConfig(), ForceAttemptHTTP2: true},
		},
	}

	args := []string{"server.js",
		"--port", strconv.Itoa(opts.Port),
		"--cert", ca.CertFile,
		"--key", ca.KeyFile,
		"--event-log", s.LogPath,
		"--access-token-ttl", seconds(opts.AccessTokenTTL, 30*time.Second),
		"--refresh-token-ttl", seconds(opts.RefreshTokenTTL, 24*time.Hour),
		"--device-interval", seconds(opts.DeviceInterval, time.Second),
		"--device-code-ttl", seconds(opts.DeviceCodeTTL, 10*time.Minute),
		"--id-token-ttl", seconds(opts.IDTokenTTL, time.Hour),
	}
	if opts.DeviceSlowDown {
		args = append(args, "--device-slow-down")
	}
	if opts.DPoPNonce {
		args = append(args, "--dpop-nonce")
	}
	if len(opts.DPoPAlgs) > 0 {
		args = append(args, "--dpop-algs", strings.Join(opts.DPoPAlgs, ","))
	}
	if s := int(opts.ClockOffset / time.Second); s != 0 {
		// = form: parseArgs takes no value that starts with a dash otherwise.
		args = append(args, "--clock-offset="+strconv.Itoa(s))
	}
	if opts.ClockOffsetOnSignal {
		if opts.ClockOffset/time.Second == 0 {
			t.Fatal("e2e: ClockOffsetOnSignal needs a ClockOffset of at least a second")
		}
		args = append(args, "--clock-offset-on-signal")
		s.offsetOnSignal = true
	}
	if opts.JWKSFailAfterRefresh > 0 {
		args = append(args, "--jwks-fail-after-refresh", strconv.Itoa(opts.JWKSFailAfterRefresh))
	}
	if ms := opts.RefreshDelay.Milliseconds(); ms > 0 {
		args = append(args, "--refresh-delay-ms", strconv.FormatInt(ms, 10))
	}
	if opts.RefreshErrorCode != "" {
		args = append(args, "--refresh-error-code", opts.RefreshErrorCode)
	}
	// A node that prints nothing for 30 s has hung before loading
	// oidc-provider (seen once on a loaded machine); one more start is
	// cheaper than a red run.
	var err error
	for attempt := 1; attempt <= 2; attempt++ {
		if err = s.launch(dir, args); err == nil {
			break
		}
		t.Logf("e2e: test server start, attempt %d: %v", attempt, err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("e2e: test server output (%s):\n%s", s.OutputPath, tail(s.OutputPath, 40))
		}
	})
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.getJSON(ctx, s.Issuer+"/.well-known/openid-configuration", &s.Metadata); err != nil {
		t.Fatalf("e2e: discovery: %v", err)
	}
	if s.Metadata.Issuer != s.Issuer {
		t.Fatalf("e2e: discovery issuer %q, want %q", s.Metadata.Issuer, s.Issuer)
	}
	return s
}

// Stop stops the server now and waits for it; the test's cleanup does it
// otherwise. Stopping twice is fine.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.stop != nil {
			s.stop()
		}
	})
}

// ApplyClockOffset puts the server's clock ServerOptions.ClockOffset off
// now, for a server started with ClockOffsetOnSignal: it sends SIGUSR2 to
// the node process and waits (at most 10 s) for the clock.offset event the
// server writes once the offset is in effect. Every request answered after
// it returns sees the shifted clock. It fails the test otherwise.
func (s *Server) ApplyClockOffset(t testing.TB) {
	t.Helper()
	if !s.offsetOnSignal {
		t.Fatal("e2e: ApplyClockOffset on a server not started with ClockOffsetOnSignal")
	}
	before := len(s.Events("clock.offset"))
	// kill(1), not syscall.SIGUSR2: its number differs between systems, and
	// this file builds everywhere.
	if out, err := exec.Command("kill", "-s", "USR2", strconv.Itoa(s.PID)).CombinedOutput(); err != nil {
		t.Fatalf("e2e: kill -s USR2 %d: %v %s", s.PID, err, bytes.TrimSpace(out))
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Events("clock.offset")) == before {
		if time.Now().After(deadline) {
			t.Fatalf("e2e: no clock.offset event 10 s after SIGUSR2; server output:\n%s", tail(s.OutputPath, 40))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Event is one line of the server's event log. The typed fields are the
// common ones; Fields holds every field of the line.
type Event struct {
	Time        time.Time `json:"time"`
	Kind        string    `json:"kind"` // e.g. grant.success, grant.error, refresh_token.consumed, request
	Route       string    `json:"route"`
	ClientID    string    `json:"client_id"`
	GrantType   string    `json:"grant_type"`
	GrantID     string    `json:"grant_id"`
	TokenKind   string    `json:"token_kind"` // model events: AccessToken, RefreshToken, ...
	TokenID     string    `json:"token_id"`   // model events: TokenID of the token
	Error       string    `json:"error"`
	ErrorDetail string    `json:"error_detail"` // the server's reason, which the client never sees
	Status      int       `json:"status"`

	Fields map[string]any `json:"-"`
}

// Str returns Fields[key] if it is a string.
func (e Event) Str(key string) string {
	s, _ := e.Fields[key].(string)
	return s
}

// Events returns the events of the given kind, in order; every event when
// kind is "". The server writes an event before it answers the request that
// caused it.
func (s *Server) Events(kind string) []Event {
	data, err := os.ReadFile(s.LogPath)
	if err != nil {
		return nil
	}
	var events []Event
	for line := range bytes.Lines(data) {
		if !bytes.HasSuffix(line, []byte("\n")) {
			break // a line being written
		}
		var e Event
		if json.Unmarshal(line, &e) != nil || json.Unmarshal(line, &e.Fields) != nil {
			continue
		}
		if kind == "" || e.Kind == kind {
			events = append(events, e)
		}
	}
	return events
}

// Introspect asks the server (RFC 7662, as the confidential client e2e-rs)
// whether the token is active.
func (s *Server) Introspect(ctx context.Context, token string) (active bool, err error) {
	claims, err := s.IntrospectClaims(ctx, token)
	if err != nil {
		return false, err
	}
	active, _ = claims["active"].(bool)
	return active, nil
}

// IntrospectClaims returns the server's whole introspection answer for
// token (RFC 7662 §2.2): active, aud, scope, token_type, cnf.jkt, ...
func (s *Server) IntrospectClaims(ctx context.Context, token string) (map[string]any, error) {
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Metadata.IntrospectionEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(IntrospectionClientID), url.QueryEscape(s.rsSecret))
	resp, err := s.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("introspection: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("introspection: %s: %s", resp.Status, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("introspection: %w", err)
	}
	return out, nil
}

func (s *Server) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := s.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// readyWriter copies the server's stdout to out and sends the issuer of the
// first line that is the JSON ready line. oidc-provider prints notices on
// stdout too.
type readyWriter struct {
	out   io.Writer
	ready chan<- string
	mu    sync.Mutex
	buf   []byte
	sent  bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.out.Write(p); err != nil {
		return 0, err
	}
	if w.sent {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := w.buf[:i]
		w.buf = w.buf[i+1:]
		var msg struct {
			Issuer string `json:"issuer"`
		}
		if json.Unmarshal(line, &msg) == nil && msg.Issuer != "" {
			w.sent = true
			w.buf = nil
			w.ready <- msg.Issuer
			break
		}
	}
	return len(p), nil
}

func seconds(d, def time.Duration) string {
	if d <= 0 {
		d = def
	}
	return strconv.Itoa(max(1, int(d/time.Second)))
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	return hex.EncodeToString(b)
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	defer func() { _ = f.Close() }()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		lines = append(lines, "("+err.Error()+")")
	}
	return strings.Join(lines, "\n")
}

// launch starts node with args in dir and waits until it prints its
// issuer line. On failure the process is stopped and an error returned.
func (s *Server) launch(dir string, args []string) error {
	out, err := os.Create(s.OutputPath)
	if err != nil {
		return err
	}
	ready := make(chan string, 1)
	cmd := exec.Command("node", args...)
	cmd.Dir = dir
	// The secret goes by environment, not argv: ps shows argv.
	cmd.Env = append(os.Environ(), "E2E_RS_SECRET="+s.rsSecret, "NO_COLOR=1")
	cmd.Stdout = &readyWriter{out: out, ready: ready}
	cmd.Stderr = out
	cmd.WaitDelay = 2 * time.Second
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return fmt.Errorf("starting the test server: %w", err)
	}
	s.PID = cmd.Process.Pid
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		_ = out.Close()
		close(exited)
	}()
	stop := func() {
		signalGroup(cmd, sigTerm)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			signalGroup(cmd, sigKill)
			<-exited
		}
		// node may leave nothing behind, but a group member that ignored
		// SIGTERM must not outlive the test.
		signalGroup(cmd, sigKill)
	}
	select {
	case issuer := <-ready:
		s.Issuer = issuer
		s.stop = stop
		return nil
	case <-exited:
		return fmt.Errorf("the test server exited before it was ready (%v):\n%s", waitErr, tail(s.OutputPath, 40))
	case <-time.After(30 * time.Second):
		stop()
		return fmt.Errorf("the test server was not ready after 30 s:\n%s", tail(s.OutputPath, 40))
	}
}
