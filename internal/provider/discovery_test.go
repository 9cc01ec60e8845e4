package provider

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// metadataServer serves fixture (from testdata, with {{ISSUER}} and
// {{BASE}} filled in) at path, and 404 everywhere else. edit may change
// the document first.
func metadataServer(t *testing.T, fixture, path, issuerPath string, edit func(doc map[string]any)) (issuer string, srvRec *recorder, c *http.Client) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	var base string
	srv, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		text := strings.NewReplacer("{{ISSUER}}", base+issuerPath, "{{BASE}}", base).Replace(string(raw))
		var doc map[string]any
		if err := json.Unmarshal([]byte(text), &doc); err != nil {
			t.Error(err)
		}
		if edit != nil {
			edit(doc)
		}
		writeJSON(w, http.StatusOK, doc)
	})
	base = srv.URL
	return base + issuerPath, rec, clientFor(t, srv, Options{})
}

func TestDiscover_OIDC_Req19(t *testing.T) {
	issuer, rec, c := metadataServer(t, "oidc-provider.json", "/.well-known/openid-configuration", "", nil)
	m, err := Discover(context.Background(), c, issuer, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Paths(); !slices.Equal(got, []string{"GET /.well-known/openid-configuration"}) {
		t.Errorf("requests = %q", got)
	}
	// Golden: every field parsed, with the test server's address taken out.
	got, _ := json.MarshalIndent(m, "", "  ")
	got = []byte(strings.ReplaceAll(string(got), issuer, "https://as.example") + "\n")
	golden := filepath.Join("testdata", "oidc-provider.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("metadata differs from %s:\n%s", golden, got)
	}
}

func TestDiscover_TrailingSlashIssuer_Req19(t *testing.T) {
	// Issuer "https://host/" fetches "https://host/.well-known/openid-configuration"
	// (one slash removed before appending) and its document must say
	// "https://host/" exactly.
	issuer, rec, c := metadataServer(t, "rfc8414-minimal.json", "/.well-known/openid-configuration", "/", nil)
	if _, err := Discover(context.Background(), c, issuer, false); err != nil {
		t.Fatal(err)
	}
	if got := rec.Paths(); !slices.Equal(got, []string{"GET /.well-known/openid-configuration"}) {
		t.Errorf("requests = %q", got)
	}
}

func TestDiscover_PathInsertion_Req19(t *testing.T) {
	issuer, rec, c := metadataServer(t, "rfc8414-minimal.json", "/.well-known/oauth-authorization-server/t1", "/t1", nil)
	m, err := Discover(context.Background(), c, issuer, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"GET /t1/.well-known/openid-configuration", "GET /.well-known/oauth-authorization-server/t1"}
	if got := rec.Paths(); !slices.Equal(got, want) {
		t.Errorf("requests = %q, want %q", got, want)
	}
	if m.Issuer != issuer || m.CodeChallengeMethodsSupported != nil {
		t.Errorf("metadata = %+v", m)
	}
}

func TestDiscover_BothMissing_Req19(t *testing.T) {
	issuer, rec, c := metadataServer(t, "rfc8414-minimal.json", "/nowhere", "/t1", nil)
	_, err := Discover(context.Background(), c, issuer, false)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("err = %v", err)
	}
	if n := len(rec.Paths()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestDiscover_NoFallbackOnServerError_Req19(t *testing.T) {
	srv, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"access_token":"SNTL"}`, http.StatusInternalServerError)
	})
	_, err := Discover(context.Background(), clientFor(t, srv, Options{}), srv.URL+"/t1", false)
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "SNTL") {
		t.Errorf("error quotes the body: %v", err)
	}
	if n := len(rec.Paths()); n != 1 {
		t.Errorf("%d requests after a 500, want 1", n)
	}
}

func TestDiscover_IssuerMismatch_Req19(t *testing.T) {
	tests := []struct {
		name  string
		issue func(issuer string) string
	}{
		{"trailing slash added", func(iss string) string { return iss + "/" }},
		{"another host", func(string) string { return "https://as.example" }},
		{"case", func(iss string) string { return strings.ToUpper(iss) }},
		{"default port", func(iss string) string { return iss + ":443" }},
		{"missing", func(string) string { return "" }},
		{"control characters", func(iss string) string { return iss + "\x1b[2J" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issuer, _, c := metadataServer(t, "oidc-provider.json", "/.well-known/openid-configuration", "", func(doc map[string]any) {
				doc["issuer"] = tt.issue(doc["issuer"].(string))
			})
			m, err := Discover(context.Background(), c, issuer, false)
			if m != nil || err == nil || !strings.HasPrefix(err.Error(), "discovery: issuer mismatch: the server says ") {
				t.Fatalf("m = %v, err = %v", m, err)
			}
			if !strings.Contains(err.Error(), "but the profile says \""+issuer+"\"") || strings.Contains(err.Error(), "\x1b") {
				t.Errorf("err = %q", err)
			}
		})
	}
	// The profile side of the trailing-slash case: configured "https://a/",
	// server says "https://a".
	issuer, _, c := metadataServer(t, "oidc-provider.json", "/.well-known/openid-configuration", "/", func(doc map[string]any) {
		doc["issuer"] = strings.TrimSuffix(doc["issuer"].(string), "/")
	})
	if _, err := Discover(context.Background(), c, issuer, false); err == nil {
		t.Error("issuer without the configured trailing slash accepted")
	}
}

func TestDiscover_InsecureEndpoint_Req19_Req20(t *testing.T) {
	for _, field := range []string{"token_endpoint", "authorization_endpoint", "jwks_uri", "revocation_endpoint",
		"device_authorization_endpoint", "pushed_authorization_request_endpoint", "userinfo_endpoint"} {
		for _, bad := range []string{"http://as.example/x", "https://as.example/x#f", "/relative", "https://u:p@as.example/x"} {
			issuer, _, c := metadataServer(t, "oidc-provider.json", "/.well-known/openid-configuration", "", func(doc map[string]any) {
				doc[field] = bad
			})
			_, err := Discover(context.Background(), c, issuer, false)
			if err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("%s = %q: err = %v", field, bad, err)
			}
		}
	}
}

func TestDiscover_TokenEndpointRequired_Req19(t *testing.T) {
	issuer, _, c := metadataServer(t, "oidc-provider.json", "/.well-known/openid-configuration", "", func(doc map[string]any) {
		delete(doc, "token_endpoint")
	})
	if _, err := Discover(context.Background(), c, issuer, false); err == nil || !strings.Contains(err.Error(), "token_endpoint") {
		t.Errorf("err = %v", err)
	}
}

func TestDiscover_S256Missing_Req08(t *testing.T) {
	for _, methods := range [][]any{{"plain"}, {}, {"s256"}} {
		issuer, _, c := metadataServer(t, "oidc-provider.json", "/.well-known/openid-configuration", "", func(doc map[string]any) {
			doc["code_challenge_methods_supported"] = methods
		})
		if _, err := Discover(context.Background(), c, issuer, false); err == nil || !strings.Contains(err.Error(), "S256") {
			t.Errorf("%v: err = %v", methods, err)
		}
	}
}

func TestDiscover_CodeResponseTypeMissing_Req10(t *testing.T) {
	issuer, _, c := metadataServer(t, "oidc-provider.json", "/.well-known/openid-configuration", "", func(doc map[string]any) {
		doc["response_types_supported"] = []string{"token", "id_token token", "code id_token"}
	})
	if _, err := Discover(context.Background(), c, issuer, false); err == nil || !strings.Contains(err.Error(), "authorization code") {
		t.Errorf("err = %v", err)
	}
}

func TestDiscover_BadIssuer_Req19_Req20(t *testing.T) {
	c, _ := NewHTTPClient(Options{})
	for _, iss := range []string{"http://as.example", "https://as.example?x=1", "https://as.example?", "https://as.example#f",
		"as.example", "http://localhost:8080", "http://127.0.0.1.nip.io"} {
		if _, err := Discover(context.Background(), c, iss, true); err == nil || !strings.HasPrefix(err.Error(), "discovery: issuer ") {
			t.Errorf("%q: err = %v", iss, err)
		}
	}
}

func TestDiscover_BadJSON_Req19(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"issuer": "x", "refresh_token": "SNTL", `))
	})
	_, err := Discover(context.Background(), clientFor(t, srv, Options{}), srv.URL, false)
	if err == nil || strings.Contains(err.Error(), "SNTL") {
		t.Errorf("err = %v", err)
	}
}

func TestMetadata_OAuth2Config(t *testing.T) {
	m := &Metadata{
		AuthorizationEndpoint:       "https://as.example/auth",
		TokenEndpoint:               "https://as.example/token",
		DeviceAuthorizationEndpoint: "https://as.example/device",
	}
	scopes := []string{"openid", "offline_access"}
	cfg := m.OAuth2Config("cli", scopes)
	scopes[0] = "changed"
	if cfg.ClientID != "cli" || cfg.ClientSecret != "" || cfg.Endpoint.AuthStyle != oauth2.AuthStyleInParams ||
		cfg.Endpoint.AuthURL != m.AuthorizationEndpoint || cfg.Endpoint.TokenURL != m.TokenEndpoint ||
		cfg.Endpoint.DeviceAuthURL != m.DeviceAuthorizationEndpoint || cfg.Scopes[0] != "openid" {
		t.Errorf("config = %+v", cfg)
	}
}

func TestDiscover_UntrustedCert_Req21(t *testing.T) {
	issuer, rec, _ := metadataServer(t, "oidc-provider.json", "/.well-known/openid-configuration", "", nil)
	strict, err := NewHTTPClient(Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Discover(context.Background(), strict, issuer, false)
	// The cause stays reachable so the command can suggest --ca-file.
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) || !strings.HasPrefix(err.Error(), "discovery: ") {
		t.Fatalf("err = %v (%T)", err, err)
	}
	if n := len(rec.Paths()); n != 0 {
		t.Errorf("%d requests completed over an untrusted connection", n)
	}
}
