package authtest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// WithRegistration turns on dynamic client registration (RFC 7591) and
// client configuration (RFC 7592); both are off by default. The metadata
// then announces registration_endpoint (issuer + [PathRegister]), which
// registers native public clients only:
//
//   - POST, Content-Type application/json, a JSON object with
//     application_type "native" and token_endpoint_auth_method "none"
//     (anything else, absent included, is 400 invalid_client_metadata, as
//     are grant_types beyond authorization_code, refresh_token and the
//     device grant and response_types beyond "code");
//   - redirect_uris, required with the authorization_code grant (the
//     default), all http URIs on a loopback host of [WithRedirectHosts]
//     (default 127.0.0.1 and [::1]), with or without a port; else 400
//     invalid_redirect_uri.
//
// Success is 201 with the metadata received plus client_id,
// client_id_issued_at, registration_access_token and
// registration_client_uri (issuer + "/register/" + client_id). The new
// client is then accepted everywhere the configured one is. DELETE on its
// registration_client_uri with "Authorization: Bearer
// <registration_access_token>" answers 204 and forgets the client (later
// requests get invalid_client, its grants are revoked); GET there returns
// its registration. A missing or wrong token, or an unknown or deleted
// client, gets 401 {"error":"invalid_token"}.
func WithRegistration() Option { return func(c *config) { c.registration = true } }

// registeredClient is a client registered through [PathRegister].
type registeredClient struct {
	id       string
	token    string         // the registration access token
	metadata map[string]any // the registration response; not changed after creation
	deleted  bool
}

// registrationState lives in the store, under Server.mu.
type registrationState struct {
	clients []*registeredClient // in registration order
	deleted []string            // client ids in deletion order
	bodies  [][]byte            // every JSON object received at PathRegister
}

func (rs *registrationState) find(id string) *registeredClient {
	for _, c := range rs.clients {
		if c.id == id {
			return c
		}
	}
	return nil
}

// RegisteredClients returns the client ids registered through
// [PathRegister] and not deleted, in registration order. The configured
// [Server.ClientID] is not among them.
func (s *Server) RegisteredClients() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, c := range s.st.reg.clients {
		if !c.deleted {
			ids = append(ids, c.id)
		}
	}
	return ids
}

// DeletedClients returns the client ids deleted through their
// registration_client_uri, in deletion order.
func (s *Server) DeletedClients() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.reg.deleted)
}

// Registrations returns every JSON object received by the registration
// endpoint, oldest first, refused registrations included. The maps are
// fresh copies.
func (s *Server) Registrations() []map[string]any {
	s.mu.Lock()
	bodies := slices.Clone(s.st.reg.bodies)
	s.mu.Unlock()
	out := make([]map[string]any, 0, len(bodies))
	for _, b := range bodies {
		var m map[string]any
		_ = json.Unmarshal(b, &m) // stored only once it parsed
		out = append(out, m)
	}
	return out
}

// knownClient reports whether id is the configured client or a registered
// one that was not deleted.
func (s *Server) knownClient(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.knownClientLocked(id)
}

// knownClientLocked is knownClient for a caller holding s.mu.
func (s *Server) knownClientLocked(id string) bool {
	if id == s.cfg.clientID {
		return true
	}
	c := s.st.reg.find(id)
	return c != nil && !c.deleted
}

// handleRegister implements RFC 7591 §3 for native public clients.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	on, hosts := s.cfg.registration, s.cfg.redirectHosts
	s.mu.Unlock()
	if !on {
		http.NotFound(w, r)
		return
	}
	if !requirePost(w, r) {
		return
	}
	invalid := func(desc string) {
		writeOAuthError(w, badRequest("invalid_client_metadata", desc))
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		invalid("Content-Type must be application/json")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		invalid("unreadable body: " + err.Error())
		return
	}
	var md map[string]any
	if err := json.Unmarshal(body, &md); err != nil || md == nil {
		invalid("the body must be a JSON object")
		return
	}
	s.mu.Lock()
	s.st.reg.bodies = append(s.st.reg.bodies, bytes.Clone(body))
	s.mu.Unlock()
	if e := checkClientMetadata(md, hosts); e != nil {
		writeOAuthError(w, e)
		return
	}

	c := &registeredClient{
		id:    "dyn-" + randomString(12),
		token: "SNTL-RAT-" + randomString(24),
	}
	resp := maps.Clone(md)
	// A public client gets no secret, whatever it asked for.
	delete(resp, "client_secret")
	delete(resp, "client_secret_expires_at")
	resp["client_id"] = c.id
	resp["registration_access_token"] = c.token
	resp["registration_client_uri"] = s.Issuer() + PathRegister + "/" + c.id
	s.mu.Lock()
	resp["client_id_issued_at"] = s.now().Unix()
	c.metadata = resp
	s.st.reg.clients = append(s.st.reg.clients, c)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, resp)
}

// handleClientConfiguration implements RFC 7592 §2.1 (read) and §2.3
// (delete) at PathRegister/{id}.
func (s *Server) handleClientConfiguration(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	on := s.cfg.registration
	s.mu.Unlock()
	if !on {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodDelete {
		w.Header().Set("Allow", "GET, DELETE")
		writeOAuthError(w, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", description: "GET or DELETE required"})
		return
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")

	s.mu.Lock()
	c := s.st.reg.find(r.PathValue("id"))
	// RFC 7592 §2: an unknown client is answered like a bad token, so the
	// endpoint tells nothing about which ids exist.
	if c == nil || c.deleted || !strings.EqualFold(scheme, "Bearer") || token == "" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(c.token)) != 1 {
		s.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Bearer realm="authtest", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_token"})
		return
	}
	if r.Method == http.MethodGet {
		md := c.metadata
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, md)
		return
	}
	c.deleted = true
	s.st.reg.deleted = append(s.st.reg.deleted, c.id)
	for _, f := range s.st.families {
		if f.clientID == c.id {
			f.revoked = true
		}
	}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// checkClientMetadata accepts what a native public client may register
// (RFC 7591 §2, RFC 8252 §8.4).
func checkClientMetadata(md map[string]any, hosts []string) *oauthError {
	invalid := func(desc string) *oauthError { return badRequest("invalid_client_metadata", desc) }
	if v, _ := md["application_type"].(string); v != "native" {
		return invalid(`application_type must be "native"`)
	}
	if v, _ := md["token_endpoint_auth_method"].(string); v != "none" {
		return invalid(`token_endpoint_auth_method must be "none"`)
	}
	strs := func(name string, def ...string) ([]string, bool) {
		raw, present := md[name]
		if !present {
			return def, true
		}
		list, ok := raw.([]any)
		if !ok {
			return nil, false
		}
		out := make([]string, 0, len(list))
		for _, v := range list {
			s, ok := v.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	grants, ok := strs("grant_types", GrantAuthorizationCode)
	if !ok {
		return invalid("grant_types must be an array of strings")
	}
	for _, g := range grants {
		if g != GrantAuthorizationCode && g != GrantRefreshToken && g != GrantDeviceCode {
			return invalid("unsupported grant type " + strconv.Quote(g))
		}
	}
	responses, ok := strs("response_types", "code")
	if !ok {
		return invalid("response_types must be an array of strings")
	}
	for _, rt := range responses {
		if rt != "code" {
			return invalid("unsupported response type " + strconv.Quote(rt))
		}
	}
	uris, ok := strs("redirect_uris")
	if !ok {
		return badRequest("invalid_redirect_uri", "redirect_uris must be an array of strings")
	}
	if len(uris) == 0 && slices.Contains(grants, GrantAuthorizationCode) {
		return badRequest("invalid_redirect_uri", "redirect_uris required for the authorization_code grant")
	}
	for _, u := range uris {
		if !loopbackRedirectURI(u, hosts) {
			return badRequest("invalid_redirect_uri", "not an http loopback redirect URI: "+strconv.Quote(u))
		}
	}
	return nil
}

// loopbackRedirectURI accepts the redirect URIs a native app registers for
// a loopback listener (RFC 8252 §7.3): http on a loopback host, any path,
// and a port or none, since the port is chosen at run time.
func loopbackRedirectURI(raw string, hosts []string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Opaque != "" || strings.Contains(raw, "#") || u.Host == "" {
		return false
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
			return false
		}
	}
	return slices.Contains(hosts, u.Hostname())
}
