package devicecode

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func validConfig() Config {
	return Config{
		OAuth2: oauth2.Config{
			ClientID: "sesame",
			Scopes:   []string{"openid"},
			Endpoint: oauth2.Endpoint{
				DeviceAuthURL: "https://as.example/device_authorization",
				TokenURL:      "https://as.example/token",
			},
		},
		Issuer: "https://as.example",
		UI:     UI{Show: func(Prompt) {}},
	}
}

func TestNew_Validation_Req20(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"no client id", func(c *Config) { c.OAuth2.ClientID = "" }, "client id"},
		{"no Show", func(c *Config) { c.UI.Show = nil }, "Show"},
		{"no device endpoint", func(c *Config) { c.OAuth2.Endpoint.DeviceAuthURL = "" }, "device authorization url"},
		{"http device endpoint", func(c *Config) { c.OAuth2.Endpoint.DeviceAuthURL = "http://as.example/d" }, "https"},
		{"http token endpoint", func(c *Config) { c.OAuth2.Endpoint.TokenURL = "http://as.example/t" }, "https"},
		{"http issuer", func(c *Config) { c.Issuer = "http://as.example" }, "https"},
		{"no issuer", func(c *Config) { c.Issuer = "" }, "issuer"},
		{"userinfo endpoint", func(c *Config) { c.OAuth2.Endpoint.TokenURL = "https://u:p@as.example/t" }, "user information"},
		{"fragment", func(c *Config) { c.OAuth2.Endpoint.TokenURL = "https://as.example/t#x" }, "fragment"},
		{"http loopback without flag", func(c *Config) {
			c.Issuer = "http://127.0.0.1:8080"
			c.OAuth2.Endpoint.DeviceAuthURL = "http://127.0.0.1:8080/d"
			c.OAuth2.Endpoint.TokenURL = "http://127.0.0.1:8080/t"
		}, "https"},
		{"http loopback with flag", func(c *Config) {
			c.AllowInsecureLoopback = true
			c.Issuer = "http://127.0.0.1:8080"
			c.OAuth2.Endpoint.DeviceAuthURL = "http://127.0.0.1:8080/d"
			c.OAuth2.Endpoint.TokenURL = "http://[::1]:8080/t"
		}, ""},
		{"http look-alike with flag", func(c *Config) {
			c.AllowInsecureLoopback = true
			c.OAuth2.Endpoint.TokenURL = "http://127.0.0.1.nip.io/t"
		}, "https"},
		{"http localhost with flag", func(c *Config) {
			c.AllowInsecureLoopback = true
			c.OAuth2.Endpoint.TokenURL = "http://localhost/t"
		}, "https"},
		{"reserved param", func(c *Config) { c.AuthParams = url.Values{"Code_Challenge": {"x"}} }, "set by the flow"},
		{"reserved device_code", func(c *Config) { c.AuthParams = url.Values{"device_code": {"x"}} }, "set by the flow"},
		{"resource param", func(c *Config) { c.AuthParams = url.Values{"resource": {"https://api.example"}} }, ""},
		{"public suffix allowlist", func(c *Config) { c.AllowedVerificationHosts = []string{"co.uk"} }, "public suffix"},
		{"bad allowlist", func(c *Config) { c.AllowedVerificationHosts = []string{"https://x.example/"} }, "allowed verification host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.mod(&cfg)
			_, err := New(cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("New: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("New err = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestNew_CopiesConfig(t *testing.T) {
	cfg := validConfig()
	cfg.AuthParams = url.Values{"resource": {"https://a.example"}}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.OAuth2.Scopes[0] = "changed"
	cfg.AuthParams["resource"][0] = "changed"
	if f.cfg.OAuth2.Scopes[0] != "openid" || f.cfg.AuthParams.Get("resource") != "https://a.example" {
		t.Error("New did not copy the config's slices and maps")
	}
}

// TestNew_Client: the caller's client is used as it is (redirects are
// refused per request: TestAuthorize_RedirectNotFollowed_Req22), and the
// default one has a timeout.
func TestNew_Client(t *testing.T) {
	own := &http.Client{}
	cfg := validConfig()
	cfg.HTTPClient = own
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f.client != own || own.CheckRedirect != nil {
		t.Error("New replaced or modified the caller's client")
	}
	if def := mustNew(t, validConfig()).client; def.Timeout == 0 {
		t.Error("default client has no timeout")
	}
}

func mustNew(t *testing.T, cfg Config) *Flow {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
