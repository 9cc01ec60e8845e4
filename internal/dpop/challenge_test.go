package dpop

import (
	"net/http"
	"strings"
	"testing"
)

func TestAuthParams(t *testing.T) {
	tests := []struct {
		in   string
		want string // name=value pairs joined with "|"
	}{
		{`DPoP error="use_dpop_nonce"`, `error=use_dpop_nonce`},
		{`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`,
			`error=use_dpop_nonce|error_description=Resource server requires nonce in DPoP proof`},
		{`DPoP algs="ES256 PS256", error=use_dpop_nonce`, `algs=ES256 PS256|error=use_dpop_nonce`},
		{`Bearer realm="ex, ample", DPoP error = "use_dpop_nonce"`, `realm=ex, ample|error=use_dpop_nonce`},
		{`DPoP error_description="error=\"use_dpop_nonce\"", error="invalid_token"`,
			`error_description=error="use_dpop_nonce"|error=invalid_token`},
		{`Basic dXNlcjpwYXNz==, DPoP error="x"`, `dXNlcjpwYXNz=|error=x`},
		{`DPoP error="unterminated`, `error=unterminated`},
		{`DPoP`, ``},
		{``, ``},
	}
	for _, tt := range tests {
		var got []string
		for name, value := range authParams(tt.in) {
			got = append(got, name+"="+value)
		}
		if strings.Join(got, "|") != tt.want {
			t.Errorf("authParams(%q) = %q, want %q", tt.in, strings.Join(got, "|"), tt.want)
		}
	}
}

func TestAsksForNonce401(t *testing.T) {
	tests := []struct {
		challenges []string
		want       bool
	}{
		{[]string{`DPoP error="use_dpop_nonce"`}, true},
		{[]string{`DPoP ERROR=use_dpop_nonce`}, true},
		{[]string{`Bearer realm="x"`, `DPoP error="use_dpop_nonce"`}, true},
		{[]string{`DPoP error="invalid_token", error_description="error=\"use_dpop_nonce\""`}, false},
		{[]string{`DPoP error="USE_DPOP_NONCE"`}, false},
		{[]string{`DPoP xerror="use_dpop_nonce"`}, false},
		{nil, false},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: 401, Header: http.Header{"Www-Authenticate": tt.challenges}}
		if got := asksForNonce(resp); got != tt.want {
			t.Errorf("asksForNonce(%q) = %v, want %v", tt.challenges, got, tt.want)
		}
	}
}

func TestValidNonce(t *testing.T) {
	for _, v := range []string{"a", "eyJ7S_zG.eyJH0-Z.HX4w-7v", "!#[]~"} {
		if !validNonce(v) {
			t.Errorf("validNonce(%q) = false", v)
		}
	}
	for _, v := range []string{"", "a b", `a"b`, `a\b`, "a\tb", "é", "a\x7f"} {
		if validNonce(v) {
			t.Errorf("validNonce(%q) = true", v)
		}
	}
}
