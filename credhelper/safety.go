package credhelper

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrUnsafeValue reports a value that could break the framing of a line-based
// protocol: a carriage return, line feed or NUL anywhere in a git attribute
// or docker server URL, or, in a token, any byte outside RFC 6749's visible
// ASCII. Git itself refuses such values since CVE-2020-5260 and
// CVE-2020-11008; the request that carried one gets no answer at all.
var ErrUnsafeValue = errors.New("credential value contains a line break, nul or other forbidden character")

// ErrTooLarge reports caller input over this package's bounds.
var ErrTooLarge = errors.New("credential helper input is too large")

// ErrNotBearer reports a token that is not a plain bearer token. kubectl, git
// and docker can only send "Authorization: Bearer" (RFC 6750 §2.1); a
// DPoP-bound token (RFC 9449) needs a fresh proof per request, which they
// cannot make (requirement 31).
var ErrNotBearer = errors.New("token is not a bearer token, and kubectl, git and docker can only send bearer tokens")

// errEmptyToken reports an answer with no token in it. Every caller treats
// an empty secret as "no credentials", so writing one would only hide a bug.
var errEmptyToken = errors.New("access token is empty")

// maxTokenTypeText caps how much of a server-chosen token type is quoted in
// an error message.
const maxTokenTypeText = 40

// RequireBearer returns nil for an OAuth token_type that kubectl, git and
// docker can use: "Bearer" in any case (RFC 6749 §5.1 makes the type
// case-insensitive) or empty, which x/oauth2 treats as Bearer. Any other
// type, "DPoP" above all, gives an error wrapping ErrNotBearer.
func RequireBearer(tokenType string) error {
	if tokenType == "" || strings.EqualFold(tokenType, "bearer") {
		return nil
	}
	t := tokenType
	if len(t) > maxTokenTypeText {
		t = t[:maxTokenTypeText]
	}
	if strings.EqualFold(t, "dpop") {
		return fmt.Errorf("%w: the token is DPoP-bound", ErrNotBearer)
	}
	return fmt.Errorf("%w: token_type is %q", ErrNotBearer, t)
}

// checkToken accepts 1*VSCHAR without the space: RFC 6749 Appendix A.12 for
// access tokens, narrowed so the token stays one credential in an
// Authorization header. Bytes outside it would also leave a JSON string
// escaped or, in git's protocol, end the line.
func checkToken(tok string) error {
	if tok == "" {
		return errEmptyToken
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c < 0x21 || c > 0x7e {
			return ErrUnsafeValue
		}
	}
	return nil
}

// checkLineValue rejects what would end or truncate a line in git's
// protocol: CR, LF and NUL (git-credential(1), "INPUT/OUTPUT FORMAT": a value
// may contain any bytes except newline or NUL; git 2.39.5 and later also
// refuse a carriage return unless credential.protectProtocol is off).
func checkLineValue(s string) error {
	if strings.ContainsAny(s, "\r\n\x00") {
		return ErrUnsafeValue
	}
	return nil
}

// checkText rejects every ASCII control character. It is for values that are
// names or URLs and have no reason to hold any.
func checkText(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return ErrUnsafeValue
		}
	}
	return nil
}

// readBounded reads r to EOF, failing with ErrTooLarge after limit bytes
// instead of buffering an unbounded stream.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}

// redacted replaces a secret in formatted output.
func redacted(s string) string {
	if s == "" {
		return ""
	}
	return "REDACTED"
}
