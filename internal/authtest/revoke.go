package authtest

import (
	"net/http"
	"strings"
)

// handleRevoke implements RFC 7009. Revoking a refresh token revokes its
// whole family (§2.1 lets a server do so, and it is what sesame's logout
// must cope with); revoking an access token revokes that token only. An
// unknown token still gets 200 (§2.2). Statuses queued with
// [WithRevokeStatuses] are answered first and revoke nothing, so "503 means
// the token is still alive" holds.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if !requirePost(w, r) {
		return
	}
	s.mu.Lock()
	status, retryAfter := http.StatusOK, ""
	if len(s.cfg.revokeStatuses) > 0 {
		status, retryAfter = s.cfg.revokeStatuses[0], s.cfg.revokeRetryAfter
		s.cfg.revokeStatuses = s.cfg.revokeStatuses[1:]
	}
	s.mu.Unlock()

	if e := checkPublicClient(r, s.knownClient); e != nil {
		writeOAuthError(w, e)
		return
	}
	if status != http.StatusOK {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		code := "invalid_request"
		if status >= 500 {
			code = "temporarily_unavailable"
		}
		writeJSON(w, status, map[string]any{"error": code})
		return
	}
	token := r.PostForm.Get("token")
	if token == "" || len(r.PostForm["token"]) > 1 {
		writeOAuthError(w, badRequest("invalid_request", "exactly one token is required"))
		return
	}
	s.mu.Lock()
	s.revokeLocked(token)
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// handleIntrospect implements RFC 7662 without caller authentication: it
// serves tests and resource-server stubs, not the client under test.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	if !requirePost(w, r) {
		return
	}
	token := r.PostForm.Get("token")
	s.mu.Lock()
	active, f := s.introspectLocked(token)
	var resp map[string]any
	if active {
		resp = map[string]any{
			"active":    true,
			"client_id": f.clientID,
			"sub":       f.user.Subject,
			"scope":     f.scope,
			"iss":       s.Issuer(),
		}
		if at := s.st.access[token]; at != nil {
			resp["token_type"] = "Bearer"
			resp["exp"] = at.expiry.Unix()
			if at.jkt != "" {
				resp["token_type"] = "DPoP"
				resp["cnf"] = map[string]any{"jkt": at.jkt} // RFC 9449 §6.2
			}
		} else if f.jkt != "" {
			resp["cnf"] = map[string]any{"jkt": f.jkt}
		}
	}
	s.mu.Unlock()
	if !active {
		resp = map[string]any{"active": false}
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleUserinfo implements OIDC Core §5.3 with the access token accepted
// only in the Authorization header (RFC 6750 §2.1). A token in the query or
// the body is refused, so a client that puts it there fails loudly, and
// the request log still shows where it went. A DPoP-bound access token
// must come with the DPoP scheme and a proof (RFC 9449 §7).
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.Form.Has("access_token") {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "send the access token in the Authorization header"})
		return
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	dpopScheme := strings.EqualFold(scheme, "DPoP")
	if !strings.EqualFold(scheme, "Bearer") && !dpopScheme || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="authtest"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_token"})
		return
	}
	s.mu.Lock()
	active, f := s.introspectLocked(token)
	at, isAccess := s.st.access[token]
	var (
		u     User
		bound string
	)
	if f != nil {
		u = f.user
	}
	if isAccess {
		bound = at.jkt
	}
	s.mu.Unlock()
	if !active || !isAccess {
		w.Header().Set("WWW-Authenticate", `Bearer realm="authtest", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_token"})
		return
	}
	if !s.checkResourceDPoP(w, r, token, dpopScheme, bound) {
		return
	}
	claims := personClaims(u)
	claims["sub"] = u.Subject
	writeJSON(w, http.StatusOK, claims)
}
