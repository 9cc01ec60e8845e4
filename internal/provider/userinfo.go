package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/sesame-auth/sesame/internal/oauthwire"
	"github.com/sesame-auth/sesame/internal/redact"
)

// Person is how the server names the person a grant is for: the claims of
// OIDC Core §5.1 that a person recognises, any of them empty.
type Person struct {
	// Username is preferred_username: Gitea's and Keycloak's login name.
	Username string
	// Email is the address, left empty when the server marks it
	// unverified: such an address is not an identity.
	Email string
	// Name is the full name.
	Name string
}

// personClaims are the claims a Person is read from, in an ID token or a
// userinfo answer.
type personClaims struct {
	Subject       string `json:"sub"`
	Username      string `json:"preferred_username"`
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified"`
	Name          string `json:"name"`
}

func (c personClaims) person() Person {
	p := Person{Username: c.Username, Name: c.Name}
	if c.EmailVerified == nil || *c.EmailVerified {
		p.Email = c.Email
	}
	return p
}

// Userinfo asks m's userinfo endpoint (OIDC Core §5.3) with a bearer
// access token how the server names subject. Servers such as zitadel put
// email and name only there, and Gitea's ID token names the person by a
// number. The answer must be JSON and name the same subject as the ID
// token (§5.3.4: otherwise it may be about someone else); a signed or
// encrypted answer (application/jwt) is not read. client bounds the
// request (see [NewHTTPClient]); ctx may bound it tighter. An error never
// holds the access token or the answer's body.
func Userinfo(ctx context.Context, client *http.Client, m *Metadata, accessToken, subject string) (Person, error) {
	if m == nil || m.UserinfoEndpoint == "" {
		return Person{}, errors.New("userinfo: the server names no userinfo_endpoint")
	}
	if client == nil {
		return Person{}, errors.New("userinfo: no http client")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.UserinfoEndpoint, nil)
	if err != nil {
		return Person{}, errors.New("userinfo: the endpoint is not a valid url")
	}
	// RFC 6750 §2.1: the header, never the query.
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Person{}, wrapSanitized("userinfo", oauthwire.StripURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return Person{}, fmt.Errorf("userinfo: the server answered %s", redact.Sanitize(resp.Status))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return Person{}, errors.New("userinfo: the answer is not JSON")
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Person{}, wrapSanitized("userinfo", oauthwire.StripURLError(err))
	}
	var c personClaims
	if json.Unmarshal(body, &c) != nil {
		return Person{}, errors.New("userinfo: the answer is not a JSON object of claims")
	}
	if c.Subject != subject {
		return Person{}, errors.New("userinfo: the answer is about another subject than the ID token")
	}
	return c.person(), nil
}
