package session

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/internal/oauthbody"
	"github.com/sesame-auth/sesame/internal/urlcheck"
	"golang.org/x/oauth2"
)

// maxTokenResponse bounds a token response body (requirement 23); the
// HTTP client sesame passes has the same limit, this one holds for any.
const maxTokenResponse = 1 << 20

// errNotTokenResponse is a 2xx answer that is not a usable token response.
// It never quotes the body, which may hold the tokens.
var errNotTokenResponse = errors.New("the server's answer is not a token response")

// refreshRequest is one refresh token grant (RFC 6749 §6) of a public
// client: the client is identified by client_id in the body (§2.3, §3.2.1),
// and resource names the one resource server the new access token is for
// (RFC 8707 §2.2).
type refreshRequest struct {
	tokenURL     string
	clientID     string
	refreshToken string
	resource     string
}

// post sends the refresh request with c and parses the answer. x/oauth2's
// TokenSource cannot send a resource parameter, so sesame sends the form
// itself; errors keep x/oauth2's type, *oauth2.RetrieveError, for an OAuth
// error response, without its body.
func (r refreshRequest) post(ctx context.Context, c *http.Client, now time.Time) (*oauth2.Token, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {r.refreshToken},
		"client_id":     {r.clientID},
	}
	if r.resource != "" {
		form.Set("resource", r.resource)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, urlcheck.StripURLError(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxTokenResponse {
		return nil, errNotTokenResponse
	}
	fields := oauthbody.Fields(resp.Header.Get("Content-Type"), body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &oauth2.RetrieveError{
			Response:         resp,
			ErrorCode:        str(fields, "error"),
			ErrorDescription: str(fields, "error_description"),
			ErrorURI:         str(fields, "error_uri"),
		}
	}
	return tokenFrom(fields, now)
}

// tokenFrom builds the x/oauth2 token of a successful response (RFC 6749
// §5.1). Extra holds every member, so callers read scope, id_token and
// refresh_expires_in as from x/oauth2's own responses.
//
// token_type is passed on as the server sent it, and not checked here: the
// refresh has rotated the refresh token already, so a token_type sesame
// cannot use ([CheckTokenType]) must still let the new refresh token be
// stored; only the access token is then refused. A token_type that is not
// a string is kept in its JSON form, so that it is refused too rather
// than read as an absent one (Bearer).
func tokenFrom(fields map[string]any, now time.Time) (*oauth2.Token, error) {
	if fields == nil {
		return nil, errNotTokenResponse
	}
	if _, ok := fields["error"]; ok {
		// Some servers answer an error with 200.
		return nil, &oauth2.RetrieveError{
			Response:         &http.Response{StatusCode: http.StatusBadRequest},
			ErrorCode:        str(fields, "error"),
			ErrorDescription: str(fields, "error_description"),
		}
	}
	tok := &oauth2.Token{
		AccessToken:  str(fields, "access_token"),
		TokenType:    tokenTypeMember(fields),
		RefreshToken: str(fields, "refresh_token"),
	}
	if tok.AccessToken == "" {
		return nil, errNotTokenResponse
	}
	if n, ok := seconds(fields["expires_in"]); ok && n > 0 {
		tok.ExpiresIn = n
		tok.Expiry = now.Add(time.Duration(n) * time.Second)
	}
	return tok.WithExtra(fields), nil
}

// tokenTypeMember returns token_type: the string, "" when absent or null,
// and otherwise the member in JSON, which [CheckTokenType] refuses.
func tokenTypeMember(fields map[string]any) string {
	switch v := fields["token_type"].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, err := json.Marshal(v)
		if err != nil || len(b) == 0 {
			return "?"
		}
		return string(b)
	}
}

// str returns a string member, or "" when it is absent or not a string.
func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// seconds reads expires_in: a JSON number, or a numeric string from
// lenient servers.
func seconds(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		if x != x || x < 0 {
			return 0, false
		}
		// Lifetime clamps it to a day; this only keeps the conversion
		// defined.
		return int64(min(x, 1e15)), true
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}
