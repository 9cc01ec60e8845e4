package registration

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/internal/oauthwire"
)

func TestDelete_Success(t *testing.T) {
	for _, status := range []int{http.StatusNoContent, http.StatusOK} {
		as := newAS(t)
		as.delStatus = status
		err := Delete(context.Background(), as.srv.Client(), as.clientURI(), testToken)
		checkErr(t, err)
		if err != nil {
			t.Fatalf("HTTP %d: %v", status, err)
		}
		reqs := as.all()
		if len(reqs) != 1 {
			t.Fatalf("%d requests", len(reqs))
		}
		r := reqs[0]
		if r.Method != http.MethodDelete || r.Path != "/clients/"+testClientID {
			t.Errorf("%s %s", r.Method, r.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.Header.Get("Accept"); got != "application/json" {
			t.Errorf("Accept = %q", got)
		}
		if len(r.Body) != 0 {
			t.Errorf("body = %q", r.Body)
		}
	}
}

func TestDelete_Gone(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound} {
		as := newAS(t)
		as.delStatus = status
		as.delBody = `{"error":"invalid_token","error_description":"` + bodyMarker + " " + testToken + `"}`
		err := Delete(context.Background(), as.srv.Client(), as.clientURI(), testToken)
		checkErr(t, err)
		if !errors.Is(err, ErrGone) {
			t.Errorf("HTTP %d: err = %v, want ErrGone", status, err)
		}
		var e *oauthwire.Error
		if errors.As(err, &e) {
			t.Errorf("HTTP %d: ErrGone is not an *Error: %v", status, err)
		}
	}
}

// The server's text reaches the *Error sanitized and without the token,
// even when the server echoes it.
func TestDelete_ServerError(t *testing.T) {
	as := newAS(t)
	as.delStatus = http.StatusInternalServerError
	as.delBody = `{"error":"server_error ` + testToken + `\u001b[31m","error_description":"` +
		`token ` + testToken + ` and split SNTL-rat-\u001b[0m0123456789abcdef and Bearer ` + testToken + `"}`
	err := Delete(context.Background(), as.srv.Client(), as.clientURI(), testToken)
	checkErr(t, err)
	var e *oauthwire.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T)", err, err)
	}
	if e.Status != http.StatusInternalServerError {
		t.Errorf("status = %d", e.Status)
	}
	for _, s := range []string{e.Code, e.Description} {
		if strings.Contains(s, testToken) || strings.Contains(s, "\x1b") {
			t.Errorf("server text kept the token or an escape: %q", s)
		}
	}
	if !strings.HasPrefix(e.Code, "server_error") {
		t.Errorf("code = %q", e.Code)
	}
	if errors.Is(err, ErrGone) {
		t.Error("a 500 is not ErrGone")
	}
	if want := "deleting the client registration: the server refused (500 server_error REDACTED): token REDACTED and split REDACTED and Bearer REDACTED"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

// A redirect is not followed: it would carry the token elsewhere.
func TestDelete_RedirectNotFollowed(t *testing.T) {
	other := newAS(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.clientURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	err := Delete(context.Background(), srv.Client(), srv.URL+"/clients/1", testToken)
	checkErr(t, err)
	var e *oauthwire.Error
	if !errors.As(err, &e) || e.Status != http.StatusTemporaryRedirect {
		t.Errorf("err = %v", err)
	}
	if n := len(other.all()); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

// A transport error loses the *url.Error that would quote a query, and
// never holds the token, wherever the URL put it.
func TestDelete_TransportError(t *testing.T) {
	as := newAS(t)
	base := as.srv.URL
	as.srv.Close()
	for name, uri := range map[string]string{
		"query":         base + "/clients/1?" + bodyMarker + "=1",
		"token in path": base + "/clients/" + testToken,
		"token query":   base + "/clients/1?registration_access_token=" + testToken,
	} {
		err := Delete(context.Background(), as.srv.Client(), uri, testToken)
		checkErr(t, err)
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if errors.Is(err, ErrGone) {
			t.Errorf("%s: a transport error is not ErrGone", name)
		}
		var ue *url.Error
		if strings.Contains(uri, "?") && errors.As(err, &ue) {
			t.Errorf("%s: the *url.Error quoting a query was kept: %v", name, err)
		}
	}
}

func TestDelete_Canceled(t *testing.T) {
	as := newAS(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Delete(ctx, as.srv.Client(), as.clientURI(), testToken)
	checkErr(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestDelete_BadInput(t *testing.T) {
	as := newAS(t)
	for name, tc := range map[string]struct{ uri, token string }{
		"empty token":       {as.clientURI(), ""},
		"token with space":  {as.clientURI(), "a b"},
		"token with CRLF":   {as.clientURI(), testToken + "\r\nX-Evil: 1"},
		"http non-loopback": {"http://as.example/clients/" + testToken, testToken},
		"relative":          {"/clients/1", testToken},
		"user info":         {strings.Replace(as.clientURI(), "http://", "http://u:"+testToken+"@", 1), testToken},
		"fragment":          {as.clientURI() + "#" + testToken, testToken},
		"not a URL":         {"http://[::1" + testToken, testToken},
	} {
		err := Delete(context.Background(), as.srv.Client(), tc.uri, tc.token)
		checkErr(t, err)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := len(as.all()); n != 0 {
		t.Errorf("%d requests made", n)
	}
	if err := Delete(context.Background(), nil, as.clientURI(), testToken); err == nil {
		t.Error("nil client accepted")
	}
}

func TestDelete_BodyTooLarge(t *testing.T) {
	as := newAS(t)
	as.delStatus = http.StatusInternalServerError
	as.delBody = `{"error":"server_error","pad":"` + strings.Repeat("a", oauthwire.MaxBody) + `"}`
	err := Delete(context.Background(), as.srv.Client(), as.clientURI(), testToken)
	checkErr(t, err)
	var e *oauthwire.Error
	if !errors.As(err, &e) || e.Status != http.StatusInternalServerError || e.Code != "" {
		t.Errorf("err = %v", err)
	}
}
