package dpop

import (
	"bytes"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"strings"
)

// errUseNonce is the error code with which a server asks for a proof with
// its nonce (RFC 9449 §8 for the authorization server, §9 for a resource
// server).
const errUseNonce = "use_dpop_nonce"

// peekLimit bounds how much of an error body is read to look for
// use_dpop_nonce. A token endpoint error is a few hundred bytes (RFC 6749
// §5.2); a larger body is passed on unread beyond this window.
const peekLimit = 64 << 10

// asksForNonce reports whether resp is a use_dpop_nonce error: a 400 whose
// JSON body has "error":"use_dpop_nonce" (RFC 9449 §8) or a 401 whose
// WWW-Authenticate challenge has error="use_dpop_nonce" (§9). For a 400 it
// reads at most peekLimit+1 bytes and replaces resp.Body with one that
// yields the complete original body and closes the original.
func asksForNonce(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusBadRequest:
		return bodyAsksForNonce(resp)
	case http.StatusUnauthorized:
		for _, v := range resp.Header.Values("WWW-Authenticate") {
			for name, value := range authParams(v) {
				if strings.EqualFold(name, "error") && value == errUseNonce {
					return true
				}
			}
		}
	}
	return false
}

// bodyAsksForNonce peeks at a 400 body (RFC 6749 §5.2) and puts what it
// read back in front of the rest.
func bodyAsksForNonce(resp *http.Response) bool {
	if resp.Body == nil || resp.Body == http.NoBody {
		return false
	}
	orig := resp.Body
	peeked, err := io.ReadAll(io.LimitReader(orig, peekLimit+1))
	var rest io.Reader = orig
	if err != nil {
		// Hand the caller the same failure at the same point.
		rest = errReader{err}
	}
	resp.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(peeked), rest), Closer: orig}
	if err != nil || len(peeked) > peekLimit {
		return false
	}
	var e struct {
		Error string `json:"error"`
	}
	return json.Unmarshal(peeked, &e) == nil && e.Error == errUseNonce
}

// peekedBody is a response body whose start was already read: Read replays
// it, then continues with the original; Close closes the original.
type peekedBody struct {
	io.Reader
	io.Closer
}

// errReader fails every Read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// authParams yields the auth-params (name, value) of a WWW-Authenticate
// field value, skipping auth-schemes and token68 (RFC 9110 §11.2, §11.6.1).
// Quoted strings are unescaped, so text inside error_description is never
// mistaken for a parameter.
func authParams(s string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		i := 0
		for i < len(s) {
			if !isTChar(s[i]) {
				i++ // separator, or a stray character
				continue
			}
			j := i
			for j < len(s) && isTChar(s[j]) {
				j++
			}
			name := s[i:j]
			k := skipBWS(s, j)
			if k >= len(s) || s[k] != '=' {
				i = j // an auth-scheme or a token68
				continue
			}
			k = skipBWS(s, k+1)
			var value string
			if k < len(s) && s[k] == '"' {
				value, k = quotedString(s, k)
			} else {
				v := k
				for k < len(s) && isTChar(s[k]) {
					k++
				}
				value = s[v:k]
			}
			if !yield(name, value) {
				return
			}
			i = k
		}
	}
}

// quotedString decodes the quoted-string starting at s[i] == '"' and
// returns it with the index after the closing quote (RFC 9110 §5.6.4). An
// unterminated string runs to the end.
func quotedString(s string, i int) (string, int) {
	var b strings.Builder
	for i++; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), i
}

// skipBWS skips optional spaces and tabs (RFC 9110 §5.6.3).
func skipBWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// isTChar reports whether c may appear in a token (RFC 9110 §5.6.2).
func isTChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
