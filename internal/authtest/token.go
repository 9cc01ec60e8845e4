package authtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// Grant types the token endpoint understands.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// handleToken implements the token endpoint (RFC 6749 §3.2, §4.1.3, §6;
// RFC 8628 §3.4) for the one public client. The grant is processed in full
// before the answer is decided, so [WithDroppedTokenResponses] models a
// response lost after the server acted on the request.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.tokenRequests++
	if r.PostForm.Get("grant_type") == GrantRefreshToken {
		s.stats.refreshes++
	}
	s.mu.Unlock()
	if !requirePost(w, r) {
		return
	}

	resp, oerr := s.tokenResponse(r)
	s.setDPoPNonceHeader(w)

	s.mu.Lock()
	drop, lostStatus := s.cfg.dropTokenResponses > 0, s.cfg.lostStatus
	if drop {
		s.cfg.dropTokenResponses--
	}
	s.mu.Unlock()
	switch {
	case drop:
		loseAnswer(w, lostStatus)
	case oerr != nil:
		s.writeAnswerError(w, r, oerr)
	default:
		s.writeAnswer(w, r, http.StatusOK, resp)
	}
}

// tokenResponse authenticates the client, runs the grant and builds the
// success body.
func (s *Server) tokenResponse(r *http.Request) (map[string]any, *oauthError) {
	if e := s.checkClient(r); e != nil {
		return nil, e
	}
	if e := s.confidentialRefusal(); e != nil {
		return nil, e
	}
	form := r.PostForm
	for _, p := range []string{"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "device_code", "scope"} {
		if len(form[p]) > 1 {
			return nil, badRequest("invalid_request", p+" repeated") // RFC 6749 §3.2
		}
	}

	// A DPoP proof is checked before the grant runs, so a proof refused
	// for its nonce spends no code (RFC 9449 §8).
	jkt, oerr := s.checkDPoP(r, form.Get("grant_type"))
	if oerr != nil {
		return nil, oerr
	}

	var ts tokenSet
	s.mu.Lock()
	switch g := form.Get("grant_type"); g {
	case GrantAuthorizationCode:
		ts, oerr = s.redeemCodeLocked(form, jkt)
	case GrantRefreshToken:
		ts, oerr = s.refreshLocked(form, jkt)
	case GrantDeviceCode:
		ts, oerr = s.pollDeviceLocked(form, jkt)
	case "":
		oerr = badRequest("invalid_request", "grant_type missing")
	default:
		oerr = badRequest("unsupported_grant_type", "unsupported grant_type")
	}
	if oerr == nil {
		s.bindAccessTokenLocked(&ts, jkt)
	}
	s.mu.Unlock()
	if oerr != nil {
		return nil, oerr
	}
	return s.finish(ts), nil
}

// redeemCodeLocked exchanges an authorization code (RFC 6749 §4.1.3) after
// checking its binding to the client, the redirect URI and the PKCE
// challenge (RFC 7636 §4.6), and to a DPoP key (RFC 9449 §10) when it has
// one. jkt is the thumbprint of the request's DPoP proof, "" without one;
// the grant is bound to it. The caller holds s.mu.
func (s *Server) redeemCodeLocked(form url.Values, jkt string) (tokenSet, *oauthError) {
	c := s.st.codes[form.Get("code")]
	if c == nil {
		return tokenSet{}, badRequest("invalid_grant", "unknown authorization code")
	}
	if c.used {
		// RFC 6749 §4.1.2: a replayed code SHOULD revoke what it bought.
		if c.fam != nil {
			c.fam.revoked = true
		}
		return tokenSet{}, badRequest("invalid_grant", "authorization code already used")
	}
	// Spent on the first attempt, right or wrong, so a verifier cannot be
	// guessed over several tries.
	c.used = true
	switch v := form.Get("code_verifier"); {
	case !s.now().Before(c.expiry):
		return tokenSet{}, badRequest("invalid_grant", "authorization code expired")
	case form.Get("client_id") != c.req.ClientID:
		return tokenSet{}, badRequest("invalid_grant", "authorization code was issued to another client")
	case form.Get("redirect_uri") != c.req.RedirectURI:
		return tokenSet{}, badRequest("invalid_grant", "redirect_uri does not match the authorization request")
	case !validPKCEValue(v):
		return tokenSet{}, badRequest("invalid_grant", "code_verifier missing or malformed")
	case subtle.ConstantTimeCompare([]byte(S256Challenge(v)), []byte(c.req.CodeChallenge)) != 1:
		return tokenSet{}, badRequest("invalid_grant", "PKCE verification failed")
	case c.req.DPoPJKT != "" && jkt != c.req.DPoPJKT:
		return tokenSet{}, badRequest("invalid_grant", "authorization code is bound to another DPoP key")
	}
	resources := c.req.Resources
	if rs := form["resource"]; len(rs) > 0 {
		resources = rs
	}
	f := s.newFamily(c.req.ClientID, c.user, c.req.Scope, resources)
	f.jkt = jkt
	c.fam = f
	offline := s.issuesRefreshTokenLocked(c.req.Scope) &&
		(s.cfg.offlineParam == "" || c.req.Params.Get(s.cfg.offlineParam) == s.cfg.offlineValue)
	return s.mint(GrantAuthorizationCode, f, c.req.Scope, offline, c.req.Nonce), nil
}

// refreshLocked implements the refresh grant (RFC 6749 §6) with rotation
// and reuse detection (RFC 9700 §4.14.2): presenting a spent token outside
// the grace revokes the whole family. A family bound to a DPoP key needs a
// proof (thumbprint jkt) by that key; without one the request fails and the
// family lives on (RFC 9449 §5). The caller holds s.mu.
func (s *Server) refreshLocked(form url.Values, jkt string) (tokenSet, *oauthError) {
	rt := s.st.refresh[form.Get("refresh_token")]
	if rt == nil {
		return tokenSet{}, badRequest("invalid_grant", "unknown refresh token")
	}
	f := rt.fam
	now := s.now()
	switch {
	case f.clientID != form.Get("client_id"):
		return tokenSet{}, badRequest("invalid_grant", "refresh token was issued to another client")
	case f.revoked:
		return tokenSet{}, badRequest("invalid_grant", "refresh token revoked")
	case f.jkt != "" && jkt == "":
		return tokenSet{}, badRequest("invalid_grant", "refresh token is DPoP-bound: DPoP proof required")
	case f.jkt != "" && jkt != f.jkt:
		return tokenSet{}, badRequest("invalid_grant", "refresh token is bound to another DPoP key")
	case !rt.rotatedAt.IsZero() && (s.cfg.reuseGrace <= 0 || now.Sub(rt.rotatedAt) > s.cfg.reuseGrace):
		f.revoked = true
		return tokenSet{}, badRequest("invalid_grant", "refresh token reused; grant revoked")
	}
	scope := f.scope
	if want := form.Get("scope"); want != "" {
		// RFC 6749 §6: a refresh may narrow the scope, never widen it.
		for _, sc := range strings.Fields(want) {
			if !hasScope(f.scope, sc) {
				return tokenSet{}, badRequest("invalid_scope", "scope exceeds the original grant")
			}
		}
		scope = want
	}
	if !s.cfg.rotate {
		return s.mint(GrantRefreshToken, f, scope, false, ""), nil
	}
	// Both the presented token and the family's current one are spent now;
	// they differ only when a rotated token is used inside the grace.
	if cur := s.st.refresh[f.latest]; cur != nil && cur.rotatedAt.IsZero() {
		cur.rotatedAt = now
	}
	if rt.rotatedAt.IsZero() {
		rt.rotatedAt = now
	}
	return s.mint(GrantRefreshToken, f, scope, true, ""), nil
}

// finish signs the ID token, builds the RFC 6749 §5.1 body, records what
// was issued and lets the tests' response mutator edit the body. It runs
// without the lock: the tests' mutators may call back into the server.
func (s *Server) finish(ts tokenSet) map[string]any {
	resp, _ := s.issue(ts)
	s.mu.Lock()
	mutate := s.cfg.tokenResponseMutator
	s.mu.Unlock()
	if mutate != nil {
		mutate(resp)
	}
	return resp
}

// issue signs the ID token, builds the RFC 6749 §5.1 body and records what
// was issued, without the lock held.
func (s *Server) issue(ts tokenSet) (map[string]any, Issued) {
	tokenType := "Bearer"
	if ts.boundJKT != "" {
		tokenType = "DPoP"
	}
	resp := map[string]any{
		"access_token": ts.accessToken,
		"token_type":   tokenType,
		"expires_in":   ts.expiresIn,
	}
	if ts.scope != "" {
		resp["scope"] = ts.scope
	}
	if ts.refreshToken != "" {
		resp["refresh_token"] = ts.refreshToken
	}
	var idToken string
	if ts.idClaims != nil {
		idToken = s.encodeIDToken(ts.idClaims)
		resp["id_token"] = idToken
	}

	s.mu.Lock()
	rec := Issued{
		GrantType:    ts.grantType,
		Family:       ts.fam.id,
		AccessToken:  ts.accessToken,
		RefreshToken: ts.refreshToken,
		IDToken:      idToken,
		Scope:        ts.scope,
		ExpiresIn:    ts.expiresIn,
		Time:         s.now(),
		TokenType:    tokenType,
		JKT:          ts.proofJKT,
	}
	s.st.issued = append(s.st.issued, rec)
	s.mu.Unlock()
	return resp, rec
}

// S256Challenge returns BASE64URL(SHA256(verifier)), the RFC 7636 §4.2
// code_challenge for verifier.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// dropConnection closes the connection without an answer. Hijacking is the
// only way to send nothing at all: returning from the handler would make
// net/http write an empty 200.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // aborts the response without logging
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
