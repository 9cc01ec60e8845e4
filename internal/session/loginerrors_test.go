package session

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/loopback"
)

func TestExplainLogin(t *testing.T) {
	p := &profile.Profile{Name: "work"}
	refused := &loopback.RedirectURIError{RedirectURI: "http://127.0.0.1:8250/callback", Port: 8250,
		Err: oauthwire.NewError(loopback.OpPAR, 400, "invalid_request", "redirect_uri did not match", "")}
	for _, tc := range []struct {
		name string
		err  error
		want Kind // 0: returned as it is
	}{
		{"PAR invalid_client", oauthwire.NewError(loopback.OpPAR, 401, "invalid_client", "unknown client", ""), UnknownClient},
		{"exchange invalid_client", oauthwire.NewError(loopback.OpExchange, 401, "invalid_client", "passwords do not match", ""), ConfidentialClient},
		{"wrapped exchange invalid_client", fmt.Errorf("login: %w", oauthwire.NewError(loopback.OpExchange, 401, "invalid_client", "", "")), ConfidentialClient},
		{"authorization invalid_client", oauthwire.NewError(loopback.OpAuthorization, 0, "invalid_client", "", ""), 0},
		{"redirect URI", refused, RedirectURIRefused},
		{"Gitea's grant", oauthwire.NewError(loopback.OpAuthorization, 0, "server_error", "a grant exists with different scope", ""), ScopeConflict},
		{"exchange invalid_grant", oauthwire.NewError(loopback.OpExchange, 400, "invalid_grant", "", ""), 0},
		{"not an OAuth error", errors.New("boom"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := explainLogin(p, tc.err)
			var pr *Problem
			switch {
			case tc.want == 0 && got != tc.err:
				t.Fatalf("explainLogin = %v, want the error as it is", got)
			case tc.want != 0 && (!errors.As(got, &pr) || pr.Kind != tc.want || pr.Profile != "work" || !errors.Is(got, tc.err)):
				t.Fatalf("explainLogin = %#v, want a problem of kind %d wrapping the error", got, tc.want)
			}
			if tc.want == RedirectURIRefused && (pr.RedirectURI != refused.RedirectURI || pr.Port != 8250) {
				t.Errorf("problem names %q, port %d", pr.RedirectURI, pr.Port)
			}
		})
	}
}
