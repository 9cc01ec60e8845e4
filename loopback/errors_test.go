package loopback

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSanitize_Req16(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"access_denied", "access_denied"},
		{"The user said no.", "The user said no."},
		{"<script>alert(1)</script>", "scriptalert(1)/script"},
		{"red\x1b[31mtext\x1b[0m", "red[31mtext[0m"},
		{"a\r\nb\tc", "a b c"},
		{"  lead and trail  ", "lead and trail"},
		{"bidi\u202egnp.exe", "bidignp.exe"},
		{"c1\u009bcsi\u0085nel", "c1csi nel"},
		{"nul\x00del\x7f", "nuldel"},
		{"bad utf8 \xff\xfe end", "bad utf8 end"},
		{"naïve café ✓", "naïve café ✓"},
		{"", ""},
	} {
		if got := sanitize(tc.in); got != tc.want {
			t.Errorf("sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("é", 500)
	if got := sanitize(long); utf8.RuneCountInString(got) != maxServerText {
		t.Errorf("sanitize kept %d runes, want %d", utf8.RuneCountInString(got), maxServerText)
	}
}

// FuzzSanitize_Req16 checks the invariant, not just the absence of panics:
// whatever the server sends, the result is valid UTF-8, at most 200 runes,
// and holds no control, format or markup characters.
func FuzzSanitize_Req16(f *testing.F) {
	for _, s := range []string{"<script>alert(1)</script>\x1b[31m", "\u202e", "\xff", strings.Repeat("a", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := sanitize(in)
		if !utf8.ValidString(out) || utf8.RuneCountInString(out) > maxServerText {
			t.Fatalf("sanitize(%q) = %q: invalid or too long", in, out)
		}
		for _, r := range out {
			if r == '<' || r == '>' || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || (unicode.IsSpace(r) && r != ' ') {
				t.Fatalf("sanitize(%q) kept %U", in, r)
			}
		}
		ae := &AuthError{Code: sanitize(in), Description: out, URI: out}
		xe := &ExchangeError{Code: sanitize(in), Description: out}
		for _, msg := range []string{ae.Error(), xe.Error()} {
			if strings.ContainsAny(msg, "\x1b<>\r\n") {
				t.Fatalf("error string %q holds a control or markup character", msg)
			}
		}
	})
}

func TestErrorStrings(t *testing.T) {
	ae := &AuthError{Code: "access_denied", Description: "no", URI: "https://as.example/help"}
	if got := ae.Error(); got != "authorization server denied the request: access_denied: no" {
		t.Errorf("AuthError = %q", got)
	}
	if got := (&AuthError{}).Error(); !strings.Contains(got, "no error code") {
		t.Errorf("empty AuthError = %q", got)
	}
	for _, tc := range []struct {
		e    *ExchangeError
		want string
	}{
		{&ExchangeError{Status: 400, Code: "invalid_grant", Description: "expired"}, "token request failed: invalid_grant: expired"},
		{&ExchangeError{Status: 502}, "token request failed: http status 502"},
		{&ExchangeError{Err: errors.New("dial tcp: refused")}, "token request failed: dial tcp: refused"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("ExchangeError = %q, want %q", got, tc.want)
		}
	}
	inner := errors.New("x")
	if !errors.Is(&ExchangeError{Err: inner}, inner) {
		t.Error("ExchangeError does not unwrap its transport error")
	}
	for _, e := range []error{ErrIssuerMismatch, ErrTimeout, ErrPortInUse, ErrMalformedResponse, ErrOpenBrowser} {
		if s := e.Error(); s != strings.ToLower(s[:1])+s[1:] || strings.HasSuffix(s, ".") {
			t.Errorf("error %q is not lower case without a final period", s)
		}
	}
}
