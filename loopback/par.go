package loopback

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/redact"
	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// maxPARResponse bounds the PAR response body (requirement 23).
const maxPARResponse = 1 << 20

// PARError is a pushed authorization request the server refused or did not
// answer usably. It carries the HTTP status and the OAuth error code,
// sanitized; never the response body.
type PARError struct {
	Status int
	Code   string
}

func (e *PARError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("the pushed authorization request was refused: %s (HTTP %d)", e.Code, e.Status)
	}
	return fmt.Sprintf("the pushed authorization request failed (HTTP %d)", e.Status)
}

// pushAuthorizationRequest sends the parameters of frontURL, the plain
// authorization request, to the PAR endpoint (RFC 9126 §2.1) and returns
// the URL for the browser: the authorization endpoint with client_id and
// request_uri only (§4). state, the PKCE challenge, nonce, scope and
// redirect_uri thus travel only in the TLS-protected POST.
func (f *Flow) pushAuthorizationRequest(ctx context.Context, oc *oauth2.Config, frontURL string) (string, error) {
	u, err := url.Parse(frontURL)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.cfg.PAREndpoint, strings.NewReader(u.Query().Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("pushed authorization request: %w", urlcheck.StripURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPARResponse+1))
	if err != nil || len(body) > maxPARResponse {
		return "", &PARError{Status: resp.StatusCode}
	}
	var answer struct {
		RequestURI string `json:"request_uri"`
		Error      string `json:"error"`
	}
	_ = json.Unmarshal(body, &answer)
	// RFC 9126 §2.2 answers 201; 200 is tolerated from lenient servers.
	if (resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK) || answer.RequestURI == "" {
		return "", &PARError{Status: resp.StatusCode, Code: redact.Sanitize(answer.Error)}
	}
	q := url.Values{"client_id": {oc.ClientID}, "request_uri": {answer.RequestURI}}
	return oc.Endpoint.AuthURL + "?" + q.Encode(), nil
}
