package profile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoad_MissingFileIsEmpty(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "nope"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Profiles) != 0 {
		t.Fatalf("profiles = %v, want none", c.Names())
	}
}

func TestSaveLoad_RoundTripAndModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sesame")
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Profiles["work"] = &Profile{Name: "work", Issuer: "https://as.example", ClientID: "cli", Scopes: []string{"openid", "email"}, CallbackPort: 8765}
	c.Profiles["b"] = &Profile{Name: "b", Issuer: "https://b.example/t1", ClientID: "x"}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode = %v, %v; want 0700", st.Mode().Perm(), err)
	}
	st, err = os.Stat(filepath.Join(dir, FileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Names(), ",") != "b,work" {
		t.Fatalf("names = %v", got.Names())
	}
	w := got.Profile("work")
	if w.Name != "work" || w.Issuer != "https://as.example" || w.CallbackPort != 8765 || strings.Join(w.Scopes, " ") != "openid email" {
		t.Fatalf("work = %+v", w)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("leftover files in config dir: %v", entries)
	}
}

func TestLoad_RejectsUnknownSettings_Req01_Req10(t *testing.T) {
	for _, field := range []string{`"callback_host": "0.0.0.0"`, `"response_type": "token"`, `"grant": "password"`, `"refresh_token": "x"`} {
		dir := writeConfig(t, `{"version":1,"profiles":{"p":{"issuer":"https://as.example","client_id":"c",`+field+`}}}`)
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), "unknown field") {
			t.Errorf("%s: err = %v, want unknown field", field, err)
		}
	}
}

func TestLoad_CorruptFileNamesTheLine(t *testing.T) {
	dir := writeConfig(t, "{\n\"version\": 1,\n\"profiles\": {,}\n}")
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), FileName) {
		t.Fatalf("err = %v, want the file and line 3", err)
	}
	if strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("error is not one line: %q", err)
	}
}

func TestLoad_RejectsInvalidProfile(t *testing.T) {
	for name, body := range map[string]string{
		"http issuer":  `{"version":1,"profiles":{"p":{"issuer":"http://as.example","client_id":"c"}}}`,
		"bad name":     `{"version":1,"profiles":{"a b":{"issuer":"https://as.example","client_id":"c"}}}`,
		"no client":    `{"version":1,"profiles":{"p":{"issuer":"https://as.example"}}}`,
		"future":       `{"version":7,"profiles":{}}`,
		"bad flow":     `{"version":1,"profiles":{"p":{"issuer":"https://as.example","client_id":"c","flow":"implicit"}}}`,
		"spaced scope": `{"version":1,"profiles":{"p":{"issuer":"https://as.example","client_id":"c","scopes":["a b"]}}}`,
	} {
		if _, err := Load(writeConfig(t, body)); err == nil {
			t.Errorf("%s: loaded without error", name)
		}
	}
}

func TestCheckIssuer_Req20(t *testing.T) {
	cases := []struct {
		issuer string
		flag   bool
		ok     bool
	}{
		{"https://as.example", false, true},
		{"https://as.example/t1", false, true},
		{"http://as.example", true, false},
		{"http://localhost.evil.example", true, false},
		{"http://127.0.0.1.nip.io", true, false},
		{"http://localhost:8080", true, false},
		{"http://127.0.0.1:8080", false, false},
		{"http://127.0.0.1:8080", true, true},
		{"http://[::1]:8080", true, true},
		{"https://as.example?x=1", false, false},
		{"https://as.example#f", false, false},
		{"https://user@as.example", false, false},
		{"ftp://as.example", false, false},
		{"as.example", false, false},
	}
	for _, c := range cases {
		err := CheckIssuer(c.issuer, c.flag)
		if (err == nil) != c.ok {
			t.Errorf("CheckIssuer(%q, %v) = %v, want ok=%v", c.issuer, c.flag, err, c.ok)
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"default", "work", "a.b-c_d", "K8s"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "a/b", "../x", "a b", strings.Repeat("x", 65), "é"} {
		if err := ValidateName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestValidate_Usernames: the git and docker user names must fit a
// credential helper's answer as they are, and docker's must not be the
// "<token>" that makes docker treat the access token as an identity token.
func TestValidate_Usernames(t *testing.T) {
	base := Profile{Name: "w", Issuer: "https://as.example", ClientID: "c"}
	for _, ok := range []string{"", "oauth2accesstoken", "robot$ci", "ünï"} {
		p := base
		p.GitUsername, p.DockerUsername = ok, ok
		if err := p.Validate(); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{" x", "x\n", "a\x00b", "\xff"} {
		g, d := base, base
		g.GitUsername, d.DockerUsername = bad, bad
		if err := g.Validate(); err == nil {
			t.Errorf("git username %q accepted", bad)
		}
		if err := d.Validate(); err == nil {
			t.Errorf("docker username %q accepted", bad)
		}
	}
	p := base
	p.DockerUsername = "<token>"
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "identity token") {
		t.Errorf("docker username <token>: %v", err)
	}
}

// TestLoad_TwoProfilesOneIssuerOtherEndpoints_Req15: a profile cannot name
// its own endpoints, so two profiles of one issuer cannot disagree on them:
// a config that tries is refused at load. Endpoints come only from the
// issuer's validated metadata (requirement 15).
func TestLoad_TwoProfilesOneIssuerOtherEndpoints_Req15(t *testing.T) {
	for _, field := range []string{`"token_endpoint": "https://evil.example/token"`, `"authorization_endpoint": "https://evil.example/auth"`, `"endpoints": {}`} {
		dir := writeConfig(t, `{"version":1,"profiles":{`+
			`"a":{"issuer":"https://as.example","client_id":"c"},`+
			`"b":{"issuer":"https://as.example","client_id":"c",`+field+`}}}`)
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "unknown field") {
			t.Errorf("%s: err = %v, want unknown field", field, err)
		}
	}
}

// TestDefault_SavedOnlyWhenSetAndRefusedByUnknownFieldReaders: the saved
// default round-trips; a file without one has no "default" key, so older
// sesames (which refuse unknown fields) still read it; a bad name is an
// error naming the field.
func TestDefault_SavedOnlyWhenSetAndRefusedByUnknownFieldReaders(t *testing.T) {
	dir := t.TempDir()
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Profiles["work"] = &Profile{Name: "work", Issuer: "https://as.example", ClientID: "cli"}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, FileName))
	if strings.Contains(string(data), `"default"`) {
		t.Fatalf("no default set, but the file has one:\n%s", data)
	}
	c.Default = "work"
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil || got.Default != "work" {
		t.Fatalf("default = %q, %v", got.Default, err)
	}
	_, err = Load(writeConfig(t, `{"version":1,"default":"no way","profiles":{}}`))
	if err == nil || !strings.Contains(err.Error(), `default: invalid profile name "no way"`) {
		t.Fatalf("err = %v", err)
	}
}
