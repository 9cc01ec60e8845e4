package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/tokencache"
	"github.com/sesame-auth/sesame/keychain"
)

// Logout holds the lock: the newest grant is revoked, deleted, and the
// cache cleared after the delete.
func TestEnd_RevokesNewestUnderLockAndClearsCache(t *testing.T) {
	f := newFixture(t)
	cache := &tokencache.Memory{}
	f.src.Cache = cache
	if _, err := f.src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	var locked bool
	f.src.Lock = func(context.Context, func() bool) (Held, error) {
		locked = true
		return releaseFunc(func() { locked = false }), nil
	}
	var revoked []string
	f.src.Revoke = func(_ context.Context, rec *keychain.Record) bool {
		if !locked {
			t.Error("revoked without the lock")
		}
		revoked = append(revoked, rec.RefreshToken)
		return true
	}
	done, err := f.src.End(context.Background())
	if err != nil || !done.Found || !done.Confirmed {
		t.Fatalf("done=%+v err=%v", done, err)
	}
	if len(revoked) != 1 || revoked[0] != f.grant.RefreshToken {
		t.Fatalf("revoked %q", revoked)
	}
	if _, err := f.store.Get(context.Background(), "k"); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatal("the grant is still stored")
	}
	if _, ok := cache.Get("k"); ok {
		t.Fatal("the cache still holds the ended grant's token")
	}
	if _, err := f.src.Token(context.Background()); !errors.Is(err, ErrLoginRequired) {
		t.Fatalf("token after logout: %v", err)
	}
}

// A login replaces the newest stored grant (a refresh may have rotated it
// while the browser was open) and revokes that one; grants the profile
// held under another key end too.
func TestReplace_RevokesTheNewestAndThePrevious(t *testing.T) {
	f := newFixture(t)
	cache := &tokencache.Memory{}
	f.src.Cache = cache
	// The profile pointed at another client before: its grant lives under
	// another key.
	prev := *f.src
	prev.Key = "k-old"
	old := f.stored(t)
	old.RefreshToken = "SNTL-RT-old-client"
	_ = f.store.Set(context.Background(), "k-old", old)
	var revoked []string
	revoke := func(_ context.Context, rec *keychain.Record) bool {
		revoked = append(revoked, rec.RefreshToken)
		return true
	}
	f.src.Revoke, prev.Revoke = revoke, revoke
	// The stored grant was rotated after the login began.
	rotated := f.stored(t)
	rotated.RefreshToken = "SNTL-RT-rotated"
	_ = f.store.Set(context.Background(), "k", rotated)
	fresh := &keychain.Record{Version: keychain.RecordVersion, Profile: "p", Issuer: f.src.Binding.Issuer, ClientID: "cli", TokenEndpoint: old.TokenEndpoint,
		RefreshToken: "SNTL-RT-new", AccessToken: "SNTL-AT-new", Lifetime: 300 * time.Second, Expiry: f.now.Add(300 * time.Second)}
	if err := f.src.Replace(context.Background(), fresh, []*Grant{&prev}); err != nil {
		t.Fatal(err)
	}
	if len(revoked) != 2 || revoked[0] != "SNTL-RT-rotated" || revoked[1] != "SNTL-RT-old-client" {
		t.Fatalf("revoked %q, want the newest replaced token, then the previous client's", revoked)
	}
	if f.stored(t).RefreshToken != "SNTL-RT-new" {
		t.Fatal("the new grant is not stored")
	}
	if _, err := f.store.Get(context.Background(), "k-old"); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatal("the previous client's grant is still stored")
	}
	if e, ok := cache.Get("k"); !ok || e.AccessToken != "SNTL-AT-new" {
		t.Fatalf("cache holds %+v, want the new token", e)
	}
}

func TestDropAccessToken_OnlyTheRejectedOne(t *testing.T) {
	f := newFixture(t)
	if ok, err := f.src.DropAccessToken(context.Background(), "SNTL-AT-other"); ok || err != nil {
		t.Fatalf("dropped a token the grant does not hold: %v %v", ok, err)
	}
	if ok, err := f.src.DropAccessToken(context.Background(), f.grant.AccessToken); !ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if got := f.stored(t); got.AccessToken != "" || got.RefreshToken != f.grant.RefreshToken {
		t.Fatalf("stored %+v, want the grant without its access token", got)
	}
}
