package session

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/keychain"
)

// The refusals real servers give for a spent or ended refresh token all
// end the grant: exit 4, never exit 1 call after call.
func TestRefresh_NonStandardRefusalsEndTheGrant(t *testing.T) {
	for _, code := range []string{"invalid_grant", "unauthorized_client", "invalid_request"} {
		t.Run(code, func(t *testing.T) {
			f := newFixture(t, answer(http.StatusBadRequest, "application/json",
				`{"error":"`+code+`","error_description":"grant request is invalid"}`))
			f.now = f.now.Add(time.Hour)
			_, err := f.src.Token(context.Background())
			if !errors.Is(err, ErrLoginRequired) {
				t.Fatalf("err = %v, want login required", err)
			}
			if !strings.Contains(err.Error(), code+` ("grant request is invalid")`) {
				t.Fatalf("the error does not give the server's answer: %v", err)
			}
			if _, err := f.store.Get(context.Background(), "k"); !errors.Is(err, keychain.ErrNotFound) {
				t.Fatalf("the refused grant is still stored: %v", err)
			}
		})
	}
}

// Another OAuth error (here invalid_scope) is an answer that leaves the
// grant as it was: kept, not replayed.
func TestRefresh_OtherOAuthErrorKeepsGrant(t *testing.T) {
	f := newFixture(t, answer(http.StatusBadRequest, "application/json", `{"error":"invalid_scope"}`))
	f.now = f.now.Add(time.Hour)
	_, err := f.src.Token(context.Background())
	var re *RefreshError
	if !errors.As(err, &re) || errors.Is(err, ErrLoginRequired) || f.requests() != 1 {
		t.Fatalf("err=%v requests=%d, want a kept grant after one request", err, f.requests())
	}
	if f.stored(t).RefreshToken != f.grant.RefreshToken {
		t.Fatal("the grant was changed")
	}
}

// Persist first: an ID token that cannot be verified at the moment (a key
// fetch failed, the clock is off) costs nothing: the rotated grant is
// stored, the access token handed out, the previous ID token kept, and the
// person told.
func TestRefresh_StoredBeforeIDTokenCheck(t *testing.T) {
	f := newOpenIDFixture(t, "new.id.token")
	var warned []string
	f.src.Warn = func(m string) { warned = append(warned, m) }
	f.src.VerifyIDToken = func(ctx context.Context, raw string) (*provider.IDToken, error) {
		// The record is already stored when verification runs.
		if got := f.stored(t).RefreshToken; got != f.issued(t, 1).RefreshToken {
			t.Errorf("verification ran before the rotated grant was stored (stored %q)", got)
		}
		return nil, errors.New("id token: fetching keys: 503 Service Unavailable")
	}
	rec := f.stored(t)
	rec.IDToken, rec.Subject = "old.id.token", "alice"
	_ = f.store.Set(context.Background(), "k", rec)
	f.now = f.now.Add(time.Hour)
	res, err := f.src.Token(context.Background())
	if err != nil || res.Record.AccessToken != f.issued(t, 1).AccessToken {
		t.Fatalf("res=%+v err=%v, want the refreshed token", res, err)
	}
	if got := f.stored(t); got.RefreshToken != f.issued(t, 1).RefreshToken || got.IDToken != "old.id.token" {
		t.Fatalf("stored %q/%q, want the rotated refresh token and the previous ID token", got.RefreshToken, got.IDToken)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "could not be verified (id token: fetching keys: 503") {
		t.Fatalf("warnings %q", warned)
	}
}

func TestRefresh_VerifiedIDTokenIsStored(t *testing.T) {
	f := newOpenIDFixture(t, "new.id.token")
	f.src.VerifyIDToken = func(context.Context, string) (*provider.IDToken, error) {
		return &provider.IDToken{Subject: "alice"}, nil
	}
	rec := f.stored(t)
	rec.Subject = "alice"
	_ = f.store.Set(context.Background(), "k", rec)
	f.now = f.now.Add(time.Hour)
	if _, err := f.src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.stored(t).IDToken; got != "new.id.token" {
		t.Fatalf("stored ID token %q", got)
	}
}

func TestRefresh_IDTokenForAnotherSubjectEndsTheGrant(t *testing.T) {
	f := newOpenIDFixture(t, "new.id.token")
	f.src.VerifyIDToken = func(context.Context, string) (*provider.IDToken, error) {
		return &provider.IDToken{Subject: "mallory"}, nil
	}
	rec := f.stored(t)
	rec.Subject = "alice"
	_ = f.store.Set(context.Background(), "k", rec)
	f.now = f.now.Add(time.Hour)
	_, err := f.src.Token(context.Background())
	if !errors.Is(err, ErrLoginRequired) || !strings.Contains(err.Error(), "another user") {
		t.Fatalf("err = %v", err)
	}
	if _, err := f.store.Get(context.Background(), "k"); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatal("the grant of another user is still stored")
	}
}

// A refresh whose answer does not come in time is never replayed: the
// server may still be carrying it out. The marker stays, so a refusal
// later is diagnosed as this machine's own interruption.
func TestRefresh_TimeoutIsNotReplayed(t *testing.T) {
	// The server holds the refresh longer than the client waits, and
	// neither carries it out nor answers once the client has given up.
	f := newFixture(t, authtest.WithDelay(authtest.PathToken, time.Minute))
	dir := t.TempDir()
	f.src.MarkerDir = func() (string, error) { return dir, nil }
	c, _ := f.src.HTTPClient()
	// The TLS handshake is made before the clock starts, so the short wait
	// below is all spent on the request.
	warm, err := c.Get(f.as.URL() + authtest.PathOAuthMetadata)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, warm.Body)
	_ = warm.Body.Close()
	c.Timeout = 100 * time.Millisecond
	f.now = f.now.Add(time.Hour)
	_, err = f.src.Token(context.Background())
	var re *RefreshError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("err = %v, want a timeout that keeps the grant", err)
	}
	if n := f.requests(); n != 1 {
		t.Fatalf("%d requests: a refresh that may still be running was replayed", n)
	}
	if f.src.markers().read() == nil {
		t.Fatal("no in-flight marker after an unanswered refresh")
	}
}

// Honest diagnosis: a refusal after this machine's own interrupted
// refresh says so; one sesame did not cause warns of theft.
func TestRefresh_DiagnosisTellsLocalLossFromTheft(t *testing.T) {
	for _, interrupted := range []bool{true, false} {
		f := newFixture(t)
		dir := t.TempDir()
		f.src.MarkerDir = func() (string, error) { return dir, nil }
		if interrupted {
			// The earlier refresh of the stored token reached the
			// server (which rotated) and its answer was never stored.
			f.src.markers().write(f.grant.RefreshToken, f.now.Add(-time.Minute))
		}
		// The server rotated the stored token: for the lost refresh, or
		// for a thief.
		f.rotateElsewhere(t)
		f.now = f.now.Add(time.Hour)
		_, err := f.src.Token(context.Background())
		if !errors.Is(err, ErrLoginRequired) {
			t.Fatalf("err = %v", err)
		}
		local := strings.Contains(err.Error(), "the last refresh on this machine, at ")
		theft := strings.Contains(err.Error(), "check your other machines")
		if local != interrupted || theft == interrupted {
			t.Fatalf("interrupted=%v: %v", interrupted, err)
		}
		if f.src.markers().read() != nil {
			t.Fatal("the marker outlived the settled refusal")
		}
	}
}

// A marker of another refresh token (an older, settled grant) is no
// excuse.
func TestRefresh_MarkerOfAnotherTokenIsNoDiagnosis(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	f.src.MarkerDir = func() (string, error) { return dir, nil }
	f.src.markers().write("SNTL-RT-older", f.now)
	f.revoke(t)
	f.now = f.now.Add(time.Hour)
	if _, err := f.src.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "check your other machines") {
		t.Fatalf("err = %v", err)
	}
}

// A caller cancelled while its refresh is on the wire (Ctrl-C, SIGTERM)
// waits for the answer, which is stored; it gets a CancelledError.
func TestFinishInProcess_CancelledCallerStillStores(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	f := newFixture(t, authtest.WithTokenHook(func(_ http.ResponseWriter, r *http.Request) bool {
		arrived <- struct{}{}
		select {
		case <-release:
			return false // the server carries the refresh out and answers
		case <-r.Context().Done():
			return true
		}
	}))
	f.now = f.now.Add(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.src.Token(ctx)
		done <- err
	}()
	<-arrived
	cancel()
	close(release)
	err := <-done
	var ce *CancelledError
	if !errors.As(err, &ce) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want CancelledError", err)
	}
	if got := f.stored(t).RefreshToken; got != f.issued(t, 1).RefreshToken {
		t.Fatalf("stored %q: the answer of the cancelled refresh was lost", got)
	}
}

// What the ID-token check needs is fetched before the refresh is sent,
// not after the server rotated the token; a failure there does not stop
// the refresh.
func TestRefresh_IDTokenCheckPreparedBeforeTheRefresh(t *testing.T) {
	for _, prepErr := range []error{nil, errors.New("jwks: 503")} {
		f := newOpenIDFixture(t, "new.id.token")
		rec := f.stored(t)
		rec.IDToken, rec.Subject = "old.id.token", "alice"
		_ = f.store.Set(context.Background(), "k", rec)
		prepared := -1
		f.src.PrepareIDToken = func(_ context.Context, stored string) error {
			prepared = f.requests()
			if stored != "old.id.token" {
				t.Errorf("prepared with %q, want the stored ID token", stored)
			}
			return prepErr
		}
		f.src.VerifyIDToken = func(context.Context, string) (*provider.IDToken, error) {
			return &provider.IDToken{Subject: "alice"}, nil
		}
		f.now = f.now.Add(time.Hour)
		if _, err := f.src.Token(context.Background()); err != nil {
			t.Fatalf("prepare error %v: %v", prepErr, err)
		}
		if prepared != 0 {
			t.Fatalf("prepared after %d refresh requests, want before any", prepared)
		}
		if f.stored(t).IDToken != "new.id.token" {
			t.Fatal("the verified ID token was not stored")
		}
	}
}

// TestRefresh_ErrorLines: what a person reads when a refresh fails and
// the grant is kept. A connection the server closes used to read
// "refresh failed: EOF".
func TestRefresh_ErrorLines(t *testing.T) {
	hangUp := authtest.WithTokenHook(func(w http.ResponseWriter, _ *http.Request) bool {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
		}
		return true
	})
	refuse := answer(http.StatusBadRequest, "application/json", `{"error":"invalid_scope","error_description":"scope \u001b[31mx is unknown"}`)
	// A page quoting the refresh token it was sent.
	notToken := authtest.WithTokenHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>" + html.EscapeString(r.PostForm.Get("refresh_token")) + "</html>"))
		return true
	})
	for _, tt := range []struct {
		name   string
		server authtest.Option
		want   string
	}{
		{"closed connection", hangUp, "token refresh: the server closed the connection without an answer"},
		{"oauth error", refuse, "token refresh: the server refused (400 invalid_scope): scope x is unknown"},
		{"not a token response", notToken, "token refresh: the server's answer is unusable: it is neither a JSON object nor a form"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.server)
			f.now = f.now.Add(time.Hour)
			_, err := f.src.Token(context.Background())
			var re *RefreshError
			if !errors.As(err, &re) || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if f.stored(t).RefreshToken != f.grant.RefreshToken {
				t.Fatal("the grant was changed")
			}
		})
	}
}

// After a refusal the grant is gone, and every later call says the server
// refused it (not that none was stored), until a login replaces it.
func TestRefresh_RefusalIsRememberedUntilTheNextGrant(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	f.src.MarkerDir = func() (string, error) { return dir, nil }
	f.revoke(t)
	f.now = f.now.Add(time.Hour)
	if _, err := f.src.Token(context.Background()); !errors.Is(err, ErrLoginRequired) {
		t.Fatalf("err = %v", err)
	}
	_, err := f.src.Token(context.Background())
	want := `has no grant since ` + f.now.UTC().Format("2006-01-02 15:04:05 UTC") + `, when the server answered invalid_grant`
	if !errors.Is(err, ErrLoginRequired) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second call: %v\nwant it to contain %q", err, want)
	}
	if _, _, ok := f.src.Refused(); !ok {
		t.Fatal("Refused() = false after a refusal")
	}
	next := &keychain.Record{Version: keychain.RecordVersion, Profile: "p", Issuer: f.as.Issuer(), ClientID: "cli", TokenEndpoint: f.as.URL() + authtest.PathToken,
		RefreshToken: "SNTL-RT-next", AccessToken: "SNTL-AT-next", TokenType: "Bearer", Lifetime: 300 * time.Second, Expiry: f.now.Add(300 * time.Second)}
	if err := f.src.Replace(context.Background(), next, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := f.src.Refused(); ok {
		t.Fatal("the refusal outlived the grant that replaced it")
	}
}
