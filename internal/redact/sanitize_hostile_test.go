package redact

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestIsUnsafe_Issue14(t *testing.T) {
	for _, r := range []rune{0, '\t', '\n', '\r', 0x1b, 0x7f, 0x85, 0x9b, 0x9f, 0xad, 0x61c, 0x200b, 0x200c,
		0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202e, 0x2060, 0x2066, 0x2069, 0xfeff, 0xfff9, 0xe0001, 0xe007f} {
		if !IsUnsafe(r) {
			t.Errorf("IsUnsafe(%U) = false", r)
		}
	}
	for _, r := range []rune{' ', 'a', '~', 0xa0, 0xe9, 0x5d0, 0x627, 0x65e5, 0x1f511, 0xfffd, 0x2026} {
		if IsUnsafe(r) {
			t.Errorf("IsUnsafe(%U) = true", r)
		}
	}
}

// Every unsafe rune of the Basic Multilingual Plane and the tag block,
// alone and around text, leaves Sanitize: the loop proves the Cf table
// and the explicit cases agree.
func TestSanitize_RemovesEveryUnsafeRune_Issue14(t *testing.T) {
	for r := rune(0); r <= 0xe01ef; r++ {
		if r >= 0xd800 && r <= 0xdfff || r > 0xffff && r < 0xe0000 {
			continue
		}
		if !IsUnsafe(r) {
			continue
		}
		in := "a" + string(r) + "b"
		got := Sanitize(in)
		// ESC and the C1 introducers start a sequence that takes "b" along.
		introducer := r == 0x1b || r == 0x9b || r == 0x90 || r == 0x98 || (r >= 0x9d && r <= 0x9f)
		if strings.ContainsRune(got, r) || !strings.HasPrefix(got, "a") || (!introducer && !strings.HasSuffix(got, "b")) {
			t.Fatalf("Sanitize(%q) = %q", in, got)
		}
	}
}

func TestLine_Issue14(t *testing.T) {
	long := strings.Repeat("word ", 100) // 500 runes: more than MaxText
	in := "refresh failed: " + long + "\x1b]0;pwned\x07\u202egnp.exe\r\nrefresh_token=SNTL-RT-1"
	got := Line(in)
	if strings.ContainsFunc(got, IsUnsafe) || strings.Contains(got, "SNTL") || strings.Contains(got, "pwned") {
		t.Fatalf("Line left something unsafe: %q", got)
	}
	if !strings.HasPrefix(got, "refresh failed: "+strings.TrimSpace(long)) {
		t.Fatal("Line cut sesame's own words at MaxText")
	}
	if n := utf8.RuneCountInString(Line(strings.Repeat("x", 3*MaxLine))); n != MaxLine {
		t.Fatalf("Line returned %d runes, want the cap %d", n, MaxLine)
	}
}

func TestEscapeJSON_Issue14(t *testing.T) {
	v := map[string]string{
		"sub":   "alice\u202e\u2066x\u2069\u200b",
		"name":  "E2E \x1b[31mred\x7f\u009b1m",
		"email": "a\u2028b\u2029c\U000e0041",
		"plain": "日本 🔑 <b>&",
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	out := EscapeJSON(buf.Bytes())
	for _, r := range string(out[:len(out)-1]) {
		if IsUnsafe(r) {
			t.Fatalf("%U survived in %s", r, out)
		}
	}
	if !bytes.HasSuffix(out, []byte("}\n")) || bytes.Count(out, []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", out)
	}
	if !bytes.Contains(out, []byte(`\u202e`)) || !bytes.Contains(out, []byte(`\udb40\udc41`)) || !bytes.Contains(out, []byte("日本 🔑 <b>&")) {
		t.Fatalf("unexpected encoding: %s", out)
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	for k := range v {
		if back[k] != v[k] {
			t.Errorf("%s: decoded %q, want %q", k, back[k], v[k])
		}
	}
	clean := []byte(`{"a":"b"}` + "\n")
	if got := EscapeJSON(clean); &got[0] != &clean[0] {
		t.Error("clean JSON was copied")
	}
}

// FuzzSanitizeHostile checks the properties issue 14 relies on for every
// sanitizer of server text: no control, format or bidi character survives,
// the result is one valid UTF-8 line, and sanitizing again changes nothing.
func FuzzSanitizeHostile(f *testing.F) {
	for _, s := range []string{
		"", "alice", "\x1b[2K\rsesame: signed in as root", "a\u202eb\u2066c\u2069\u200b\u200f",
		"\xff\xfe\x1b]8;;x\x1b\\", "  \u00a0x\u00a0  ", strings.Repeat("é", MaxText+3),
		"\u009d0;t\u009c\u0085", "Bearer\r\nX-Injected: 1", "a\U000e0041\ufeff\u00ad", "\x1b[",
		"\u2028\u2029\t\v\f", "co\x00de=SNTL-1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, fn := range map[string]func(string) string{"Sanitize": Sanitize, "UntrustedText": UntrustedText, "Line": Line} {
			got := fn(s)
			if !utf8.ValidString(got) {
				t.Fatalf("%s(%q) = %q: invalid UTF-8", name, s, got)
			}
			if i := strings.IndexFunc(got, IsUnsafe); i >= 0 {
				r, _ := utf8.DecodeRuneInString(got[i:])
				t.Fatalf("%s(%q) = %q: %U survived", name, s, got, r)
			}
			for _, r := range got {
				if unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Cc, r) || unicode.In(r, unicode.Zl, unicode.Zp) {
					t.Fatalf("%s(%q) = %q: %U survived", name, s, got, r)
				}
			}
			if strings.ContainsAny(got, "\r\n") {
				t.Fatalf("%s(%q) = %q: more than one line", name, s, got)
			}
			if got != strings.TrimSpace(got) {
				t.Fatalf("%s(%q) = %q: not trimmed", name, s, got)
			}
		}
		once := Sanitize(s)
		if twice := Sanitize(once); twice != once {
			t.Fatalf("Sanitize is not idempotent: %q -> %q -> %q", s, once, twice)
		}
		if utf8.RuneCountInString(once) > MaxText {
			t.Fatalf("Sanitize(%q) is %d runes", s, utf8.RuneCountInString(once))
		}
		if isClean(s) && utf8.RuneCountInString(s) <= MaxText && once != s {
			t.Fatalf("Sanitize changed clean text %q to %q", s, once)
		}
	})
}

// isClean reports whether s is valid, trimmed and free of unsafe runes:
// text Sanitize must return as it is.
func isClean(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, IsUnsafe) && strings.TrimSpace(s) == s
}

// FuzzEscapeJSON checks that the escaped output of encoding/json is valid
// JSON holding no unsafe rune, and decodes to what the encoder was given.
func FuzzEscapeJSON(f *testing.F) {
	f.Add("alice", "\u202e\x1b[31m\u2066\u200b\x7f\u0085")
	f.Add("\xff\xfe", "\U000e0041\ufeff\u2028")
	f.Fuzz(func(t *testing.T, k, v string) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]any{k: v, "list": []string{v, k}}); err != nil {
			t.Skip()
		}
		out := EscapeJSON(buf.Bytes())
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("invalid output %q", out)
		}
		if bytes.IndexByte(out, '\n') != len(out)-1 {
			t.Fatalf("not one line: %q", out)
		}
		if i := strings.IndexFunc(string(out[:len(out)-1]), IsUnsafe); i >= 0 {
			t.Fatalf("unsafe rune survived at %d: %q", i, out)
		}
		var want, got any
		if err := json.Unmarshal(buf.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		if !bytes.Equal(wb, gb) {
			t.Fatalf("meaning changed: %s != %s", wb, gb)
		}
	})
}
