package oauthbody

import "testing"

func TestFields(t *testing.T) {
	tests := []struct {
		ctype, body string
		key         string
		want        any
	}{
		{"application/json; charset=utf-8", `{"access_token":"a","expires_in":60}`, "expires_in", float64(60)},
		{"application/problem+json", `{"error":"invalid_grant"}`, "error", "invalid_grant"},
		{"text/html", ` {"error":"slow_down"}`, "error", "slow_down"},
		{"application/x-www-form-urlencoded", "access_token=a&scope=x+y", "scope", "x y"},
		{"text/plain", "error=authorization_pending", "error", "authorization_pending"},
	}
	for _, tt := range tests {
		if got := Fields(tt.ctype, []byte(tt.body)); got == nil || got[tt.key] != tt.want {
			t.Errorf("Fields(%q, %q)[%q] = %v, want %v", tt.ctype, tt.body, tt.key, got[tt.key], tt.want)
		}
	}
	for _, bad := range [][2]string{{"application/json", `{"a":`}, {"text/html", "<html>"}, {"application/json", `[1]`}} {
		if got := Fields(bad[0], []byte(bad[1])); got != nil {
			t.Errorf("Fields(%q, %q) = %v, want nil", bad[0], bad[1], got)
		}
	}
}
