package devicecode

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// maxUserCodeRunes bounds the user_code. RFC 8628 §6.1 expects about eight
// characters a person can type; a long one is a server putting text on our
// terminal.
const maxUserCodeRunes = 64

// Prompt is what the person must see to approve the login on another device
// (RFC 8628 §3.3). A display should show Origin (with HostUnicode beside it
// when it differs from HostASCII) on a line of its own, then VerificationURI,
// then UserCode, with PhishingWarning in sight of them, and warn loudly when
// DifferentDomain is set (requirements 41, 42). Origin is where the page is,
// not a page to open: a display introduces it as such. On a terminal the
// page and the code are best shown last, where the eye ends and where they
// do not scroll away. The device code is not part of it.
type Prompt struct {
	// VerificationURI is the server's verification_uri, exactly as received
	// and checked: https, no user information, a plain host.
	VerificationURI string
	// VerificationURIComplete is verification_uri_complete (RFC 8628
	// §3.3.1), exactly as received, or "" when the server sent none or sent
	// one whose origin differs from VerificationURI's.
	VerificationURIComplete string
	// UserCode is user_code exactly as received. It must be shown even when
	// VerificationURIComplete is used (RFC 8628 §3.3.1), so the person can
	// check it against what the page shows.
	UserCode string

	// Origin is the scheme, host and explicit non-default port of
	// VerificationURI, with the host in ASCII: "https://login.example.com".
	Origin string
	// HostASCII is the verification host in ASCII, lower case, with
	// internationalized labels in punycode ("xn--bcher-kva.example").
	HostASCII string
	// HostUnicode is HostASCII with punycode labels decoded
	// ("bücher.example"); equal to HostASCII for other names.
	HostUnicode string
	// DifferentDomain reports a verification page outside the issuer's
	// registrable domain and the allowlist, shown only because
	// Config.AcceptVerificationHost was set. Domain and IssuerDomain say
	// which domains differ.
	DifferentDomain      bool
	Domain, IssuerDomain string

	// ExpiresAt is when the user code stops working, on the flow's clock:
	// expires_in after the response arrived, at most MaxExpiry.
	ExpiresAt time.Time

	// QR is BrowserURI rendered by UI.QR, or "" when there is no encoder or
	// it failed.
	QR string
}

// BrowserURI is the URI to open in a browser or encode in a QR code:
// VerificationURIComplete when it is offered, VerificationURI otherwise.
func (p Prompt) BrowserURI() string {
	if p.VerificationURIComplete != "" {
		return p.VerificationURIComplete
	}
	return p.VerificationURI
}

// Wait describes the pause before the next poll, for a countdown or spinner.
type Wait struct {
	// Remaining is the time until the user code expires.
	Remaining time.Duration
	// Next is the time until the next poll.
	Next time.Duration
	// Polls is the number of polls made so far.
	Polls int
	// Retrying is set when the last poll failed with a connection error or
	// a temporary server error and the interval was doubled (RFC 8628 §3.5).
	Retrying bool
}

// buildPrompt checks what the device authorization response asks us to show
// and turns it into a Prompt. It refuses an unsafe verification_uri, a
// user_code a terminal cannot show faithfully and, unless accepted, a
// verification page on another site than the issuer's.
func (f *Flow) buildPrompt(da *deviceAuth, expiresAt time.Time) (Prompt, error) {
	u, h, err := checkVerificationURI(da.verificationURI, f.cfg.AllowInsecureLoopback)
	if err != nil {
		return Prompt{}, err
	}
	if reason := checkUserCode(da.userCode); reason != "" {
		return Prompt{}, oauthwire.Unusable(opDeviceAuthorization, da.status, reason)
	}
	p := Prompt{
		VerificationURI: da.verificationURI,
		UserCode:        da.userCode,
		Origin:          u.Scheme + "://" + hostPort(h, u.Port(), u.Scheme),
		HostASCII:       h.ascii,
		HostUnicode:     h.unicode,
		Domain:          h.domain,
		IssuerDomain:    f.issuer.domain,
		ExpiresAt:       expiresAt,
	}
	if da.verificationURIComplete != "" {
		// An unsafe or foreign complete URI is dropped, not fatal: the
		// person can still type the code at VerificationURI.
		cu, ch, err := checkVerificationURI(da.verificationURIComplete, f.cfg.AllowInsecureLoopback)
		if err == nil && sameOrigin(u, cu, h, ch) {
			p.VerificationURIComplete = da.verificationURIComplete
		}
	}
	if !sameSite(h, f.issuer, f.allowlist) {
		if !f.cfg.AcceptVerificationHost {
			return Prompt{}, &VerificationHostError{
				Host: h.ascii, HostUnicode: h.unicode,
				Domain: h.domain, IssuerDomain: f.issuer.domain,
			}
		}
		p.DifferentDomain = true
	}
	if f.cfg.UI.QR != nil {
		if qr, err := f.cfg.UI.QR.EncodeQR(p.BrowserURI()); err == nil {
			p.QR = qr
		}
	}
	return p, nil
}

// checkUserCode refuses a user_code that could not be shown exactly as
// received: empty, very long, or carrying control or format characters
// (requirements 16, 41). Inner spaces are kept; some servers group
// the code that way. It returns why, or "".
func checkUserCode(c string) string {
	switch {
	case strings.TrimSpace(c) == "":
		return "it has no user_code"
	case utf8.RuneCountInString(c) > maxUserCodeRunes:
		return fmt.Sprintf("its user_code is longer than %d characters", maxUserCodeRunes)
	case !displaySafe(c, true) || strings.TrimSpace(c) != c:
		return "its user_code contains control, format or surrounding space characters"
	}
	return ""
}

// hostPort writes the host for an Origin, bracketing IPv6 literals and
// leaving out the scheme's default port.
func hostPort(h hostInfo, port, scheme string) string {
	host := h.ascii
	if h.ip && strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		return host
	}
	return host + ":" + port
}
