package session

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/keychain"
)

// fixture is a grant stored in a memory keychain, issued by the test
// authorization server every package uses: it rotates the refresh token on
// every use, refuses a spent or revoked one with invalid_grant (a reuse
// revokes the whole grant, RFC 9700 §4.14.2), and refuses a refresh that
// names no client or brings a credential. The stored access token is
// fresh for 300 s on the fixture's clock.
type fixture struct {
	as    *authtest.Server
	grant authtest.Issued // what the login issued, as stored
	store *keychain.Memory
	src   *Grant
	now   time.Time
}

// newFixture stores a grant without an ID token; opts configure the
// server.
func newFixture(t *testing.T, opts ...authtest.Option) *fixture {
	t.Helper()
	return newGrantFixture(t, "profile", opts...)
}

// newOpenIDFixture stores an OpenID grant, whose refreshes carry idToken
// verbatim as their id_token.
func newOpenIDFixture(t *testing.T, idToken string) *fixture {
	t.Helper()
	return newGrantFixture(t, "openid", authtest.WithRawIDToken(idToken))
}

func newGrantFixture(t *testing.T, scope string, opts ...authtest.Option) *fixture {
	t.Helper()
	as := authtest.New(t, append([]authtest.Option{authtest.WithClientID("cli")}, opts...)...)
	f := &fixture{as: as, grant: as.IssueGrant(scope), store: keychain.NewMemory(), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	b := Binding{Profile: "p", Issuer: as.Issuer(), ClientID: "cli"}
	rec := &keychain.Record{Version: keychain.RecordVersion, Profile: "p", Issuer: b.Issuer, ClientID: "cli", TokenEndpoint: as.URL() + authtest.PathToken,
		RefreshToken: f.grant.RefreshToken, AccessToken: f.grant.AccessToken, TokenType: "Bearer", Lifetime: 300 * time.Second, Expiry: f.now.Add(300 * time.Second)}
	if err := f.store.Set(context.Background(), "k", rec); err != nil {
		t.Fatal(err)
	}
	// A client of the fixture's own, so a test may change its timeout.
	client := &http.Client{Transport: as.Client().Transport}
	f.src = &Grant{Store: f.store, Key: "k", Binding: b, Clock: f,
		HTTPClient: func() (*http.Client, error) { return client, nil }}
	return f
}

// requests counts the requests that reached the token endpoint, those a
// hook answered included.
func (f *fixture) requests() int { return f.as.CountRequests(authtest.PathToken) }

// issued is the n-th token response of the server: 0 is the login's, 1
// the first refresh's.
func (f *fixture) issued(t *testing.T, n int) authtest.Issued {
	t.Helper()
	issued := f.as.Issued()
	if n >= len(issued) {
		t.Fatalf("the server issued %d token responses, not %d", len(issued), n+1)
	}
	return issued[n]
}

// revoke ends the grant at the server, as a logout elsewhere or an
// administrator does: its refresh tokens, rotated or not, are refused.
func (f *fixture) revoke(t *testing.T) {
	t.Helper()
	if !f.as.Revoke(f.grant.RefreshToken) {
		t.Fatal("the server does not know the fixture's grant")
	}
}

// rotateElsewhere refreshes the stored refresh token at the server as
// another process or machine would, and returns what it got. The stored
// token is spent: presenting it again is a reuse.
func (f *fixture) rotateElsewhere(t *testing.T) authtest.Issued {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.stored(t).RefreshToken}, "client_id": {"cli"}}
	resp, err := f.as.Client().PostForm(f.as.URL()+authtest.PathToken, form)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh elsewhere: %s", resp.Status)
	}
	issued := f.as.Issued()
	return issued[len(issued)-1]
}

// answer makes the token endpoint answer every request with status and
// body of type ctype, before the server looks at it.
func answer(status int, ctype, body string) authtest.Option {
	return authtest.WithTokenHook(func(w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
		return true
	})
}

func (f *fixture) stored(t *testing.T) *keychain.Record {
	t.Helper()
	r, err := f.store.Get(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestToken_WarmCacheMakesNoRequest(t *testing.T) {
	f := newFixture(t)
	res, err := f.src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Record.AccessToken != f.grant.AccessToken || res.Refreshed || f.requests() != 0 {
		t.Fatalf("got %q refreshed=%v requests=%d; want the cached token and no request", res.Record.AccessToken, res.Refreshed, f.requests())
	}
}

func TestToken_RefreshesEarly_Req32(t *testing.T) {
	f := newFixture(t)
	// 300 s lifetime: margin max(30 s, 30 s) = 30 s, so at 271 s it refreshes.
	f.now = f.now.Add(269 * time.Second)
	if res, _ := f.src.Token(context.Background()); res.Refreshed {
		t.Fatal("refreshed at 269 s of a 300 s token")
	}
	f.now = f.now.Add(2 * time.Second)
	res, err := f.src.Token(context.Background())
	if err != nil || !res.Refreshed {
		t.Fatalf("at 271 s: refreshed=%v err=%v, want a refresh", res != nil && res.Refreshed, err)
	}
}

func TestToken_MinTTLForcesRefresh(t *testing.T) {
	f := newFixture(t)
	f.src.MinTTL = time.Hour
	res, err := f.src.Token(context.Background())
	if err != nil || !res.Refreshed {
		t.Fatalf("refreshed=%v err=%v", res != nil && res.Refreshed, err)
	}
}

func TestToken_StoresRotatedRefreshToken_Req26(t *testing.T) {
	f := newFixture(t)
	for i := 1; i <= 50; i++ {
		f.now = f.now.Add(280 * time.Second)
		res, err := f.src.Token(context.Background())
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if want := f.issued(t, i).AccessToken; res.Record.AccessToken != want {
			t.Fatalf("call %d: token %q, want %q", i, res.Record.AccessToken, want)
		}
	}
	if got, current := f.stored(t).RefreshToken, f.as.LatestRefreshToken(); got != current {
		t.Fatalf("stored refresh token %q, server's current %q", got, current)
	}
}

func TestToken_KeepsRefreshTokenWhenNoneReturned(t *testing.T) {
	f := newFixture(t, authtest.WithRefreshRotation(false))
	f.now = f.now.Add(time.Hour)
	if _, err := f.src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.stored(t); got.RefreshToken != f.grant.RefreshToken || got.AccessToken != f.issued(t, 1).AccessToken {
		t.Fatalf("stored %q/%q, want the old refresh token and the new access token", got.RefreshToken, got.AccessToken)
	}
}

func TestToken_FailedWriteGivesNoToken_Req26(t *testing.T) {
	f := newFixture(t)
	f.now = f.now.Add(time.Hour)
	f.store.FailSet = errors.New("keychain write refused")
	res, err := f.src.Token(context.Background())
	var lost *SessionLostError
	if res != nil || !errors.As(err, &lost) {
		t.Fatalf("res=%v err=%v, want no token and SessionLostError", res, err)
	}
	if strings.Contains(err.Error(), "SNTL-") {
		t.Fatalf("error leaks a token: %v", err)
	}
}

func TestToken_LostResponseRetriedOnce_Req27(t *testing.T) {
	for name, lose := range map[string]authtest.Option{
		"502 from a gateway":   authtest.WithLostTokenResponses(1, http.StatusBadGateway),
		"connection cut short": authtest.WithDroppedTokenResponses(1),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, lose)
			f.now = f.now.Add(time.Hour)
			// The server rotated on the lost answer; without a reuse grace
			// the retry is refused: the grant is over, and exactly two
			// requests went out.
			_, err := f.src.Token(context.Background())
			if !errors.Is(err, ErrLoginRequired) {
				t.Fatalf("err = %v, want login required", err)
			}
			if n := f.requests(); n != 2 {
				t.Fatalf("requests = %d, want 2 (one retry, no loop)", n)
			}
		})
	}
}

func TestToken_ServerErrorKeepsGrant_Req27(t *testing.T) {
	f := newFixture(t, answer(http.StatusServiceUnavailable, "text/plain; charset=utf-8", "down\n"))
	f.now = f.now.Add(time.Hour)
	_, err := f.src.Token(context.Background())
	var re *RefreshError
	if !errors.As(err, &re) || errors.Is(err, ErrLoginRequired) {
		t.Fatalf("err = %v, want a RefreshError that keeps the grant", err)
	}
	if got, hits := f.stored(t).RefreshToken, f.requests(); got != f.grant.RefreshToken || hits != 2 {
		t.Fatalf("stored refresh token %q after %d requests, want it kept after 2", got, hits)
	}
}

func TestToken_InvalidGrantDeletesOnlyTheRejectedGrant_Req28(t *testing.T) {
	f := newFixture(t)
	f.revoke(t)
	f.now = f.now.Add(time.Hour)
	_, err := f.src.Token(context.Background())
	if !errors.Is(err, ErrLoginRequired) {
		t.Fatalf("err = %v, want login required", err)
	}
	if _, err := f.store.Get(context.Background(), "k"); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("record still stored after invalid_grant: %v", err)
	}
}

func TestToken_RecordForAnotherIssuerIsNotUsed_Req39(t *testing.T) {
	f := newFixture(t)
	f.src.Binding.Issuer = "https://other.example"
	f.now = f.now.Add(time.Hour)
	_, err := f.src.Token(context.Background())
	if !errors.Is(err, ErrLoginRequired) || f.requests() != 0 {
		t.Fatalf("err=%v requests=%d; want login required and no request to the token endpoint", err, f.requests())
	}
}

func TestToken_NoRecord(t *testing.T) {
	f := newFixture(t)
	f.src.Key = "other"
	if _, err := f.src.Token(context.Background()); !errors.Is(err, ErrLoginRequired) {
		t.Fatalf("err = %v", err)
	}
}

func TestMarginAndLifetime(t *testing.T) {
	for _, c := range []struct{ life, want time.Duration }{
		{300 * time.Second, 30 * time.Second},
		{time.Hour, 6 * time.Minute},
		{20 * time.Second, 10 * time.Second},
		{0, 30 * time.Second},
	} {
		if got := Margin(c.life); got != c.want {
			t.Errorf("Margin(%s) = %s, want %s", c.life, got, c.want)
		}
	}
	if Lifetime(1e12) != 24*time.Hour || Lifetime(0) != time.Minute || Lifetime(-5) != time.Minute || Lifetime(90) != 90*time.Second {
		t.Error("Lifetime does not clamp expires_in to [1 min default, 24 h]")
	}
}
