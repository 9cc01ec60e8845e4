package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize_Req16(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "invalid_grant", "invalid_grant"},
		{"newlines and tabs", "line one\nline two\r\n\tend", "line one line two   end"},
		{"csi colour", "\x1b[31mred\x1b[0m text", "red text"},
		{"csi with intermediates", "a\x1b[1;31;40mb", "ab"},
		{"osc title bel", "a\x1b]0;pwned\x07b", "ab"},
		{"osc hyperlink st", "a\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\b", "alinkb"},
		{"two char escape", "a\x1bcb", "ab"},
		{"charset escape", "a\x1b(Bb", "ab"},
		{"bare esc at end", "abc\x1b", "abc"},
		{"c1 csi", "a\u009b31mb", "ab"},
		{"c1 osc", "a\u009d0;title\u009cb", "ab"},
		{"c1 other", "a\u0085b\u0080c", "abc"},
		{"c0 and del", "a\x00b\x07c\x7fd\x08e", "abcde"},
		{"bidi override", "abc\u202edcba\u2066x\u2069", "abcdcbax"},
		{"line separator", "a\u2028b", "a b"},
		{"invalid utf8", "a\xffb", "a\ufffdb"},
		{"html kept inert", "<script>alert(1)</script>", "<script>alert(1)</script>"},
		{"trimmed", "  padded  ", "padded"},
		{"unicode kept", "café ünïcödé 日本", "café ünïcödé 日本"},
		{"right-to-left text kept", "שלום مرحبا", "שלום مرحبا"},
		{"emoji kept", "🔑 key", "🔑 key"},
		{"bidi isolates and marks", "a\u2067b\u200ec\u200fd\u061ce\u2068f\u2069", "abcdef"},
		{"zero width", "ad\u200bmin\u200c@\u200dcorp\u2060.example\ufeff", "admin@corp.example"},
		{"soft hyphen and tags", "a\u00adb\U000e0041\U000e007fc", "abc"},
		{"paragraph separator and nel", "a\u2029b\u0085c", "a bc"},
		{"vertical tab and form feed", "a\vb\fc", "abc"},
		{"fake identity line", "mallory@evil.example\r\x1b[2K\x1b[1Gsesame: signed in as alice@corp.example",
			"mallory@evil.example sesame: signed in as alice@corp.example"},
		{"only controls", "\x1b[0m\u202e\u200b", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sanitize(tt.in); got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSanitize_Cap_Req16(t *testing.T) {
	for _, in := range []string{strings.Repeat("a", 500), strings.Repeat("é", 500), strings.Repeat("日", 201)} {
		got := Sanitize(in)
		if n := utf8.RuneCountInString(got); n != MaxText {
			t.Errorf("len %d runes, want %d", n, MaxText)
		}
		if !strings.HasSuffix(got, "…") {
			t.Errorf("no ellipsis: %q", got[len(got)-8:])
		}
	}
	exact := strings.Repeat("é", MaxText)
	if got := Sanitize(exact); got != exact {
		t.Error("text of exactly MaxText runes was changed")
	}
}

func TestUntrustedText_Req16_Req37(t *testing.T) {
	// A control character inside a field name must not hide it from the
	// redactor, and a cut must not leave half a token behind.
	in := "error: co\x00de=SNTL-C " + strings.Repeat("x", 180) + " refresh_token=SNTL-RT-" + strings.Repeat("y", 100)
	got := UntrustedText(in)
	if strings.Contains(got, "SNTL") || strings.Contains(got, "yyy") {
		t.Errorf("secret survived: %q", got)
	}
	if strings.ContainsRune(got, 0) || utf8.RuneCountInString(got) > MaxText {
		t.Errorf("not sanitized: %q", got)
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add("\x1b[31mred\x1b]0;t\x07\u009b1m")
	f.Add("<script>alert(1)</script>%1b[31m")
	f.Fuzz(func(t *testing.T, s string) {
		got := Sanitize(s)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid utf-8: %q", got)
		}
		if utf8.RuneCountInString(got) > MaxText {
			t.Fatalf("too long: %d runes", utf8.RuneCountInString(got))
		}
		for _, r := range got {
			if IsUnsafe(r) {
				t.Fatalf("control %U survived in %q", r, got)
			}
		}
	})
}

func TestUntrustedText_LongInput_Req16_Req37(t *testing.T) {
	jwt := "eyJhbGciOiJFUzI1NiJ9." + strings.Repeat("eyJzdWIiOiJTTlRMIn0", 2000) + ".c2ln"
	for _, in := range []string{
		strings.Repeat(" ", maxScan-30) + jwt,
		strings.Repeat("\x1b[0m", maxScan/5) + "refresh_token=SNTL-" + strings.Repeat("z", 1<<20),
		strings.Repeat("a", 1<<20),
	} {
		got := UntrustedText(in)
		if strings.Contains(got, "eyJzdWIi") || strings.Contains(got, "SNTL") {
			t.Errorf("secret survived the cut: %q", got)
		}
		if utf8.RuneCountInString(got) > MaxText {
			t.Errorf("too long")
		}
	}
}
