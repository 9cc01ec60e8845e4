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
		{[]string{"EdDSA"}, true},
		{[]string{"Ed25519"}, false},
		{[]string{"eddsa"}, false},
		{[]string{}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := Supported(tt.algs); got != tt.want {
			t.Errorf("Supported(%q) = %v, want %v", tt.algs, got, tt.want)
		}
	}
}

func TestChoose_PrefersES256(t *testing.T) {
	tests := []struct {
		algs []string
		want string
	}{
		{[]string{"ES256", "Ed25519", "EdDSA"}, Alg},
		{[]string{"EdDSA", "ES256"}, Alg},
		{[]string{"Ed25519", "EdDSA"}, AlgEdDSA},
		{[]string{"PS256"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := Choose(tt.algs); got != tt.want {
			t.Errorf("Choose(%q) = %q, want %q", tt.algs, got, tt.want)
		}
	}
	if _, err := GenerateFor([]string{"PS256"}); err != ErrUnsupported {
		t.Fatalf("GenerateFor without a usable algorithm: %v", err)
	}
}
