package authtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// nativeClient is metadata a native public client would register.
func nativeClient() map[string]any {
	return map[string]any{
		"application_type":           "native",
		"token_endpoint_auth_method": "none",
		"redirect_uris":              []string{"http://127.0.0.1/callback", "http://[::1]/callback"},
		"grant_types":                []string{GrantAuthorizationCode, GrantRefreshToken, GrantDeviceCode},
		"response_types":             []string{"code"},
		"client_name":                "sesame test",
	}
}

func register(t *testing.T, s *Server, md map[string]any) dpopResponse {
	t.Helper()
	b, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+PathRegister, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, s, req)
}

// manage sends method to a registration_client_uri with authorization as
// the Authorization header ("" for none).
func manage(t *testing.T, s *Server, method, uri, authorization string) dpopResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return do(t, s, req)
}

func TestRegistration_Off(t *testing.T) {
	s := New(t)
	if _, ok := s.Metadata()["registration_endpoint"]; ok {
		t.Fatal("registration advertised while off")
	}
	if r := register(t, s, nativeClient()); r.status != http.StatusNotFound {
		t.Fatalf("register while off: %d %v", r.status, r.body)
	}
	if s.CountRequests(PathRegister) != 1 || len(s.Registrations()) != 0 {
		t.Fatal("request not recorded, or body taken while off")
	}
}

func TestRegistration_RoundTrip(t *testing.T) {
	s := New(t, WithRegistration(), WithDPoP(DPoPOptions{}))
	if s.Metadata()["registration_endpoint"] != s.Issuer()+PathRegister {
		t.Fatalf("registration_endpoint %v", s.Metadata()["registration_endpoint"])
	}
	r := register(t, s, nativeClient())
	id, _ := r.body["client_id"].(string)
	rat, _ := r.body["registration_access_token"].(string)
	if r.status != http.StatusCreated || id == "" || id == s.ClientID || !strings.HasPrefix(rat, "SNTL-") ||
		r.body["registration_client_uri"] != s.Issuer()+PathRegister+"/"+id ||
		r.body["client_name"] != "sesame test" || r.body["token_endpoint_auth_method"] != "none" ||
		r.body["client_secret"] != nil || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("registration: %d %v", r.status, r.body)
	}
	if iat, _ := r.body["client_id_issued_at"].(float64); int64(iat) < time.Now().Add(-time.Minute).Unix() {
		t.Fatalf("client_id_issued_at %v", r.body["client_id_issued_at"])
	}
	if got := s.RegisteredClients(); len(got) != 1 || got[0] != id {
		t.Fatalf("RegisteredClients %v", got)
	}
	if regs := s.Registrations(); len(regs) != 1 || regs[0]["client_name"] != "sesame test" || regs[0]["client_id"] != nil {
		t.Fatalf("Registrations %v", regs)
	}
	if s.CountRequests(PathRegister) != 1 {
		t.Fatal("registration request not recorded")
	}

	// The new client works like the configured one: code flow with a DPoP
	// proof, refresh, PAR, device authorization and revocation.
	k := newDPoPKey(t)
	c := getCode(t, s, id, nil)
	_, rt := postDPoP(t, s, PathToken, c.form(), k.proof(t, s.URL()+PathToken)).wantOK(t, "DPoP")
	if iss := s.Issued(); iss[0].Family == "" || s.RefreshTokenJKT(rt) != k.jkt {
		t.Fatalf("issued %+v", iss)
	}
	_, ib := post(t, s, PathIntrospect, url.Values{"token": {rt}})
	if ib["client_id"] != id {
		t.Fatalf("introspection %v", ib)
	}
	form := refreshForm(s, rt)
	form.Set("client_id", id)
	_, rt = postDPoP(t, s, PathToken, form, k.proof(t, s.URL()+PathToken)).wantOK(t, "DPoP")
	// Another client cannot use the new client's refresh token.
	postDPoP(t, s, PathToken, refreshForm(s, rt), k.proof(t, s.URL()+PathToken)).wantError(t, http.StatusBadRequest, "invalid_grant")

	status, body := post(t, s, PathPAR, url.Values{
		"client_id": {id}, "redirect_uri": {"http://127.0.0.1:49152/callback"}, "response_type": {"code"},
		"code_challenge": {S256Challenge(strings.Repeat("v", 43))}, "code_challenge_method": {"S256"},
	})
	if status != http.StatusCreated {
		t.Fatalf("PAR: %d %v", status, body)
	}
	status, body = post(t, s, PathDeviceAuthorization, url.Values{"client_id": {id}})
	if status != http.StatusOK {
		t.Fatalf("device authorization: %d %v", status, body)
	}
	if status, body = post(t, s, PathRevoke, url.Values{"client_id": {id}, "token": {rt}}); status != http.StatusOK || !s.Revoked(rt) {
		t.Fatalf("revoke: %d %v", status, body)
	}
	// The configured client is still accepted.
	if status, body = post(t, s, PathDeviceAuthorization, url.Values{"client_id": {s.ClientID}}); status != http.StatusOK {
		t.Fatalf("default client: %d %v", status, body)
	}
}

func TestRegistration_ReadAndDelete(t *testing.T) {
	s := New(t, WithRegistration())
	r := register(t, s, nativeClient())
	id, _ := r.body["client_id"].(string)
	rat, _ := r.body["registration_access_token"].(string)
	uri, _ := r.body["registration_client_uri"].(string)
	other := register(t, s, nativeClient())
	otherRAT, _ := other.body["registration_access_token"].(string)

	c := getCode(t, s, id, nil)
	_, rt := postDPoP(t, s, PathToken, c.form()).wantOK(t, "Bearer")

	if g := manage(t, s, http.MethodGet, uri, "Bearer "+rat); g.status != http.StatusOK || g.body["client_id"] != id {
		t.Fatalf("read: %d %v", g.status, g.body)
	}
	for name, tc := range map[string]struct{ uri, auth string }{
		"no token":           {uri, ""},
		"wrong token":        {uri, "Bearer SNTL-RAT-wrong"},
		"other client's":     {uri, "Bearer " + otherRAT},
		"wrong scheme":       {uri, "Basic " + rat},
		"unknown client":     {s.URL() + PathRegister + "/dyn-unknown", "Bearer " + rat},
		"token in the query": {uri + "?access_token=" + url.QueryEscape(rat), ""},
	} {
		if d := manage(t, s, http.MethodDelete, tc.uri, tc.auth); d.status != http.StatusUnauthorized || d.body["error"] != "invalid_token" ||
			!strings.HasPrefix(d.header.Get("WWW-Authenticate"), "Bearer ") {
			t.Fatalf("%s: %d %v", name, d.status, d.body)
		}
	}
	if len(s.DeletedClients()) != 0 || len(s.RegisteredClients()) != 2 {
		t.Fatal("a refused delete deleted")
	}
	if d := manage(t, s, http.MethodPut, uri, "Bearer "+rat); d.status != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %d", d.status)
	}

	if d := manage(t, s, http.MethodDelete, uri, "Bearer "+rat); d.status != http.StatusNoContent {
		t.Fatalf("delete: %d %v", d.status, d.body)
	}
	if got := s.DeletedClients(); len(got) != 1 || got[0] != id {
		t.Fatalf("DeletedClients %v", got)
	}
	if got := s.RegisteredClients(); len(got) != 1 || got[0] == id {
		t.Fatalf("RegisteredClients %v", got)
	}
	// Gone everywhere: the token endpoint, PAR, device, revocation, the
	// registration itself; its grants are revoked.
	form := refreshForm(s, rt)
	form.Set("client_id", id)
	postDPoP(t, s, PathToken, form).wantError(t, http.StatusUnauthorized, "invalid_client")
	for _, path := range []string{PathPAR, PathDeviceAuthorization, PathRevoke} {
		status, body := post(t, s, path, url.Values{"client_id": {id}, "token": {rt}})
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	}
	if !s.Revoked(rt) {
		t.Fatal("the deleted client's grant survived")
	}
	resp, err := noRedirectClient(s).Get(s.URL() + PathAuthorize + "?" + url.Values{
		"client_id": {id}, "redirect_uri": {"http://127.0.0.1:49152/callback"}, "response_type": {"code"},
		"code_challenge": {S256Challenge(strings.Repeat("v", 43))}, "code_challenge_method": {"S256"},
	}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("authorize with a deleted client: %d", resp.StatusCode)
	}
	if d := manage(t, s, http.MethodDelete, uri, "Bearer "+rat); d.status != http.StatusUnauthorized {
		t.Fatalf("second delete: %d", d.status)
	}
	if g := manage(t, s, http.MethodGet, uri, "Bearer "+rat); g.status != http.StatusUnauthorized {
		t.Fatalf("read after delete: %d", g.status)
	}
}

func TestRegistration_Refused(t *testing.T) {
	s := New(t, WithRegistration())
	edit := func(f func(md map[string]any)) map[string]any {
		md := nativeClient()
		f(md)
		return md
	}
	tests := map[string]struct {
		md   map[string]any
		want string
	}{
		"web application":     {edit(func(md map[string]any) { md["application_type"] = "web" }), "invalid_client_metadata"},
		"no application_type": {edit(func(md map[string]any) { delete(md, "application_type") }), "invalid_client_metadata"},
		"client_secret_basic": {edit(func(md map[string]any) { md["token_endpoint_auth_method"] = "client_secret_basic" }), "invalid_client_metadata"},
		"no auth method":      {edit(func(md map[string]any) { delete(md, "token_endpoint_auth_method") }), "invalid_client_metadata"},
		"implicit grant":      {edit(func(md map[string]any) { md["grant_types"] = []string{"implicit"} }), "invalid_client_metadata"},
		"token response":      {edit(func(md map[string]any) { md["response_types"] = []string{"token"} }), "invalid_client_metadata"},
		"https redirect":      {edit(func(md map[string]any) { md["redirect_uris"] = []string{"https://127.0.0.1/callback"} }), "invalid_redirect_uri"},
		"localhost redirect":  {edit(func(md map[string]any) { md["redirect_uris"] = []string{"http://localhost/callback"} }), "invalid_redirect_uri"},
		"remote redirect": {edit(func(md map[string]any) {
			md["redirect_uris"] = []string{"http://127.0.0.1/cb", "http://example.test/cb"}
		}), "invalid_redirect_uri"},
		"custom scheme":         {edit(func(md map[string]any) { md["redirect_uris"] = []string{"com.example.app:/cb"} }), "invalid_redirect_uri"},
		"no redirect_uris":      {edit(func(md map[string]any) { delete(md, "redirect_uris") }), "invalid_redirect_uri"},
		"redirect_uris string":  {edit(func(md map[string]any) { md["redirect_uris"] = "http://127.0.0.1/callback" }), "invalid_redirect_uri"},
		"fragment in redirect":  {edit(func(md map[string]any) { md["redirect_uris"] = []string{"http://127.0.0.1/callback#x"} }), "invalid_redirect_uri"},
		"application_type bool": {edit(func(md map[string]any) { md["application_type"] = true }), "invalid_client_metadata"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			register(t, s, tc.md).wantError(t, http.StatusBadRequest, tc.want)
		})
	}
	// A device-only client needs no redirect URI.
	deviceOnly := edit(func(md map[string]any) {
		delete(md, "redirect_uris")
		md["grant_types"] = []string{GrantDeviceCode, GrantRefreshToken}
	})
	if r := register(t, s, deviceOnly); r.status != http.StatusCreated {
		t.Fatalf("device-only client: %d %v", r.status, r.body)
	}
	// Not JSON.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+PathRegister, strings.NewReader("application_type=native"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	do(t, s, req).wantError(t, http.StatusBadRequest, "invalid_client_metadata")
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+PathRegister, strings.NewReader("[1]"))
	req.Header.Set("Content-Type", "application/json")
	do(t, s, req).wantError(t, http.StatusBadRequest, "invalid_client_metadata")
	if r := manage(t, s, http.MethodGet, s.URL()+PathRegister, ""); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("GET /register: %d", r.status)
	}

	if n := len(s.RegisteredClients()); n != 1 {
		t.Fatalf("%d clients registered, want 1", n)
	}
	// Every JSON object received is kept, refused ones included.
	if n := len(s.Registrations()); n != len(tests)+1 {
		t.Fatalf("%d registrations recorded, want %d", n, len(tests)+1)
	}
}

func TestRegistration_HookAndConfiguredClientID(t *testing.T) {
	s := New(t, WithRegistration(), WithClientID("custom"), WithHook(PathRegister, func(w http.ResponseWriter, r *http.Request) bool {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "temporarily_unavailable"})
		return true
	}))
	register(t, s, nativeClient()).wantError(t, http.StatusServiceUnavailable, "temporarily_unavailable")
	s.Configure(WithHook(PathRegister, nil))
	id, _ := register(t, s, nativeClient()).body["client_id"].(string)
	for _, cid := range []string{"custom", id} {
		if status, body := post(t, s, PathDeviceAuthorization, url.Values{"client_id": {cid}}); status != http.StatusOK {
			t.Fatalf("%s: %d %v", cid, status, body)
		}
	}
	status, body := post(t, s, PathDeviceAuthorization, url.Values{"client_id": {DefaultClientID}})
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
}
