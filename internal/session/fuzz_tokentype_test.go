package session

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// FuzzCheckTokenType: a token_type is accepted exactly when it is empty or
// "Bearer" or "DPoP" in any ASCII case; a refusal is one clean line that
// quotes at most a short type name, and NewRecord stores nothing then.
// An accepted type is stored in its canonical spelling.
func FuzzCheckTokenType(f *testing.F) {
	for _, s := range []string{"", "Bearer", "bearer", "DPoP", "dpop", "mac", "Bearer\r\nX-Injected: 1",
		"Bearer ", "\x1b[31mBearer", "Bearer\u202e", "bearer\u212a", "DPoP\x00", "urn:ietf:params:oauth:token-type:jwt"} {
		f.Add(s)
	}
	b := Binding{Profile: "p", Issuer: "https://as.example", ClientID: "cli"}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, typ string) {
		tok := &oauth2.Token{AccessToken: "SNTL-AT-1", RefreshToken: "SNTL-RT-1", TokenType: typ}
		err := CheckTokenType(tok)
		want := typ == "" || strings.EqualFold(typ, "bearer") || strings.EqualFold(typ, "dpop")
		if want != (err == nil) {
			t.Fatalf("CheckTokenType(%q) = %v, want accepted=%v", typ, err, want)
		}
		rec, rerr := NewRecord(b, "", tok, now)
		if err == nil {
			canonical := "Bearer"
			if strings.EqualFold(typ, "dpop") {
				canonical = "DPoP"
			}
			if rerr != nil || rec.TokenType != canonical || rec.AccessToken != tok.AccessToken {
				t.Fatalf("NewRecord with %q: %+v, %v", typ, rec, rerr)
			}
			return
		}
		if rec != nil || rerr == nil {
			t.Fatalf("NewRecord stored a token of type %q", typ)
		}
		for _, msg := range []string{err.Error(), rerr.Error()} {
			if !isOneCleanLine(msg) {
				t.Fatalf("error for %q is not one clean line: %q", typ, msg)
			}
			for _, r := range msg {
				if r >= 0x7f {
					t.Fatalf("error for %q holds %U: %q", typ, r, msg)
				}
			}
			if len(typ) > maxTokenTypeText && strings.Contains(msg, typ) {
				t.Fatalf("error quotes a long token_type: %q", msg)
			}
		}
	})
}
