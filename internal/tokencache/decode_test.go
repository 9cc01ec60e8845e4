package tokencache

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// FuzzDecodeLite: wherever the reflection-free reading of an entry
// succeeds, encoding/json reads the same entry.
func FuzzDecodeLite(f *testing.F) {
	full, _ := encode(&Entry{Issuer: "https://as.example", ClientID: "c", Profile: "work", AccessToken: "at", TokenType: "Bearer",
		Scope: "openid email", Expiry: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Lifetime: time.Hour, Checked: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))})
	f.Add(full)
	for _, s := range []string{
		`{"at":"a","exp":"2026-01-02T03:04:05Z"}`, `{"at":"a","exp":"2026-01-02T03:04:05+01:00","life":1e3}`,
		`{"at":"a","exp":"2026-01-02T03:04:05\u005a"}`, `{"at":"a","at":"b","exp":"2026-01-02T03:04:05Z"}`,
		`{"AT":"a","exp":"2026-01-02T03:04:05Z"}`, `{"at":"a","exp":null}`, `{"at":"a","exp":"2026-13-02T03:04:05Z"}`,
		`{"at":"a","exp":"2026-01-02T03:04:05Z","x":1}`, `{"at":"a","exp":"2026-01-02T03:04:05Z"} x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lite, ok := decodeLite(b)
		if !ok {
			return
		}
		var std Entry
		if err := json.Unmarshal(b, &std); err != nil {
			t.Fatalf("read without reflection, but encoding/json says: %v", err)
		}
		if !reflect.DeepEqual(*lite, std) {
			t.Fatalf("readings differ:\nlite %#v\njson %#v", *lite, std)
		}
	})
}

// TestDecodeLite_ReadsWhatEncodeWrites: every entry encode writes is read
// without reflection.
func TestDecodeLite_ReadsWhatEncodeWrites(t *testing.T) {
	e := &Entry{Issuer: "https://as.example", ClientID: "c", Profile: "work", AccessToken: "at", TokenType: "DPoP",
		Scope: "openid", Expiry: time.Now().Round(0), Lifetime: time.Minute, Checked: time.Now().UTC()}
	b, _ := encode(e)
	got, ok := decodeLite(b)
	if !ok || !got.Expiry.Equal(e.Expiry) || !got.Checked.Equal(e.Checked) || got.AccessToken != e.AccessToken || got.Lifetime != e.Lifetime || got.TokenType != e.TokenType {
		t.Fatalf("%s read as %#v (%v)", b, got, ok)
	}
	b, _ = encode(&Entry{AccessToken: "at", Expiry: e.Expiry})
	if _, ok := decodeLite(b); !ok {
		t.Fatalf("declined %s", b)
	}
}
