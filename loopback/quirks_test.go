package loopback

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// OpenID Connect Core §11: offline_access is asked with prompt=consent,
// unless the caller turns it off or names a prompt of its own.
func TestAuthorize_ConsentPromptForOfflineAccess(t *testing.T) {
	as := authtest.New(t)
	noValidate := func(context.Context, *oauth2.Token, string) error { return nil }
	for _, tc := range []struct {
		name   string
		scopes []string
		off    bool
		params url.Values
		want   []string
	}{
		{"openid offline_access", []string{"openid", "offline_access"}, false, nil, []string{"consent"}},
		{"turned off", []string{"openid", "offline_access"}, true, nil, nil},
		{"no offline_access", []string{"openid", "email"}, false, nil, nil},
		{"plain OAuth", []string{"offline_access"}, false, nil, nil},
		{"caller's prompt", []string{"openid", "offline_access"}, false, url.Values{"prompt": {"login consent"}}, []string{"login consent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(as, nil)
			cfg.OAuth2.Scopes = tc.scopes
			cfg.NoConsentPrompt = tc.off
			cfg.AuthParams = tc.params
			cfg.Validate = noValidate
			f := mustNew(t, cfg)
			oc := f.cfg.OAuth2
			oc.RedirectURL = "http://127.0.0.1:1/callback"
			u, err := url.Parse(f.authCodeURL(&oc, newAttemptSecrets(true)))
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Query()["prompt"]; !slices.Equal(got, tc.want) {
				t.Errorf("prompt = %q, want %q", got, tc.want)
			}
		})
	}
}

// A pushed request refused for the client ends the flow at once: a plain
// authorization request would only show the server's error page while
// sesame waited for a callback that never comes.
func TestPAR_UnknownClientFailsFast(t *testing.T) {
	as := authtest.New(t, authtest.WithPAR(false))
	b := newBrowser(t, as, nil)
	cfg := testConfig(as, b)
	cfg.OAuth2.ClientID = "nobody"
	cfg.PAREndpoint = as.URL() + authtest.PathPAR
	_, err := runFlow(t, mustNew(t, cfg))
	e, ok := oauthwire.As(err)
	if !ok || e.Op != OpPAR || e.Code != oauthwire.CodeInvalidClient {
		t.Fatalf("Token: %v; want the PAR's invalid_client", err)
	}
	if n := len(b.URLs()); n != 0 {
		t.Errorf("the browser was opened %d times", n)
	}
}

func TestPAR_RedirectURIRefusedFailsFast(t *testing.T) {
	// The server takes only an IPv6 loopback callback; sesame binds IPv4.
	as := authtest.New(t, authtest.WithPAR(false), authtest.WithRedirectHosts("::1"))
	b := newBrowser(t, as, nil)
	cfg := testConfig(as, b)
	cfg.PAREndpoint = as.URL() + authtest.PathPAR
	_, err := runFlow(t, mustNew(t, cfg))
	var re *RedirectURIError
	if !errors.As(err, &re) {
		t.Fatalf("Token: %v; want a RedirectURIError", err)
	}
	if port := portOf(re.RedirectURI); port == "" || re.RedirectURI != "http://127.0.0.1:"+port+"/callback" || re.Port != 0 {
		t.Errorf("refused redirect URI %q, port %d", re.RedirectURI, re.Port)
	}
	if e, ok := oauthwire.As(err); !ok || e.Op != OpPAR {
		t.Errorf("error %v does not carry the server's refusal", err)
	}
	if n := len(b.URLs()); n != 0 {
		t.Errorf("the browser was opened %d times", n)
	}
}

// Against a server that applies Core §11 strictly, the consent prompt is
// what earns the refresh token; turned off, the server drops
// offline_access and issues none.
func TestFlow_StrictOfflineAccess(t *testing.T) {
	for _, off := range []bool{false, true} {
		as := authtest.New(t, authtest.WithStrictOfflineAccess(true))
		b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) { goodCallback(ctx, b, p) })
		cfg := testConfig(as, b)
		cfg.OAuth2.Scopes = []string{"openid", "offline_access"}
		cfg.Validate = func(context.Context, *oauth2.Token, string) error { return nil }
		cfg.NoConsentPrompt = off
		res, err := runFlow(t, mustNew(t, cfg))
		if err != nil {
			t.Fatalf("NoConsentPrompt %v: Token: %v", off, err)
		}
		b.wait(t)
		if got := res.Token.RefreshToken != ""; got == off {
			t.Errorf("NoConsentPrompt %v: refresh token issued: %v", off, got)
		}
	}
}
