package urlcheck

import (
	"net/url"
	"testing"
)

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"https://as.example/token", "https://AS.example:443/reg?x=1", true},
		{"http://127.0.0.1/a", "http://127.0.0.1:80/b", true},
		{"https://as.example", "http://as.example", false},
		{"https://as.example", "https://as.example:8443", false},
		{"https://as.example", "https://as.example.evil", false},
		{"https://[::1]:8443/", "https://[::1]:8443/x", true},
		{"https://as.example/register", "https://sub.as.example/clients/1", false},
		{"http://127.0.0.1:8080/register", "https://127.0.0.1:8080/clients/1", false},
	}
	for _, tt := range tests {
		a, _ := url.Parse(tt.a)
		b, _ := url.Parse(tt.b)
		if got := SameOrigin(a, b); got != tt.want {
			t.Errorf("SameOrigin(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
