package devicecode

import (
	"strings"
	"testing"
	"unicode"
)

// Internationalized verification hosts: shown in Unicode when valid, refused
// when hostile (requirement 41, RFC 8628 §5.4).

func TestHostUnicode_Req41(t *testing.T) {
	tests := map[string]string{
		"xn--bcher-kva.example":                                "bücher.example",
		"login.XN--BCHER-KVA.example":                          "login.bücher.example",
		"xn--mnchen-3ya.de":                                    "münchen.de",
		"xn--tda.example":                                      "ü.example",
		"xn--e1afmkfd.xn--p1ai":                                "пример.рф",
		"xn--wgv71a119e.jp":                                    "日本語.jp",
		"xn--ihqwcrb4cv8a8dqg056pqjye.example":                 "他们为什么不说中文.example",
		"xn--3b-ww4c5e180e575a65lsy2b.example":                 "3年b組金八先生.example",
		"xn--mgbh0fb.xn--kgbechtv":                             "مثال.إختبار",
		"xn--4dbrk0ce.example":                                 "ישראל.example",
		"xn--zca.example":                                      "ß.example", // a deviation stays itself, not "ss"
		"xn---with-super-monkeys-pc58ag80a8qai00g7n9n.example": "安室奈美恵-with-super-monkeys.example",
		"as.example":                                           "as.example",
		"ab--cd.example":                                       "ab--cd.example", // plain ASCII names are not IDNA-checked
	}
	for in, want := range tests {
		h, err := parseHost(in)
		if err != nil {
			t.Errorf("parseHost(%q): %v", in, err)
			continue
		}
		if h.unicode != want || h.ascii != strings.ToLower(in) {
			t.Errorf("parseHost(%q) = %q (%q), want %q (%q)", in, h.unicode, h.ascii, want, strings.ToLower(in))
		}
	}
}

func TestHostUnicode_HostileRefused_Req41(t *testing.T) {
	tests := map[string]string{
		"xn--a.example":                "decodes to the control U+0080",
		"xn--abc-.example":             "decodes to ASCII only: a fake A-label",
		"xn---tda.example":             "non-canonical encoding of ü",
		"xn--99999999999.example":      "overflows",
		"xn--zzzzzzzzzzzzzz.example":   "ends in the middle of a number",
		"xn--a-tic.example":            "a then Hebrew mem: breaks the Bidi rule",
		"xn--1-0hc.example":            "a digit then Hebrew alef: breaks the Bidi rule",
		"1abc.xn--4dbrk0ce.example":    "Bidi rule across labels",
		"xn--ab-m1t.example":           "zero width joiner outside its context",
		"xn--u-ccb.example":            "u and a combining diaeresis: not NFC",
		"xn--a-bcb.example":            "starts with a combining mark",
		"xn--ab---3ra.example":         "hyphens in the third and fourth place of the U-label",
		"xn----eha.example":            "U-label starts with a hyphen",
		"xn--cher-zra77610b.example":   "full-width b, which IDNA maps",
		"xn--b-vca1v.example":          "soft hyphen, which IDNA ignores",
		"xn--iny-zx5a.example":         "a symbol (heart) that IDNA allows",
		"xn--ab-6bv.example":           "division slash, a '/' look-alike that IDNA allows",
		"ab--cd.xn--bcher-kva.example": "reserved ab-- label in an internationalized name",
	}
	for in, why := range tests {
		if h, err := parseHost(in); err == nil {
			t.Errorf("parseHost(%q) = %q, want an error (%s)", in, h.unicode, why)
		}
	}
}

// FuzzParseHost checks that an accepted host is shown safely: its ASCII form
// is lower-case letters, digits, '-' and '.', or an IP literal; its Unicode
// form has no control, format or space characters; and its registrable
// domain is a suffix of it.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"as.example", "xn--bcher-kva.example", "127.0.0.1", "::1", "a.b.co.uk", "xn--a.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHost(s)
		if err != nil {
			return
		}
		if !h.ip {
			for _, r := range h.ascii {
				if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '.' {
					t.Fatalf("parseHost(%q).ascii = %q", s, h.ascii)
				}
			}
		}
		for _, r := range h.unicode {
			if !unicode.IsPrint(r) || r == ' ' {
				t.Fatalf("parseHost(%q).unicode = %q has %U", s, h.unicode, r)
			}
		}
		if h.domain != h.ascii && !strings.HasSuffix(h.ascii, "."+h.domain) {
			t.Fatalf("parseHost(%q): domain %q is not a suffix of %q", s, h.domain, h.ascii)
		}
	})
}

func TestIssuerASCII(t *testing.T) {
	tests := map[string]string{
		"as.example":     "as.example",
		"bücher.example": "xn--bcher-kva.example",
		"BÜCHER.example": "xn--bcher-kva.example",
		"ｂücher.example": "xn--bcher-kva.example", // full-width b folded as a browser does
		"faß.de":         "xn--fa-hia.de",         // non-transitional
	}
	for in, want := range tests {
		if got := issuerASCII(in); got != want {
			t.Errorf("issuerASCII(%q) = %q, want %q", in, got, want)
		}
	}
}
