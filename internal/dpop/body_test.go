package dpop

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// roundTripFunc is a base transport without a network, for checking what
// Transport does with bodies.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// trackedBody records whether it was closed.
type trackedBody struct {
	io.Reader
	closed atomic.Bool
}

func (b *trackedBody) Close() error {
	b.closed.Store(true)
	return nil
}

func response(status int, nonce string, body io.ReadCloser) *http.Response {
	h := make(http.Header)
	if nonce != "" {
		h.Set("DPoP-Nonce", nonce)
	}
	return &http.Response{StatusCode: status, Header: h, Body: body}
}

func proofedRequest(t *testing.T, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", "https://as.example/token", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestTransportClosesSupersededResponse(t *testing.T) {
	first := &trackedBody{Reader: strings.NewReader(useNonceBody)}
	second := &trackedBody{Reader: strings.NewReader("done")}
	var calls atomic.Int32
	tr := &Transport{
		Key:  mustGenerate(t),
		URLs: []string{"https://as.example/token"},
		Now:  fixedNow,
		Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			_ = r.Body.Close()
			if calls.Add(1) == 1 {
				return response(400, "n", first), nil
			}
			return response(200, "", second), nil
		}),
	}
	resp, err := tr.RoundTrip(proofedRequest(t, "a=1"))
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Fatalf("base saw %d requests, want 2", calls.Load())
	}
	if !first.closed.Load() {
		t.Error("the superseded 400 was not closed")
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "done" {
		t.Fatalf("body %q", b)
	}
	if second.closed.Load() {
		t.Fatal("the returned body was closed before the caller closed it")
	}
	_ = resp.Body.Close()
	if !second.closed.Load() {
		t.Error("closing the returned body did not close the original")
	}
}

func TestTransportInspectedBodyIsWholeAndCloses(t *testing.T) {
	const want = `{"error":"invalid_grant"}`
	orig := &trackedBody{Reader: strings.NewReader(want)}
	tr := &Transport{
		Key:  mustGenerate(t),
		URLs: []string{"https://as.example/token"},
		Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			_ = r.Body.Close()
			return response(400, "n", orig), nil
		}),
	}
	resp, err := tr.RoundTrip(proofedRequest(t, "a=1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != want {
		t.Fatalf("body %q, %v", b, err)
	}
	if orig.closed.Load() {
		t.Fatal("the body was closed before the caller closed it")
	}
	_ = resp.Body.Close()
	if !orig.closed.Load() {
		t.Fatal("closing the returned body did not close the original")
	}
}

func TestTransportKeepsReadError(t *testing.T) {
	errBroken := errors.New("connection reset")
	orig := &trackedBody{Reader: io.MultiReader(strings.NewReader(`{"error":`), errReader{errBroken})}
	tr := &Transport{
		Key:  mustGenerate(t),
		URLs: []string{"https://as.example/token"},
		Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			_ = r.Body.Close()
			return response(400, "n", orig), nil
		}),
	}
	resp, err := tr.RoundTrip(proofedRequest(t, "a=1"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if string(b) != `{"error":` || !errors.Is(err, errBroken) {
		t.Fatalf("caller read %q, %v; want the partial body and the read error", b, err)
	}
}

func TestTransportErrors(t *testing.T) {
	errDown := errors.New("network down")
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, errDown
	})

	t.Run("no key", func(t *testing.T) {
		body := &trackedBody{Reader: strings.NewReader("a=1")}
		req := proofedRequest(t, "")
		req.Body = body
		tr := &Transport{URLs: []string{"https://as.example/token"}, Base: base}
		if _, err := tr.RoundTrip(req); err == nil {
			t.Fatal("no error without a key")
		}
		if !body.closed.Load() {
			t.Fatal("request body not closed on error")
		}
	})
	t.Run("user info", func(t *testing.T) {
		req, err := http.NewRequest("POST", "https://u:secretvalue@as.example/token", strings.NewReader("a=1"))
		if err != nil {
			t.Fatal(err)
		}
		tr := &Transport{Key: mustGenerate(t), URLs: []string{"https://as.example/token"}, Base: base}
		_, err = tr.RoundTrip(req)
		if err == nil || strings.Contains(err.Error(), "secretvalue") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("base error", func(t *testing.T) {
		tr := &Transport{Key: mustGenerate(t), URLs: []string{"https://as.example/token"}, Base: base}
		if _, err := tr.RoundTrip(proofedRequest(t, "a=1")); !errors.Is(err, errDown) {
			t.Fatalf("error %v, want the base transport's", err)
		}
	})
}

func TestTransportRetryWithoutBody(t *testing.T) {
	var calls atomic.Int32
	tr := &Transport{
		Key:  mustGenerate(t),
		URLs: []string{"https://as.example/token"},
		Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Body != nil {
				t.Errorf("request %d has a body", calls.Load()+1)
			}
			if calls.Add(1) == 1 {
				return response(400, "n", io.NopCloser(strings.NewReader(useNonceBody))), nil
			}
			return response(200, "", http.NoBody), nil
		}),
	}
	req, err := http.NewRequest("POST", "https://as.example/token", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || calls.Load() != 2 {
		t.Fatalf("status %d after %d requests; want 200 after 2", resp.StatusCode, calls.Load())
	}
}
