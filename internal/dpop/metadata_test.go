package dpop

import "testing"

func TestSupported(t *testing.T) {
	tests := []struct {
		algs []string
		want bool
	}{
		{[]string{"ES256"}, true},
		{[]string{"RS256", "PS256", "ES256"}, true},
		{[]string{"RS256", "PS256"}, false},
		{[]string{"es256"}, false},
		{[]string{"ES256K"}, false},
		{[]string{}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := Supported(tt.algs); got != tt.want {
			t.Errorf("Supported(%q) = %v, want %v", tt.algs, got, tt.want)
		}
	}
}
