package devicecode

import (
	"errors"
	"unicode"

	"golang.org/x/net/idna"
)

// verificationIDNA is the IDNA profile (UTS #46, non-transitional) that a
// host name with xn-- labels must pass to be shown in Unicode. It is the
// registration profile of RFC 5891 §4, the strictest the package offers:
// nothing is mapped, so the decoded U-labels must already be in NFC and made
// of valid code points only; STD3 rules; the hyphen rules (RFC 5891
// §4.2.3.1), which also refuse reserved "ab--" labels elsewhere in such a
// name; ContextJ rules for joiners (RFC 5892 Appendix A); the Bidi rule
// across the whole name (RFC 5893 §2). Transitional processing is off: "ß"
// stays "ß" instead of turning into another host's "ss".
var verificationIDNA = idna.New(idna.ValidateForRegistration(), idna.Transitional(false))

var errIDN = errors.New("invalid internationalized name")

// hostUnicode decodes the xn-- labels of name, a lower-case DNS name in ASCII
// form, for display (requirement 41, RFC 8628 §5.4). It refuses the name
// unless it passes verificationIDNA and its labels decode to letters, marks,
// digits and hyphens only: IDNA's valid set also admits symbols such as
// U+2215 DIVISION SLASH, which reads as a '/' in a host. The decoder refuses
// non-canonical encodings, so one name has one spelling.
func hostUnicode(name string) (string, error) {
	u, err := verificationIDNA.ToUnicode(name)
	if err != nil {
		return "", errIDN
	}
	for _, r := range u {
		if r != '.' && !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsNumber(r) && r != '-' {
			return "", errIDN
		}
	}
	return u, nil
}

// issuerASCII converts the issuer's host to its ASCII form the way the HTTP
// client that reaches it does (net/http uses idna.Lookup too): case and width
// are folded, then labels are punycoded. The issuer is the person's own
// choice rather than the server's, so the lenient lookup profile is right
// here. A host it cannot convert is returned as it is, for parseHost to
// refuse.
func issuerASCII(host string) string {
	if isASCII(host) {
		return host
	}
	if a, err := idna.Lookup.ToASCII(host); err == nil {
		return a
	}
	return host
}
