package devicecode

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// What the person is shown (requirement 41; RFC 8628 §3.3).

func TestPrompt_Req41(t *testing.T) {
	h := newHarness(t, authtest.WithDeviceTiming(10*time.Minute, 5*time.Second))
	h.approveOnShow()
	if _, err := h.run(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	ps := h.shown()
	if len(ps) != 1 {
		t.Fatalf("Show called %d times, want once", len(ps))
	}
	p := ps[0]
	base := h.srv.URL()
	if p.Origin != base || p.HostASCII != "127.0.0.1" || p.HostUnicode != "127.0.0.1" {
		t.Errorf("origin/host = %q %q %q, want %q", p.Origin, p.HostASCII, p.HostUnicode, base)
	}
	if p.VerificationURI != base+authtest.PathDeviceVerification {
		t.Errorf("VerificationURI = %q", p.VerificationURI)
	}
	if p.UserCode != h.srv.LastUserCode() {
		t.Errorf("UserCode = %q, want exactly %q", p.UserCode, h.srv.LastUserCode())
	}
	if want := base + authtest.PathDeviceVerification + "?user_code=" + p.UserCode; p.VerificationURIComplete != want || p.BrowserURI() != want {
		t.Errorf("complete = %q, browser = %q, want %q", p.VerificationURIComplete, p.BrowserURI(), want)
	}
	if want := h.rec.start.Add(10 * time.Minute); !p.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", p.ExpiresAt, want)
	}
	if p.DifferentDomain {
		t.Error("DifferentDomain set for the issuer's own host")
	}
	if s := fmt.Sprintf("%#v", p); strings.Contains(s, "SNTL-DC-") {
		t.Errorf("prompt carries the device code: %s", s)
	}
}

// testFlow is a Flow for unit tests of buildPrompt, with no server behind it.
func testFlow(t *testing.T, issuer string, mod func(*Config)) *Flow {
	t.Helper()
	cfg := Config{
		OAuth2: oauth2.Config{ClientID: "c", Endpoint: oauth2.Endpoint{
			DeviceAuthURL: issuer + "/device_authorization", TokenURL: issuer + "/token",
		}},
		Issuer: issuer,
		UI:     UI{Show: func(Prompt) {}},
	}
	if mod != nil {
		mod(&cfg)
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

func TestPrompt_IDN_Req41(t *testing.T) {
	f := testFlow(t, "https://xn--bcher-kva.example", nil)
	da := &deviceAuth{
		deviceCode:      "SNTL-DC-x",
		userCode:        "WDJB-MJHT",
		verificationURI: "https://login.xn--bcher-kva.example:8443/device",
	}
	p, err := f.buildPrompt(da, time.Time{})
	if err != nil {
		t.Fatalf("buildPrompt: %v", err)
	}
	if p.HostASCII != "login.xn--bcher-kva.example" || p.HostUnicode != "login.bücher.example" {
		t.Errorf("hosts = %q, %q", p.HostASCII, p.HostUnicode)
	}
	if p.Origin != "https://login.xn--bcher-kva.example:8443" {
		t.Errorf("Origin = %q", p.Origin)
	}
	if p.DifferentDomain {
		t.Error("same registrable domain reported as different")
	}
}

func TestPrompt_UnicodeIssuer(t *testing.T) {
	f := testFlow(t, "https://Bücher.example", nil)
	if f.issuer.ascii != "xn--bcher-kva.example" {
		t.Errorf("issuer host = %q", f.issuer.ascii)
	}
}

func TestPrompt_UserCodeExactlyAsReceived_Req41(t *testing.T) {
	f := testFlow(t, "https://as.example", nil)
	for _, code := range []string{"WDJB-MJHT", "wdjb mjht", "1234", "ÄÖÜ-ß", "BCDF-GHJK-LMNP"} {
		p, err := f.buildPrompt(&deviceAuth{deviceCode: "d", userCode: code, verificationURI: "https://as.example/d"}, time.Time{})
		if err != nil || p.UserCode != code {
			t.Errorf("user code %q: got %q, %v", code, p.UserCode, err)
		}
	}
	for _, code := range []string{"", " ", "AB\x1b[31mCD", "AB\u202eCD", "AB\nCD", " ABCD", strings.Repeat("A", 65), "AB\x00"} {
		_, err := f.buildPrompt(&deviceAuth{deviceCode: "d", userCode: code, verificationURI: "https://as.example/d"}, time.Time{})
		if !errors.Is(err, ErrInvalidResponse) {
			t.Errorf("user code %q: err = %v, want ErrInvalidResponse", code, err)
		}
	}
}

type qrFunc func(string) (string, error)

func (f qrFunc) EncodeQR(s string) (string, error) { return f(s) }

func TestPrompt_QR(t *testing.T) {
	var encoded []string
	f := testFlow(t, "https://as.example", func(c *Config) {
		c.UI.QR = qrFunc(func(s string) (string, error) {
			encoded = append(encoded, s)
			return "[qr]", nil
		})
	})
	da := &deviceAuth{
		deviceCode: "d", userCode: "ABCD",
		verificationURI:         "https://as.example/device",
		verificationURIComplete: "https://as.example/device?user_code=ABCD",
	}
	p, err := f.buildPrompt(da, time.Time{})
	if err != nil || p.QR != "[qr]" || len(encoded) != 1 || encoded[0] != da.verificationURIComplete {
		t.Errorf("QR = %q, encoded %q, err %v", p.QR, encoded, err)
	}

	// A complete URI on another origin is never encoded.
	da.verificationURIComplete = "https://evil.example/device?user_code=ABCD"
	encoded = nil
	p, _ = f.buildPrompt(da, time.Time{})
	if len(encoded) != 1 || encoded[0] != da.verificationURI || p.VerificationURIComplete != "" {
		t.Errorf("encoded %q, complete %q", encoded, p.VerificationURIComplete)
	}

	failing := testFlow(t, "https://as.example", func(c *Config) {
		c.UI.QR = qrFunc(func(string) (string, error) { return "", errors.New("too long") })
	})
	if p, err := failing.buildPrompt(da, time.Time{}); err != nil || p.QR != "" {
		t.Errorf("failing encoder: QR %q, err %v; want an empty QR and no error", p.QR, err)
	}
}
