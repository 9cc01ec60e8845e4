package session

import (
	"errors"
	"strings"

	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/loopback"
)

// explainLogin names the problem behind a failed sign-in when a real
// server's answer shows it, so the command line can name the fix instead
// of leaving the person with the server's words (issue 15):
//
//   - a pushed authorization request refused with invalid_client: the
//     server does not know the client id (RFC 9126 §2.3), told before any
//     browser opens;
//   - the code exchange refused with invalid_client after the person
//     signed in: the client is registered as confidential and wants a
//     secret (RFC 6749 §5.2; Hydra's "passwords do not match");
//   - the redirect URI refused: a server that compares it exactly, port
//     included, against RFC 8252 §7.3;
//   - "a grant exists with different scope": Gitea and Forgejo keep one
//     grant per client and person, and refuse another scope string.
//
// Any other error is returned as it is.
func explainLogin(p *profile.Profile, err error) error {
	var re *loopback.RedirectURIError
	if errors.As(err, &re) {
		return &Problem{Kind: RedirectURIRefused, Profile: p.Name, Err: err, RedirectURI: re.RedirectURI, Port: re.Port}
	}
	e, ok := oauthwire.As(err)
	if !ok {
		return err
	}
	switch {
	case e.HasCode(oauthwire.CodeInvalidClient) && e.Op == loopback.OpPAR:
		return &Problem{Kind: UnknownClient, Profile: p.Name, Err: err}
	case e.HasCode(oauthwire.CodeInvalidClient) && e.Op == loopback.OpExchange:
		return &Problem{Kind: ConfidentialClient, Profile: p.Name, Err: err}
	case strings.Contains(strings.ToLower(e.Description), "grant exists with different scope"):
		return &Problem{Kind: ScopeConflict, Profile: p.Name, Err: err}
	}
	return err
}
