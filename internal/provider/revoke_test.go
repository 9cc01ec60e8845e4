package provider

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSleep records the waits Revoke asks for instead of sleeping.
type fakeSleep struct{ waits []time.Duration }

func (f *fakeSleep) sleep(_ context.Context, d time.Duration) error {
	f.waits = append(f.waits, d)
	return nil
}

// revokeServer answers with statuses in turn (the last one repeats).
func revokeServer(t *testing.T, statuses []int, header http.Header, body string) (string, *recorder, *http.Client) {
	t.Helper()
	var n atomic.Int32
	srv, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		i := min(int(n.Add(1))-1, len(statuses)-1)
		for k, v := range header {
			w.Header()[k] = v
		}
		if statuses[i] >= 400 {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(statuses[i])
		if statuses[i] >= 400 {
			_, _ = w.Write([]byte(body))
		}
	})
	return srv.URL + "/revoke", rec, clientFor(t, srv, Options{})
}

func TestRevoke_OK_Req33(t *testing.T) {
	endpoint, rec, c := revokeServer(t, []int{200}, nil, "")
	var fs fakeSleep
	if err := Revoke(context.Background(), c, endpoint, "cli", "SNTL-RT", HintRefreshToken, fs.sleep); err != nil {
		t.Fatal(err)
	}
	forms := rec.Forms()
	if len(forms) != 1 {
		t.Fatalf("%d requests", len(forms))
	}
	f := forms[0]
	if f["token"][0] != "SNTL-RT" || f["token_type_hint"][0] != "refresh_token" || f["client_id"][0] != "cli" || len(f) != 3 {
		t.Errorf("form = %v", f)
	}
	if len(fs.waits) != 0 {
		t.Errorf("waited %v", fs.waits)
	}
}

func TestRevoke_503Then200_Req33(t *testing.T) {
	endpoint, rec, c := revokeServer(t, []int{503, 503, 200}, http.Header{"Retry-After": {"2"}}, `{"error":"temporarily_unavailable"}`)
	var fs fakeSleep
	if err := Revoke(context.Background(), c, endpoint, "cli", "SNTL-RT", HintRefreshToken, fs.sleep); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Paths()); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	if !slices.Equal(fs.waits, []time.Duration{2 * time.Second, 2 * time.Second}) {
		t.Errorf("waits = %v", fs.waits)
	}
}

func TestRevoke_503Always_Req33(t *testing.T) {
	endpoint, rec, c := revokeServer(t, []int{503}, http.Header{"Retry-After": {"3600"}}, `{"error":"temporarily_unavailable"}`)
	var fs fakeSleep
	err := Revoke(context.Background(), c, endpoint, "cli", "SNTL-RT", HintRefreshToken, fs.sleep)
	if !errors.Is(err, ErrRevocationNotConfirmed) {
		t.Fatalf("err = %v", err)
	}
	if n := len(rec.Paths()); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	// Retry-After is honoured but capped at 10 s.
	if !slices.Equal(fs.waits, []time.Duration{10 * time.Second, 10 * time.Second}) {
		t.Errorf("waits = %v", fs.waits)
	}
	if want := "refresh token revocation: the server answered 503 Service Unavailable 3 times"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func TestRevoke_ErrorStatus_Req33_Req16(t *testing.T) {
	endpoint, rec, c := revokeServer(t, []int{400}, nil,
		`{"error":"unsupported_token_type\u001b[31m","error_description":"token SNTL-RT is odd"}`)
	err := Revoke(context.Background(), c, endpoint, "cli", "SNTL-RT", HintRefreshToken, (&fakeSleep{}).sleep)
	if !errors.Is(err, ErrRevocationNotConfirmed) {
		t.Fatalf("err = %v", err)
	}
	if want := "refresh token revocation: the server refused (400 unsupported_token_type): token REDACTED is odd"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if n := len(rec.Paths()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestRevoke_Redirect_Req22(t *testing.T) {
	other, otherRec := newServer(t, okHandler)
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/revoke", http.StatusTemporaryRedirect)
	})
	err := Revoke(context.Background(), clientFor(t, srv, Options{}), srv.URL+"/revoke", "cli", "SNTL-RT", HintRefreshToken, nil)
	if !errors.Is(err, ErrRevocationNotConfirmed) || strings.Contains(err.Error(), "SNTL") {
		t.Fatalf("err = %v", err)
	}
	if n := len(otherRec.Paths()); n != 0 {
		t.Errorf("redirect target got %d requests", n)
	}
}

func TestRevoke_CancelledWhileWaiting_Req33(t *testing.T) {
	endpoint, rec, c := revokeServer(t, []int{503}, nil, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The real sleep: cancelled context, so no wait and no second attempt.
	err := Revoke(ctx, c, endpoint, "cli", "SNTL-RT", "", nil)
	if !errors.Is(err, ErrRevocationNotConfirmed) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if n := len(rec.Paths()); n > 1 {
		t.Errorf("%d attempts after cancel", n)
	}
}

func TestRevoke_NoEndpoint_Req33(t *testing.T) {
	c, _ := NewHTTPClient(Options{})
	if err := Revoke(context.Background(), c, "", "cli", "t", "", nil); !errors.Is(err, ErrRevocationNotConfirmed) {
		t.Errorf("err = %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := map[string]time.Duration{
		"":                              time.Second,
		"0":                             0,
		"5":                             5 * time.Second,
		" 7 ":                           7 * time.Second,
		"10":                            10 * time.Second,
		"11":                            10 * time.Second,
		"99999999999999":                10 * time.Second,
		"-3":                            time.Second,
		"Wed, 21 Oct 2015 07:28:00 GMT": time.Second,
		"soon":                          time.Second,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
