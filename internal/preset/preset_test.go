package preset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		issuer  string
		token   string
		wantErr string
	}{
		{name: "github", issuer: "https://github.com", token: "https://github.com/login/oauth/access_token"},
		{name: "github", o: Options{Host: "ghe.example.com"}, issuer: "https://ghe.example.com", token: "https://ghe.example.com/login/oauth/access_token"},
		{name: "gitlab", issuer: "https://gitlab.com"},
		{name: "google", issuer: "https://accounts.google.com"},
		{name: "google", o: Options{Host: "evil.example"}, wantErr: "has no --host"},
		{name: "entra", o: Options{Tenant: "common"}, issuer: "https://login.microsoftonline.com/common/v2.0"},
		{name: "entra", wantErr: "needs --tenant"},
		{name: "entra", o: Options{Tenant: "a/b"}, wantErr: "invalid tenant"},
		{name: "gitea", wantErr: "needs --host"},
		{name: "gitea", o: Options{Host: "git.example.com"}, issuer: "https://git.example.com/"},
		{name: "gitea", o: Options{Host: "git.example.com/evil"}, wantErr: "invalid host"},
		{name: "gitea", o: Options{Host: "user@git.example.com"}, wantErr: "invalid host"},
		{name: "codeberg", issuer: "https://codeberg.org/"},
		{name: "keycloak", o: Options{Host: "sso.example.com", Realm: "corp"}, issuer: "https://sso.example.com/realms/corp"},
		{name: "keycloak", o: Options{Host: "sso.example.com"}, wantErr: "needs --realm"},
		{name: "okta", o: Options{Host: "acme.okta.com"}, issuer: "https://acme.okta.com/oauth2/default"},
		{name: "gitlab", o: Options{Host: "127.0.0.1:8443"}, issuer: "https://127.0.0.1:8443"},
		{name: "gitlab", o: Options{Host: "127.0.0.1:8443", AllowInsecureLoopback: true}, issuer: "http://127.0.0.1:8443"},
		{name: "gitlab", o: Options{Host: "gitlab.example:80", AllowInsecureLoopback: true}, issuer: "https://gitlab.example:80"},
		{name: "google", o: Options{Origin: "https://127.0.0.1:9"}, issuer: "https://127.0.0.1:9"},
		{name: "nope", wantErr: "unknown provider \"nope\""},
	}
	for _, tt := range tests {
		s, err := Resolve(tt.name, tt.o)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Resolve(%s, %+v) = %v, want an error with %q", tt.name, tt.o, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Resolve(%s, %+v): %v", tt.name, tt.o, err)
			continue
		}
		if s.Issuer != tt.issuer || (tt.token != "" && s.Token != tt.token) {
			t.Errorf("Resolve(%s, %+v) = issuer %q token %q, want %q %q", tt.name, tt.o, s.Issuer, s.Token, tt.issuer, tt.token)
		}
	}
}

// TestResolve_User: GitHub's account is named by its REST API, at
// api.github.com for github.com and under /api/v3 of an Enterprise
// Server's own host; a test origin standing in for github.com stands in
// for its API host too. Presets with ID tokens have no such endpoint.
func TestResolve_User(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{name: "github", want: "https://api.github.com/user"},
		{name: "github", o: Options{Host: "ghe.example.com"}, want: "https://ghe.example.com/api/v3/user"},
		{name: "github", o: Options{Host: "127.0.0.1:8443", AllowInsecureLoopback: true}, want: "http://127.0.0.1:8443/api/v3/user"},
		{name: "github", o: Options{Origin: "https://127.0.0.1:9"}, want: "https://127.0.0.1:9/user"},
		{name: "gitlab", want: ""},
		{name: "gitea", o: Options{Host: "git.example.com"}, want: ""},
	}
	for _, tt := range tests {
		s, err := Resolve(tt.name, tt.o)
		if err != nil {
			t.Fatalf("Resolve(%s, %+v): %v", tt.name, tt.o, err)
		}
		if s.User != tt.want {
			t.Errorf("Resolve(%s, %+v).User = %q, want %q", tt.name, tt.o, s.User, tt.want)
		}
	}
}

// TestGitHostFor: the git hosting providers serve git at their host, the
// others at none.
func TestGitHostFor(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{name: "github", want: "github.com"},
		{name: "github", o: Options{Host: "ghe.example.com"}, want: "ghe.example.com"},
		{name: "gitlab", want: "gitlab.com"},
		{name: "gitlab", o: Options{Host: "gitlab.example.com:8443"}, want: "gitlab.example.com:8443"},
		{name: "gitea", o: Options{Host: "git.example.com"}, want: "git.example.com"},
		{name: "forgejo", o: Options{Host: "git.example.com"}, want: "git.example.com"},
		{name: "codeberg", want: "codeberg.org"},
		{name: "google", want: ""},
		{name: "keycloak", o: Options{Host: "sso.example.com", Realm: "corp"}, want: ""},
	}
	for _, tt := range tests {
		p, _ := Lookup(tt.name)
		if got := p.GitHostFor(tt.o); got != tt.want {
			t.Errorf("%s.GitHostFor(%+v) = %q, want %q", tt.name, tt.o, got, tt.want)
		}
	}
}

// TestTable: every preset either discovers its endpoints or has a token
// endpoint, and cites its documentation.
func TestTable(t *testing.T) {
	for _, p := range table {
		if p.Docs == "" || p.Title == "" || p.Issuer == "" {
			t.Errorf("%s: no docs, title or issuer", p.Name)
		}
		if !p.Discovery && p.Token == "" {
			t.Errorf("%s: neither discovery nor a token endpoint", p.Name)
		}
		if p.User != "" && (p.API == "" || p.HostAPI == "") && !p.FixedHost {
			t.Errorf("%s: a user endpoint without its API origins", p.Name)
		}
		if p.IssuerPlaceholder != "" && !p.Discovery {
			t.Errorf("%s: an issuer placeholder without discovery", p.Name)
		}
	}
}

// TestREADME_TablesEveryPreset: README's Providers section has a row for
// each preset, so the table users read cannot fall behind the binary.
func TestREADME_TablesEveryPreset(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names() {
		if !strings.Contains(string(readme), "| `"+name+"`") && !strings.Contains(string(readme), "`"+name+"` |") && !strings.Contains(string(readme), ", `"+name+"`") {
			t.Errorf("README's Providers table has no row for %s", name)
		}
	}
}
