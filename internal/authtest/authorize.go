package authtest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// AuthorizeRequest is an authorization request the server accepted as
// well-formed, with the values it will bind the code to.
type AuthorizeRequest struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Resources           []string
	// Pushed is true when the parameters came from a pushed authorization
	// request (RFC 9126) rather than the front channel.
	Pushed bool
	// DPoPJKT is the DPoP key thumbprint the code is bound to (RFC 9449
	// §10): the dpop_jkt parameter, or the key of the pushed request's DPoP
	// proof. "" when the code is not bound, and always when DPoP is off.
	DPoPJKT string
	// Params holds every parameter as received.
	Params url.Values
}

// authCode is an issued authorization code and what it is bound to.
type authCode struct {
	req    AuthorizeRequest
	user   User
	expiry time.Time
	used   bool
	fam    *family // set once redeemed, so a replay can revoke the grant
}

// parRequest is a pushed authorization request awaiting its front-channel
// half.
type parRequest struct {
	params url.Values
	expiry time.Time
	jkt    string // DPoP binding of the code to be (RFC 9449 §10.1)
}

const parPrefix = "urn:ietf:params:oauth:request_uri:"

// AuthorizeRequests returns every authorization request that passed
// validation, oldest first, so a test can read back the state, nonce and
// code_challenge the client sent.
func (s *Server) AuthorizeRequests() []AuthorizeRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.authz)
}

// handleAuthorize implements RFC 6749 §4.1.1–4.1.2 for a public client with
// PKCE S256 (RFC 7636) and RFC 9207 iss. Errors about the client or the
// redirect URI are shown to the user instead of redirected (RFC 6749
// §4.1.2.1): the redirect URI cannot be trusted yet.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	params, pushed, parJKT, msg := s.authorizeParams(r)
	if msg != "" {
		http.Error(w, "authtest: "+msg, http.StatusBadRequest)
		return
	}
	req := AuthorizeRequest{
		ClientID:            params.Get("client_id"),
		RedirectURI:         params.Get("redirect_uri"),
		ResponseType:        params.Get("response_type"),
		Scope:               s.offlineAccessScope(params.Get("scope"), params.Get("prompt")),
		State:               params.Get("state"),
		Nonce:               params.Get("nonce"),
		CodeChallenge:       params.Get("code_challenge"),
		CodeChallengeMethod: params.Get("code_challenge_method"),
		Resources:           params["resource"],
		Pushed:              pushed,
		DPoPJKT:             parJKT,
		Params:              cloneValues(params),
	}

	s.mu.Lock()
	hosts, parRequired := s.cfg.redirectHosts, s.cfg.parRequired
	s.mu.Unlock()
	if !s.knownClient(req.ClientID) {
		http.Error(w, "authtest: unknown client_id", http.StatusBadRequest)
		return
	}
	if !validRedirectURI(req.RedirectURI, hosts) {
		http.Error(w, "authtest: redirect_uri is not a registered loopback callback", http.StatusBadRequest)
		return
	}

	fail := func(code, desc string) {
		s.redirectBack(w, req.RedirectURI, url.Values{"error": {code}, "error_description": {desc}}, req.State)
	}
	for _, p := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method"} {
		if len(params[p]) > 1 {
			fail("invalid_request", p+" repeated") // RFC 6749 §3.1
			return
		}
	}
	if !pushed {
		jkt, desc := s.authorizeDPoPJKT(params)
		if desc != "" {
			fail("invalid_request", desc)
			return
		}
		req.DPoPJKT = jkt
	}
	switch {
	case parRequired && !pushed:
		fail("invalid_request", "pushed authorization request required")
		return
	case req.ResponseType != "code":
		fail("unsupported_response_type", "only response_type=code is supported")
		return
	case req.CodeChallengeMethod != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
		return
	case !validPKCEValue(req.CodeChallenge):
		fail("invalid_request", "code_challenge missing or malformed")
		return
	}

	s.mu.Lock()
	s.st.authz = append(s.st.authz, req)
	hook, deny, denyDesc, user := s.cfg.authorizeHook, s.cfg.deny, s.cfg.denyDescription, s.cfg.user
	s.mu.Unlock()

	if hook != nil && hook(w, r, req) {
		return
	}
	if s.grantScopeConflict(req.ClientID, user, req.Scope) {
		s.redirectBack(w, req.RedirectURI, url.Values{"error": {"server_error"}, "error_description": {"a grant exists with different scope"}}, req.State)
		return
	}
	if deny {
		v := url.Values{"error": {"access_denied"}}
		if denyDesc != "" {
			v.Set("error_description", denyDesc)
		}
		s.redirectBack(w, req.RedirectURI, v, req.State)
		return
	}
	s.redirectBack(w, req.RedirectURI, url.Values{"code": {s.IssueCode(req, user)}}, req.State)
}

// IssueCode mints an authorization code bound to req for user, as an
// approved /authorize would. It lets an [AuthorizeHook] build its own
// redirect, for instance to another server's client.
func (s *Server) IssueCode(req AuthorizeRequest, user User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := "SNTL-CODE-" + randomString(24)
	s.st.codes[code] = &authCode{req: req, user: user, expiry: s.now().Add(s.cfg.codeTTL)}
	return code
}

// authorizeParams returns the request's parameters, resolving a
// request_uri from a pushed authorization request, whose DPoP binding is
// jkt. A non-empty msg is an error to show the user.
func (s *Server) authorizeParams(r *http.Request) (params url.Values, pushed bool, jkt, msg string) {
	ref := r.Form.Get("request_uri")
	if ref == "" {
		return r.Form, false, "", ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.par[ref]
	// A request_uri is single-use (RFC 9126 §4): spend it even if the rest
	// of the request turns out to be wrong.
	delete(s.st.par, ref)
	switch {
	case p == nil:
		return nil, false, "", "unknown request_uri"
	case !s.now().Before(p.expiry):
		return nil, false, "", "expired request_uri"
	case r.Form.Get("client_id") != p.params.Get("client_id"):
		return nil, false, "", "client_id does not match the pushed request"
	}
	return p.params, true, p.jkt, ""
}

// redirectBack answers 302 to the client's redirect URI with v, state and
// iss (RFC 9207), unless misbehaviour options say otherwise.
func (s *Server) redirectBack(w http.ResponseWriter, redirectURI string, v url.Values, state string) {
	s.mu.Lock()
	iss, omit := s.cfg.callbackIssuer, s.cfg.omitCallbackIssuer
	s.mu.Unlock()
	if iss == "" {
		iss = s.Issuer()
	}
	if v.Get("error_description") == "" {
		v.Del("error_description")
	}
	if state != "" {
		v.Set("state", state)
	}
	if !omit {
		v.Set("iss", iss)
	}
	u, _ := url.Parse(redirectURI) // validated by the caller
	u.RawQuery = v.Encode()
	w.Header().Set("Location", u.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// handlePAR implements RFC 9126 §2: the client pushes its authorization
// parameters and gets a one-time request_uri for the front channel. A DPoP
// proof or a dpop_jkt parameter binds the code to come (RFC 9449 §10.1).
func (s *Server) handlePAR(w http.ResponseWriter, r *http.Request) {
	if !requirePost(w, r) {
		return
	}
	s.setDPoPNonceHeader(w)
	s.mu.Lock()
	hosts := s.cfg.redirectHosts
	s.mu.Unlock()
	if e := checkPublicClient(r, s.knownClient); e != nil {
		writeOAuthError(w, e)
		return
	}
	switch {
	case r.PostForm.Has("request_uri"):
		writeOAuthError(w, badRequest("invalid_request", "request_uri is not allowed in a pushed request"))
		return
	case !validRedirectURI(r.PostForm.Get("redirect_uri"), hosts):
		writeOAuthError(w, badRequest("invalid_request", "redirect_uri is not a registered loopback callback"))
		return
	}
	jkt, oerr := s.parDPoP(r)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	ref := parPrefix + randomString(16)
	s.mu.Lock()
	lifetime := s.cfg.parLifetime
	s.st.par[ref] = &parRequest{params: cloneValues(r.PostForm), expiry: s.now().Add(lifetime), jkt: jkt}
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"request_uri": ref, "expires_in": int(lifetime / time.Second)})
}

// validRedirectURI accepts exactly http://<loopback literal>:<port>/callback,
// the shape RFC 8252 §7.3 prescribes for native apps. Anything looser would
// let the client's tests pass with a listener the requirements forbid.
func validRedirectURI(raw string, hosts []string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Path != "/callback" ||
		u.RawPath != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port < 1 || port > 65535 || strconv.Itoa(port) != u.Port() {
		return false
	}
	return slices.Contains(hosts, u.Hostname())
}

// validPKCEValue checks the RFC 7636 §4.1 syntax shared by code_verifier
// and an S256 code_challenge: 43 to 128 unreserved characters.
func validPKCEValue(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~'
		if !ok {
			return false
		}
	}
	return true
}
