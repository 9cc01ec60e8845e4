package redact

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// fuzzFields are the names whose values FuzzRedact hides. They must match
// the fields the package promises to redact (requirement 37).
var fuzzFields = []string{
	"access_token", "refresh_token", "id_token", "code", "code_verifier",
	"device_code", "state", "nonce", "client_secret", "assertion", "password",
	"token",
}

var fuzzHeaders = []string{"Authorization", "DPoP", "Cookie", "Set-Cookie", "authorization"}

const (
	sentinelHead = "SNTL"
	sentinelTail = "LTNS"
)

// placements put secret into text in every syntax the redactor promises to
// understand. Each returns the text and the string that must not survive.
var placements = []struct {
	name  string
	place func(prefix, key, header, secret, suffix string) (text, mustNotSurvive string)
}{
	{"query", func(p, k, _, s, x string) (string, string) {
		return p + "?" + k + "=" + url.QueryEscape(s) + "&" + x, ""
	}},
	{"form", func(p, k, _, s, x string) (string, string) {
		return p + "&" + k + "=" + url.QueryEscape(s) + x, ""
	}},
	{"form first", func(p, k, _, s, x string) (string, string) {
		return p + "\n" + k + "=" + url.QueryEscape(s) + "&" + x, ""
	}},
	{"json", func(p, k, _, s, x string) (string, string) {
		return p + `{"` + k + `": ` + jsonString(s) + "}" + x, ""
	}},
	{"json compact", func(p, k, _, s, x string) (string, string) {
		return p + `,"` + k + `":` + jsonString(s) + x, ""
	}},
	{"json in json", func(p, k, _, s, x string) (string, string) {
		inner := `{"` + k + `":` + jsonString(s) + `}`
		return p + `{"detail":` + jsonString(inner) + "}" + x, ""
	}},
	{"header", func(p, _, h, s, x string) (string, string) {
		return p + "\r\n" + h + ": Bearer " + oneLine(s) + "\r\n" + x, ""
	}},
	{"jwt", func(p, _, _, s, x string) (string, string) {
		enc := base64.RawURLEncoding
		payload := enc.EncodeToString([]byte(`{"sub":` + jsonString(s) + `}`))
		jwt := enc.EncodeToString([]byte(`{"alg":"ES256"}`)) + "." + payload + "." + enc.EncodeToString([]byte(s))
		return p + " " + jwt + " " + x, payload
	}},
}

// FuzzRedact asserts the redactor's property, not just the absence of a
// panic: whatever text surrounds it, a secret placed as the value of a
// secret field, in any supported syntax, never survives, not even in part.
// The secret is bracketed by two markers so that a value cut short (the
// tail survives) is caught as surely as one left whole.
func FuzzRedact(f *testing.F) {
	f.Add("GET /callback", "HTTP/1.1", "abc", uint8(0), uint8(0), uint8(0))
	f.Add(`{"code":"`, `"}`, `a"b\c&d e`, uint8(3), uint8(1), uint8(4))
	f.Add("user_", "&", "x", uint8(1), uint8(3), uint8(0))
	f.Add("\\", "\\\"", "\\\"", uint8(5), uint8(7), uint8(2))
	f.Add("Authorization: ", "\n", "eyJ.x.y", uint8(7), uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, prefix, suffix, body string, field, header, syntax uint8) {
		if strings.Contains(prefix+suffix, sentinelHead) || strings.Contains(prefix+suffix, sentinelTail) {
			t.Skip("markers in the surrounding text")
		}
		secret := sentinelHead + body + sentinelTail
		key := fuzzFields[int(field)%len(fuzzFields)]
		hdr := fuzzHeaders[int(header)%len(fuzzHeaders)]
		pl := placements[int(syntax)%len(placements)]

		text, extra := pl.place(prefix, key, hdr, secret, suffix)
		got := String(text)
		for _, bad := range []string{sentinelHead, sentinelTail, extra} {
			if bad != "" && strings.Contains(got, bad) {
				t.Fatalf("%s: %q survived\n in: %q\nout: %q", pl.name, bad, text, got)
			}
		}
		// The same property through the error path: sanitize then redact.
		if u := UntrustedText(text); strings.Contains(u, sentinelHead) {
			t.Fatalf("%s: UntrustedText kept the secret\n in: %q\nout: %q", pl.name, text, u)
		}
		if again := String(got); again != got {
			t.Fatalf("not idempotent: %q -> %q", got, again)
		}
	})
}

// jsonString encodes s as a JSON string the way a server would.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// oneLine removes line breaks: a header value cannot hold them.
func oneLine(s string) string {
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}
