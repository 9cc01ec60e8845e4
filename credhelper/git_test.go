package credhelper

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestReadGitRequest(t *testing.T) {
	req, err := ReadGitRequest(bytes.NewReader(readTestdata(t, "git-request-2.39.txt")))
	if err != nil {
		t.Fatal(err)
	}
	want := &GitRequest{Protocol: "https", Host: "git.example.com"}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("2.39 request: got %#v", *req)
	}

	req, err = ReadGitRequest(bytes.NewReader(readTestdata(t, "git-request-2.46.txt")))
	if err != nil {
		t.Fatal(err)
	}
	want = &GitRequest{
		Protocol: "https", Host: "git.example.com:8443", Path: "org/repo.git",
		Capabilities: []string{"authtype", "state"},
		WWWAuth:      []string{`Bearer realm="git.example.com", scope="repo"`, `Basic realm="git"`},
	}
	if !reflect.DeepEqual(req, want) || !req.HasCapability("authtype") || req.HasCapability("auth") {
		t.Errorf("2.46 request: got %#v", *req)
	}

	// url= resets what came before and is split as git splits it; later
	// attributes override it.
	req, err = ReadGitRequest(bytes.NewReader(readTestdata(t, "git-request-url.txt")))
	if err != nil {
		t.Fatal(err)
	}
	want = &GitRequest{Protocol: "https", Host: "git.example.com", Path: "org/repo.git", Username: "bob"}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("url request: got %#v", *req)
	}
}

func TestReadGitRequestAttributes(t *testing.T) {
	in := "protocol=https\nhost=h\ncapability[]=authtype\ncapability[]=\ncapability[]=state\n" +
		"password=p=q\npassword_expiry_utc=1700000000\nephemeral=1\ncontinue=yes\nstate[]=a\n" +
		"oauth_refresh_token=r\nauthtype=Bearer\ncredential=c\nx-future=1\n=odd\nhost=h2"
	req, err := ReadGitRequest(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &GitRequest{
		Protocol: "https", Host: "h2", Password: "p=q",
		PasswordExpiry: time.Unix(1700000000, 0).UTC(), OAuthRefreshToken: "r",
		AuthType: "Bearer", Credential: "c", Ephemeral: true, Continue: true,
		Capabilities: []string{"state"}, State: []string{"a"},
		Extra: []GitAttribute{{"x-future", "1"}, {"", "odd"}},
	}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("got  %#v\nwant %#v", *req, *want)
	}
	if req.Secret() != "c" {
		t.Errorf("Secret prefers credential, got %q", req.Secret())
	}
	for _, s := range []string{fmt.Sprint(req), fmt.Sprintf("%+v", *req), fmt.Sprintf("%#v", req), fmt.Sprintf("%#v", *req)} {
		if strings.Contains(s, "p=q") || strings.Contains(s, "=c ") || strings.Contains(s, "token=r") {
			t.Errorf("formatted request shows a secret: %s", s)
		}
	}
}

func TestGitRequestFromURL(t *testing.T) {
	for in, want := range map[string]GitRequest{
		"https://example.com":                          {Protocol: "https", Host: "example.com"},
		"https://u:p%40ss@example.com:8443//a/b.git//": {Protocol: "https", Host: "example.com:8443", Path: "a/b.git", Username: "u", Password: "p@ss"},
		"https://u@example.com?x=1":                    {Protocol: "https", Host: "example.com", Path: "?x=1", Username: "u"},
		"https://example.com/a@b":                      {Protocol: "https", Host: "example.com", Path: "a@b"},
		"https://ex%61mple.com/%7euser":                {Protocol: "https", Host: "example.com", Path: "~user"},
		"https://example.com/%zz%4":                    {Protocol: "https", Host: "example.com", Path: "%zz%4"},
	} {
		req, err := ReadGitRequest(strings.NewReader("url=" + in + "\n"))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !reflect.DeepEqual(*req, want) {
			t.Errorf("%s: got %#v", in, *req)
		}
	}
	if _, err := ReadGitRequest(strings.NewReader("url=example.com\n")); err == nil {
		t.Error("url without scheme accepted")
	}
}

func TestReadGitRequestRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want error
	}{
		"cr in host":         {"protocol=https\nhost=example.com\r\n", ErrUnsafeValue},
		"cr mid host":        {"protocol=https\nhost=evil.example\r.example.com\n", ErrUnsafeValue},
		"nul in path":        {"protocol=https\nhost=h\npath=a\x00b\n", ErrUnsafeValue},
		"crlf blank line":    {"protocol=https\nhost=h\r\n\r\n", ErrUnsafeValue},
		"encoded lf in url":  {"url=https://example.com%0a.evil.example/\n", ErrUnsafeValue},
		"encoded cr in user": {"url=https://a%0d@example.com/\n", ErrUnsafeValue},
		"encoded nul path":   {"url=https://example.com/a%00b\n", ErrUnsafeValue},
		"no equals":          {"protocol=https\nhost\n", ErrMalformedGitRequest},
		"long line":          {"host=" + strings.Repeat("a", maxGitLine) + "\n", ErrTooLarge},
		"long request":       {strings.Repeat("wwwauth[]="+strings.Repeat("a", 1000)+"\n", 70), ErrTooLarge},
	} {
		req, err := ReadGitRequest(strings.NewReader(tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v (%v), want %v", name, err, req, tc.want)
		}
	}
	// The longest line allowed is accepted.
	if _, err := ReadGitRequest(strings.NewReader("host=" + strings.Repeat("a", maxGitLine-5) + "\n")); err != nil {
		t.Errorf("line of exactly the limit: %v", err)
	}
}

// A caller may keep the pipe open after the blank line; the read must not
// wait for EOF.
func TestReadGitRequestStopsAtBlankLine(t *testing.T) {
	pr, pw := io.Pipe()
	defer func() { _ = pw.Close() }()
	go func() { _, _ = io.WriteString(pw, "protocol=https\nhost=h\n\n") }()
	done := make(chan *GitRequest, 1)
	go func() {
		req, _ := ReadGitRequest(pr)
		done <- req
	}()
	select {
	case req := <-done:
		if req == nil || req.Host != "h" {
			t.Errorf("got %v", req)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadGitRequest waited for EOF after the blank line")
	}
}

func TestWriteGitAnswerRefusesUnsafe(t *testing.T) {
	legacy := &GitRequest{Protocol: "https", Host: "h"}
	modern := &GitRequest{Protocol: "https", Host: "h", Capabilities: []string{"authtype"}}
	ok := GitAnswer{Username: "oauth2", Password: testToken, Credential: testToken, AuthType: "Bearer", Ephemeral: true}
	for name, tc := range map[string]struct {
		req  *GitRequest
		edit func(*GitAnswer)
		want error
	}{
		"cr in password":     {legacy, func(a *GitAnswer) { a.Password = "tok\r" }, ErrUnsafeValue},
		"lf in password":     {legacy, func(a *GitAnswer) { a.Password = "tok\nhost=evil.example" }, ErrUnsafeValue},
		"nul in password":    {legacy, func(a *GitAnswer) { a.Password = "tok\x00" }, ErrUnsafeValue},
		"lf in username":     {legacy, func(a *GitAnswer) { a.Username = "u\npassword=x" }, ErrUnsafeValue},
		"cr in username":     {legacy, func(a *GitAnswer) { a.Username = "u\r" }, ErrUnsafeValue},
		"nul in username":    {legacy, func(a *GitAnswer) { a.Username = "u\x00" }, ErrUnsafeValue},
		"lf in credential":   {modern, func(a *GitAnswer) { a.Credential = "tok\n" }, ErrUnsafeValue},
		"cr in authtype":     {modern, func(a *GitAnswer) { a.AuthType = "Bearer\r" }, ErrUnsafeValue},
		"lf in authtype":     {modern, func(a *GitAnswer) { a.AuthType = "Bearer\nusername=x" }, ErrUnsafeValue},
		"space in authtype":  {modern, func(a *GitAnswer) { a.AuthType = "Bearer x" }, ErrUnsafeValue},
		"no username":        {legacy, func(a *GitAnswer) { a.Username = "" }, nil},
		"no password":        {legacy, func(a *GitAnswer) { a.Password = "" }, errEmptyToken},
		"expiry before 1970": {legacy, func(a *GitAnswer) { a.PasswordExpiry = time.Unix(-5, 0) }, nil},
	} {
		a := ok
		tc.edit(&a)
		var buf bytes.Buffer
		err := WriteGitAnswer(&buf, tc.req, a)
		switch {
		case err == nil:
			t.Errorf("%s: accepted, wrote %q", name, buf.String())
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %q on error", name, buf.String())
		}
	}
	// Only the fields of the form written are checked: a legacy password
	// that is never written does not block the authtype answer.
	a := ok
	a.Password = "x\ny"
	var buf bytes.Buffer
	if err := WriteGitAnswer(&buf, modern, a); err != nil || strings.Contains(buf.String(), "password=") {
		t.Errorf("authtype answer with an unused bad password: %v, %q", err, buf.String())
	}
}

func TestGitRespond(t *testing.T) {
	req := &GitRequest{Protocol: "https", Host: "h", Capabilities: []string{"authtype"}}
	var buf bytes.Buffer
	err := GitRespond(&buf, req, "oauth2", &oauth2.Token{AccessToken: testToken, TokenType: "DPoP"}, testExpiry)
	if !errors.Is(err, ErrNotBearer) || buf.Len() != 0 {
		t.Fatalf("DPoP token: err %v, wrote %q", err, buf.String())
	}
	for _, r := range []*GitRequest{req, {Protocol: "https", Host: "h"}} {
		buf.Reset()
		if err := GitRespond(&buf, r, "oauth2", bearer(testToken), testExpiry); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "oauth_refresh_token") {
			t.Errorf("answer carries a refresh token: %q", buf.String())
		}
		back, err := ReadGitRequest(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if back.Secret() != testToken || !back.PasswordExpiry.Equal(testExpiry.Truncate(time.Second)) {
			t.Errorf("answer read back: %#v", *back)
		}
	}
}

// TestGitAcceptsAnswers feeds an answer to the git on this machine through a
// credential helper and checks what "git credential fill" makes of it: git
// 2.39 must take the username and password and ignore password_expiry_utc,
// which it does not know; a newer git must do the same.
func TestGitAcceptsAnswers(t *testing.T) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	req, err := ReadGitRequest(bytes.NewReader(readTestdata(t, "git-request-2.39.txt")))
	if err != nil {
		t.Fatal(err)
	}
	var ans bytes.Buffer
	if err := GitRespond(&ans, req, "oauth2", bearer(testToken), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	answer := filepath.Join(t.TempDir(), "answer")
	if err := os.WriteFile(answer, ans.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gitPath,
		"-c", "credential.helper=", // reset any helper from the user's config
		"-c", "credential.helper=!cat '"+answer+"' #",
		"credential", "fill")
	cmd.Stdin = bytes.NewReader(readTestdata(t, "git-request-2.39.txt"))
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir(), "GIT_TERMINAL_PROMPT=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git credential fill: %v: %s", err, stderr.String())
	}
	got, err := ReadGitRequest(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "oauth2" || got.Password != testToken || got.Host != "git.example.com" {
		t.Errorf("git filled %#v", *got)
	}
}
