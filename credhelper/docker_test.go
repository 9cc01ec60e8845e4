package credhelper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestReadDockerServerURL(t *testing.T) {
	for in, want := range map[string]string{
		"registry.example.com":              "registry.example.com",
		"registry.example.com\n":            "registry.example.com",
		"  https://index.docker.io/v1/\r\n": "https://index.docker.io/v1/",
	} {
		got, err := ReadDockerServerURL(strings.NewReader(in))
		if err != nil || got != want {
			t.Errorf("ReadDockerServerURL(%q) = %q, %v", in, got, err)
		}
	}
	for in, want := range map[string]error{
		"":                          ErrMissingServerURL,
		" \n ":                      ErrMissingServerURL,
		"a.example\nb.example":      ErrUnsafeValue,
		"a.example\rb.example":      ErrUnsafeValue,
		"a.example\x00":             ErrUnsafeValue,
		"a\tb":                      ErrUnsafeValue,
		"a\xffb":                    ErrUnsafeValue,
		strings.Repeat("a", 65<<10): ErrTooLarge,
	} {
		if got, err := ReadDockerServerURL(strings.NewReader(in)); !errors.Is(err, want) {
			t.Errorf("ReadDockerServerURL(%.20q) = %q, %v; want %v", in, got, err, want)
		}
	}
}

func TestReadDockerStore(t *testing.T) {
	c, err := ReadDockerStore(strings.NewReader(`{"ServerURL":"registry.example.com","Username":"alice","Secret":"s3cret"}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if *c != (DockerCredentials{"registry.example.com", "alice", "s3cret"}) {
		t.Errorf("got %v", c)
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("formatted credentials show the secret: %s", s)
		}
	}
	for in, want := range map[string]error{
		`{"Username":"a","Secret":"s"}`:                                       ErrMissingServerURL,
		`{"ServerURL":"r","Secret":"s"}`:                                      ErrMissingUsername,
		`{"ServerURL":"r\n","Username":"a"}`:                                  ErrUnsafeValue,
		`{"ServerURL":"r","Username":"a` + strings.Repeat("a", 64<<10) + `"}`: ErrTooLarge,
		`registry.example.com`:                                                nil,
	} {
		if _, err := ReadDockerStore(strings.NewReader(in)); err == nil || (want != nil && !errors.Is(err, want)) {
			t.Errorf("ReadDockerStore(%.30q): got %v, want %v", in, err, want)
		}
	}
}

func TestWriteDockerCredentials(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteDockerCredentials(&buf, "https://index.docker.io/v1/", "oauth2", "a&b<c>"); err != nil {
		t.Fatal(err)
	}
	var got DockerCredentials
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got != (DockerCredentials{"https://index.docker.io/v1/", "oauth2", "a&b<c>"}) {
		t.Errorf("read back %v", got)
	}
	for name, tc := range map[string]struct {
		server, user, secret string
		want                 error
	}{
		"no server":     {"", "u", testToken, ErrMissingServerURL},
		"no user":       {"r", "", testToken, ErrMissingUsername},
		"identity user": {"r", "<token>", testToken, nil},
		"empty secret":  {"r", "u", "", errEmptyToken},
		"lf in secret":  {"r", "u", "a\nb", ErrUnsafeValue},
		"lf in server":  {"r\n", "u", testToken, ErrUnsafeValue},
		"bad utf-8":     {"r", "u\xff", testToken, ErrUnsafeValue},
	} {
		buf.Reset()
		err := WriteDockerCredentials(&buf, tc.server, tc.user, tc.secret)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %q on error", name, buf.String())
		}
	}
}

func TestWriteDockerListRefuses(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteDockerList(&buf, map[string]string{"r\n": "u"}); !errors.Is(err, ErrUnsafeValue) || buf.Len() != 0 {
		t.Errorf("got %v, wrote %q", err, buf.String())
	}
}

func TestWriteDockerError(t *testing.T) {
	for err, want := range map[error]string{
		ErrCredentialsNotFound:                               "credentials not found in native keychain\n",
		fmt.Errorf("no profile: %w", ErrCredentialsNotFound): "credentials not found in native keychain\n",
		errors.New("login required\nrun sesame login"):       "login required run sesame login\n",
	} {
		var buf bytes.Buffer
		if e := WriteDockerError(&buf, err); e != nil || buf.String() != want {
			t.Errorf("WriteDockerError(%v) wrote %q, %v", err, buf.String(), e)
		}
	}
	if WriteDockerError(&bytes.Buffer{}, nil) == nil {
		t.Error("nil error written")
	}
}

func TestDockerRespond(t *testing.T) {
	var buf bytes.Buffer
	err := DockerRespond(&buf, "registry.example.com", "oauth2", &oauth2.Token{AccessToken: testToken, TokenType: "DPoP"})
	if !errors.Is(err, ErrNotBearer) || buf.Len() != 0 {
		t.Fatalf("DPoP token: err %v, wrote %q", err, buf.String())
	}
	if err := DockerRespond(&buf, "registry.example.com", "oauth2", bearer(testToken)); err != nil {
		t.Fatal(err)
	}
	golden(t, "docker-get.golden", buf.Bytes())
}
