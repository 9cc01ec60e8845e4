package devicecode

import (
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// TestClientSecret: a client secret, for providers that give installed apps
// one, goes to the token endpoint only, in the body or as HTTP Basic
// (RFC 6749 §2.3.1), never to the device authorization endpoint (which
// authtest refuses it at).
func TestClientSecret(t *testing.T) {
	for _, basic := range []bool{false, true} {
		t.Run(map[bool]string{false: "post", true: "basic"}[basic], func(t *testing.T) {
			h := newHarness(t, authtest.WithClientSecret("SNTL-CS-device", basic), authtest.WithDeviceAutoApprove())
			h.cfg.OAuth2.ClientSecret = "SNTL-CS-device"
			if basic {
				h.cfg.OAuth2.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
			}
			tok, err := h.run(t.Context())
			if err != nil || tok.AccessToken == "" {
				t.Fatalf("Token = %v, %v", tok, err)
			}
			polls := h.srv.RequestsTo(authtest.PathToken)
			if len(polls) != 1 {
				t.Fatalf("%d polls", len(polls))
			}
			hasBasic := strings.HasPrefix(polls[0].Header.Get("Authorization"), "Basic ")
			if inBody := polls[0].PostForm.Has("client_secret"); inBody == basic || hasBasic != basic {
				t.Errorf("secret in the body: %v, as Basic: %v", inBody, hasBasic)
			}
			auth := h.srv.RequestsTo(authtest.PathDeviceAuthorization)[0]
			if auth.PostForm.Has("client_secret") || auth.Header.Get("Authorization") != "" {
				t.Error("the device authorization request carried the secret")
			}
		})
	}
}
