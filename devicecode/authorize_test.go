package devicecode

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// The device authorization request and its response (RFC 8628 §3.1–3.2).

func TestAuthorize_PKCE(t *testing.T) {
	for _, pkce := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[pkce], func(t *testing.T) {
			h := newHarness(t)
			h.cfg.PKCE = pkce
			h.approveOnShow()
			if _, err := h.run(t.Context()); err != nil {
				t.Fatalf("Token: %v", err)
			}
			dev := h.srv.RequestsTo(authtest.PathDeviceAuthorization)[0].PostForm
			tok := h.srv.RequestsTo(authtest.PathToken)[0].PostForm
			challenge, method, verifier := dev.Get("code_challenge"), dev.Get("code_challenge_method"), tok.Get("code_verifier")
			if !pkce {
				if challenge != "" || method != "" || verifier != "" {
					t.Errorf("PKCE off but sent challenge %q method %q verifier %q", challenge, method, verifier)
				}
				return
			}
			if method != "S256" || len(verifier) < 43 || authtest.S256Challenge(verifier) != challenge {
				t.Errorf("challenge %q method %q does not match verifier %q", challenge, method, verifier)
			}
		})
	}
}

func TestAuthorize_PKCEVerifierFreshPerLogin(t *testing.T) {
	h := newHarness(t)
	h.cfg.PKCE = true
	h.approveOnShow()
	f, err := New(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := f.Token(t.Context()); err != nil {
			t.Fatalf("Token: %v", err)
		}
	}
	reqs := h.srv.RequestsTo(authtest.PathDeviceAuthorization)
	if reqs[0].PostForm.Get("code_challenge") == reqs[1].PostForm.Get("code_challenge") {
		t.Error("two logins sent the same code_challenge")
	}
}

func TestAuthorize_RequestParameters(t *testing.T) {
	h := newHarness(t)
	h.cfg.AuthParams = url.Values{"resource": {"https://api.example/", "https://other.example/"}}
	h.approveOnShow()
	if _, err := h.run(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	dev := h.srv.RequestsTo(authtest.PathDeviceAuthorization)[0]
	if dev.Method != http.MethodPost || dev.RequestURI != authtest.PathDeviceAuthorization {
		t.Errorf("device request %s %s: want a POST with no query", dev.Method, dev.RequestURI)
	}
	f := dev.PostForm
	if f.Get("client_id") != h.srv.ClientID || f.Get("scope") != "openid profile" || len(f["resource"]) != 2 {
		t.Errorf("device request form = %v", f)
	}
	poll := h.srv.RequestsTo(authtest.PathToken)[0]
	p := poll.PostForm
	if p.Get("grant_type") != authtest.GrantDeviceCode || p.Get("client_id") != h.srv.ClientID ||
		!strings.HasPrefix(p.Get("device_code"), "SNTL-DC-") || poll.RequestURI != authtest.PathToken {
		t.Errorf("poll %s form = %v", poll.RequestURI, p)
	}
	if poll.Header.Get("Authorization") != "" {
		t.Error("public client sent an Authorization header")
	}
}

func TestAuthorize_ExpiresInClamped_Req23(t *testing.T) {
	for _, tt := range []struct {
		name      string
		expiresIn any
		interval  any
		wantExp   time.Duration
		wantIv    time.Duration
	}{
		{"huge", 1e12, 1e12, MaxExpiry, MaxExpiry},
		{"string numbers", "600", "7", 10 * time.Minute, 7 * time.Second},
		{"absent", nil, nil, MaxExpiry, DefaultInterval},
		{"tiny interval", 600, 0.001, 10 * time.Minute, time.Second},
		{"negative interval", 600, -3, 10 * time.Minute, DefaultInterval},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"device_code": "SNTL-DC-x", "user_code": "ABCD", "verification_uri": "https://127.0.0.1/device"}
			if tt.expiresIn != nil {
				body["expires_in"] = tt.expiresIn
			}
			if tt.interval != nil {
				body["interval"] = tt.interval
			}
			h := newHarness(t, deviceAuthHook(body))
			f, err := New(h.cfg)
			if err != nil {
				t.Fatal(err)
			}
			da, err := f.authorize(t.Context(), "")
			if err != nil {
				t.Fatalf("authorize: %v", err)
			}
			if da.expiresIn != tt.wantExp || da.interval != tt.wantIv {
				t.Errorf("expires in %v, interval %v; want %v, %v", da.expiresIn, da.interval, tt.wantExp, tt.wantIv)
			}
		})
	}
}

func TestAuthorize_InvalidResponses(t *testing.T) {
	valid := func() map[string]any {
		return map[string]any{"device_code": "SNTL-DC-x", "user_code": "ABCD", "verification_uri": "https://127.0.0.1/device", "expires_in": 600}
	}
	for _, tt := range []struct {
		name string
		mod  func(map[string]any)
	}{
		{"no device_code", func(m map[string]any) { delete(m, "device_code") }},
		{"no user_code", func(m map[string]any) { delete(m, "user_code") }},
		{"no verification_uri", func(m map[string]any) { delete(m, "verification_uri") }},
		{"zero expires_in", func(m map[string]any) { m["expires_in"] = 0 }},
		{"text expires_in", func(m map[string]any) { m["expires_in"] = "soon" }},
		{"device_code not a string", func(m map[string]any) { m["device_code"] = 42 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := valid()
			tt.mod(body)
			h := newHarness(t, deviceAuthHook(body))
			_, err := h.run(t.Context())
			var e *oauthwire.Error
			if !errors.Is(err, ErrInvalidResponse) || !errors.As(err, &e) || e.Op != opDeviceAuthorization {
				t.Fatalf("err = %v, want a device authorization *Error wrapping ErrInvalidResponse", err)
			}
			if len(h.shown()) != 0 || h.srv.CountRequests(authtest.PathToken) != 0 {
				t.Error("an invalid response was shown or polled")
			}
		})
	}
}

func TestAuthorize_GoogleVerificationURL(t *testing.T) {
	h := newHarness(t, deviceAuthHook(map[string]any{
		"device_code": "SNTL-DC-x", "user_code": "ABCD", "verification_url": "https://127.0.0.1/device", "expires_in": 600,
	}))
	f, err := New(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if da, err := f.authorize(t.Context(), ""); err != nil || da.verificationURI != "https://127.0.0.1/device" {
		t.Errorf("authorize = %+v, %v", da, err)
	}
}

func TestAuthorize_ErrorResponse(t *testing.T) {
	h := newHarness(t, jsonHook(authtest.PathDeviceAuthorization, http.StatusUnauthorized,
		map[string]any{"error": "invalid_client", "error_description": "client\x1b[31m unknown", "error_uri": "https://evil.example/help"}))
	_, err := h.run(t.Context())
	var e *oauthwire.Error
	if !errors.As(err, &e) || e.Code != "invalid_client" || e.Status != http.StatusUnauthorized || e.Op != opDeviceAuthorization {
		t.Fatalf("err = %#v", err)
	}
	if s := err.Error(); strings.Contains(s, "\x1b") || strings.Contains(s, "evil.example") {
		t.Errorf("error text %q carries an escape or the error_uri", s)
	}
}

func TestAuthorize_TransportErrorNotRetried(t *testing.T) {
	h := newHarness(t, authtest.WithHook(authtest.PathDeviceAuthorization, func(w http.ResponseWriter, r *http.Request) bool {
		panic(http.ErrAbortHandler) // close the connection without an answer
	}))
	_, err := h.run(t.Context())
	var e *oauthwire.Error
	if !errors.As(err, &e) || e.Err == nil {
		t.Fatalf("err = %v, want an *Error with a transport cause", err)
	}
	if n := h.srv.CountRequests(authtest.PathDeviceAuthorization); n != 1 {
		t.Errorf("%d device authorization requests, want 1", n)
	}
}

func TestAuthorize_RedirectNotFollowed_Req22(t *testing.T) {
	for _, path := range []string{authtest.PathDeviceAuthorization, authtest.PathToken} {
		t.Run(path, func(t *testing.T) {
			h := newHarness(t, authtest.WithHook(path, func(w http.ResponseWriter, r *http.Request) bool {
				http.Redirect(w, r, authtest.PathUserinfo, http.StatusTemporaryRedirect)
				return true
			}))
			_, err := h.run(t.Context())
			var e *oauthwire.Error
			if !errors.As(err, &e) || e.Status != http.StatusTemporaryRedirect {
				t.Fatalf("err = %v, want *Error with status 307", err)
			}
			if n := h.srv.CountRequests(authtest.PathUserinfo); n != 0 {
				t.Error("the redirect was followed")
			}
		})
	}
}

func TestAuthorize_OversizedBody_Req23(t *testing.T) {
	for _, path := range []string{authtest.PathDeviceAuthorization, authtest.PathToken} {
		t.Run(path, func(t *testing.T) {
			// A body that would parse as authorization_pending if it were
			// cut at the limit: it must end the flow instead.
			h := newHarness(t, authtest.WithHook(path, func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"error":"authorization_pending","x":"`))
				_, _ = w.Write([]byte(strings.Repeat("a", oauthwire.MaxBody)))
				_, _ = w.Write([]byte(`"}`))
				return true
			}))
			_, err := h.run(t.Context())
			if !errors.Is(err, ErrInvalidResponse) {
				t.Fatalf("err = %v, want ErrInvalidResponse", err)
			}
			if n := h.srv.CountRequests(authtest.PathToken); path == authtest.PathToken && n != 1 {
				t.Errorf("%d token requests after an oversized body, want 1", n)
			}
		})
	}
}
