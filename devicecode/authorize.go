package devicecode

import (
	"context"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// The device authorization request is sent here rather than through
// oauth2.Config.DeviceAuth, which was checked and found short of what the
// flow must guarantee: it computes Expiry from time.Now (so expires_in can be
// neither clamped nor tested on the flow's clock), cannot read expires_in
// sent as 1e12 or overflows on it, truncates an oversized body silently
// instead of failing, and returns a RetrieveError whose message quotes the
// response body. The request goes through internal/oauthwire, like every
// other OAuth request sesame makes.

// deviceAuth is a checked device authorization response (RFC 8628 §3.2).
type deviceAuth struct {
	status                  int
	deviceCode              string
	userCode                string
	verificationURI         string
	verificationURIComplete string
	expiresIn               time.Duration // clamped to MaxExpiry
	interval                time.Duration // DefaultInterval when absent, within [1 s, expiresIn]
}

// authorize sends the device authorization request (RFC 8628 §3.1) with the
// client_id (and never a client secret), scope, any AuthParams and, when verifier is set, its S256
// challenge (RFC 7636 §4.2).
func (f *Flow) authorize(ctx context.Context, verifier string) (*deviceAuth, error) {
	c := f.cfg.OAuth2
	// No client secret here: the providers that give installed apps one
	// (GitHub, Google) take client_id alone at this endpoint, and the
	// secret goes to the token endpoint only.
	form := url.Values{"client_id": {c.ClientID}}
	if len(c.Scopes) > 0 {
		form.Set("scope", strings.Join(c.Scopes, " "))
	}
	if verifier != "" {
		form.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
		form.Set("code_challenge_method", "S256")
	}
	for k, vs := range f.cfg.AuthParams {
		form[k] = append(form[k], vs...)
	}

	// The verifier is not sent here, but no error may quote it either.
	r, err := f.post(ctx, opDeviceAuthorization, c.Endpoint.DeviceAuthURL, form, verifier)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return parseDeviceAuth(r)
}

// parseDeviceAuth reads and bounds the members of a device authorization
// response. The device code is kept as it came; it is a secret that goes
// back to the token endpoint and nowhere else.
func parseDeviceAuth(r *oauthwire.Response) (*deviceAuth, error) {
	if r.Fields == nil {
		return nil, r.Unusable("it is not a JSON object")
	}
	da := &deviceAuth{
		status:                  r.Status,
		deviceCode:              r.Str("device_code"),
		userCode:                r.Str("user_code"),
		verificationURI:         r.Str("verification_uri"),
		verificationURIComplete: r.Str("verification_uri_complete"),
	}
	if da.verificationURI == "" {
		// Google spells it verification_url (an early draft's name).
		da.verificationURI = r.Str("verification_url")
	}
	if da.deviceCode == "" {
		return nil, r.Unusable("it has no device_code")
	}
	if da.verificationURI == "" {
		return nil, r.Unusable("it has no verification_uri")
	}

	// expires_in is REQUIRED (RFC 8628 §3.2). A missing one is waited for
	// up to MaxExpiry; a larger one is clamped to it
	// (requirement 23).
	da.expiresIn = MaxExpiry
	if v, present, valid := r.Seconds("expires_in"); present {
		if !valid || v <= 0 {
			return nil, r.Unusable("its expires_in is not a positive number")
		}
		da.expiresIn = clampSeconds(v, time.Second, MaxExpiry)
	}
	// interval is OPTIONAL, 5 s when absent (RFC 8628 §3.2). It is honoured
	// but bounded by the code's lifetime, and floored at one second so a
	// server cannot make us hammer it.
	da.interval = DefaultInterval
	if v, _, valid := r.Seconds("interval"); valid && v > 0 {
		da.interval = clampSeconds(v, time.Second, da.expiresIn)
	}
	return da, nil
}

// clampSeconds converts v seconds to a Duration within [lo, hi], clamping
// before the conversion so that 1e12 cannot overflow.
func clampSeconds(v float64, lo, hi time.Duration) time.Duration {
	switch {
	case v >= hi.Seconds():
		return hi
	case v <= lo.Seconds():
		return lo
	}
	return time.Duration(v * float64(time.Second))
}
