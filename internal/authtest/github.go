package authtest

import (
	"net/http"
	"strings"
)

// PathGitHubUser is GitHub's REST "get the authenticated user"
// (https://docs.github.com/en/rest/users/users#get-the-authenticated-user),
// served at this path of every Server; a GitHub simulation routes
// GitHub's own paths to it with [WithRoutes] ("/user" on api.github.com,
// "/api/v3/user" on GitHub Enterprise Server).
const PathGitHubUser = "/github/user"

// gitHubUserID is the numeric id the user endpoint gives the user.
const gitHubUserID = 583231

// handleGitHubUser answers with the user an access token sent as a Bearer
// token was issued to: the user's Subject as GitHub's login, with name and
// email, and 401 "Bad credentials" as GitHub does for any other request.
func (s *Server) handleGitHubUser(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	active, f := s.introspectLocked(token)
	_, isAccess := s.st.access[token]
	var u User
	if f != nil {
		u = f.user
	}
	s.mu.Unlock()
	if !strings.EqualFold(scheme, "Bearer") || !active || !isAccess {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "status": "401"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"login": u.Subject,
		"id":    gitHubUserID,
		"type":  "User",
		"name":  u.Name,
		"email": u.Email,
	})
}
