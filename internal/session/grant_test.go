package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/keychain"
)

// rotatingServer is a token endpoint that rotates the refresh token on
// every use; reusing a rotated token answers invalid_grant.
type rotatingServer struct {
	mu       sync.Mutex
	current  string
	n        int
	requests int
	// lose makes the next n refreshes succeed server-side but answer 502.
	lose     int
	noRotate bool
	// refusal is the error code for a spent or unknown refresh token
	// (default invalid_grant).
	refusal string
	// idToken, when set, is sent as the refresh's id_token.
	idToken string
	// hold, when set, is waited on before each answer; arrived, when set,
	// is told first.
	hold    chan struct{}
	arrived chan struct{}
}

func (s *rotatingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if r.PostFormValue("grant_type") != "refresh_token" || r.PostFormValue("client_id") != "cli" {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	if r.Header.Get("Authorization") != "" {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	if r.PostFormValue("refresh_token") != s.current {
		code := s.refusal
		if code == "" {
			code = "invalid_grant"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"error":%q,"error_description":"grant request is invalid"}`, code)
		return
	}
	s.n++
	rt := ""
	if !s.noRotate {
		s.current = fmt.Sprintf("SNTL-RT-%d", s.n)
		rt = fmt.Sprintf(`,"refresh_token":%q`, s.current)
	}
	if s.lose > 0 {
		s.lose--
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	if s.idToken != "" {
		rt += fmt.Sprintf(`,"id_token":%q`, s.idToken)
	}
	if s.hold != nil {
		if s.arrived != nil {
			s.arrived <- struct{}{}
		}
		s.mu.Unlock()
		<-s.hold
		s.mu.Lock()
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"access_token":"SNTL-AT-%d","token_type":"Bearer","expires_in":300,"scope":"openid"%s}`, s.n, rt)
}

type fixture struct {
	srv   *rotatingServer
	store *keychain.Memory
	src   *Grant
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{srv: &rotatingServer{current: "SNTL-RT-0"}, store: keychain.NewMemory(), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	b := Binding{Profile: "p", Issuer: "https://as.example", ClientID: "cli"}
	rec := &keychain.Record{Version: keychain.RecordVersion, Profile: "p", Issuer: b.Issuer, ClientID: "cli", TokenEndpoint: ts.URL,
		RefreshToken: "SNTL-RT-0", AccessToken: "SNTL-AT-0", TokenType: "Bearer", Lifetime: 300 * time.Second, Expiry: f.now.Add(300 * time.Second)}
	if err := f.store.Set(context.Background(), "k", rec); err != nil {
		t.Fatal(err)
	}
	f.src = &Grant{Store: f.store, Key: "k", Binding: b, Clock: f,
		HTTPClient: func() (*http.Client, error) { return ts.Client(), nil }}
	return f
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
	if res.Record.AccessToken != "SNTL-AT-0" || res.Refreshed || f.srv.requests != 0 {
		t.Fatalf("got %q refreshed=%v requests=%d; want the cached token and no request", res.Record.AccessToken, res.Refreshed, f.srv.requests)
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
		if want := fmt.Sprintf("SNTL-AT-%d", i); res.Record.AccessToken != want {
			t.Fatalf("call %d: token %q, want %q", i, res.Record.AccessToken, want)
		}
	}
	if got := f.stored(t).RefreshToken; got != f.srv.current {
		t.Fatalf("stored refresh token %q, server's current %q", got, f.srv.current)
	}
}

func TestToken_KeepsRefreshTokenWhenNoneReturned(t *testing.T) {
	f := newFixture(t)
	f.srv.noRotate = true
	f.now = f.now.Add(time.Hour)
	if _, err := f.src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.stored(t); got.RefreshToken != "SNTL-RT-0" || got.AccessToken != "SNTL-AT-1" {
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
	f := newFixture(t)
	f.srv.lose = 1
	f.now = f.now.Add(time.Hour)
	// The server rotated on the lost answer; without a reuse grace the
	// retry is refused: the grant is over, and exactly two requests went out.
	_, err := f.src.Token(context.Background())
	if !errors.Is(err, ErrLoginRequired) {
		t.Fatalf("err = %v, want login required", err)
	}
	if f.srv.requests != 2 {
		t.Fatalf("requests = %d, want 2 (one retry, no loop)", f.srv.requests)
	}
}

func TestToken_ServerErrorKeepsGrant_Req27(t *testing.T) {
	f := newFixture(t)
	var hits int
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	rec := f.stored(t)
	rec.TokenEndpoint = down.URL
	if err := f.store.Set(context.Background(), "k", rec); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour)
	_, err := f.src.Token(context.Background())
	var re *RefreshError
	if !errors.As(err, &re) || errors.Is(err, ErrLoginRequired) {
		t.Fatalf("err = %v, want a RefreshError that keeps the grant", err)
	}
	if got := f.stored(t).RefreshToken; got != "SNTL-RT-0" || hits != 2 {
		t.Fatalf("stored refresh token %q after %d requests, want it kept after 2", got, hits)
	}
}

func TestToken_InvalidGrantDeletesOnlyTheRejectedGrant_Req28(t *testing.T) {
	f := newFixture(t)
	f.srv.current = "revoked-elsewhere"
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
	if !errors.Is(err, ErrLoginRequired) || f.srv.requests != 0 {
		t.Fatalf("err=%v requests=%d; want login required and no request to the token endpoint", err, f.srv.requests)
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
