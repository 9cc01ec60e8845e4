package devicecode

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/clock"
	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/redact"
)

// What errors say: their text and sentinels, and that the device code,
// verifier and client secret never reach one, and server text reaches one
// only sanitized (requirements 16, 41).

// echoDeviceCode answers every poll with an error whose description quotes
// the device code and verifier in several shapes.
func echoDeviceCode(w http.ResponseWriter, r *http.Request) bool {
	dc, v := r.PostForm.Get("device_code"), r.PostForm.Get("code_verifier")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	desc := fmt.Sprintf("unknown %s; device_code=%s {\"code_verifier\":%q} %s", dc, dc, v, v)
	_, _ = fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, desc)
	return true
}

func TestErrors_NeverContainDeviceCode_Req41(t *testing.T) {
	h := newHarness(t, authtest.WithTokenHook(echoDeviceCode))
	h.cfg.PKCE = true
	_, err := h.run(t.Context())
	var e *oauthwire.Error
	if !errors.As(err, &e) || e.Code != "invalid_grant" {
		t.Fatalf("err = %v, want an invalid_grant *Error", err)
	}
	verifier := h.srv.RequestsTo(authtest.PathToken)[0].PostForm.Get("code_verifier")
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", e), e.Description} {
		if strings.Contains(s, "SNTL-DC-") || strings.Contains(s, verifier) {
			t.Errorf("error text leaks a secret: %q", s)
		}
	}
	if !strings.Contains(e.Description, redact.Placeholder) {
		t.Errorf("description %q: want the echoed secrets replaced", e.Description)
	}
}

func TestErrors_TransportErrorScrubbed_Req41(t *testing.T) {
	// A transport (say, a proxy library) whose error quotes the request body.
	h := newHarness(t)
	var body string
	base := h.srv.Client().Transport
	h.cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.URL.Path != authtest.PathToken {
			return base.RoundTrip(req)
		}
		b, _ := io.ReadAll(req.Body)
		body = string(b)
		return nil, fmt.Errorf("proxy refused body %s", body)
	})}
	_, err := h.run(t.Context())
	if err == nil || !strings.Contains(body, "SNTL-DC-") {
		t.Fatalf("err = %v, body %q: want a failed poll that carried the device code", err, body)
	}
	if strings.Contains(err.Error(), "SNTL-DC-") {
		t.Errorf("error text leaks the device code: %q", err.Error())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestErrors_ServerTextSanitized_Req16(t *testing.T) {
	desc := "<script>alert(1)</script>\x1b[31mred\x1b]0;title\x07 \u202egnp.exe\x00 " + strings.Repeat("x", 500)
	h := newHarness(t, jsonHook(authtest.PathToken, http.StatusBadRequest,
		map[string]any{"error": "invalid\x1b[2Jgrant", "error_description": desc}))
	_, err := h.run(t.Context())
	if err == nil {
		t.Fatal("no error")
	}
	s := err.Error()
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("error text %q contains %U", s, r)
		}
	}
	var e *oauthwire.Error
	if errors.As(err, &e) && utf8.RuneCountInString(e.Description) > redact.MaxText {
		t.Errorf("description has %d runes, want at most %d", utf8.RuneCountInString(e.Description), redact.MaxText)
	}
}

// FuzzJudgePoll feeds arbitrary token endpoint bodies to the poll judgement
// and checks the invariant of requirements 16 and 41: whatever the
// server sends, an error's text has no control or format characters, never
// contains the device code or verifier, and keeps descriptions short.
func FuzzJudgePoll(f *testing.F) {
	f.Add("application/json", []byte(`{"error":"access_denied","error_description":"no \u001b[31m"}`), 400)
	f.Add("application/json", []byte(`{"error":"x","error_description":"SNTL-DC-fuzz"}`), 400)
	f.Add("application/x-www-form-urlencoded", []byte("error=slow_down&error_description=%1b%5b2J"), 400)
	f.Add("text/html", []byte("<html>SNTL-DC-fuzz</html>"), 502)
	f.Add("application/json", []byte(`{"access_token":"a","expires_in":"1e12"}`), 200)
	const deviceCode, verifier = "SNTL-DC-fuzz", "verifier-fuzz-0123456789"
	flow := &Flow{clock: clock.System}
	f.Fuzz(func(t *testing.T, contentType string, body []byte, status int) {
		r := oauthwire.NewResponse(opToken, status, http.Header{"Content-Type": {contentType}}, body, deviceCode, verifier)
		tok, out, err := flow.judgePoll(r)
		if out == outSuccess && (tok == nil || tok.AccessToken == "") {
			t.Fatalf("success without an access token")
		}
		if err == nil {
			return
		}
		s := err.Error()
		if strings.Contains(s, deviceCode) || strings.Contains(s, verifier) {
			t.Fatalf("error text leaks a secret: %q", s)
		}
		for _, r := range s {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("error text %q contains %U", s, r)
			}
		}
		var e *oauthwire.Error
		if errors.As(err, &e) && utf8.RuneCountInString(e.Description) > redact.MaxText {
			t.Fatalf("description too long: %d runes", utf8.RuneCountInString(e.Description))
		}
	})
}

func TestError_Text(t *testing.T) {
	timeout := &oauthwire.Error{Op: opToken, Err: errors.New("i/o timeout")}
	tests := []struct {
		err  error
		want string
	}{
		{&VerificationHostError{Host: "login.xn--bcher-kva.example", HostUnicode: "login.bücher.example", Domain: "xn--bcher-kva.example", IssuerDomain: "as.example"},
			"verification page login.xn--bcher-kva.example (login.bücher.example) is not on the issuer's domain as.example"},
		{expired(timeout),
			"device code expired before sign-in was approved (the last poll failed: device token poll: i/o timeout)"},
		{expired(nil), "device code expired before sign-in was approved"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestErrors_Lines: what a person reads when the server refuses.
func TestErrors_Lines(t *testing.T) {
	for _, tt := range []struct {
		name string
		hook authtest.Option
		want string
	}{
		{"denied", jsonHook(authtest.PathToken, http.StatusBadRequest, map[string]any{"error": "access_denied", "error_description": "The user said no"}),
			"device token poll: the server refused (400 access_denied): The user said no"},
		{"device authorization refused", jsonHook(authtest.PathDeviceAuthorization, http.StatusBadRequest, map[string]any{"error": "invalid_client"}),
			"device authorization: the server refused (400 invalid_client)"},
		{"no device code", deviceAuthHook(map[string]any{"user_code": "ABCD", "verification_uri": "https://127.0.0.1/device"}),
			"device authorization: the server's answer is unusable: it has no device_code"},
		{"server error", jsonHook(authtest.PathToken, http.StatusInternalServerError, map[string]any{}),
			"device token poll: the server answered 500 Internal Server Error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.hook)
			_, err := h.run(t.Context())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestError_Is(t *testing.T) {
	denied := oauthwire.NewError(opToken, 400, "access_denied", "", "")
	expiredErr := oauthwire.NewError(opToken, 400, "expired_token", "", "")
	other := oauthwire.NewError(opToken, 400, "invalid_grant", "", "")
	wrapped := fmt.Errorf("login: %w", denied)
	switch {
	case !errors.Is(denied, ErrDenied), errors.Is(denied, ErrExpired):
		t.Error("access_denied must match ErrDenied only")
	case !errors.Is(expiredErr, ErrExpired), errors.Is(expiredErr, ErrDenied):
		t.Error("expired_token must match ErrExpired only")
	case errors.Is(other, ErrDenied), errors.Is(other, ErrExpired):
		t.Error("invalid_grant matched a sentinel")
	case !errors.Is(wrapped, ErrDenied):
		t.Error("a wrapped *Error lost its match")
	case !errors.Is(&VerificationHostError{}, ErrVerificationHost):
		t.Error("VerificationHostError does not match ErrVerificationHost")
	}
}
