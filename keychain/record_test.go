package keychain

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/quick"
	"time"
)

// testRecord returns a bound record whose secrets carry the sentinel tag, so
// a test can check that no secret leaks into an error.
func testRecord(tag string) *Record {
	return &Record{
		Version:       RecordVersion,
		Profile:       "work",
		Issuer:        "https://as.example",
		ClientID:      "sesame-cli",
		TokenEndpoint: "https://as.example/token",
		RefreshToken:  "SNTL-RT-" + tag,
		AccessToken:   "SNTL-AT-" + tag,
		TokenType:     "Bearer",
		Expiry:        time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Lifetime:      5 * time.Minute,
		Scope:         "openid offline_access",
		Subject:       "123",
		Email:         "ada@example.org",
		IssuedAt:      time.Now(), // monotonic reading: must not survive storage
	}
}

// equalRecords compares records field by field, times by instant: storage
// keeps the instant and offset but not the *time.Location pointer.
func equalRecords(a, b *Record) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	if !x.Expiry.Equal(y.Expiry) || !x.RefreshExpiry.Equal(y.RefreshExpiry) || !x.IssuedAt.Equal(y.IssuedAt) {
		return false
	}
	x.Expiry, y.Expiry = time.Time{}, time.Time{}
	x.RefreshExpiry, y.RefreshExpiry = time.Time{}, time.Time{}
	x.IssuedAt, y.IssuedAt = time.Time{}, time.Time{}
	if len(x.ResourceTokens) != len(y.ResourceTokens) {
		return false
	}
	for r, at := range x.ResourceTokens {
		bt := y.ResourceTokens[r]
		if at == nil || bt == nil {
			if at != bt {
				return false
			}
			continue
		}
		a, b := *at, *bt
		if !a.Expiry.Equal(b.Expiry) {
			return false
		}
		a.Expiry, b.Expiry = time.Time{}, time.Time{}
		if a != b {
			return false
		}
	}
	x.ResourceTokens, y.ResourceTokens = nil, nil
	return reflect.DeepEqual(x, y)
}

func TestRecord_RoundTrip(t *testing.T) {
	r := testRecord("rt")
	r.Version = 0 // the encoder sets it
	b, err := EncodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(`{"v":1,`)) {
		t.Fatalf("encoded record does not start with its version: %.20s", b)
	}
	got, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	want := *r
	want.Version = RecordVersion
	if !equalRecords(got, &want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, &want)
	}
}

func TestDecodeRecord_Rejects(t *testing.T) {
	cases := map[string]string{
		"empty":          ``,
		"null":           `null`,
		"array":          `[1]`,
		"no version":     `{"profile":"p","issuer":"i","client_id":"c","token_endpoint":"t"}`,
		"version 0":      `{"v":0,"profile":"p","issuer":"i","client_id":"c","token_endpoint":"t"}`,
		"future version": `{"v":2,"profile":"p","issuer":"i","client_id":"c","token_endpoint":"t"}`,
		"negative":       `{"v":-1,"profile":"p","issuer":"i","client_id":"c","token_endpoint":"t"}`,
		"unbound":        `{"v":1,"refresh_token":"SNTL-RT-x"}`,
		"no endpoint":    `{"v":1,"profile":"p","issuer":"i","client_id":"c","refresh_token":"SNTL-RT-x"}`,
		"trailing":       `{"v":1,"profile":"p","issuer":"i","client_id":"c","token_endpoint":"t"}x`,
		"two objects":    `{"v":1,"profile":"p","issuer":"i","client_id":"c","token_endpoint":"t"}{}`,
		"bad time":       `{"v":1,"profile":"p","issuer":"i","client_id":"c","token_endpoint":"t","expiry":"SNTL-AT-x"}`,
		"bad type":       `{"v":1,"profile":"p","issuer":"i","client_id":"c","token_endpoint":"t","lifetime":"SNTL-AT-x"}`,
		"truncated":      `{"v":1,"profile":"p","issuer":"i","client_id":"c","token_endpoint":"t","refresh_token":"SNTL-RT-`,
		"chunk header":   `sesame-chunked:{"slot":"a","n":1,"len":1,"sum":"00"}`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := DecodeRecord([]byte(in))
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeRecord = %+v, %v; want ErrCorrupt", r, err)
			}
			if strings.Contains(err.Error(), "SNTL") {
				t.Fatalf("error quotes the record: %v", err)
			}
		})
	}
}

func TestDecodeRecord_FutureVersionSaysSo(t *testing.T) {
	_, err := DecodeRecord([]byte(`{"v":7,"profile":"p","issuer":"i","client_id":"c","token_endpoint":"t"}`))
	if err == nil || !strings.Contains(err.Error(), "newer sesame") {
		t.Fatalf("err = %v, want a hint that a newer sesame wrote it", err)
	}
}

func TestDecodeRecord_IgnoresUnknownFields(t *testing.T) {
	r, err := DecodeRecord([]byte(`{"v":1,"profile":"p","issuer":"i","client_id":"c","token_endpoint":"t","dpop_key_id":"k1"}`))
	if err != nil || r.Profile != "p" {
		t.Fatalf("DecodeRecord = %+v, %v", r, err)
	}
}

func TestEncodeRecord_RefusesUnbound_Req39(t *testing.T) {
	for _, clear := range []func(*Record){
		func(r *Record) { r.Issuer = "" },
		func(r *Record) { r.ClientID = "" },
		func(r *Record) { r.Profile = "" },
		func(r *Record) { r.TokenEndpoint = "" },
	} {
		r := testRecord("unbound")
		clear(r)
		if _, err := EncodeRecord(r); err == nil {
			t.Fatalf("EncodeRecord accepted %+v", r)
		}
	}
	if _, err := EncodeRecord(nil); err == nil {
		t.Fatal("EncodeRecord(nil) succeeded")
	}
}

func TestRecord_Matches_Req39(t *testing.T) {
	r := testRecord("m")
	iss, cid, prof, tep := r.Issuer, r.ClientID, r.Profile, r.TokenEndpoint
	if !r.Matches(iss, cid, prof, tep) {
		t.Fatal("record does not match its own binding")
	}
	for name, args := range map[string][4]string{
		"other issuer":         {"https://b.example", cid, prof, tep},
		"issuer trailing /":    {iss + "/", cid, prof, tep},
		"other client":         {iss, "other", prof, tep},
		"other profile":        {iss, cid, "default", tep},
		"other token endpoint": {iss, cid, prof, "https://as.example/oauth/token"},
		"all empty":            {"", "", "", ""},
	} {
		if r.Matches(args[0], args[1], args[2], args[3]) {
			t.Errorf("%s: record matched %q", name, args)
		}
	}
	var nilRecord *Record
	if nilRecord.Matches(iss, cid, prof, tep) {
		t.Error("nil record matched")
	}
	if (&Record{}).Matches("", "", "", "") {
		t.Error("empty record matched an empty binding")
	}
}

// FuzzDecodeRecord checks that decoding never panics and that whatever
// decodes survives a round trip unchanged: re-encoding a decoded record and
// decoding it again gives an equal record and the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "records", "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata/records: %v", err)
	}
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r1, err := DecodeRecord(in)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		b1, err := EncodeRecord(r1)
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		r2, err := DecodeRecord(b1)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !equalRecords(r1, r2) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", r1, r2)
		}
		b2, err := EncodeRecord(r2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding is not stable: %v\n%s\n%s", err, b1, b2)
		}
	})
}

var keyShape = regexp.MustCompile(`^v1:[A-Za-z0-9_-]{43}$`)

func TestKey_Shape(t *testing.T) {
	k := Key("https://as.example", "sesame", "default")
	if !keyShape.MatchString(k) {
		t.Fatalf("Key = %q, want v1: and 43 base64url characters", k)
	}
	if k2 := Key("https://as.example", "sesame", "default"); k2 != k {
		t.Fatalf("Key is not stable: %q then %q", k, k2)
	}
}

// The tuples below concatenate to the same bytes, or differ only in where a
// separator-like character sits; a naive join would collide on them.
func TestKey_TrickySplits_Req39(t *testing.T) {
	tuples := [][3]string{
		{"a", "bc", ""}, {"ab", "c", ""}, {"", "abc", ""}, {"abc", "", ""},
		{"", "", "abc"}, {"a", "b", "c"}, {"a", "", "bc"}, {"", "a", "bc"},
		{"a:b", "c", "d"}, {"a", "b:c", "d"}, {"a\x00", "b", "c"}, {"a", "\x00b", "c"},
		{"https://as.example", "cli", "work"}, {"https://as.example/", "cli", "work"},
		{"https://as.example", "cliwork", ""}, {"", "", ""},
		{"\x00\x00\x00\x00\x00\x00\x00\x01a", "", ""}, {"", "a", ""},
	}
	seen := make(map[string][3]string)
	for _, tu := range tuples {
		k := Key(tu[0], tu[1], tu[2])
		if prev, ok := seen[k]; ok {
			t.Fatalf("Key collision: %q and %q both give %s", prev, tu, k)
		}
		seen[k] = tu
	}
}

// TestKey_DistinctTuplesDistinctKeys_Req39 cuts one random string at two
// pairs of random points, the hardest case for an encoding: same bytes,
// different fields. Whenever the two tuples differ, their keys must too.
func TestKey_DistinctTuplesDistinctKeys_Req39(t *testing.T) {
	split := func(s string, i, j uint8) [3]string {
		a := int(i) % (len(s) + 1)
		b := a + int(j)%(len(s)-a+1)
		return [3]string{s[:a], s[a:b], s[b:]}
	}
	prop := func(s string, i1, j1, i2, j2 uint8) bool {
		x, y := split(s, i1, j1), split(s, i2, j2)
		return (x == y) == (Key(x[0], x[1], x[2]) == Key(y[0], y[1], y[2]))
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 5000}); err != nil {
		t.Fatal(err)
	}
	// Independent random tuples as well.
	indep := func(a1, b1, c1, a2, b2, c2 string) bool {
		same := a1 == a2 && b1 == b2 && c1 == c2
		return same == (Key(a1, b1, c1) == Key(a2, b2, c2))
	}
	if err := quick.Check(indep, &quick.Config{MaxCount: 2000}); err != nil {
		t.Fatal(err)
	}
}

func FuzzKey_Req39(f *testing.F) {
	f.Add("a", "bc", "", "ab", "c", "")
	f.Add("https://as.example", "cli", "default", "https://as.example", "cli", "work")
	f.Fuzz(func(t *testing.T, a1, b1, c1, a2, b2, c2 string) {
		same := a1 == a2 && b1 == b2 && c1 == c2
		if same != (Key(a1, b1, c1) == Key(a2, b2, c2)) {
			t.Fatalf("tuples %q and %q: same=%v but keys disagree", []string{a1, b1, c1}, []string{a2, b2, c2}, same)
		}
		if !keyShape.MatchString(Key(a1, b1, c1)) {
			t.Fatalf("bad key shape")
		}
	})
}

// TestKeys_ApartPerKind: a profile's grant, its client registration and its
// client secret live under three different keys, so storing one never
// replaces another; and a client secret record round-trips.
func TestKeys_ApartPerKind(t *testing.T) {
	g, r, s := Key("https://as", "app", "work"), RegistrationKey("https://as", "app", "work"), ClientSecretKey("https://as", "app", "work")
	if g == r || g == s || r == s {
		t.Fatalf("keys collide: %s %s %s", g, r, s)
	}
	if ClientSecretKey("https://as", "app", "work") == ClientSecretKey("https://as", "app2", "work") {
		t.Fatal("the client secret key ignores the client id")
	}
	rec := &Record{Profile: "work", Issuer: "https://as", ClientID: "app", TokenEndpoint: "https://as/token", ClientSecret: "SNTL-CS"}
	b, err := EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeRecord(b)
	if err != nil || back.ClientSecret != "SNTL-CS" {
		t.Fatalf("DecodeRecord = %+v, %v", back, err)
	}
}
