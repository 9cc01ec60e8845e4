package authtest

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// postAs sends form to path with the given Authorization and Accept headers
// and returns the status, content type and body.
func postAs(t *testing.T, s *Server, path string, form url.Values, auth, accept string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

func TestWithClientSecret(t *testing.T) {
	refresh := func(extra url.Values) url.Values {
		v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"unknown"}, "client_id": {DefaultClientID}}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	tests := []struct {
		name  string
		basic bool
		form  url.Values
		auth  string
		want  string
	}{
		{name: "post: none", form: refresh(nil), want: "invalid_client"},
		{name: "post: wrong", form: refresh(url.Values{"client_secret": {"nope"}}), want: "invalid_client"},
		{name: "post: right", form: refresh(url.Values{"client_secret": {"s3cret"}}), want: "invalid_grant"},
		{name: "post: in a header", form: refresh(nil), auth: base64Basic(DefaultClientID, "s3cret"), want: "invalid_client"},
		{name: "basic: right", basic: true, form: refresh(nil), auth: base64Basic(DefaultClientID, "s3cret"), want: "invalid_grant"},
		{name: "basic: in the body", basic: true, form: refresh(url.Values{"client_secret": {"s3cret"}}), want: "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t, WithClientSecret("s3cret", tt.basic))
			_, _, body := postAs(t, s, PathToken, tt.form, tt.auth, "application/json")
			if !strings.Contains(body, `"error":"`+tt.want+`"`) {
				t.Errorf("answer %s, want %s", body, tt.want)
			}
		})
	}
	// The secret is the token endpoint's only: revocation refuses it.
	s := New(t, WithClientSecret("s3cret", false))
	status, _, _ := postAs(t, s, PathRevoke, url.Values{"token": {"x"}, "client_id": {DefaultClientID}, "client_secret": {"s3cret"}}, "", "")
	if status != http.StatusUnauthorized {
		t.Errorf("revocation with a secret: %d, want 401", status)
	}
}

func TestWithFormAnswers_AsGitHub(t *testing.T) {
	s := New(t, WithFormAnswers(), WithoutDiscovery(), WithRoutes(map[string]string{"/login/oauth/access_token": PathToken}))
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"unknown"}, "client_id": {DefaultClientID}}
	status, ctype, body := postAs(t, s, "/login/oauth/access_token", form, "", "")
	if status != http.StatusOK || !strings.HasPrefix(ctype, "application/x-www-form-urlencoded") || !strings.Contains(body, "error=invalid_grant") {
		t.Errorf("without Accept: %d %s %q, want 200 and a form with error=invalid_grant", status, ctype, body)
	}
	status, ctype, body = postAs(t, s, "/login/oauth/access_token", form, "", "application/json")
	if status != http.StatusOK || ctype != "application/json" || !strings.Contains(body, `"error":"invalid_grant"`) {
		t.Errorf("with Accept: application/json: %d %s %q, want 200 and JSON", status, ctype, body)
	}
	resp, err := s.Client().Get(s.URL() + PathOIDCDiscovery)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("discovery: %d, want 404", resp.StatusCode)
	}
}

func TestWithBasePath(t *testing.T) {
	s := New(t, WithBasePath("/common/v2.0"))
	if s.Issuer() != s.URL()+"/common/v2.0" {
		t.Fatalf("issuer %s", s.Issuer())
	}
	md := s.Metadata()
	if md["token_endpoint"] != s.Issuer()+PathToken {
		t.Errorf("token endpoint %v", md["token_endpoint"])
	}
	for path, want := range map[string]int{"/common/v2.0" + PathOIDCDiscovery: 200, PathOIDCDiscovery: 404, "/common/v2.0x" + PathOIDCDiscovery: 404} {
		resp, err := s.Client().Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// base64Basic is the Authorization header of HTTP Basic for a client
// (RFC 6749 §2.3.1: both parts form-encoded first).
func base64Basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}
