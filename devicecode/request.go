package devicecode

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/oauthwire"
)

// The Op of the two requests' errors.
const (
	opDeviceAuthorization = "device authorization"
	opToken               = "device token poll"
)

// post sends one form-encoded POST (RFC 6749 §3.2, RFC 8628 §3.1, §3.4)
// through internal/oauthwire, bounded by requestTimeout, and returns the
// answer whatever its status. A non-nil error is the *oauthwire.Error of a
// transport failure, a redirect or an oversized body; an RFC 6749 error
// response is a Response, for the caller to judge.
func (f *Flow) post(ctx context.Context, op, endpoint string, form url.Values, secrets ...string) (*oauthwire.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return oauthwire.Send(ctx, f.client, oauthwire.Request{Op: op, URL: endpoint, Form: form, Secrets: secrets})
}

// postToken sends one poll to the token endpoint, with the client's
// secret as HTTP Basic (RFC 6749 §2.3.1) when the configuration asks for
// AuthStyleInHeader; otherwise the secret, if any, is in form already.
// The secret goes to the token endpoint only, never to the device
// authorization endpoint.
func (f *Flow) postToken(ctx context.Context, form url.Values) (*oauthwire.Response, error) {
	c := f.cfg.OAuth2
	if c.ClientSecret == "" || c.Endpoint.AuthStyle != oauth2.AuthStyleInHeader {
		return f.post(ctx, opToken, c.Endpoint.TokenURL, form)
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	form.Del("client_id")
	basic := url.QueryEscape(c.ClientID) + ":" + url.QueryEscape(c.ClientSecret)
	return oauthwire.Send(ctx, f.client, oauthwire.Request{
		Op: opToken, URL: c.Endpoint.TokenURL, Form: form, Secrets: []string{c.ClientSecret},
		Header: http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(basic))}},
	})
}

// isTransient reports a failure that RFC 8628 §3.5 asks the client to ride
// out with a longer interval rather than give up on: a connection timeout,
// and by extension a connection that was refused, reset or cut mid-response.
// A certificate or TLS protocol failure is not transient; waiting will not
// make an untrusted server trusted.
func isTransient(err error) bool {
	var (
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
	)
	if errors.As(err, &certErr) || errors.As(err, &unknown) || errors.As(err, &hostErr) ||
		errors.As(err, &invalid) || errors.As(err, &recErr) || errors.As(err, &alertErr) {
		return false
	}
	if errors.Is(err, ErrInvalidResponse) || errors.Is(err, oauthwire.ErrRedirect) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	for _, t := range []error{
		io.EOF, io.ErrUnexpectedEOF, syscall.ECONNREFUSED, syscall.ECONNRESET,
		syscall.ECONNABORTED, syscall.EPIPE, syscall.ENETUNREACH, syscall.EHOSTUNREACH,
	} {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// isTransientStatus reports an HTTP status without an RFC 6749 error code
// that a proxy or overloaded server sends for a moment (RFC 9110 §15.6.3–5,
// RFC 6585 §4). The flow treats it like a connection timeout.
func isTransientStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
