package session

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/keychain"
)

func jwtWith(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + ".sig"
}

func TestIDTokenEarlyExpiry(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name    string
		payload string
		want    time.Time
	}{
		{"one hour: 10% margin", `{"iat":1800000000,"exp":1800003600}`, time.Unix(1800003600-360, 0)},
		{"two minutes: 30 s margin", `{"iat":1800000000,"exp":1800000120}`, time.Unix(1800000120-30, 0)},
		{"no iat: 30 s margin", `{"exp":1800003600}`, time.Unix(1800003600-30, 0)},
		{"no exp", `{"iat":1800000000}`, time.Time{}},
		{"not json", `nope`, time.Time{}},
	}
	for _, tt := range tests {
		got := IDTokenEarlyExpiry(&keychain.Record{IDToken: jwtWith(tt.payload)})
		if !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if !IDTokenEarlyExpiry(&keychain.Record{IDToken: "a.b"}).IsZero() {
		t.Error("a two-part token has an expiry")
	}
	fresh := IDTokenFresh(func() time.Time { return now }, 0)
	if !fresh(&keychain.Record{IDToken: jwtWith(`{"iat":1800000000,"exp":1800003600}`)}) {
		t.Error("a new ID token is not fresh")
	}
	if fresh(&keychain.Record{IDToken: jwtWith(`{"iat":1799990000,"exp":1800000010}`)}) {
		t.Error("an ID token 10 s from expiry is fresh")
	}
	if fresh(&keychain.Record{}) {
		t.Error("no ID token is fresh")
	}
}
