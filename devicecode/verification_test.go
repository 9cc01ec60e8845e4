package devicecode

import (
	"errors"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// Checks of the verification URI (requirements 13, 20, 42; RFC 8628
// §3.3.1, §5.4).

func TestVerificationURI_Req42(t *testing.T) {
	tests := []struct {
		uri      string
		insecure bool
		ok       bool
	}{
		{"https://as.example/device", false, true},
		{"https://as.example:8443/device?x=1", false, true},
		{"https://127.0.0.1:8443/device", false, true},
		{"https://[::1]:8443/device", false, true},
		{"https://AS.Example./device", false, true},
		{"https://xn--bcher-kva.example/device", false, true},

		{"http://as.example/device", false, false},
		{"http://as.example/device", true, false},
		{"http://127.0.0.1:8080/device", false, false},
		{"http://127.0.0.1:8080/device", true, true},
		{"http://localhost.evil.example/device", true, false},
		{"http://127.0.0.1.nip.io/device", true, false},
		{"ftp://as.example/device", false, false},
		{"file:///etc/passwd", false, false},
		{"javascript:alert(1)", false, false},
		{"data:text/html,hi", false, false},
		{"-https://as.example/device", false, false},
		{"--help", false, false},
		{"/device", false, false},
		{"https:///device", false, false},
		{"", false, false},
		{"https://as.example@evil.example/device", false, false},
		{"https://as.example/de vice", false, false},
		{" https://as.example/device", false, false},
		{"https://as.example/device\x1b[2J", false, false},
		{"https://as.example/\u202edevice", false, false},
		{"https://as.example/device\n", false, false},
		{"https://bücher.example/device", false, false},
		{"https://b%C3%BCcher.example/device", false, false},
		{"https://as_x.example/device", false, false},
		{"https://-as.example/device", false, false},
		{"https://xn--a.example/device", false, false},        // decodes to a control rune
		{"https://xn--abc-.example/device", false, false},     // ASCII only, not an IDN
		{"https://xn--bcher-KVA.example/device", false, true}, // lower-cased, then canonical
		{"https://" + strings.Repeat("a", 64) + ".example/", false, false},
		{"https://as.example/" + strings.Repeat("a", 2100), false, false},
	}
	for _, tt := range tests {
		_, _, err := checkVerificationURI(tt.uri, tt.insecure)
		if (err == nil) != tt.ok {
			t.Errorf("checkVerificationURI(%q, insecure=%v) = %v, want ok=%v", tt.uri, tt.insecure, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrVerificationURI) {
			t.Errorf("checkVerificationURI(%q): error %v does not wrap ErrVerificationURI", tt.uri, err)
		}
	}
}

func TestVerificationURI_HTTPRefusedBeforePoll_Req42(t *testing.T) {
	h := newHarness(t, authtest.WithVerificationURI("http://127.0.0.1/device", ""))
	_, err := h.run(t.Context())
	if !errors.Is(err, ErrVerificationURI) {
		t.Fatalf("err = %v, want ErrVerificationURI", err)
	}
	if n := h.srv.CountRequests(authtest.PathToken); n != 0 {
		t.Errorf("%d token requests, want none", n)
	}
	if len(h.shown()) != 0 {
		t.Error("UI.Show was called for a refused verification URI")
	}
}

func TestVerificationURI_LeadingDashRefused_Req13(t *testing.T) {
	h := newHarness(t, authtest.WithVerificationURI("-https://as.example/device", ""))
	if _, err := h.run(t.Context()); !errors.Is(err, ErrVerificationURI) {
		t.Fatalf("err = %v, want ErrVerificationURI", err)
	}
	if len(h.shown()) != 0 || h.srv.CountRequests(authtest.PathToken) != 0 {
		t.Error("a refused verification URI was shown or polled")
	}
}

func TestVerificationHost_DifferentDomain_Req42(t *testing.T) {
	const evil = "https://login.evil.example/device"

	t.Run("refused", func(t *testing.T) {
		h := newHarness(t, authtest.WithVerificationURI(evil, ""))
		_, err := h.run(t.Context())
		var he *VerificationHostError
		if !errors.As(err, &he) || !errors.Is(err, ErrVerificationHost) {
			t.Fatalf("err = %v, want *VerificationHostError", err)
		}
		if he.Host != "login.evil.example" || he.Domain != "evil.example" || he.IssuerDomain != "127.0.0.1" {
			t.Errorf("error = %+v", he)
		}
		if len(h.shown()) != 0 || h.srv.CountRequests(authtest.PathToken) != 0 {
			t.Error("the user code was shown or polled for a foreign verification host")
		}
	})
	t.Run("accepted", func(t *testing.T) {
		h := newHarness(t, authtest.WithVerificationURI(evil, ""))
		h.cfg.AcceptVerificationHost = true
		h.approveOnShow()
		if _, err := h.run(t.Context()); err != nil {
			t.Fatalf("Token: %v", err)
		}
		p := h.shown()
		if len(p) != 1 || !p[0].DifferentDomain || p[0].Domain != "evil.example" {
			t.Errorf("prompts = %+v, want one with DifferentDomain", p)
		}
	})
	t.Run("allowlisted", func(t *testing.T) {
		h := newHarness(t, authtest.WithVerificationURI(evil, ""))
		h.cfg.AllowedVerificationHosts = []string{"evil.example"}
		h.approveOnShow()
		if _, err := h.run(t.Context()); err != nil {
			t.Fatalf("Token: %v", err)
		}
		if p := h.shown(); len(p) != 1 || p[0].DifferentDomain {
			t.Errorf("prompts = %+v, want one without DifferentDomain", p)
		}
	})
}

func TestVerificationComplete_OtherOriginNotOffered_Req42(t *testing.T) {
	tests := []struct {
		name, complete string
		offered        bool
	}{
		{"same origin", "{base}/device?user_code=X", true},
		{"other host", "https://evil.example/device?user_code=X", false},
		{"other port", "https://127.0.0.1:1/device?user_code=X", false},
		{"http", "http://{host}/device?user_code=X", false},
		{"userinfo", "https://a@{host}/device", false},
		{"control", "{base}/device?user_code=X\x1b[0m", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			base := h.srv.URL()
			host := strings.TrimPrefix(base, "https://")
			complete := strings.NewReplacer("{base}", base, "{host}", host).Replace(tt.complete)
			h.srv.Configure(authtest.WithVerificationURI(base+"/device", complete))
			h.approveOnShow()
			if _, err := h.run(t.Context()); err != nil {
				t.Fatalf("Token: %v", err)
			}
			p := h.shown()[0]
			if got := p.VerificationURIComplete != ""; got != tt.offered {
				t.Errorf("VerificationURIComplete = %q, offered=%v, want %v", p.VerificationURIComplete, got, tt.offered)
			}
			if !tt.offered && p.BrowserURI() != p.VerificationURI {
				t.Errorf("BrowserURI = %q, want the verification URI", p.BrowserURI())
			}
			if p.UserCode == "" {
				t.Error("user code not shown")
			}
		})
	}
}

func TestSameOrigin_DefaultPort(t *testing.T) {
	a, ha, _ := checkVerificationURI("https://as.example/device", false)
	b, hb, _ := checkVerificationURI("https://AS.example:443/device?user_code=1", false)
	if !sameOrigin(a, b, ha, hb) {
		t.Error("explicit default port and case change the origin")
	}
}

func TestRegistrableDomain(t *testing.T) {
	tests := map[string]string{
		"as.example":                "as.example",
		"login.as.example":          "as.example",
		"a.b.c.example.com":         "example.com",
		"login.example.co.uk":       "example.co.uk",
		"example.co.uk":             "example.co.uk",
		"co.uk":                     "co.uk",
		"sso.bank.com.au":           "bank.com.au",
		"id.example.de":             "example.de",
		"login.microsoftonline.com": "microsoftonline.com",
		"localhost":                 "localhost",
		"xn--bcher-kva.example":     "xn--bcher-kva.example",
	}
	for host, want := range tests {
		h, err := parseHost(host)
		if err != nil {
			t.Fatalf("parseHost(%q): %v", host, err)
		}
		if h.domain != want {
			t.Errorf("registrable domain of %q = %q, want %q", host, h.domain, want)
		}
	}
}

func TestSameSite_Req42(t *testing.T) {
	issuer, _ := parseHost("as.example")
	ipIssuer, _ := parseHost("127.0.0.1")
	allow := []string{"login.partner.example", "idp.test"}
	tests := []struct {
		issuer hostInfo
		host   string
		want   bool
	}{
		{issuer, "as.example", true},
		{issuer, "device.as.example", true},
		{issuer, "AS.EXAMPLE", true},
		{issuer, "as.example.evil.example", false},
		{issuer, "evilas.example", false},
		{issuer, "login.evil.example", false},
		{issuer, "login.partner.example", true},
		{issuer, "x.login.partner.example", true},
		{issuer, "partner.example", false},
		{issuer, "idp.test", true},
		{issuer, "127.0.0.1", false},
		{ipIssuer, "127.0.0.1", true},
		{ipIssuer, "127.0.0.2", false},
		{ipIssuer, "localhost", false},
	}
	for _, tt := range tests {
		h, err := parseHost(tt.host)
		if err != nil {
			t.Fatalf("parseHost(%q): %v", tt.host, err)
		}
		if got := sameSite(h, tt.issuer, allow); got != tt.want {
			t.Errorf("sameSite(%q, issuer %q) = %v, want %v", tt.host, tt.issuer.ascii, got, tt.want)
		}
	}
}

func TestAllowlistEntry(t *testing.T) {
	good := map[string]string{
		"example.com":    "example.com",
		"*.example.com":  "example.com",
		"Login.Example.": "login.example",
		"example.co.uk":  "example.co.uk",
		"10.0.0.1":       "10.0.0.1",
	}
	for in, want := range good {
		got, err := allowlistEntry(in)
		if err != nil || got != want {
			t.Errorf("allowlistEntry(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"com", "co.uk", "*.com", "", "exa mple.com", "bücher.example"} {
		if _, err := allowlistEntry(in); err == nil {
			t.Errorf("allowlistEntry(%q) accepted", in)
		}
	}
}
