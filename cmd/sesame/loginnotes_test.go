package main

import (
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// RFC 8707: a server without resource indicators issues its token for
// its default audience. When the access token is a JWT, login says the
// resource was not confirmed; an opaque token is not judged.
func TestLogin_ResourceNotConfirmed(t *testing.T) {
	const resource = "https://api.example.com"
	const warning = "sesame: warning: the server did not confirm the resource " + resource
	for _, tc := range []struct {
		name string
		aud  any // nil: an opaque access token
		want string
	}{
		{"audience is the client", "sesame-test", warning + ": the access token is for sesame-test; it may not support RFC 8707 resource indicators, and a service that checks the audience will refuse the token\n"},
		{"no audience", "", warning + ": the access token names no audience;"},
		{"resource confirmed", []string{"other", resource}, ""},
		{"opaque", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, authtest.WithTokenResponseMutator(func(resp map[string]any) {
				if tc.aud == nil {
					return
				}
				claims := map[string]any{"sub": "alice"}
				if tc.aud != "" {
					claims["aud"] = tc.aud
				}
				resp["access_token"] = authtest.UnsignedJWT(claims)
			}))
			r := h.login("--resource", resource)
			if r.code != 0 {
				t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
			}
			got := strings.Contains(r.stderr, "did not confirm the resource")
			if tc.want == "" && got || tc.want != "" && !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr:\n%s\nwant %q", r.stderr, tc.want)
			}
		})
	}
}
