package oauthwire

import (
	"bytes"
	"encoding/json"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Response is an answer from an OAuth endpoint.
type Response struct {
	// Status is the HTTP status.
	Status int
	// Header is the answer's header (Retry-After, DPoP-Nonce).
	Header http.Header
	// Fields holds the members of a JSON object as encoding/json decodes
	// them, or of a form-encoded body as their first string; nil when the
	// body is neither.
	Fields map[string]any
	// Body is the body as it came, for a caller that decodes it into a
	// type of its own. It may hold tokens: never quote it.
	Body []byte

	op      string
	secrets []string
}

// NewResponse returns the Response of an answer to the request of op that
// carried secrets, read from its status, header and body. [Send] builds
// every Response this way; tests build their own.
func NewResponse(op string, status int, header http.Header, body []byte, secrets ...string) *Response {
	return newResponse(op, status, header, body, secrets)
}

func newResponse(op string, status int, header http.Header, body []byte, secrets []string) *Response {
	if header == nil {
		header = http.Header{}
	}
	return &Response{
		Status:  status,
		Header:  header,
		Fields:  fields(header.Get("Content-Type"), body),
		Body:    body,
		op:      op,
		secrets: secrets,
	}
}

// fields reads a JSON object (RFC 6749 §5.1, §5.2), or a form-encoded body
// as some servers (GitHub) send, into one map: JSON values as
// encoding/json decodes them, form values as their first string. A body
// that starts with "{" is read as JSON whatever its type says. Anything
// else, or a body that does not parse, gives nil.
func fields(contentType string, body []byte) map[string]any {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")):
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			return nil
		}
		return m
	case mt == "application/x-www-form-urlencoded" || mt == "text/plain":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil
		}
		m := make(map[string]any, len(v))
		for k := range v {
			m[k] = v.Get(k)
		}
		return m
	}
	return nil
}

// OK reports a 2xx status.
func (r *Response) OK() bool { return r.Status >= 200 && r.Status <= 299 }

// Str returns a string member, or "" when it is absent or not a string.
func (r *Response) Str(k string) string {
	s, _ := r.Fields[k].(string)
	return s
}

// Seconds reads a number of seconds such as expires_in or interval.
// Numbers sent as strings are accepted, as some servers send them.
// present reports whether the member exists (and is not null), valid
// whether it is a finite number.
func (r *Response) Seconds(k string) (v float64, present, valid bool) {
	raw, present := r.Fields[k]
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

// Err returns the [*Error] of an OAuth error answer: a status other than
// 2xx, or an error member that is neither empty nor null, which some
// servers send with 200 (RFC 6749 §5.2). It returns nil for any other
// answer.
func (r *Response) Err() error {
	if v := r.Fields["error"]; r.OK() && (v == nil || v == "") {
		return nil
	}
	return r.Refusal()
}

// Refusal returns the [*Error] that says what this answer was, for a
// caller that wanted another: its status and OAuth error, if any. For
// an answer [Response.Err] calls an error, it is that error.
func (r *Response) Refusal() *Error {
	return NewError(r.op, r.Status, r.Str("error"), r.Str("error_description"), r.Str("error_uri"), r.secrets...)
}

// Unusable returns the [*Error] for this answer not being the document
// expected, for reason in sesame's words.
func (r *Response) Unusable(reason string) error {
	return Unusable(r.op, r.Status, reason)
}

// Token is a successful access token response (RFC 6749 §5.1).
type Token struct {
	AccessToken  string
	RefreshToken string
	// TokenType is token_type as the server sent it: "" when absent or
	// null, and a member that is not a string in its JSON form, so that a
	// check of the type refuses it rather than reading it as absent.
	TokenType string
	// ExpiresIn is expires_in in whole seconds, rounded up; 0 when it is
	// absent, not a number or not positive.
	ExpiresIn int64
	// Fields holds every member, id_token and scope among them.
	Fields map[string]any
}

// Token reads a successful access token response (RFC 6749 §5.1). An
// answer that is not an object, or has no access_token, is [ErrUnusable].
func (r *Response) Token() (*Token, error) {
	if r.Fields == nil {
		return nil, r.Unusable("it is neither a JSON object nor a form")
	}
	t := &Token{
		AccessToken:  r.Str("access_token"),
		RefreshToken: r.Str("refresh_token"),
		TokenType:    r.tokenType(),
		Fields:       r.Fields,
	}
	if t.AccessToken == "" {
		return nil, r.Unusable("it has no access_token")
	}
	if v, _, ok := r.Seconds("expires_in"); ok && v > 0 {
		// The callers clamp the lifetime; this only keeps the conversion
		// defined.
		t.ExpiresIn = int64(math.Ceil(min(v, 1e15)))
	}
	return t, nil
}

// tokenType returns token_type: the string, "" when absent or null, and
// otherwise the member in JSON.
func (r *Response) tokenType() string {
	switch v := r.Fields["token_type"].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, err := json.Marshal(v)
		if err != nil || len(b) == 0 {
			return "?"
		}
		return string(b)
	}
}
