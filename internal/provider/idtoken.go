package provider

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/sesame-auth/sesame/internal/redact"
)

// clockLeeway is the clock skew tolerated on exp and iat (OIDC Core
// §3.1.3.7 steps 9 and 10; requirement 24 allows at most 5 min).
const clockLeeway = 5 * time.Minute

// signingAlgs are the only ID token algorithms accepted: asymmetric ones.
// "none" would accept anything, and HS* would let whoever knows the key
// forge tokens; with a public client that key is the client secret or, in
// the classic confusion attack, the server's public JWK itself
// (RFC 8725 §3.1, §3.2; OIDC Core §10.1).
var signingAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512,
	oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.EdDSA,
}

// IDToken holds the verified claims sesame keeps from an ID token.
type IDToken struct {
	Subject string
	// Username is preferred_username (OIDC Core §5.1).
	Username string
	Email    string
	Name     string
	Issuer   string
	Expiry   time.Time
	IssuedAt time.Time
}

// IDTokenError is returned by [VerifyIDToken] and [CheckSameSubject]. Its
// message never holds the token.
type IDTokenError struct {
	// Reason is a short, sanitized explanation.
	Reason string
	// ClockSkew is set when the likely cause is the local clock; the caller
	// shows a hint to check it (requirement 32).
	ClockSkew bool
}

func (e *IDTokenError) Error() string {
	if e.ClockSkew {
		return "id token: " + e.Reason + " (check the system clock)"
	}
	return "id token: " + e.Reason
}

func idTokenErrorf(format string, args ...any) error {
	return &IDTokenError{Reason: fmt.Sprintf(format, args...)}
}

// VerifyIDToken verifies raw as an ID token from m's issuer for clientID,
// following OIDC Core §3.1.3.7 (requirements 9, 24, 32).
//
// go-oidc checks the signature against m.JWKSURI's keys (by kid, fetching
// the set again when a kid is unknown), the algorithm, iss, exp and that
// aud contains clientID. VerifyIDToken then checks what go-oidc leaves to
// its caller:
//   - nonce, when nonce is not empty (step 11): a token for another login
//     must not complete this one;
//   - aud holds clientID and nothing else (step 3: an untrusted extra
//     audience could replay the token at us, or we at it);
//   - azp, when present, equals clientID (steps 4, 5);
//   - iat is present and not more than 5 min in the future (step 10).
//
// now is the clock (time.Now when nil); exp and iat get 5 min leeway.
func VerifyIDToken(ctx context.Context, client *http.Client, m *Metadata, clientID, raw, nonce string, now func() time.Time) (*IDToken, error) {
	if m == nil || m.JWKSURI == "" {
		return nil, idTokenErrorf("the server's metadata has no jwks_uri to verify it with")
	}
	if clientID == "" {
		return nil, idTokenErrorf("no client id to check the audience against")
	}
	if client == nil {
		// go-oidc would fall back to http.DefaultClient: no deadlines, no
		// limits, no CA file.
		return nil, idTokenErrorf("no http client")
	}
	if now == nil {
		now = time.Now
	}
	verifier := oidc.NewVerifier(m.Issuer, keySetFor(client, m.JWKSURI), &oidc.Config{
		ClientID:             clientID,
		SupportedSigningAlgs: signingAlgs,
		// go-oidc allows no leeway on exp; moving its clock back gives
		// the same tolerance as ours on iat.
		Now: func() time.Time { return now().Add(-clockLeeway) },
		// A templated issuer is checked below, against the tid claim.
		SkipIssuerCheck: m.IssuerTemplate != "",
	})
	tok, err := verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fromOIDCError(err)
	}

	var claims struct {
		personClaims
		Nonce        string `json:"nonce"`
		AuthorizedBy string `json:"azp"`
		TenantID     string `json:"tid"`
	}
	if err := tok.Claims(&claims); err != nil {
		return nil, idTokenErrorf("unreadable claims")
	}
	if m.IssuerTemplate != "" {
		if err := checkTemplatedIssuer(m, tok.Issuer, claims.TenantID); err != nil {
			return nil, err
		}
	}
	for _, aud := range tok.Audience {
		if aud != clientID {
			return nil, idTokenErrorf("untrusted extra audience %q", redact.UntrustedText(aud))
		}
	}
	if claims.AuthorizedBy != "" && claims.AuthorizedBy != clientID {
		return nil, idTokenErrorf("issued to another party (azp %q)", redact.UntrustedText(claims.AuthorizedBy))
	}
	t := now()
	if tok.IssuedAt.IsZero() {
		return nil, idTokenErrorf("no iat claim")
	}
	if tok.IssuedAt.After(t.Add(clockLeeway)) {
		return nil, &IDTokenError{
			Reason:    fmt.Sprintf("issued %v in the future", tok.IssuedAt.Sub(t).Round(time.Second)),
			ClockSkew: true,
		}
	}
	if nonce != "" {
		if claims.Nonce == "" {
			return nil, idTokenErrorf("no nonce, but this login sent one")
		}
		// Constant time: the nonce is a secret until the login completes.
		if subtle.ConstantTimeCompare([]byte(claims.Nonce), []byte(nonce)) != 1 {
			return nil, idTokenErrorf("nonce does not match this login")
		}
	}

	// An address the server marks unverified is not an identity; showing
	// it in `sesame status` would suggest otherwise (personClaims.person).
	person := claims.person()
	id := &IDToken{
		Subject:  tok.Subject,
		Username: person.Username,
		Email:    person.Email,
		Name:     person.Name,
		Issuer:   tok.Issuer,
		Expiry:   tok.Expiry,
		IssuedAt: tok.IssuedAt,
	}
	if id.Subject == "" {
		return nil, idTokenErrorf("no sub claim")
	}
	return id, nil
}

// checkTemplatedIssuer applies the check Microsoft's libraries make of a
// multi-tenant issuer: iss equals the document's template with its
// placeholder replaced by the token's tid. A tid that is empty or holds a
// slash could make the template match another issuer's path.
func checkTemplatedIssuer(m *Metadata, iss, tid string) error {
	if tid == "" || strings.ContainsAny(tid, "/?#{}") {
		return idTokenErrorf("no usable tid claim to check the multi-tenant issuer with")
	}
	if want := strings.Replace(m.IssuerTemplate, m.IssuerPlaceholder, tid, 1); iss != want {
		return idTokenErrorf("issued by %q, but its tenant's issuer is %q", redact.UntrustedText(iss), redact.UntrustedText(want))
	}
	return nil
}

// fromOIDCError turns a go-oidc error into an IDTokenError. go-oidc quotes
// the JWKS response body when fetching keys fails, so its text is
// redacted and sanitized rather than wrapped.
func fromOIDCError(err error) error {
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		return &IDTokenError{
			Reason:    fmt.Sprintf("expired at %s", expired.Expiry.UTC().Format(time.RFC3339)),
			ClockSkew: true,
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return idTokenErrorf("verification interrupted: %s", redact.Error(err))
	}
	msg := strings.ReplaceAll(redact.Error(err), "oidc: ", "")
	switch {
	case errors.Is(err, errRefetchLimited) || strings.Contains(msg, errRefetchLimited.Error()):
		// Requirement 24: no key known from the last fetch verifies it,
		// and the keys are not fetched again so soon.
		msg = "signature does not match any key from the server's jwks_uri (fetched moments ago)"
	case strings.Contains(msg, "failed to verify id token signature"):
		msg = "signature does not match any key from the server's jwks_uri"
	case strings.Contains(msg, "unexpected signature algorithm"):
		msg, _, _ = strings.Cut(msg, ";")
		msg = strings.TrimPrefix(msg, "malformed jwt: ") + " (only asymmetric signatures are accepted)"
	default:
		msg = strings.TrimPrefix(msg, "failed to verify signature: ")
		msg = strings.TrimPrefix(msg, "id token ")
	}
	return idTokenErrorf("%s", msg)
}

// CheckSameSubject checks that an ID token from a refresh names the same
// issuer and subject as the one from login (OIDC Core §12.2). A different
// sub means the grant now speaks for someone else, and nothing from that
// response may be used (requirement 24).
func CheckSameSubject(prev, next *IDToken) error {
	if prev == nil || next == nil {
		return idTokenErrorf("nothing to compare")
	}
	if prev.Issuer != next.Issuer {
		return idTokenErrorf("refresh returned a token from issuer %q, login was with %q",
			redact.UntrustedText(next.Issuer), redact.UntrustedText(prev.Issuer))
	}
	if prev.Subject != next.Subject {
		return idTokenErrorf("refresh returned a token for another subject")
	}
	return nil
}
