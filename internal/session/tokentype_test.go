package session

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/keychain"
)

func TestCheckTokenType_Issue14(t *testing.T) {
	for _, typ := range []string{"", "Bearer", "bearer", "BEARER", "bEaReR", "DPoP", "dpop", "DPOP"} {
		if err := CheckTokenType(&oauth2.Token{TokenType: typ}); err != nil {
			t.Errorf("CheckTokenType(%q) = %v, want accepted", typ, err)
		}
	}
	for _, tt := range []struct{ typ, says string }{
		{"mac", `of type "mac", which sesame cannot use`},
		{"Basic", `of type "Basic"`},
		{"N_A", `of type "N_A"`},
		{"Bearer\r\nX-Injected: 1", "(21 bytes, not shown"},
		{"Bearer ", "(7 bytes, not shown"},
		{" Bearer", "(7 bytes, not shown"},
		{"Bearer\x00", "(7 bytes, not shown"},
		{"Bearer\u202e", "not shown"},
		{"\x1b]0;pwned\x07", "not shown"},
		{"urn:ietf:params:oauth:token-type:jwt", "(36 bytes, not shown"},
		{"Bearer-but-longer-than-twelve", "not shown"},
		{"bearer\u212a", "not shown"}, // Kelvin sign: EqualFold("k", "\u212a") holds, but not here
	} {
		err := CheckTokenType(&oauth2.Token{TokenType: tt.typ})
		if err == nil {
			t.Errorf("CheckTokenType(%q) accepted it", tt.typ)
			continue
		}
		if !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), "only Bearer and DPoP") {
			t.Errorf("CheckTokenType(%q) = %q, want it to say %q", tt.typ, err, tt.says)
		}
		if !isOneCleanLine(err.Error()) {
			t.Errorf("CheckTokenType(%q) = %q: not one clean line", tt.typ, err)
		}
	}
}

func TestNewRecord_RefusesUnusableTokenType_Issue14(t *testing.T) {
	b := Binding{Profile: "p", Issuer: "https://as.example", ClientID: "cli"}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, typ := range []string{"mac", "Bearer\r\nX-Injected: 1"} {
		tok := &oauth2.Token{AccessToken: "SNTL-AT-1", RefreshToken: "SNTL-RT-1", TokenType: typ, ExpiresIn: 300}
		rec, err := NewRecord(b, "https://as.example/token", tok, now)
		if rec != nil || err == nil {
			t.Fatalf("NewRecord with token_type %q = %+v, %v; want a refusal", typ, rec, err)
		}
		if msg := err.Error(); !strings.HasSuffix(msg, "; nothing was stored") || !isOneCleanLine(msg) ||
			strings.Contains(msg, "SNTL") || strings.Contains(msg, "Injected") {
			t.Fatalf("NewRecord error %q", msg)
		}
	}
	if _, err := NewRecord(b, "", &oauth2.Token{AccessToken: "x", TokenType: "mac"}, now); err == nil ||
		err.Error() != `the server issued a token of type "mac", which sesame cannot use (only Bearer and DPoP); nothing was stored` {
		t.Fatalf("error = %v", err)
	}
}

// The type is stored in its canonical spelling: what `token --output
// header` writes is "Bearer" or "DPoP", whatever the case the server used.
func TestNewRecord_CanonicalTokenType_Issue14(t *testing.T) {
	b := Binding{Profile: "p", Issuer: "https://as.example", ClientID: "cli"}
	for in, want := range map[string]string{"": "Bearer", "bearer": "Bearer", "BEARER": "Bearer", "dpop": "DPoP", "DPoP": "DPoP"} {
		rec, err := NewRecord(b, "", &oauth2.Token{AccessToken: "SNTL-AT-1", TokenType: in}, time.Now())
		if err != nil || rec.TokenType != want || rec.AccessToken != "SNTL-AT-1" {
			t.Errorf("token_type %q: record %+v, %v; want type %q", in, rec, err, want)
		}
	}
}

// At a refresh the rotated refresh token must be taken whatever the type;
// the access token of an unusable type must not.
func TestApply_UnusableTokenTypeKeepsOnlyTheGrant_Issue14(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := &keychain.Record{RefreshToken: "SNTL-RT-0", AccessToken: "SNTL-AT-0", TokenType: "Bearer", Lifetime: time.Minute, Expiry: now}
	tok := (&oauth2.Token{AccessToken: "SNTL-AT-1", RefreshToken: "SNTL-RT-1", TokenType: "Bearer\r\nX-Injected: 1", ExpiresIn: 300}).
		WithExtra(map[string]any{"scope": "openid", "refresh_expires_in": float64(3600)})
	Apply(rec, tok, now)
	if rec.RefreshToken != "SNTL-RT-1" || rec.Scope != "openid" || rec.RefreshExpiry.IsZero() {
		t.Fatalf("the grant's rotation was not applied: %+v", rec)
	}
	if rec.AccessToken != "" || rec.TokenType != "" || !rec.Expiry.IsZero() || rec.Lifetime != 0 {
		t.Fatalf("an access token of an unusable type is kept: %+v", rec)
	}
}

// TestRefresh_UnusableTokenType_Issue14: a refresh answered with a
// token_type sesame cannot use is refused with one clean line, but the
// rotated refresh token is stored, so the grant survives: once the server
// answers properly again, the next refresh works without a new login.
func TestRefresh_UnusableTokenType_Issue14(t *testing.T) {
	for _, typ := range []string{"mac", "Bearer\r\nX-Injected: 1"} {
		t.Run(typ, func(t *testing.T) {
			typed := func(typ string) authtest.Option {
				return authtest.WithTokenResponseMutator(func(resp map[string]any) { resp["token_type"] = typ })
			}
			f := newFixture(t, typed(typ))
			f.now = f.now.Add(time.Hour)

			res, err := f.src.Token(context.Background())
			stored, gerr := f.store.Get(context.Background(), "k")
			if gerr != nil {
				t.Fatalf("the grant is gone: %v", gerr)
			}
			if rotated := f.issued(t, 1).RefreshToken; stored.RefreshToken != rotated {
				t.Fatalf("stored refresh token %q, want the rotated %q: the grant is lost", stored.RefreshToken, rotated)
			}
			if stored.AccessToken != "" || stored.TokenType != "" {
				t.Fatalf("stored the access token of type %q", stored.TokenType)
			}
			if err == nil {
				t.Fatalf("handed out %+v; want a refusal (internal/session/refresh.go persist must call CheckTokenType once the rotated grant is stored)", res.Record)
			}
			if errors.Is(err, ErrLoginRequired) || !isOneCleanLine(err.Error()) || !strings.Contains(err.Error(), "cannot use") ||
				strings.Contains(err.Error(), "SNTL") || strings.Contains(err.Error(), "Injected") {
				t.Fatalf("error %q", err)
			}

			f.as.Configure(typed("bearer"))
			res, err = f.src.Token(context.Background())
			if err != nil || res.Record.AccessToken != f.issued(t, 2).AccessToken || res.Record.TokenType != "Bearer" {
				t.Fatalf("the next refresh: %+v, %v", res, err)
			}
		})
	}
}
