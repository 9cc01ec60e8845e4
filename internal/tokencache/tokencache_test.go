package tokencache

import (
	"crypto/rand"
	"encoding/hex"
	"runtime"
	"testing"
	"time"
)

func uniqueKey(t *testing.T) string {
	b := make([]byte, 8)
	rand.Read(b)
	k := "test-" + hex.EncodeToString(b)
	t.Cleanup(func() { New().Delete(k) })
	return k
}

func TestPutGetDelete(t *testing.T) {
	c := New()
	if runtime.GOOS != "linux" {
		t.Skip("no volatile cache on " + runtime.GOOS)
	}
	key := uniqueKey(t)
	if _, ok := c.Get(key); ok {
		t.Fatal("hit on an empty cache")
	}
	e := &Entry{Issuer: "https://as.example", ClientID: "c", Profile: "p", AccessToken: "SNTL-AT-1", TokenType: "Bearer",
		Expiry: time.Now().Add(time.Hour).UTC().Truncate(time.Second), Lifetime: time.Hour}
	c.Put(key, e, time.Minute)
	got, ok := c.Get(key)
	if !ok {
		t.Skip("the kernel keyring is not usable here (seccomp or no user keyring)")
	}
	if *got != *e {
		t.Fatalf("got %+v, want %+v", got, e)
	}
	c.Delete(key)
	if _, ok := c.Get(key); ok {
		t.Fatal("entry still there after Delete")
	}
}

func TestBelowOneSecondIsNotCached(t *testing.T) {
	c := New()
	key := uniqueKey(t)
	c.Put(key, &Entry{AccessToken: "x", Expiry: time.Now().Add(time.Hour)}, 500*time.Millisecond)
	if _, ok := c.Get(key); ok {
		t.Fatal("an entry with less than a second to live was cached")
	}
}

func TestDecodeRejectsEmpty(t *testing.T) {
	for _, s := range []string{"", "{}", `{"at":"x"}`, "garbage"} {
		if _, ok := decode([]byte(s)); ok {
			t.Errorf("decode(%q) accepted", s)
		}
	}
}
