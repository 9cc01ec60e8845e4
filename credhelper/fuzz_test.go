package credhelper

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzReadGitRequest checks that whatever parses never carries a CR, LF or
// NUL in a value, and that writing it back as an answer gives exactly one
// line per field, with no CR or NUL, that reads back to the same secret.
func FuzzReadGitRequest(f *testing.F) {
	for _, b := range testdataFiles(f, "git-request-*.txt") {
		f.Add(b)
	}
	f.Add([]byte("protocol=https\nhost=h\nusername=u\npassword=p\npassword_expiry_utc=1700000000\n"))
	f.Add([]byte("capability[]=authtype\nauthtype=Bearer\ncredential=c\nusername=u\n"))
	f.Add([]byte("url=https://u:p@h:1/a%0d\n"))
	f.Add([]byte("host=a\rb\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		req, err := ReadGitRequest(bytes.NewReader(in))
		if err != nil {
			return
		}
		values := []string{req.Protocol, req.Host, req.Path, req.Username, req.Password,
			req.OAuthRefreshToken, req.AuthType, req.Credential}
		values = append(values, req.WWWAuth...)
		values = append(values, req.Capabilities...)
		values = append(values, req.State...)
		for _, e := range req.Extra {
			values = append(values, e.Key, e.Value)
		}
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("parsed value %q holds a line break or NUL", v)
			}
		}

		a := GitAnswer{
			Username: req.Username, Password: req.Password, PasswordExpiry: req.PasswordExpiry,
			AuthType: req.AuthType, Credential: req.Credential, Ephemeral: req.Ephemeral,
		}
		var out bytes.Buffer
		if err := WriteGitAnswer(&out, req, a); err != nil {
			if out.Len() != 0 {
				t.Fatalf("wrote %q and failed with %v", out.String(), err)
			}
			return
		}
		authtype := req.HasCapability("authtype") && a.Credential != ""
		fields := 2
		if authtype {
			fields = 3
			if a.Ephemeral {
				fields++
			}
		}
		if !a.PasswordExpiry.IsZero() {
			fields++
		}
		s := out.String()
		if strings.ContainsAny(s, "\r\x00") || !strings.HasSuffix(s, "\n") {
			t.Fatalf("answer %q holds a CR or NUL, or does not end its last line", s)
		}
		lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		if len(lines) != fields {
			t.Fatalf("answer %q has %d lines, want %d fields", s, len(lines), fields)
		}
		back, err := ReadGitRequest(strings.NewReader(s))
		if err != nil {
			t.Fatalf("answer %q does not read back: %v", s, err)
		}
		if authtype {
			if back.Credential != a.Credential || !back.HasCapability("authtype") || back.Password != "" {
				t.Fatalf("authtype answer %q read back as %#v", s, *back)
			}
		} else if back.Username != a.Username || back.Password != a.Password || back.Credential != "" {
			t.Fatalf("answer %q read back as %#v", s, *back)
		}
		if !back.PasswordExpiry.Equal(a.PasswordExpiry) || back.OAuthRefreshToken != "" {
			t.Fatalf("answer %q read back as %#v", s, *back)
		}
	})
}

// FuzzParseExecInfo checks the round trip parse → marshal → parse, and that
// an answer in the parsed API version is one JSON object in that version.
func FuzzParseExecInfo(f *testing.F) {
	for _, b := range testdataFiles(f, "exec-info-*.json") {
		f.Add(string(b))
	}
	f.Add("")
	f.Add(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://a","config":null,"certificate-authority-data":""}}}`)
	f.Add(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"cluster":{"config":"\u2028<&>"}}}`)
	f.Fuzz(func(t *testing.T, in string) {
		info, err := ParseExecInfo(in)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(info); err != nil {
			t.Fatalf("marshal %#v: %v", info, err)
		}
		again, err := ParseExecInfo(buf.String())
		if err != nil {
			t.Fatalf("%s does not parse again: %v", buf.String(), err)
		}
		if !reflect.DeepEqual(info, again) {
			t.Fatalf("round trip changed the request:\n%#v\n%#v", info, again)
		}
		if ServerMatches(info, "") {
			t.Fatal("matched an empty server")
		}

		var out bytes.Buffer
		if err := WriteExecCredential(&out, info.APIVersion, testToken, time.Unix(1_900_000_000, 0)); err != nil {
			t.Fatal(err)
		}
		var cred struct{ Kind, APIVersion string }
		if err := json.Unmarshal(out.Bytes(), &cred); err != nil || cred.APIVersion != info.APIVersion || cred.Kind != "ExecCredential" {
			t.Fatalf("answer %s: %v", out.String(), err)
		}
	})
}

// FuzzReadDockerServerURL checks that a server URL that reads is trimmed,
// free of control characters, and survives the "get" answer unchanged.
func FuzzReadDockerServerURL(f *testing.F) {
	for _, s := range []string{"registry.example.com", "https://index.docker.io/v1/\n", " a\r\n", "a\nb", "\xff", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ReadDockerServerURL(bytes.NewReader(in))
		if err != nil {
			return
		}
		if s == "" || s != strings.TrimSpace(s) || strings.ContainsAny(s, "\r\n\x00") {
			t.Fatalf("server URL %q", s)
		}
		var out bytes.Buffer
		if err := WriteDockerCredentials(&out, s, "oauth2", testToken); err != nil {
			t.Fatalf("cannot answer for %q: %v", s, err)
		}
		var c DockerCredentials
		if err := json.Unmarshal(out.Bytes(), &c); err != nil || c.ServerURL != s || c.Secret != testToken {
			t.Fatalf("answer %q read back as %v, %v", out.String(), c, err)
		}
		if strings.Count(out.String(), "\n") != 1 {
			t.Fatalf("answer %q is not one line", out.String())
		}
		_ = DockerHostMatches(s, "registry.example.com")
	})
}
