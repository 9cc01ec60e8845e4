package devicecode

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Vectors from RFC 3492 §7.1 and well-known registered names.
var punyVectors = []struct{ unicode, encoded string }{
	{"bücher", "bcher-kva"},
	{"münchen", "mnchen-3ya"},
	{"täst", "tst-qla"},
	{"ü", "tda"},
	{"пример", "e1afmkfd"},
	{"日本語", "wgv71a119e"},
	{"例え", "r8jz45g"},
	{"他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"},                                // RFC 3492 §7.1 (B)
	{"ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"},                          // (A)
	{"почемужеонинеговорятпорусски", "b1abfaaepdrnnbgefbadotcwatmq2g4l"},     // (I)
	{"3年b組金八先生", "3b-ww4c5e180e575a65lsy2b"},                                 // (L)
	{"安室奈美恵-with-super-monkeys", "-with-super-monkeys-pc58ag80a8qai00g7n9n"}, // (M)
}

func TestPunycodeVectors(t *testing.T) {
	for _, v := range punyVectors {
		if got, err := punyEncode(v.unicode); err != nil || got != v.encoded {
			t.Errorf("punyEncode(%q) = %q, %v; want %q", v.unicode, got, err, v.encoded)
		}
		if got, err := punyDecode(v.encoded); err != nil || got != v.unicode {
			t.Errorf("punyDecode(%q) = %q, %v; want %q", v.encoded, got, err, v.unicode)
		}
		if got, err := punyDecode(strings.ToUpper(v.encoded)); err != nil || !strings.EqualFold(got, v.unicode) {
			t.Errorf("punyDecode(upper %q) = %q, %v", v.encoded, got, err)
		}
	}
}

func TestPunycodeInvalid(t *testing.T) {
	for _, s := range []string{
		"99999999999",    // overflows
		"kva!",           // not a base-36 digit
		"zzzzzzzzzzzzzz", // runs off the end mid-number
		"a-ä",            // non-ASCII basic code point
		strings.Repeat("a", 64) + "-" + strings.Repeat("a", 20), // beyond 63 runes
	} {
		if got, err := punyDecode(s); err == nil {
			t.Errorf("punyDecode(%q) = %q, want an error", s, got)
		}
	}
}

// FuzzPunycode checks the round trip decode(encode(s)) == s for every
// encodable label, and that decoding anything never panics or yields
// invalid UTF-8.
func FuzzPunycode(f *testing.F) {
	for _, v := range punyVectors {
		f.Add(v.unicode)
		f.Add(v.encoded)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := punyDecode(s); err == nil && !utf8.ValidString(d) {
			t.Fatalf("punyDecode(%q) = invalid UTF-8 %q", s, d)
		}
		e, err := punyEncode(s)
		if err != nil {
			return
		}
		d, err := punyDecode(e)
		if err != nil || d != s {
			t.Fatalf("round trip of %q: encoded %q, decoded %q, %v", s, e, d, err)
		}
	})
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
				if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '.') {
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
