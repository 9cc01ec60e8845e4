package session

import (
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/profile"
)

func TestClientAuth_Apply(t *testing.T) {
	form := func() url.Values { return url.Values{"client_id": {"app"}, "grant_type": {"refresh_token"}} }

	req := oauthwire.Request{Form: form()}
	ClientAuth{}.apply(&req, "app")
	if req.Form.Has("client_secret") || req.Header != nil {
		t.Errorf("a public client sent a secret: %v %v", req.Form, req.Header)
	}

	req = oauthwire.Request{Form: form()}
	ClientAuth{Secret: "s e&cret"}.apply(&req, "app")
	if req.Form.Get("client_secret") != "s e&cret" || req.Form.Get("client_id") != "app" || len(req.Secrets) != 1 {
		t.Errorf("client_secret_post: %v, secrets %d", req.Form, len(req.Secrets))
	}

	req = oauthwire.Request{Form: form()}
	ClientAuth{Secret: "s e&cret", Basic: true}.apply(&req, "a:pp")
	// RFC 6749 §2.3.1: both parts form-encoded, then Basic.
	if got := req.Header.Get("Authorization"); got != "Basic YSUzQXBwOnMrZSUyNmNyZXQ=" || req.Form.Has("client_secret") || req.Form.Has("client_id") {
		t.Errorf("Basic: %q, form %v", got, req.Form)
	}
}

// TestServerMetadata_FromThePreset: a preset's endpoints are the binary's,
// and a profile whose issuer is not its preset's is refused before any
// request (requirement 15): the client is nil, so a request would fail
// otherwise.
func TestServerMetadata_FromThePreset(t *testing.T) {
	d := &Deps{}
	md, err := serverMetadata(t.Context(), d, nil, &profile.Profile{Name: "gh", Provider: "github", Issuer: "https://github.com"})
	if err != nil {
		t.Fatal(err)
	}
	if md.TokenEndpoint != "https://github.com/login/oauth/access_token" || md.DeviceAuthorizationEndpoint != "https://github.com/login/device/code" || md.RevocationEndpoint != "" {
		t.Errorf("metadata %+v", md)
	}
	_, err = serverMetadata(t.Context(), d, nil, &profile.Profile{Name: "gl", Provider: "gitlab", Issuer: "https://evil.example"})
	if err == nil || !strings.Contains(err.Error(), "is not provider gitlab's (https://gitlab.com)") {
		t.Errorf("err = %v", err)
	}
	// Only a test moves a preset's origin.
	d.PresetOrigins = map[string]string{"github": "https://127.0.0.1:8443"}
	md, err = serverMetadata(t.Context(), d, nil, &profile.Profile{Name: "gh", Provider: "github", Issuer: "https://127.0.0.1:8443"})
	if err != nil || md.TokenEndpoint != "https://127.0.0.1:8443/login/oauth/access_token" {
		t.Errorf("moved: %+v, %v", md, err)
	}
}
