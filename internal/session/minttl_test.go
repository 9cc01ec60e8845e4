package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/tokencache"
	"github.com/sesame-auth/sesame/keychain"
)

// loginRecord makes the fixture's stored record look as a login leaves it:
// the grant stored at the instant its access token was received.
func (f *fixture) loginRecord(t *testing.T) {
	t.Helper()
	rec := f.stored(t)
	rec.IssuedAt = rec.Expiry.Add(-rec.Lifetime)
	if err := f.store.Set(context.Background(), "k", rec); err != nil {
		t.Fatal(err)
	}
}

// TestToken_UnmetMinTTLRefreshesOncePerLifetime: --min-ttl 1h against
// 300-second tokens (handed out for 270 s at most) cannot be met. The
// login's token is refreshed once; the refreshed one is the best the
// server gives and is handed out, without another refresh, until its own
// early expiry; then one refresh, as for any caller. Before the fix every
// call refreshed.
func TestToken_UnmetMinTTLRefreshesOncePerLifetime(t *testing.T) {
	for _, withCache := range []bool{false, true} {
		t.Run(fmt.Sprintf("cache=%v", withCache), func(t *testing.T) {
			f := newFixture(t)
			f.loginRecord(t)
			if withCache {
				// The volatile cache and the lock-first path: the cached
				// copy carries no login time, so it is checked against
				// the keychain record, which does.
				f.src.Cache = &tokencache.Memory{}
				f.src.Lock = func(context.Context, func() bool) (Held, error) { return releaseFunc(func() {}), nil }
			}
			f.src.MinTTL = time.Hour
			f.now = f.now.Add(time.Second)
			res, err := f.src.Token(context.Background())
			if err != nil || !res.Refreshed || res.Record.AccessToken != f.issued(t, 1).AccessToken {
				t.Fatalf("first call: res=%+v err=%v; want one refresh of the login's token", res, err)
			}
			issued := f.now
			for _, at := range []time.Duration{0, time.Second, 10 * time.Second, 100 * time.Second, 269 * time.Second, 270 * time.Second} {
				f.now = issued.Add(at)
				res, err := f.src.Token(context.Background())
				if err != nil || res.Refreshed || res.Record.AccessToken != f.issued(t, 1).AccessToken {
					t.Fatalf("%s after the refresh: res=%+v err=%v; want the refreshed token again, no refresh", at, res, err)
				}
			}
			if f.requests() != 1 {
				t.Fatalf("%d refreshes within one token's lifetime, want 1", f.requests())
			}
			// Past the refreshed token's early expiry: one refresh, as
			// without --min-ttl, and again none after it.
			f.now = issued.Add(271 * time.Second)
			for i := range 3 {
				res, err := f.src.Token(context.Background())
				if err != nil || res.Record.AccessToken != f.issued(t, 2).AccessToken || res.Refreshed != (i == 0) {
					t.Fatalf("call %d past the early expiry: res=%+v err=%v", i, res, err)
				}
				f.now = f.now.Add(5 * time.Second)
			}
			if f.requests() != 2 {
				t.Fatalf("%d refreshes over two token lifetimes, want 2", f.requests())
			}
		})
	}
}

// TestToken_MeetableMinTTLStillRefreshes: a --min-ttl that the server's
// tokens can meet is honoured as before, also for a token from a refresh.
func TestToken_MeetableMinTTLStillRefreshes(t *testing.T) {
	f := newFixture(t)
	f.loginRecord(t)
	f.src.MinTTL = 200 * time.Second // 300-second tokens: 270 s usable
	f.now = f.now.Add(100 * time.Second)
	if res, err := f.src.Token(context.Background()); err != nil || !res.Refreshed {
		t.Fatalf("170 s left, 200 s wanted: res=%+v err=%v; want a refresh", res, err)
	}
	f.now = f.now.Add(69 * time.Second)
	if res, err := f.src.Token(context.Background()); err != nil || res.Refreshed {
		t.Fatalf("201 s left: res=%+v err=%v; want no refresh", res, err)
	}
	f.now = f.now.Add(2 * time.Second)
	if res, err := f.src.Token(context.Background()); err != nil || !res.Refreshed {
		t.Fatalf("199 s left of a refreshed token: res=%+v err=%v; want a refresh", res, err)
	}
}

// TestToken_UnmetMinTTLUnderTheLockOnly: RefreshLocked (what the refresher
// child runs) applies the same rule: a refreshed token that cannot meet
// the min-ttl is not refreshed again.
func TestToken_UnmetMinTTLUnderTheLockOnly(t *testing.T) {
	f := newFixture(t)
	f.loginRecord(t)
	f.src.MinTTL = time.Hour
	f.now = f.now.Add(time.Second)
	if res, err := f.src.RefreshLocked(context.Background()); err != nil || !res.Refreshed {
		t.Fatalf("res=%+v err=%v", res, err)
	}
	f.now = f.now.Add(time.Minute)
	if res, err := f.src.RefreshLocked(context.Background()); err != nil || res.Refreshed || f.requests() != 1 {
		t.Fatalf("res=%+v err=%v requests=%d; want the refreshed token kept", res, err, f.requests())
	}
}

func TestEffectiveMinTTL(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	login := func(life time.Duration) *keychain.Record {
		return &keychain.Record{AccessToken: "a", Lifetime: life, Expiry: now.Add(life), IssuedAt: now}
	}
	refreshed := func(life time.Duration) *keychain.Record {
		r := login(life)
		r.IssuedAt = now.Add(-time.Hour)
		return r
	}
	if Usable(60*time.Second) != 30*time.Second || Usable(time.Hour) != 54*time.Minute || Usable(0) != 0 {
		t.Fatal("Usable is not the lifetime less its margin")
	}
	for _, c := range []struct {
		name  string
		rec   *keychain.Record
		min   time.Duration
		unmet bool
		want  time.Duration
	}{
		{"meetable, login", login(time.Minute), 30 * time.Second, false, 30 * time.Second},
		{"meetable, refreshed", refreshed(time.Minute), 30 * time.Second, false, 30 * time.Second},
		{"unmet, login: refreshed once", login(time.Minute), 10 * time.Minute, true, 10 * time.Minute},
		{"unmet, refreshed: the best there is", refreshed(time.Minute), 10 * time.Minute, true, 0},
		{"unknown lifetime: kept", &keychain.Record{AccessToken: "a", Expiry: now.Add(time.Minute)}, 10 * time.Minute, false, 10 * time.Minute},
		{"no login time: kept", &keychain.Record{AccessToken: "a", Lifetime: time.Minute, Expiry: now.Add(time.Minute)}, 10 * time.Minute, true, 10 * time.Minute},
		{"zero", refreshed(time.Minute), 0, false, 0},
	} {
		if got := MinTTLUnmet(c.rec, c.min); got != c.unmet {
			t.Errorf("%s: MinTTLUnmet = %v, want %v", c.name, got, c.unmet)
		}
		if got := EffectiveMinTTL(c.rec, c.min); got != c.want {
			t.Errorf("%s: EffectiveMinTTL = %s, want %s", c.name, got, c.want)
		}
	}
	// Fresh applies the cap: a refreshed 60-second token is fresh for a
	// 10-minute caller until its early expiry, and not after.
	r := refreshed(time.Minute)
	if !Fresh(r, now.Add(29*time.Second), 10*time.Minute) || Fresh(r, now.Add(31*time.Second), 10*time.Minute) {
		t.Fatal("Fresh does not cap an unmet min-ttl at the token's early expiry")
	}
}
