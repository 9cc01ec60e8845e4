package devicecode

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	"github.com/sesame-auth/sesame/internal/oauthbody"
)

const (
	opDeviceAuthorization = "device authorization"
	opToken               = "token"

	// maxBody bounds a device authorization or token response
	// (requirement 23). A longer body is an error, never
	// silently truncated into something that parses.
	maxBody = 1 << 20
)

// reply is a response from the device authorization or token endpoint.
type reply struct {
	status int
	// fields holds a JSON object's members, or a form-encoded body's first
	// values as strings; nil when the body is neither.
	fields map[string]any
}

// str returns a string member, or "" when it is absent or not a string.
func (r *reply) str(k string) string {
	s, _ := r.fields[k].(string)
	return s
}

// seconds reads a number of seconds such as expires_in or interval. Numbers
// sent as strings are accepted, as some servers send them. present reports
// whether the member exists at all, valid whether it is a finite number.
func (r *reply) seconds(k string) (v float64, present, valid bool) {
	raw, present := r.fields[k]
	if !present || raw == nil {
		return 0, false, false
	}
	switch x := raw.(type) {
	case float64:
		v = x
	case string:
		var err error
		if v, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, true, false
		}
	default:
		return 0, true, false
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, true, false
	}
	return v, true, true
}

// post sends one form-encoded POST (RFC 6749 §3.2, RFC 8628 §3.1, §3.4) and
// reads the answer through a 1 MiB limit. A non-nil error is a transport
// failure, or ErrInvalidResponse for an oversized body; an RFC 6749 error
// response is a reply, for the caller to judge.
func (f *Flow) post(ctx context.Context, endpoint string, form url.Values) (*reply, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxBody {
		return &reply{status: resp.StatusCode}, fmt.Errorf("%w: response body is larger than 1 MiB", ErrInvalidResponse)
	}
	return &reply{status: resp.StatusCode, fields: oauthbody.Fields(resp.Header.Get("Content-Type"), body)}, nil
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
	if errors.Is(err, ErrInvalidResponse) {
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
