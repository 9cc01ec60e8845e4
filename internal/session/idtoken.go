package session

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/keychain"
)

// errNoIDToken is returned for a record without a usable ID token.
var errNoIDToken = errors.New("the grant holds no ID token")

// IDTokenTimes returns the exp and iat claims of a stored ID token. It
// does not check the signature: only ID tokens verified at login or at a
// refresh are stored (requirement 24), and the keychain record is trusted.
// Kubernetes' OIDC authenticator verifies the token itself.
func IDTokenTimes(raw string) (exp, iat time.Time, err error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return time.Time{}, time.Time{}, errNoIDToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, time.Time{}, errNoIDToken
	}
	var c struct {
		Exp float64 `json:"exp"`
		Iat float64 `json:"iat"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Exp <= 0 {
		return time.Time{}, time.Time{}, errNoIDToken
	}
	if c.Iat > 0 {
		iat = time.Unix(int64(c.Iat), 0)
	}
	return time.Unix(int64(c.Exp), 0), iat, nil
}

// IDTokenEarlyExpiry is when sesame stops handing out r's ID token: its
// exp less the margin of its lifetime (requirement 32), as for access
// tokens. The zero time means r has no usable ID token.
func IDTokenEarlyExpiry(r *keychain.Record) time.Time {
	exp, iat, err := IDTokenTimes(r.IDToken)
	if err != nil {
		return time.Time{}
	}
	lifetime := exp.Sub(iat)
	if iat.IsZero() || lifetime <= 0 {
		lifetime = 0
	}
	return exp.Add(-Margin(lifetime))
}

// IDTokenFresh is an Accept function for [Grant]: r's ID token must stay
// usable for minTTL more at now().
func IDTokenFresh(now func() time.Time, minTTL time.Duration) func(*keychain.Record) bool {
	return func(r *keychain.Record) bool {
		early := IDTokenEarlyExpiry(r)
		return !early.IsZero() && !now().Add(minTTL).After(early)
	}
}
