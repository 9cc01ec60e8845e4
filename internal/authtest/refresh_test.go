package authtest

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRefresh_RotatesOnEveryUse(t *testing.T) {
	s := New(t)
	tok := login(t, s)
	rt := tok.RefreshToken
	for i := range 3 {
		status, body := refresh(t, s, rt)
		next, _ := body["refresh_token"].(string)
		if status != http.StatusOK || next == "" || next == rt {
			t.Fatalf("refresh %d: %d %v", i, status, body)
		}
		if s.Introspect(rt) {
			t.Fatalf("refresh %d: the spent token is still active", i)
		}
		rt = next
	}
	if s.RefreshCount() != 3 || s.LatestRefreshToken() != rt || !s.Introspect(rt) {
		t.Fatalf("RefreshCount %d, latest matches %v", s.RefreshCount(), s.LatestRefreshToken() == rt)
	}
	// The code grant and the three refreshes share one family.
	issued := s.Issued()
	if len(issued) != 4 || issued[3].Family != issued[0].Family || issued[3].GrantType != GrantRefreshToken {
		t.Fatalf("issued %+v", issued)
	}
}

func TestRefresh_ReuseRevokesFamily(t *testing.T) {
	s := New(t)
	tok := login(t, s)
	_, body := refresh(t, s, tok.RefreshToken)
	newer, _ := body["refresh_token"].(string)
	newerAT, _ := body["access_token"].(string)

	status, body := refresh(t, s, tok.RefreshToken)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
	// The whole family is gone, including the token that was current and
	// the access tokens.
	if !s.Revoked(newer) || s.Introspect(newer) || s.Introspect(newerAT) || s.LatestRefreshToken() != "" {
		t.Fatal("family survived the reuse")
	}
	status, body = refresh(t, s, newer)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
}

func TestRefresh_NoRotation(t *testing.T) {
	s := New(t, WithRefreshRotation(false))
	tok := login(t, s)
	for range 2 {
		status, body := refresh(t, s, tok.RefreshToken)
		if status != http.StatusOK || body["refresh_token"] != nil {
			t.Fatalf("%d %v", status, body)
		}
	}
	if !s.Introspect(tok.RefreshToken) {
		t.Fatal("the only refresh token went inactive")
	}
}

// The server rotates, then drops the connection: the client never sees the
// new token. Strict mode punishes the retry; a grace lets it through.
func TestRefresh_DropAfterProcessing(t *testing.T) {
	for _, grace := range []time.Duration{0, time.Minute} {
		t.Run("grace="+grace.String(), func(t *testing.T) {
			s := New(t, WithReuseGrace(grace))
			tok := login(t, s)
			s.Configure(WithDroppedTokenResponses(1))
			form := url.Values{"grant_type": {GrantRefreshToken}, "refresh_token": {tok.RefreshToken}, "client_id": {s.ClientID}}
			if _, _, err := tryPost(t, s, PathToken, form, nil); err == nil {
				t.Fatal("dropped response: want a transport error")
			}
			lost := s.Issued()[1].RefreshToken
			if lost == "" || s.LatestRefreshToken() != lost {
				t.Fatal("the dropped refresh was not processed")
			}

			status, body := refresh(t, s, tok.RefreshToken)
			if s.RefreshCount() != 2 {
				t.Fatalf("RefreshCount = %d, want 2", s.RefreshCount())
			}
			if grace == 0 {
				wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
				if !s.Revoked(lost) {
					t.Fatal("reuse did not revoke the family")
				}
				return
			}
			next, _ := body["refresh_token"].(string)
			if status != http.StatusOK || next == "" || next == lost || s.LatestRefreshToken() != next {
				t.Fatalf("retry inside grace: %d %v", status, body)
			}
		})
	}
}

func TestRefresh_ScopeMayOnlyNarrow(t *testing.T) {
	s := New(t)
	tok := login(t, s)
	form := url.Values{"grant_type": {GrantRefreshToken}, "refresh_token": {tok.RefreshToken}, "client_id": {s.ClientID}, "scope": {"openid admin"}}
	status, body := post(t, s, PathToken, form)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_scope")
	form.Set("scope", "email")
	status, body = post(t, s, PathToken, form)
	if status != http.StatusOK || body["scope"] != "email" || body["id_token"] != nil {
		t.Fatalf("%d %v", status, body)
	}
}

func TestRevoke_ThenIntrospectInactive(t *testing.T) {
	s := New(t)
	tok := login(t, s)
	status, _ := post(t, s, PathRevoke, url.Values{
		"token":           {tok.RefreshToken},
		"token_type_hint": {"refresh_token"},
		"client_id":       {s.ClientID},
	})
	if status != http.StatusOK {
		t.Fatalf("revoke: %d", status)
	}
	if s.Introspect(tok.RefreshToken) || s.Introspect(tok.AccessToken) || !s.Revoked(tok.RefreshToken) {
		t.Fatal("revoked family still active")
	}
	_, body := post(t, s, PathIntrospect, url.Values{"token": {tok.AccessToken}})
	if body["active"] != false {
		t.Fatalf("introspection endpoint: %v", body)
	}
	status, body = refresh(t, s, tok.RefreshToken)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
	// Unknown tokens get 200 too (RFC 7009 §2.2).
	if status, _ := post(t, s, PathRevoke, url.Values{"token": {"nope"}, "client_id": {s.ClientID}}); status != http.StatusOK {
		t.Fatalf("unknown token: %d", status)
	}
}

func TestRevoke_ScriptedStatuses(t *testing.T) {
	s := New(t, WithRevokeStatuses("1", 503, 503))
	tok := login(t, s)
	form := url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {s.ClientID}}
	for i, want := range []int{503, 503, 200} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+PathRevoke, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("attempt %d: %d, want %d", i, resp.StatusCode, want)
		}
		if want == 503 {
			if resp.Header.Get("Retry-After") != "1" || !s.Introspect(tok.RefreshToken) {
				t.Fatalf("attempt %d: Retry-After %q, or the token died on a 503", i, resp.Header.Get("Retry-After"))
			}
		}
	}
	if s.Introspect(tok.RefreshToken) || s.CountRequests(PathRevoke) != 3 {
		t.Fatal("token alive after the 200")
	}
}

func TestAccessToken_ExpiresOnServerClock(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	s := New(t, WithClock(clock), WithAccessTokenLifetime(time.Minute))
	tok := login(t, s)
	if tok.ExpiresIn != 60 || !s.Introspect(tok.AccessToken) {
		t.Fatalf("expires_in %d", tok.ExpiresIn)
	}
	offset.Store(int64(61 * time.Second))
	if s.Introspect(tok.AccessToken) {
		t.Fatal("access token active after its lifetime")
	}
	if !s.Introspect(tok.RefreshToken) {
		t.Fatal("refresh token should outlive the access token")
	}
}

// Parallel refreshes of one token in strict mode: one wins, the others are
// reuse, and the family is revoked. The race detector checks the locking.
func TestRefresh_ConcurrentReuse(t *testing.T) {
	s := New(t)
	tok := login(t, s)
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			form := url.Values{"grant_type": {GrantRefreshToken}, "refresh_token": {tok.RefreshToken}, "client_id": {s.ClientID}}
			status, _, err := tryPost(t, s, PathToken, form, nil)
			if err != nil {
				t.Error(err) // not Fatal: this is not the test's goroutine
			}
			statuses <- status
		})
	}
	wg.Wait()
	close(statuses)
	ok := 0
	for st := range statuses {
		if st == http.StatusOK {
			ok++
		}
	}
	if ok != 1 || s.RefreshCount() != n || s.LatestRefreshToken() != "" {
		t.Fatalf("%d successes, %d refreshes, latest %q", ok, s.RefreshCount(), s.LatestRefreshToken())
	}
}
