package redact

import (
	"regexp"
	"strings"
	"sync"
)

// Placeholder replaces every secret value.
const Placeholder = "REDACTED"

// secretFields are the parameter names whose values are secrets wherever
// they appear: RFC 6749 §4.1.2 (code, state), §5.1 (access_token,
// refresh_token), RFC 7636 §4.5 (code_verifier), RFC 8628 §3.2
// (device_code), OIDC Core §3.1.2.1 (nonce) and §2 (id_token), RFC 7009
// §2.1 (token), RFC 7523 (assertion, client_assertion), RFC 8693
// (subject_token, actor_token) and RFC 6749 §2.3.1 / §4.3 (client_secret,
// password).
//
// Longer names come first so that alternation prefers them; matching is
// case-insensitive and has no left boundary (see the package doc).
const secretFields = `access_token|refresh_token|id_token|code_verifier|device_code|` +
	`client_secret|client_assertion|subject_token|actor_token|assertion|` +
	`password|nonce|state|code|token`

// secretHeaders carry credentials in HTTP: RFC 6750 §2.1 (Authorization),
// RFC 9449 §4 (DPoP) and RFC 6265 (Cookie, Set-Cookie). The whole value is
// hidden: a scheme name is not worth the risk of parsing it wrongly.
const secretHeaders = `proxy-authorization|authorization|dpop|set-cookie|cookie`

// goStructFields are Go field names of token types, for values printed
// with %+v (for example an oauth2.Token).
const goStructFields = `accesstoken|refreshtoken|idtoken|clientsecret|codeverifier|devicecode`

// rule is one syntax the redactor understands. The pattern has exactly
// three groups: the name, the separator and the value. The value is
// replaced; the name and separator stay so the log still reads well.
type rule struct {
	re *regexp.Regexp
	// needles are lower-case strings of which at least one occurs in any
	// text the rule can match. Checking them first keeps the common case,
	// a line with no secret field at all, off the slow case-insensitive
	// regexp path.
	needles []string
}

var (
	fieldNeedles  = []string{"token", "code", "secret", "assertion", "password", "nonce", "state"}
	headerNeedles = []string{"authorization", "dpop", "cookie"}
	anyNeedles    = append(append([]string(nil), fieldNeedles...), headerNeedles...)
)

// compiled holds the regular expressions, built on first use: compiling
// them costs about 0.4 ms, which every helper call would otherwise pay at
// start-up although most never log or fail.
type compiled struct {
	rules    []rule
	schemeRe *regexp.Regexp
	jwtRe    *regexp.Regexp
}

var patterns = sync.OnceValue(func() *compiled {
	// Header lines in HTTP dumps, "Authorization: Bearer x" up to the end of
	// the line. This also covers Go's http.Header formatting
	// ("map[Authorization:[Bearer x]]"), where the rest of the line goes.
	headerRule := rule{regexp.MustCompile(`(?i)(` + secretHeaders + `)([ \t]*:[ \t]*)([^\r\n]*)`), headerNeedles}

	// JSON members whose value is a string: "code": "x". The value follows
	// JSON escaping (RFC 8259 §7), so an escaped quote does not end it.
	jsonStringRule := rule{regexp.MustCompile(`(?i)(` + secretFields + `|` + secretHeaders + `)("[ \t\r\n]*:[ \t\r\n]*")((?:[^"\\]|\\.)*)`), anyNeedles}

	// JSON inside a JSON string, as in an error body that quotes a request:
	// \"code\":\"x\". The value ends at the next escaped quote; an escaped
	// quote inside the inner string appears as \\\" and does not end it.
	jsonEscapedRule := rule{regexp.MustCompile(`(?i)(` + secretFields + `|` + secretHeaders + `)(\\"[ \t]*:[ \t]*\\")((?:\\\\\\"|\\\\|\\[^"\\]|[^"\\])*)`), anyNeedles}

	// JSON members whose value is not a string (a number, true).
	jsonBareRule := rule{regexp.MustCompile(`(?i)(` + secretFields + `|` + secretHeaders + `)(\\?"[ \t\r\n]*:[ \t\r\n]*)([^\s,}\]"\\]+)`), anyNeedles}

	// URL queries and form bodies (RFC 6749 §4.1.2, Appendix B): code=x&…,
	// also percent-encoded once (code%3Dx) as inside a redirect_uri. The
	// value ends at the next parameter or at characters a URL cannot hold
	// unencoded.
	formRule := rule{regexp.MustCompile(`(?i)(` + secretFields + `)(=|%3D)([^&\s"'<>#]*)`), fieldNeedles}

	// Go's fmt output of maps and structs: map[code:[x]], {AccessToken:x}.
	goFmtRule := rule{regexp.MustCompile(`(?i)(` + secretFields + `|` + goStructFields + `)(:\[?)([^\]\s}]*)`), fieldNeedles}

	allRules := []rule{headerRule, jsonStringRule, jsonEscapedRule, jsonBareRule, formRule, goFmtRule}

	// A bearer credential outside a header line, as in an error that
	// quotes "Bearer x". Only the capitalised scheme names are matched so
	// prose such as "bearer tokens" stays readable.
	schemeRe := regexp.MustCompile(`\b(Bearer|Basic|DPoP) +[A-Za-z0-9\-._~+/]+=*`)

	// A compact JWS or JWE (RFC 7515 §7.1, RFC 7516 §7.1): a base64url JSON
	// header, which always starts with "eyJ" ('{"'), then two or four more
	// dot-separated segments. The signature may be empty (alg "none").
	jwtRe := regexp.MustCompile(`eyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){2,4}`)
	return &compiled{rules: allRules, schemeRe: schemeRe, jwtRe: jwtRe}
})

// String returns s with the values of secret fields, secret headers and
// any JWT-shaped string replaced by [Placeholder].
//
// It understands URL queries and form bodies, JSON (also escaped inside a
// JSON string), HTTP header lines, Go's %v formatting of maps and structs,
// and multi-line HTTP dumps. Empty values are left alone. String is
// idempotent: String(String(s)) == String(s).
func String(s string) string {
	if s == "" {
		return s
	}
	c := patterns()
	lower := strings.ToLower(s)
	for _, r := range c.rules {
		if !containsAny(lower, r.needles) {
			continue
		}
		if out := r.apply(s); out != s {
			s, lower = out, strings.ToLower(out)
		}
	}
	if !strings.Contains(s, "Bearer") && !strings.Contains(s, "Basic") && !strings.Contains(s, "DPoP") {
		return c.jwtRe.ReplaceAllLiteralString(s, Placeholder)
	}
	s = c.schemeRe.ReplaceAllStringFunc(s, func(m string) string {
		scheme, cred, _ := strings.Cut(m, " ")
		if !looksLikeCredential(strings.TrimLeft(cred, " ")) {
			return m
		}
		return scheme + " " + Placeholder
	})
	return c.jwtRe.ReplaceAllLiteralString(s, Placeholder)
}

func containsAny(s string, needles []string) bool {
	for _, n := range needles {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// apply replaces group 3 of every match. regexp has no submatch-aware
// ReplaceFunc, so the result is assembled from the match indexes.
func (r rule) apply(s string) string {
	matches := r.re.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, m := range matches {
		vStart, vEnd := m[6], m[7]
		if vStart < 0 || vStart == vEnd || s[vStart:vEnd] == Placeholder || isPublicName(s, m[2], m[3]) {
			continue
		}
		b.WriteString(s[last:vStart])
		b.WriteString(Placeholder)
		last = vEnd
	}
	b.WriteString(s[last:])
	return b.String()
}

// publicNames end in a secret field's name but are meant to be seen: the
// user_code of RFC 8628 §3.2 is read out to the person.
var publicNames = []string{"user_code"}

// isPublicName reports whether the field name at s[start:end] is the tail
// of a public name such as user_code.
func isPublicName(s string, start, end int) bool {
	for _, p := range publicNames {
		if n := len(p); end-n >= 0 && end-n <= start && strings.EqualFold(s[end-n:end], p) {
			return true
		}
	}
	return false
}

// looksLikeCredential tells a credential after "Bearer " from an English
// word ("Bearer tokens", "TokenType:Bearer RefreshToken"): real tokens are
// long or carry digits or punctuation. A false positive costs a word of
// log; a false negative would cost a token, so the bar is low.
func looksLikeCredential(s string) bool {
	if len(s) >= 20 {
		return true
	}
	return len(s) >= 4 && strings.ContainsAny(s, "0123456789-._~+/=")
}

// Error returns the redacted and sanitized text of err, or "" for nil.
// Use it when a library error (oauth2.RetrieveError quotes the response
// body) must become part of a message shown to a person.
func Error(err error) string {
	if err == nil {
		return ""
	}
	return UntrustedText(err.Error())
}
