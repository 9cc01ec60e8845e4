package authtest

// IssueGrant mints a grant for the server's client and user as a completed
// login would, without any request: a new family with an access token, a
// refresh token and, when scope holds "openid", an ID token (encoded as
// [WithIDTokenMutator], [WithIDTokenEncoder] and [WithRawIDToken] say). It
// is recorded in [Server.Issued] with GrantType [GrantAuthorizationCode],
// and returned.
//
// It serves tests that start from a session already stored (a refresh, a
// logout): the refresh token they put in their keychain is then one the
// server honours, rotates and revokes like any other, so those tests meet
// the same token endpoint as a login does. [WithTokenResponseMutator] is
// not applied: no response is sent.
func (s *Server) IssueGrant(scope string) Issued {
	s.mu.Lock()
	f := s.newFamily(s.cfg.clientID, s.cfg.user, scope, nil)
	ts := s.mint(GrantAuthorizationCode, f, scope, true, "")
	s.mu.Unlock()
	_, rec := s.issue(ts)
	return rec
}
