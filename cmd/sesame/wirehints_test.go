package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/session"
)

// TestReport_OAuthErrors: what a person reads for the OAuth wire layer's
// errors, the hints keyed on their kind, and the exit codes, which are
// those of any error.
func TestReport_OAuthErrors(t *testing.T) {
	clientHint := `sesame: hint: the server does not accept the client id of profile "work" for this sign-in: check the client id, and the grant types it may use, with the server's administrator`
	for _, tt := range []struct {
		name string
		err  error
		want []string
		code int
	}{
		{"client unknown at the code exchange", oauthwire.NewError("code exchange", 401, "invalid_client", "Client authentication failed", ""),
			[]string{"sesame: error: code exchange: the server refused (401 invalid_client): Client authentication failed", clientHint}, exitError},
		{"device grant not allowed", oauthwire.NewError("device authorization", 400, "unauthorized_client", "", ""),
			[]string{"sesame: error: device authorization: the server refused (400 unauthorized_client)", clientHint}, exitError},
		{"redirect", redirectError(t),
			[]string{"sesame: error: pushed authorization request: the server answered 302 Found, a redirect, which sesame does not follow for this request",
				"sesame: hint: " + redirectHint}, exitError},
		{"denied", oauthwire.NewError("authorization", 0, "access_denied", "The user said no", ""),
			[]string{"sesame: error: authorization: the server refused (access_denied): The user said no",
				"sesame: hint: the sign-in was denied: approve it on the server's page, or ask its administrator whether your account may use this client; then run 'sesame login -p work' again"}, exitError},
		{"refresh refused with invalid_client: no login hint", &session.RefreshError{Err: oauthwire.NewError("token refresh", 401, "invalid_client", "", "")},
			[]string{"sesame: error: token refresh: the server refused (401 invalid_client)"}, exitError},
		{"refresh with a cause of its own", &session.RefreshError{Err: errors.New("the server did not answer within 1m0s")},
			[]string{"sesame: error: token refresh: the server did not answer within 1m0s"}, exitError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := report(&out, "work", tt.err)
			got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if code != tt.code || strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("exit %d:\n%s\nwant exit %d:\n%s", code, out.String(), tt.code, strings.Join(tt.want, "\n"))
			}
		})
	}
}

// redirectError is the error of an OAuth request answered with a 302.
func redirectError(t *testing.T) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	_, err := oauthwire.Send(t.Context(), srv.Client(), oauthwire.Request{Op: "pushed authorization request", URL: srv.URL + "/par"})
	if !errors.Is(err, oauthwire.ErrRedirect) {
		t.Fatalf("err = %v, want a redirect", err)
	}
	return err
}
