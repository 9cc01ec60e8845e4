package registration

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// FuzzRegisterResponse feeds Register any status and body a hostile server
// could send. Whatever comes back: no panic; an accepted registration has
// a usable client id and keeps its management URI only on the registration
// endpoint's origin; no error quotes a success body (its management token,
// a secret) or holds a control character.
func FuzzRegisterResponse(f *testing.F) {
	seeds := []string{
		`{"client_id":"c1","registration_access_token":"` + testToken + `","registration_client_uri":"BASE/clients/c1","token_endpoint_auth_method":"none"}`,
		`{"client_id":"c1","client_secret":"` + testSecret + `"}`,
		`{"client_id":"c1","registration_access_token":"` + testToken + `","registration_client_uri":"https://evil.example/c1"}`,
		`{"error":"invalid_redirect_uri","error_description":"` + bodyMarker + `\u001b[31m"}`,
		`{"client_id":"","application_type":"web"}`,
		`{"client_id":"c1","redirect_uris":["http://127.0.0.1/other"]}`,
		`[]`, `null`, `{"client_id":7}`,
	}
	for _, s := range seeds {
		f.Add(201, s)
		f.Add(400, s)
	}
	var (
		mu     sync.Mutex
		status int
		body   string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		code, b := status, body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(strings.ReplaceAll(b, "BASE", "http://"+r.Host)))
	}))
	f.Cleanup(srv.Close)
	endpoint, _ := url.Parse(srv.URL + "/register")

	f.Fuzz(func(t *testing.T, code int, b string) {
		if code < 200 || code > 599 || len(b) > 1<<16 {
			t.Skip()
		}
		mu.Lock()
		status, body = code, b
		mu.Unlock()
		cl, err := Register(context.Background(), srv.Client(), endpoint.String(), Request{
			ClientName:   "sesame",
			RedirectURIs: []string{"http://127.0.0.1/callback"},
			GrantTypes:   []string{"authorization_code"},
		})
		if err != nil {
			msg := err.Error()
			// A 200 or 201 body carries secrets: no error may quote them. An error
			// response's code is shown, sanitized: one line, no control
			// characters.
			if (code == 200 || code == 201) && (strings.Contains(msg, testToken) || strings.Contains(msg, testSecret) || strings.Contains(msg, bodyMarker)) {
				t.Fatalf("error quotes the response: %q", msg)
			}
			if strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
				t.Fatalf("control characters in the error: %q", msg)
			}
			return
		}
		if cl.ClientID == "" || !visibleASCII(cl.ClientID, maxClientIDLen) {
			t.Fatalf("accepted client id %q", cl.ClientID)
		}
		if cl.RegistrationClientURI != "" {
			u, perr := url.Parse(cl.RegistrationClientURI)
			if perr != nil || !urlcheck.SameOrigin(u, endpoint) || cl.RegistrationAccessToken == "" {
				t.Fatalf("kept management URI %q on another origin, or without its token", cl.RegistrationClientURI)
			}
		} else if cl.RegistrationAccessToken != "" {
			t.Fatal("kept a management token without its URI")
		}
	})
}
