package redact

import (
	"regexp"
	"slices"
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
	// keep, if set, spares a value that is not a secret after all: the
	// header rule's prose ("dpop: proof target must not …").
	keep func(value string) bool
}

var (
	fieldNeedles  = []string{"token", "code", "secret", "assertion", "password", "nonce", "state"}
	headerNeedles = []string{"authorization", "dpop", "cookie"}
)

// compiled holds the regular expressions, built on first use: compiling
// them costs about 0.4 ms, which every helper call would otherwise pay at
// start-up although most never log or fail.
type compiled struct {
	rules    []rule
	schemeRe *regexp.Regexp
	jwtRe    *regexp.Regexp
	prefixRe *regexp.Regexp
}

// The patterns are compiled by the first call of patterns. The state is
// a plain sync.Once, not sync.OnceValue, so that the package has nothing
// to run at start-up: a warm helper call pays for every package
// initialisation and uses none of this.
var (
	compileOnce sync.Once
	compiledSet *compiled
)

func patterns() *compiled {
	compileOnce.Do(func() { compiledSet = compile() })
	return compiledSet
}

func compile() *compiled {
	anyNeedles := append(slices.Clone(fieldNeedles), headerNeedles...)

	// Header lines in HTTP dumps, "Authorization: Bearer x" up to the end of
	// the line. This also covers Go's http.Header formatting
	// ("map[Authorization:[Bearer x]]"), where the rest of the line goes.
	//
	// The same words also start sesame's own messages ("dpop: proof target
	// must not carry user information", "log in without DPoP: sesame login
	// …"): a value that reads as a sentence is kept (see proseValue), and
	// the other rules still run over it.
	headerRule := rule{re: regexp.MustCompile(`(?i)(` + secretHeaders + `)([ \t]*:[ \t]*)([^\r\n]*)`), needles: headerNeedles, keep: proseValue}

	// JSON members whose value is a string: "code": "x". The value follows
	// JSON escaping (RFC 8259 §7), so an escaped quote does not end it.
	jsonStringRule := rule{re: regexp.MustCompile(`(?i)(` + secretFields + `|` + secretHeaders + `)("[ \t\r\n]*:[ \t\r\n]*")((?:[^"\\]|\\.)*)`), needles: anyNeedles}

	// JSON inside a JSON string, as in an error body that quotes a request:
	// \"code\":\"x\". The value ends at the next escaped quote; an escaped
	// quote inside the inner string appears as \\\" and does not end it.
	jsonEscapedRule := rule{re: regexp.MustCompile(`(?i)(` + secretFields + `|` + secretHeaders + `)(\\"[ \t]*:[ \t]*\\")((?:\\\\\\"|\\\\|\\[^"\\]|[^"\\])*)`), needles: anyNeedles}

	// JSON members whose value is not a string (a number, true).
	jsonBareRule := rule{re: regexp.MustCompile(`(?i)(` + secretFields + `|` + secretHeaders + `)(\\?"[ \t\r\n]*:[ \t\r\n]*)([^\s,}\]"\\]+)`), needles: anyNeedles}

	// URL queries and form bodies (RFC 6749 §4.1.2, Appendix B): code=x&…,
	// also percent-encoded once (code%3Dx) as inside a redirect_uri. The
	// value ends at the next parameter or at characters a URL cannot hold
	// unencoded.
	formRule := rule{re: regexp.MustCompile(`(?i)(` + secretFields + `)(=|%3D)([^&\s"'<>#]*)`), needles: fieldNeedles}

	// Go's fmt output of maps and structs: map[code:[x]], {AccessToken:x}.
	goFmtRule := rule{re: regexp.MustCompile(`(?i)(` + secretFields + `|` + goStructFields + `)(:\[?)([^\]\s}]*)`), needles: fieldNeedles}

	// The password in a URL's user information (RFC 3986 §3.2.1):
	// https://user:secret@host/. The user name stays, so the message still
	// says whose it was. The password runs to the last "@" before the path,
	// as Go's url.Parse reads it, so an unencoded "@" in it hides nothing.
	userinfoRule := rule{re: regexp.MustCompile(`(?i)([a-z][a-z0-9+.\-]*://[^\s/?#@:]*)(:)([^\s/?#]*)@`), needles: []string{"://"}}

	allRules := []rule{headerRule, jsonStringRule, jsonEscapedRule, jsonBareRule, formRule, goFmtRule, userinfoRule}

	// A bearer credential outside a header line, as in an error that
	// quotes "Bearer x". Only the capitalised scheme names are matched so
	// prose such as "bearer tokens" stays readable.
	schemeRe := regexp.MustCompile(`\b(Bearer|Basic|DPoP) +[A-Za-z0-9\-._~+/]+=*`)

	// A compact JWS or JWE (RFC 7515 §7.1, RFC 7516 §7.1): a base64url JSON
	// header, which always starts with "eyJ" ('{"'), then two or four more
	// dot-separated segments. The signature may be empty (alg "none").
	jwtRe := regexp.MustCompile(`eyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){2,4}`)

	// Tokens whose issuers mark them with a fixed prefix, wherever they
	// appear: GitHub (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), GitLab
	// (glpat-) and Slack (xoxb-, …). git and docker hand such tokens to
	// credential helpers, and they are not JWTs.
	prefixRe := regexp.MustCompile(`(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_\-]{20,}|xox[abposr]-[A-Za-z0-9\-]{10,})`)
	return &compiled{rules: allRules, schemeRe: schemeRe, jwtRe: jwtRe, prefixRe: prefixRe}
}

// String returns s with the values of secret fields, secret headers, the
// password of a URL's user information, any JWT-shaped string, tokens with
// a known issuer prefix and long random-looking base64url strings replaced
// by [Placeholder].
//
// It understands URL queries and form bodies, JSON (also escaped inside a
// JSON string), HTTP header lines, Go's %v formatting of maps and structs,
// and multi-line HTTP dumps. Empty values are left alone. Prose is left
// alone too: a header name that starts a sentence ("dpop: proof target
// must not carry user information") does not hide the sentence.
// String is idempotent: String(String(s)) == String(s).
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
	if strings.Contains(s, "Bearer") || strings.Contains(s, "Basic") || strings.Contains(s, "DPoP") {
		s = c.schemeRe.ReplaceAllStringFunc(s, func(m string) string {
			scheme, cred, _ := strings.Cut(m, " ")
			if !looksLikeCredential(strings.TrimLeft(cred, " ")) {
				return m
			}
			return scheme + " " + Placeholder
		})
	}
	if strings.Contains(s, "eyJ") {
		s = c.jwtRe.ReplaceAllLiteralString(s, Placeholder)
	}
	if strings.Contains(s, "gh") || strings.Contains(s, "glpat-") || strings.Contains(s, "xox") {
		s = c.prefixRe.ReplaceAllLiteralString(s, Placeholder)
	}
	return redactBlobs(s)
}

// minBlob is the shortest run of base64url characters [redactBlobs]
// considers: 32 characters carry about 190 bits, the size of an opaque
// token, and are longer than the words and names of a message.
const minBlob = 32

// redactBlobs replaces every long run of base64url characters that looks
// random (see looksRandom) by [Placeholder]: an opaque access or refresh
// token quoted outside any field the other rules know ("invalid token
// 8xK2…"). A JWT is gone by then, replaced whole.
func redactBlobs(s string) string {
	var b strings.Builder
	last, start := 0, -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isBlobByte(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= minBlob && looksRandom(s[start:i]) {
			if last == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:start])
			b.WriteString(Placeholder)
			last = i
		}
		start = -1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isBlobByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// looksRandom tells a token from a long name. Names are made of words
// ("TestFileStore_OptInWithoutKeychain_Req38" and the digits t.TempDir
// adds, "docker-credential-sesame"): almost all their letters stand in
// runs of two or more lower-case letters, with at most one capital in
// front. In random base64url, lower and upper case alternate too often for
// that, and digits fall between letters. The thresholds hide 98.7% of
// random 32-character strings and 99.7% of 43-character ones (256 bits),
// and none of this repository's test directory names.
func looksRandom(s string) bool {
	var letters, inWords, digitLetter int
	var upper, lower bool
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isUpper(c) || isLower(c):
			j := i
			if isUpper(c) {
				j++
			}
			k := j
			for k < len(s) && isLower(s[k]) {
				k++
			}
			if k-j >= 2 {
				inWords += k - i
			}
			if k == i {
				k = i + 1
			}
			for _, c := range []byte(s[i:k]) {
				upper = upper || isUpper(c)
				lower = lower || isLower(c)
			}
			letters += k - i
			i = k
		default:
			if '0' <= c && c <= '9' && i+1 < len(s) && (isUpper(s[i+1]) || isLower(s[i+1])) {
				digitLetter++
			}
			i++
		}
	}
	if !upper || !lower {
		return false
	}
	words := float64(inWords) / float64(letters)
	return words < 0.6 || digitLetter >= 2 && words < 0.8
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

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
		if vStart < 0 || vStart == vEnd || s[vStart:vEnd] == Placeholder || isPublicName(s, m[2], m[3]) ||
			(r.keep != nil && r.keep(s[vStart:vEnd])) {
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

// proseValue reports whether the text after a header name and a colon is
// a sentence rather than a header value. sesame's own messages start that
// way ("dpop: the server offers neither ES256 nor EdDSA") or quote a
// command after one ("log in without DPoP: sesame login -p work
// --dpop=false"). A header that carries a credential starts with an
// authentication scheme ("Bearer x", "DPoP x"), a cookie ("sid=x; …") or
// is one token (a DPoP proof): never with two plain lower-case words, of
// which the first is no scheme. Anything else is hidden, as before.
func proseValue(v string) bool {
	first, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return false
	}
	second, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	return plainWord(first, true) && plainWord(second, false) && !authScheme(strings.ToLower(first))
}

// plainWord reports whether w is a short word of lower-case letters (the
// first word of a sentence may be capitalised), optionally ending in a
// comma, semicolon or colon.
func plainWord(w string, capital bool) bool {
	w = strings.TrimRight(w, ",;:")
	if w == "" || len(w) > 15 {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		lower := 'a' <= c && c <= 'z'
		capitalFirst := i == 0 && capital && 'A' <= c && c <= 'Z'
		if !lower && !capitalFirst {
			return false
		}
	}
	return true
}

// authScheme reports whether name (lower case) is an HTTP authentication
// scheme (the IANA registry and a few common private ones): a header
// value starting with one is a credential, whatever follows. A switch, not
// a map, so that nothing is built at start-up.
func authScheme(name string) bool {
	switch name {
	case "basic", "bearer", "digest", "dpop", "gnap", "hoba",
		"mutual", "negotiate", "ntlm", "privatetoken", "vapid",
		"token", "mac", "hawk", "oauth", "apikey", "jwt",
		"kerberos":
		return true
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
