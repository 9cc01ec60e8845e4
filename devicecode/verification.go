package devicecode

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// The checks of this file decide whether the verification URI a server sent
// may be shown to the person at all (RFC 8628 §3.3.1, §5.4; RFC 9700 §3: the
// attacker may run the authorization server). A device login is a phishing
// primitive: whoever gets a person to enter a user code on the right page
// gets their tokens, so the page's location must be plain to see and match
// the server the person meant to sign in to.

// maxURILength bounds the URIs we are willing to show; no legitimate
// verification page needs more.
const maxURILength = 2048

// hostInfo is a host name or IP literal in the forms the flow compares and
// shows.
type hostInfo struct {
	ascii   string // lower case, punycode labels, no trailing dot; canonical IP
	unicode string // ascii with xn-- labels decoded, for display only
	ip      bool
	domain  string // registrable domain of ascii (ascii itself for an IP)
}

// checkVerificationURI parses a verification_uri or verification_uri_complete
// and refuses anything but an absolute https URL on a plain DNS name or IP
// literal (requirements 13, 20, 42). http is allowed only on a
// loopback IP literal, and only with allowInsecure.
func checkVerificationURI(raw string, allowInsecure bool) (*url.URL, hostInfo, error) {
	fail := func(reason string) (*url.URL, hostInfo, error) {
		return nil, hostInfo{}, fmt.Errorf("%w: %s", ErrVerificationURI, reason)
	}
	switch {
	case raw == "":
		return fail("the server sent none")
	case strings.HasPrefix(raw, "-"):
		// An opener that passes it to a program could read it as an option
		// (RFC 8252 §8.12; requirement 13).
		return fail("it starts with '-'")
	case len(raw) > maxURILength:
		return fail("it is longer than 2048 bytes")
	case !displaySafe(raw, false):
		return fail("it contains spaces, control or format characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fail("it is not a url")
	}
	if !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return fail("it is not an absolute url")
	}
	if u.User != nil {
		// https://as.example@evil.example/ reads as as.example to many.
		return fail("it carries user information")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowInsecure && urlcheck.IsLoopbackIP(u.Hostname()):
	default:
		return fail("it must use https")
	}
	h, err := parseHost(u.Hostname())
	if err != nil {
		return fail(err.Error())
	}
	return u, h, nil
}

// parseHost accepts an IP literal or a DNS name of letters, digits and
// hyphens; a name with "xn--" labels must pass hostUnicode. A name with raw
// non-ASCII characters is refused: a browser maps it through IDNA tables
// (full-width letters, ideographic full stops), and browsers differ in the
// details (transitional "ß"), so only the ASCII form names one host for
// certain.
func parseHost(host string) (hostInfo, error) {
	if host == "" {
		return hostInfo{}, errors.New("it has no host")
	}
	if ip := net.ParseIP(host); ip != nil {
		s := ip.String()
		return hostInfo{ascii: s, unicode: s, ip: true, domain: s}, nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if len(name) > 253 {
		return hostInfo{}, errors.New("its host name is too long")
	}
	labels := strings.Split(name, ".")
	idn := false
	for _, l := range labels {
		if !isLDHLabel(l) {
			if !isASCII(l) {
				return hostInfo{}, errors.New("its host name is not in ascii (xn--) form")
			}
			return hostInfo{}, errors.New("its host name has characters other than letters, digits and '-'")
		}
		idn = idn || strings.HasPrefix(l, "xn--")
	}
	h := hostInfo{ascii: name, unicode: name}
	if idn {
		u, err := hostUnicode(name)
		if err != nil {
			return hostInfo{}, errors.New("its host name is not a valid internationalized name")
		}
		h.unicode = u
	}
	h.domain = registrableDomain(labels)
	return h, nil
}

// isLDHLabel reports whether l is a lower-case DNS label of letters, digits
// and inner hyphens, at most 63 bytes (RFC 1123 §2.1).
func isLDHLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		ldh := 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
		if !ldh {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// displaySafe reports whether s is valid UTF-8 made only of printable runes:
// no C0 or C1 controls (ESC among them), no DEL, no bidi overrides or other
// format characters, which could make a terminal show something other than
// what the server sent. Spaces are allowed only when allowSpace is set, and
// then only U+0020.
func displaySafe(s string, allowSpace bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == ' ' {
			if !allowSpace {
				return false
			}
			continue
		}
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// secondLevelParts are labels that, directly under a two-letter country code,
// are public suffixes in most countries that use them (co.uk, com.au, ac.jp,
// gov.br, or.at, ne.jp).
var secondLevelParts = map[string]bool{
	"ac": true, "co": true, "com": true, "edu": true, "go": true, "gob": true,
	"gov": true, "govt": true, "gv": true, "ltd": true, "mil": true, "ne": true,
	"net": true, "nhs": true, "nic": true, "nom": true, "or": true, "org": true,
	"plc": true, "sch": true,
}

// registrableDomain approximates the registrable domain ("eTLD+1") of a DNS
// name given as lower-case ASCII labels: the last two labels, or the last
// three when the second-to-last is one of secondLevelParts under a two-letter
// country code. It is an approximation of the Public Suffix List, which
// sesame does not carry:
//
//   - It errs on the strict side under country codes: "login.abc.co.de"
//     and "as.xyz.co.de" are told apart even if co.de were not a suffix.
//   - It does not know private suffixes such as github.io or
//     cloudfront.net, so two tenants of one such service look like one
//     domain and get no warning. The issuer is the person's own choice, so
//     an attacker would need a tenant of the same shared service.
//   - Suffixes of three or more labels it does not list are treated like
//     ordinary names, which only adds warnings.
func registrableDomain(labels []string) string {
	n := 2
	if k := len(labels); k >= 3 && len(labels[k-1]) == 2 && secondLevelParts[labels[k-2]] {
		n = 3
	}
	if len(labels) <= n {
		return strings.Join(labels, ".")
	}
	return strings.Join(labels[len(labels)-n:], ".")
}

// isPublicSuffix reports whether a name is a bare suffix by the rules of
// registrableDomain: one label, or a listed second-level part under a
// country code.
func isPublicSuffix(labels []string) bool {
	return len(labels) == 1 ||
		len(labels) == 2 && len(labels[1]) == 2 && secondLevelParts[labels[0]]
}

// allowlistEntry normalizes an entry of Config.AllowedVerificationHosts. A
// leading "*." is accepted and dropped, since an entry covers the names
// under it anyway.
func allowlistEntry(raw string) (string, error) {
	s := strings.TrimPrefix(strings.TrimSpace(raw), "*.")
	h, err := parseHost(s)
	if err != nil {
		return "", fmt.Errorf("allowed verification host %q: %w", raw, err)
	}
	if !h.ip && isPublicSuffix(strings.Split(h.ascii, ".")) {
		return "", fmt.Errorf("allowed verification host %q is a public suffix and would allow every site under it", raw)
	}
	return h.ascii, nil
}

// sameSite reports whether the verification host belongs with the issuer:
// the same registrable domain, or the same IP literal; or whether an allowlist
// entry covers it.
func sameSite(v, issuer hostInfo, allowlist []string) bool {
	if v.ip || issuer.ip {
		if v.ascii == issuer.ascii {
			return true
		}
	} else if v.domain == issuer.domain {
		return true
	}
	for _, a := range allowlist {
		if v.ascii == a || !v.ip && strings.HasSuffix(v.ascii, "."+a) {
			return true
		}
	}
	return false
}

// sameOrigin reports whether a and b have the same scheme, host and port (RFC
// 6454 §4), with default ports made explicit. verification_uri_complete is
// offered only when it passes, so a server cannot show one page by name and
// send the person's browser or QR scanner to another
// (requirement 42).
func sameOrigin(a, b *url.URL, ha, hb hostInfo) bool {
	return a.Scheme == b.Scheme && ha.ascii == hb.ascii && effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return strings.TrimLeft(p, "0")
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}
