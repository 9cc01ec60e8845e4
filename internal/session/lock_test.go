package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/tokencache"
	"github.com/sesame-auth/sesame/keychain"
)

func TestToken_LockReReadUsesOtherProcessRefresh_Req29(t *testing.T) {
	f := newFixture(t)
	f.now = f.now.Add(time.Hour)
	// While this process waits for the lock, "another process" refreshes
	// and stores a fresh token.
	f.src.Lock = func(ctx context.Context, _ func() bool) (Held, error) {
		rec := f.stored(t)
		rec.AccessToken, rec.RefreshToken = "SNTL-AT-other", "SNTL-RT-other"
		rec.Expiry = f.now.Add(300 * time.Second)
		if err := f.store.Set(ctx, "k", rec); err != nil {
			t.Fatal(err)
		}
		return releaseFunc(func() {}), nil
	}
	res, err := f.src.Token(context.Background())
	if err != nil || res.Record.AccessToken != "SNTL-AT-other" || res.Refreshed {
		t.Fatalf("res=%+v err=%v; want the other process's token", res, err)
	}
	if f.requests() != 0 {
		t.Fatalf("%d refresh requests after the re-read found a fresh token", f.requests())
	}
}

func TestToken_LockErrorGivesNoToken(t *testing.T) {
	f := newFixture(t)
	f.now = f.now.Add(time.Hour)
	boom := errors.New("timed out waiting for another sesame process")
	f.src.Lock = func(context.Context, func() bool) (Held, error) { return nil, boom }
	if _, err := f.src.Token(context.Background()); !errors.Is(err, boom) || f.requests() != 0 {
		t.Fatalf("err=%v requests=%d", err, f.requests())
	}
}

func TestToken_LockHeldAroundRefresh(t *testing.T) {
	f := newFixture(t)
	f.now = f.now.Add(time.Hour)
	var held bool
	f.src.Lock = func(context.Context, func() bool) (Held, error) {
		held = true
		return releaseFunc(func() {
			if f.requests() != 1 || f.stored(t).RefreshToken != f.issued(t, 1).RefreshToken {
				t.Error("lock released before the rotated refresh token was stored")
			}
			held = false
		}), nil
	}
	if _, err := f.src.Token(context.Background()); err != nil || held {
		t.Fatalf("err=%v held=%v", err, held)
	}
}

func TestToken_CacheHitSkipsKeychain(t *testing.T) {
	f := newFixture(t)
	f.src.Cache = &tokencache.Memory{}
	if _, err := f.src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.store.FailGet = errors.New("keychain must not be read")
	res, err := f.src.Token(context.Background())
	if err != nil || res.Record.AccessToken != f.grant.AccessToken {
		t.Fatalf("res=%+v err=%v", res, err)
	}
	// A cache entry for another binding is ignored.
	f.src.Binding.ClientID = "other"
	if _, err := f.src.Token(context.Background()); err == nil {
		t.Fatal("a cache entry bound to another client was used")
	}
}

func TestToken_RefreshUpdatesCacheAndInvalidGrantClearsIt(t *testing.T) {
	f := newFixture(t)
	c := &tokencache.Memory{}
	f.src.Cache = c
	f.now = f.now.Add(time.Hour)
	if _, err := f.src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e, ok := c.Get("k"); !ok || e.AccessToken != f.issued(t, 1).AccessToken {
		t.Fatalf("cache after refresh: %+v %v", e, ok)
	}
	f.revoke(t)
	f.now = f.now.Add(time.Hour)
	if _, err := f.src.Token(context.Background()); !errors.Is(err, ErrLoginRequired) {
		t.Fatalf("err = %v", err)
	}
	if _, ok := c.Get("k"); ok {
		t.Fatal("cache still holds the token of a refused grant")
	}
}

func TestToken_InvalidGrantUsesTokenRotatedElsewhere_Req28(t *testing.T) {
	f := newFixture(t)
	f.now = f.now.Add(time.Hour)
	// Process A rotated the grant: the server refuses our refresh token
	// as a reuse, and A stores its result between our re-read under the
	// lock and our re-read after invalid_grant (possible when the lock is
	// not shared, e.g. an older sesame).
	a := f.rotateElsewhere(t)
	rec := f.stored(t)
	f.src.Lock = func(ctx context.Context, _ func() bool) (Held, error) { return releaseFunc(func() {}), nil }
	f.src.Store = &storeAfterFirstGet{Memory: f.store, onSecondGet: func() {
		r := *rec
		r.RefreshToken, r.AccessToken, r.Expiry = a.RefreshToken, a.AccessToken, f.now.Add(300*time.Second)
		_ = f.store.Set(context.Background(), "k", &r)
	}}
	res, err := f.src.Token(context.Background())
	if err != nil || res.Record.AccessToken != a.AccessToken {
		t.Fatalf("res=%+v err=%v; want A's token", res, err)
	}
	if got := f.stored(t).RefreshToken; got != a.RefreshToken {
		t.Fatalf("stored refresh token %q: A's grant was deleted", got)
	}
}

// storeAfterFirstGet runs onSecondGet just before the third Get (the
// re-read after invalid_grant): the first two are the read and the
// re-read under the lock.
type storeAfterFirstGet struct {
	*keychain.Memory
	n           int
	onSecondGet func()
}

func (s *storeAfterFirstGet) Get(ctx context.Context, key string) (*keychain.Record, error) {
	s.n++
	if s.n == 3 {
		s.onSecondGet()
	}
	return s.Memory.Get(ctx, key)
}

func TestToken_WaiterTakesCachedResultWithoutLockOrKeychain(t *testing.T) {
	f := newFixture(t)
	cache := &tokencache.Memory{}
	f.src.Cache = cache
	f.now = f.now.Add(time.Hour)
	f.store.FailGet = errors.New("a waiter must not queue on the keychain")
	f.src.Lock = func(ctx context.Context, ready func() bool) (Held, error) {
		if ready() {
			t.Fatal("ready before anything was cached")
		}
		// The lock holder refreshes and caches its result.
		cache.Put("k", &tokencache.Entry{Issuer: f.src.Binding.Issuer, ClientID: "cli", Profile: "p",
			AccessToken: "SNTL-AT-holder", Expiry: f.now.Add(300 * time.Second), Lifetime: 300 * time.Second, Checked: f.now}, time.Minute)
		if !ready() {
			t.Fatal("not ready after the holder cached a fresh token")
		}
		return nil, nil
	}
	res, err := f.src.Token(context.Background())
	if err != nil || res.Record.AccessToken != "SNTL-AT-holder" || f.requests() != 0 {
		t.Fatalf("res=%+v err=%v requests=%d", res, err, f.requests())
	}
}

// releaseFunc is a Held whose Release calls the function.
type releaseFunc func()

func (f releaseFunc) Release() { f() }

// The volatile cache never outlives the grant: an entry is trusted for
// CacheTrust after the keychain was last seen holding it; then the
// keychain is asked, and a grant deleted outside sesame takes its cached
// token with it.
func TestToken_CacheDoesNotOutliveADeletedGrant(t *testing.T) {
	f := newFixture(t)
	cache := &tokencache.Memory{}
	f.src.Cache = cache
	if _, err := f.src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Deleted by a keychain manager, behind sesame's back.
	if err := f.store.Delete(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.src.Token(context.Background()); err != nil {
		t.Fatalf("within the trust window the cached token is still handed out: %v", err)
	}
	f.now = f.now.Add(CacheTrust + time.Second)
	if _, err := f.src.Token(context.Background()); !errors.Is(err, ErrLoginRequired) {
		t.Fatalf("err = %v, want login required once the trust window passed", err)
	}
	if _, ok := cache.Get("k"); ok {
		t.Fatal("the deleted grant's token is still cached")
	}
}
