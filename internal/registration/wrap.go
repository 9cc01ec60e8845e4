package registration

import (
	"fmt"
	"net/url"
	"strings"
)

// wrap wraps err, an error from http.Client.Do, from reading a body or
// from checking a URL, under prefix. It keeps err reachable for errors.Is and errors.As
// (a deadline, a TLS error) but makes sure the message quotes nothing
// secret:
//
//   - net/http wraps its errors in a *url.Error that quotes the request
//     URL; a query in that URL can hold anything, so the wrapper is removed
//     when the URL has one;
//   - if the message still contains secret (nothing in net/http should put
//     it there, but a custom RoundTripper might), the message is replaced by
//     a sanitized one with the secret removed.
func wrap(prefix string, err error, secret string) error {
	if ue, ok := err.(*url.Error); ok && strings.Contains(ue.URL, "?") {
		err = ue.Err
	}
	wrapped := fmt.Errorf("%s: %w", prefix, err)
	if secret != "" && strings.Contains(wrapped.Error(), secret) {
		return &scrubbedError{msg: prefix + ": " + serverText(err.Error(), secret), err: err}
	}
	return wrapped
}

// scrubbedError carries a message with a secret removed while keeping the
// original error reachable through Unwrap.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
