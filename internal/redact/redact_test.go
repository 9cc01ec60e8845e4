package redact

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A JWT-shaped sentinel: header {"alg":"RS256","kid":"k1"}, payload
// {"sub":"SNTL-ID"}, a fake signature.
const testJWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJTTlRMLUlEIn0.c2lnbmF0dXJlLXNudGw"

func TestString_Req37(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"no secrets", "GET https://as.example/.well-known/openid-configuration -> 200",
			"GET https://as.example/.well-known/openid-configuration -> 200"},
		{"query", "https://127.0.0.1:5000/callback?code=SNTL-CODE&state=SNTL-ST&iss=https%3A%2F%2Fas",
			"https://127.0.0.1:5000/callback?code=REDACTED&state=REDACTED&iss=https%3A%2F%2Fas"},
		{"form body", "grant_type=refresh_token&refresh_token=SNTL-RT&client_id=cli",
			"grant_type=refresh_token&refresh_token=REDACTED&client_id=cli"},
		{"code exchange", "grant_type=authorization_code&code=SNTL-C&code_verifier=SNTL-V&redirect_uri=http%3A%2F%2F127.0.0.1",
			"grant_type=authorization_code&code=REDACTED&code_verifier=REDACTED&redirect_uri=http%3A%2F%2F127.0.0.1"},
		{"device", "device_code=SNTL-DC&user_code=WDJB-MJHT",
			"device_code=REDACTED&user_code=WDJB-MJHT"},
		{"revocation", "token=SNTL-RT&token_type_hint=refresh_token&client_id=c",
			"token=REDACTED&token_type_hint=refresh_token&client_id=c"},
		{"encoded in redirect", "next=https%3A%2F%2Fx%2F%3Fcode%3DSNTL-C%26a%3Db",
			"next=https%3A%2F%2Fx%2F%3Fcode%3DREDACTED"},
		{"upper case", "CODE=SNTL-C", "CODE=REDACTED"},
		{"empty value kept", "code=&state=", "code=&state="},
		{"json token response",
			`{"access_token":"SNTL-AT","token_type":"Bearer","expires_in":300,"refresh_token":"SNTL-RT","id_token":"SNTL-ID"}`,
			`{"access_token":"REDACTED","token_type":"Bearer","expires_in":300,"refresh_token":"REDACTED","id_token":"REDACTED"}`},
		{"json spaced", "{\n  \"access_token\" : \"SNTL-AT\",\n  \"scope\": \"openid\"\n}",
			"{\n  \"access_token\" : \"REDACTED\",\n  \"scope\": \"openid\"\n}"},
		{"json escaped quote in value", `{"state":"a\"SNTL"}`, `{"state":"REDACTED"}`},
		{"json error body", `{"error":"invalid_grant","error_description":"refresh token SNTL is spent"}`,
			`{"error":"invalid_grant","error_description":"refresh token SNTL is spent"}`},
		{"json number", `{"code": 123456}`, `{"code": REDACTED}`},
		{"json in json", `{"detail":"{\"refresh_token\":\"SNTL-RT\"}"}`, `{"detail":"{\"refresh_token\":\"REDACTED\"}"}`},
		{"json header", `{"Authorization": "Bearer SNTL-AT"}`, `{"Authorization": "REDACTED"}`},
		{"header", "Authorization: Bearer SNTL-AT", "Authorization: REDACTED"},
		{"dpop header", "DPoP: " + testJWT, "DPoP: REDACTED"},
		{"cookie", "Cookie: sid=SNTL; other=1", "Cookie: REDACTED"},
		{"set-cookie", "set-cookie: sid=SNTL; Path=/; HttpOnly", "set-cookie: REDACTED"},
		{"go header map", "map[Authorization:[Bearer SNTL-AT]]", "map[Authorization:REDACTED"},
		{"go values map", "map[code:[SNTL-C] state:[SNTL-S]]", "map[code:[REDACTED] state:[REDACTED]]"},
		{"go struct", "&{AccessToken:SNTL-AT TokenType:Bearer RefreshToken:SNTL-RT}",
			"&{AccessToken:REDACTED TokenType:Bearer RefreshToken:REDACTED}"},
		{"bearer in prose", "server rejected Bearer SNTL-AT.x_y", "server rejected Bearer REDACTED"},
		{"bearer word kept", "bearer tokens are not accepted", "bearer tokens are not accepted"},
		{"jwt anywhere", "got " + testJWT + " back", "got REDACTED back"},
		{"jwt alg none", "t=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "t=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."[:2] + "REDACTED"},
		{"nonce and secret", "nonce=SNTL-N client_secret=SNTL-S password=SNTL-P assertion=SNTL-A",
			"nonce=REDACTED client_secret=REDACTED password=REDACTED assertion=REDACTED"},
		{"status code prose kept", "status code: 400", "status code: 400"},
		{"metadata names kept", `"authorization_endpoint":"https://as/authorize","token_endpoint":"https://as/token"`,
			`"authorization_endpoint":"https://as/authorize","token_endpoint":"https://as/token"`},
		{"url password", "GET https://alice:SNTL-PW@api.example.com/x -> 401", "GET https://alice:REDACTED@api.example.com/x -> 401"},
		{"url password with @", "proxy http://u:p@ss:w0rd@proxy.example:3128/", "proxy http://u:REDACTED@proxy.example:3128/"},
		{"url user only kept", "ssh://git@git.example.com/repo", "ssh://git@git.example.com/repo"},
		{"url port kept", "https://as.example:8443/token", "https://as.example:8443/token"},
		{"github token", "remote: ghp_abcdefghijklmnopqrstuvwxyz0123456789 is bad", "remote: REDACTED is bad"},
		{"gitlab token", "token glpat-xY3_abcdefghij0123456 refused", "token REDACTED refused"},
		{"opaque token", "invalid token dGhpcyBpcyBub3QgYSB0b2tlbiBhdCBhbGwu9Q_k-L", "invalid token REDACTED"},
		{"opaque token in json", `{"error":"x","detail":"AbCdEf0123456789GhIjKl_-MnOpQr9876"}`, `{"error":"x","detail":"REDACTED"}`},
		{"long name kept", "/tmp/TestDebugFile_HostileTypes1234567890/001/debug.log", "/tmp/TestDebugFile_HostileTypes1234567890/001/debug.log"},
		{"hex kept", "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		{"short mixed kept", "client Ab3dE5gH9", "client Ab3dE5gH9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in)
			if got != tt.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := String(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

// TestString_Dumps_Req37 runs the redactor over multi-line HTTP dumps as
// httputil.DumpRequestOut and DumpResponse write them.
func TestString_Dumps_Req37(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.dump"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dump fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in := strings.ReplaceAll(string(b), "{{JWT}}", testJWT)
			out := String(in)
			if strings.Contains(out, "SNTL") {
				t.Errorf("sentinel survived:\n%s", out)
			}
			if strings.Contains(out, "eyJ") {
				t.Errorf("jwt survived:\n%s", out)
			}
			// The dump stays readable: the request line and harmless
			// headers are untouched.
			first, _, _ := strings.Cut(in, " ")
			if !strings.HasPrefix(out, first+" ") {
				t.Errorf("first line changed: %q", out)
			}
			if !strings.Contains(out, "Content-Type:") {
				t.Errorf("harmless header lost:\n%s", out)
			}
		})
	}
}

func TestError_Req37(t *testing.T) {
	if Error(nil) != "" {
		t.Error("Error(nil) not empty")
	}
	err := errors.New("oauth2: cannot fetch token: 400\nResponse: {\"refresh_token\":\"SNTL-RT\",\"x\":\"\x1b[31m\"}")
	got := Error(err)
	if strings.Contains(got, "SNTL") || strings.ContainsAny(got, "\x1b\n") {
		t.Errorf("Error() = %q", got)
	}
}

func BenchmarkString(b *testing.B) {
	in := "POST /token HTTP/1.1\r\nHost: as.example\r\nAuthorization: Basic abc\r\n\r\n" +
		"grant_type=refresh_token&refresh_token=SNTL-RT&client_id=cli"
	for b.Loop() {
		_ = String(in)
	}
}
