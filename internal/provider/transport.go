package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sesame-auth/sesame/internal/redact"
	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// Body limits (requirement 23). A hostile or broken server must
// not make a credential helper allocate without bound; token, device, PAR
// and metadata responses are a few KiB, a JWKS a few more.
const (
	DefaultBodyLimit = 1 << 20
	jwksBodyLimit    = 256 << 10
)

// ErrBodyTooLarge matches (with errors.Is) the error returned when a
// response body exceeds its limit.
var ErrBodyTooLarge = errors.New("response body too large")

// bodyTooLargeError names the limit that was hit.
type bodyTooLargeError struct{ limit int64 }

func (e *bodyTooLargeError) Error() string {
	if e.limit%(1<<20) == 0 {
		return fmt.Sprintf("response body exceeds %d MiB", e.limit>>20)
	}
	return fmt.Sprintf("response body exceeds %d KiB", e.limit>>10)
}

func (e *bodyTooLargeError) Is(target error) bool { return target == ErrBodyTooLarge }

type bodyLimitKey struct{}

// withBodyLimit returns a context whose requests read at most n bytes of
// response body. The JWKS fetch, which runs inside go-oidc, gets its
// smaller limit this way.
func withBodyLimit(ctx context.Context, n int64) context.Context {
	return context.WithValue(ctx, bodyLimitKey{}, n)
}

func bodyLimit(ctx context.Context) int64 {
	if n, ok := ctx.Value(bodyLimitKey{}).(int64); ok && n > 0 {
		return n
	}
	return DefaultBodyLimit
}

// transport enforces, per request, what http.Client options cannot: the
// scheme policy (it also sees every redirect target), the body limit and
// the debug log.
type transport struct {
	base                  http.RoundTripper
	allowInsecureLoopback bool
	debug                 *redact.Logger
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := urlcheck.Parsed(req.URL, req.URL.String(), t.allowInsecureLoopback); err != nil {
		// The RoundTripper contract: the request body is closed even on
		// error.
		if req.Body != nil {
			_ = req.Body.Close()
		}
		if t.debug.Enabled() {
			t.debug.Printf("http: %s %s refused: %v", req.Method, req.URL, err)
		}
		return nil, fmt.Errorf("refusing request: %w", err)
	}

	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	// Enabled is checked first so a credential helper's hot path does not
	// box the arguments of a line nobody reads.
	if t.debug.Enabled() {
		took := time.Since(start).Round(time.Millisecond)
		if err != nil {
			t.debug.Printf("http: %s %s failed after %v: %v", req.Method, req.URL, took, err)
		} else {
			t.debug.Printf("http: %s %s -> %s in %v", req.Method, req.URL, resp.Status, took)
		}
	}
	if err != nil {
		return nil, err
	}

	limit := bodyLimit(req.Context())
	if resp.ContentLength > limit {
		_ = resp.Body.Close()
		return nil, &bodyTooLargeError{limit}
	}
	// The limit applies after Go's transparent gzip decoding, so a small
	// compressed bomb is stopped too.
	resp.Body = &limitedBody{rc: resp.Body, remaining: limit, limit: limit}
	return resp, nil
}

// limitedBody returns an error, rather than a silent EOF, once more than
// limit bytes arrive: a truncated JSON document must not parse as a
// shorter valid one.
type limitedBody struct {
	rc        io.ReadCloser
	remaining int64 // bytes still allowed; -1 once the limit was passed
	limit     int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.remaining < 0 {
		return 0, &bodyTooLargeError{b.limit}
	}
	// Read one byte more than allowed, to tell "exactly at the limit"
	// from "over it".
	if int64(len(p)) > b.remaining+1 {
		p = p[:b.remaining+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.remaining {
		n = int(b.remaining)
		b.remaining = -1
		return n, &bodyTooLargeError{b.limit}
	}
	b.remaining -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// sanitizedError carries a redacted, sanitized message while keeping the
// original errors reachable for errors.Is and errors.As (a TLS error, a
// deadline, ErrBodyTooLarge), so callers can choose a hint without the
// message ever quoting what a server sent.
type sanitizedError struct {
	msg  string
	errs []error
}

func (e *sanitizedError) Error() string   { return e.msg }
func (e *sanitizedError) Unwrap() []error { return e.errs }

// wrapSanitized returns an error reading "prefix: <cause, redacted and
// sanitized>" that unwraps to extra and cause.
func wrapSanitized(prefix string, cause error, extra ...error) error {
	return &sanitizedError{
		msg:  prefix + ": " + redact.Error(cause),
		errs: append(extra, cause),
	}
}
