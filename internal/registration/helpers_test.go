package registration

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Secrets the fake server hands out. No error may ever contain them.
const (
	testToken    = "SNTL-rat-0123456789abcdef"
	testSecret   = "SNTL-secret-fedcba9876543210"
	testClientID = "sesame-123"
	// bodyMarker is put into response bodies that must not be quoted.
	bodyMarker = "BODYMARKER"
)

// checkErr fails the test if err's message holds a secret or body text.
// Every error a test sees goes through it.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, bad := range []string{testToken, testSecret, bodyMarker} {
		if strings.Contains(err.Error(), bad) {
			t.Errorf("error quotes %q: %v", bad, err)
		}
	}
}

// recorded is one request the fake server received.
type recorded struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// fakeAS is a registration endpoint at /register and a client
// configuration endpoint under /clients/.
type fakeAS struct {
	srv *httptest.Server

	// Set before the first request.
	regStatus int
	regBody   func(base string) string // base is srv.URL
	delStatus int
	delBody   string

	mu   sync.Mutex
	reqs []recorded
}

func newAS(t *testing.T) *fakeAS {
	t.Helper()
	as := &fakeAS{regStatus: http.StatusCreated, regBody: func(base string) string { return okBody(base, nil) }, delStatus: http.StatusNoContent}
	as.srv = httptest.NewServer(http.HandlerFunc(as.serve))
	t.Cleanup(as.srv.Close)
	return as
}

func (as *fakeAS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	as.mu.Lock()
	as.reqs = append(as.reqs, recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	as.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/register" && r.Method == http.MethodPost:
		w.WriteHeader(as.regStatus)
		_, _ = io.WriteString(w, as.regBody(as.srv.URL))
	case strings.HasPrefix(r.URL.Path, "/clients/") && r.Method == http.MethodDelete:
		w.WriteHeader(as.delStatus)
		_, _ = io.WriteString(w, as.delBody)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (as *fakeAS) endpoint() string { return as.srv.URL + "/register" }

func (as *fakeAS) clientURI() string { return as.srv.URL + "/clients/" + testClientID }

// requests returns the requests received so far with the given method.
func (as *fakeAS) requests(method string) []recorded {
	as.mu.Lock()
	defer as.mu.Unlock()
	var out []recorded
	for _, r := range as.reqs {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

func (as *fakeAS) all() []recorded {
	as.mu.Lock()
	defer as.mu.Unlock()
	return append([]recorded(nil), as.reqs...)
}

// testRequest is the metadata sesame would register.
func testRequest() Request {
	return Request{
		ClientName:   "sesame",
		RedirectURIs: []string{"http://127.0.0.1/callback", "http://[::1]/callback"},
		GrantTypes:   []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
		Scope:        "openid offline_access",
	}
}

// okBody is a client information response (RFC 7591 §3.2.1) for
// testRequest with a same-origin management URI. extra overrides members;
// a nil value removes one.
func okBody(base string, extra map[string]any) string {
	m := map[string]any{
		"client_id":                  testClientID,
		"client_id_issued_at":        1700000000,
		"client_name":                "sesame",
		"redirect_uris":              testRequest().RedirectURIs,
		"grant_types":                testRequest().GrantTypes,
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
		"application_type":           "native",
		"registration_access_token":  testToken,
		"registration_client_uri":    base + "/clients/" + testClientID,
	}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}
