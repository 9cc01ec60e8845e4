package dpop

import (
	"net/url"
	"testing"

	"github.com/sesame-auth/sesame/internal/urlcheck"
)

func TestListed(t *testing.T) {
	tr := &Transport{URLs: []string{"https://as.example/oauth/token", "https://as.example/par?x=1", "%zz"}}
	tests := []struct {
		url  string
		want bool
	}{
		{"https://as.example/oauth/token", true},
		{"https://as.example/oauth/token?grant=1", true},
		{"https://AS.example:443/oauth/token", true},
		{"HTTPS://as.example/par", true},
		{"http://as.example/oauth/token", false},
		{"https://as.example:8443/oauth/token", false},
		{"https://other.example/oauth/token", false},
		{"https://as.example/oauth/token/", false},
		{"https://as.example/OAUTH/token", false},
		{"https://as.example/", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := tr.listed(u); got != tt.want {
			t.Errorf("listed(%s) = %v, want %v", tt.url, got, tt.want)
		}
	}
}

func TestOrigin(t *testing.T) {
	same := [][2]string{
		{"https://as.example/a", "https://AS.EXAMPLE:443/b?c"},
		{"http://127.0.0.1/a", "http://127.0.0.1:80/"},
		{"http://[::1]:8080/a", "http://[::1]:8080/b"},
	}
	for _, p := range same {
		a, _ := url.Parse(p[0])
		b, _ := url.Parse(p[1])
		if urlcheck.Origin(a) != urlcheck.Origin(b) {
			t.Errorf("origin(%s) != origin(%s)", p[0], p[1])
		}
	}
	differ := [][2]string{
		{"https://as.example/", "http://as.example/"},
		{"https://as.example/", "https://as.example:8443/"},
		{"https://as.example/", "https://as.example.evil/"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8081/"},
	}
	for _, p := range differ {
		a, _ := url.Parse(p[0])
		b, _ := url.Parse(p[1])
		if urlcheck.Origin(a) == urlcheck.Origin(b) {
			t.Errorf("origin(%s) == origin(%s)", p[0], p[1])
		}
	}
}
