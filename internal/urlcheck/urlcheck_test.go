package urlcheck

import (
	"strings"
	"testing"
)

func TestEndpoint_Req20(t *testing.T) {
	tests := []struct {
		url        string
		okStrict   bool // allowed without the insecure-loopback flag
		okLoopback bool // allowed with it
	}{
		{"https://as.example/token", true, true},
		{"https://as.example:8443/t1/token?x=1", true, true},
		{"HTTPS://as.example/token", true, true},
		{"https://127.0.0.1/token", true, true},
		{"http://as.example/token", false, false},
		{"http://127.0.0.1:8080/token", false, true},
		{"http://127.5.6.7/token", false, true},
		{"http://[::1]:8080/token", false, true},
		{"http://localhost:8080/token", false, false},
		{"http://localhost.evil.example/token", false, false},
		{"http://127.0.0.1.nip.io/token", false, false},
		{"http://127.1/token", false, false},
		{"http://2130706433/token", false, false},
		{"http://[::ffff:127.0.0.1]/token", false, false},
		{"http://[fe80::1%25lo]/token", false, false},
		{"http://10.0.0.1/token", false, false},
		{"https://user:pw@as.example/token", false, false},
		{"https://as.example/token#frag", false, false},
		{"https://as.example/token#", false, false},
		{"/token", false, false},
		{"as.example/token", false, false},
		{"https:///token", false, false},
		{"https://:443/token", false, false},
		{"ftp://as.example/token", false, false},
		{"javascript:alert(1)", false, false},
		{"", false, false},
		{"https://as.example/\x00", false, false},
	}
	for _, tt := range tests {
		if err := Endpoint(tt.url, false); (err == nil) != tt.okStrict {
			t.Errorf("Endpoint(%q, false) = %v, want ok=%v", tt.url, err, tt.okStrict)
		}
		if err := Endpoint(tt.url, true); (err == nil) != tt.okLoopback {
			t.Errorf("Endpoint(%q, true) = %v, want ok=%v", tt.url, err, tt.okLoopback)
		}
	}
}

func TestEndpoint_MessageWithoutPassword_Req37(t *testing.T) {
	err := Endpoint("https://user:SNTL-PW@as.example/", false)
	if err == nil || strings.Contains(err.Error(), "SNTL") {
		t.Errorf("err = %v", err)
	}
}
