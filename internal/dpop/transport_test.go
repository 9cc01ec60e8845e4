package dpop

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// seenRequest is what the test server saw of one request.
type seenRequest struct {
	method, path, query string
	proof               string // the DPoP header, "" if none
	body                string
}

// testServer records every request and answers with respond, which gets
// the 1-based request number.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

func newTestServer(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int, s seenRequest)) *testServer {
	t.Helper()
	ts := &testServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("DPoP"), string(body)}
		if len(r.Header.Values("DPoP")) > 1 {
			s.proof = "more than one DPoP header"
		}
		ts.mu.Lock()
		ts.seen = append(ts.seen, s)
		n := len(ts.seen)
		ts.mu.Unlock()
		respond(w, r, n, s)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) requests() []seenRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]seenRequest(nil), ts.seen...)
}

func ok(w http.ResponseWriter, _ *http.Request, _ int, _ seenRequest) {
	_, _ = io.WriteString(w, "ok")
}

func jsonError(w http.ResponseWriter, status int, nonce, body string) {
	if nonce != "" {
		w.Header().Set("DPoP-Nonce", nonce)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

const useNonceBody = `{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}`

// do sends method to url with body (replayable: strings.Reader sets
// GetBody) and returns the status and the complete response body.
func do(t *testing.T, c *http.Client, method, url, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, c, req)
}

func send(t *testing.T, c *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", req.Method, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response body: %v", err)
	}
	return resp.StatusCode, string(b)
}

// checkProof verifies the proof a server saw and that it is for key k,
// method POST and url htu, issued at testNow.
func checkProof(t *testing.T, k *Key, s seenRequest, htu string) parsedProof {
	t.Helper()
	if s.proof == "" {
		t.Fatalf("%s %s carried no proof", s.method, s.path)
	}
	p := verifyProof(t, s.proof)
	tp, err := p.key.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if base64.RawURLEncoding.EncodeToString(tp) != k.Thumbprint() {
		t.Fatal("proof is signed by another key")
	}
	if p.str("htm") != s.method || p.str("htu") != htu {
		t.Fatalf("htm/htu = %q/%q, want %q/%q", p.str("htm"), p.str("htu"), s.method, htu)
	}
	if iat := p.claims["iat"].(json.Number).String(); iat != fmt.Sprint(testNow.Unix()) {
		t.Fatalf("iat = %s, want %d", iat, testNow.Unix())
	}
	return p
}

func fixedNow() time.Time { return testNow }

func newClient(k *Key, urls ...string) *http.Client {
	return Client(&http.Client{Timeout: 10 * time.Second}, k, fixedNow, urls...)
}

func TestTransportProofsOnlyListedPosts(t *testing.T) {
	k := mustGenerate(t)
	ts := newTestServer(t, ok)
	c := newClient(k, ts.URL+"/token", ts.URL+"/par?this=is-ignored")

	calls := []struct {
		method, path string
		proof        bool
	}{
		{"POST", "/token", true},
		{"POST", "/token?grant=x", true},
		{"POST", "/par", true},
		{"GET", "/token", false},
		{"PUT", "/token", false},
		{"POST", "/token/more", false},
		{"POST", "/tok", false},
		{"POST", "/other", false},
	}
	for _, call := range calls {
		if status, _ := do(t, c, call.method, ts.URL+call.path, "a=b"); status != 200 {
			t.Fatalf("%s %s: status %d", call.method, call.path, status)
		}
	}
	seen := ts.requests()
	if len(seen) != len(calls) {
		t.Fatalf("server saw %d requests, want %d", len(seen), len(calls))
	}
	for i, call := range calls {
		s := seen[i]
		if !call.proof {
			if s.proof != "" {
				t.Errorf("%s %s carried a proof", call.method, call.path)
			}
			continue
		}
		p := checkProof(t, k, s, ts.URL+s.path)
		if _, ok := p.claims["nonce"]; ok {
			t.Errorf("%s %s: nonce without one from the server", call.method, call.path)
		}
		if s.body != "a=b" {
			t.Errorf("%s %s: body %q", call.method, call.path, s.body)
		}
	}
}

func TestTransportDoesNotMutateRequest(t *testing.T) {
	k := mustGenerate(t)
	ts := newTestServer(t, ok)
	tr := &Transport{Key: k, URLs: []string{ts.URL + "/token"}, Now: fixedNow}
	req, err := http.NewRequest("POST", ts.URL+"/token?q=1", strings.NewReader("x=1"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	before := req.Header.Clone()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if len(req.Header) != len(before) || req.Header.Get("DPoP") != "" {
		t.Fatalf("the caller's request headers changed: %v", req.Header)
	}
	if req.URL.String() != ts.URL+"/token?q=1" {
		t.Fatal("the caller's request URL changed")
	}
	if ts.requests()[0].proof == "" {
		t.Fatal("the server saw no proof")
	}
}

func TestTransportRetriesOnceOn400UseNonce(t *testing.T) {
	k := mustGenerate(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, n int, s seenRequest) {
		p, err := parseProof(s.proof)
		if err != nil {
			t.Error(err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if p.str("nonce") != "nonce-A" {
			jsonError(w, http.StatusBadRequest, "nonce-A", useNonceBody)
			return
		}
		_, _ = io.WriteString(w, `{"access_token":"at","token_type":"DPoP"}`)
	})
	c := newClient(k, ts.URL+"/token")
	const form = "grant_type=refresh_token&refresh_token=rt-123&client_id=cli"

	status, body := do(t, c, "POST", ts.URL+"/token", form)
	if status != 200 || body != `{"access_token":"at","token_type":"DPoP"}` {
		t.Fatalf("status %d body %q", status, body)
	}
	seen := ts.requests()
	if len(seen) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(seen))
	}
	first := checkProof(t, k, seen[0], ts.URL+"/token")
	second := checkProof(t, k, seen[1], ts.URL+"/token")
	if _, ok := first.claims["nonce"]; ok {
		t.Error("first proof had a nonce")
	}
	if second.str("nonce") != "nonce-A" {
		t.Errorf("retry nonce = %q, want nonce-A", second.str("nonce"))
	}
	if first.str("jti") == second.str("jti") {
		t.Error("retry reused the jti")
	}
	if seen[0].body != form || seen[1].body != form {
		t.Errorf("bodies %q and %q, want both %q", seen[0].body, seen[1].body, form)
	}

	// The nonce is remembered: the next request needs no retry.
	if status, _ := do(t, c, "POST", ts.URL+"/token", form); status != 200 {
		t.Fatalf("second exchange: status %d", status)
	}
	seen = ts.requests()
	if len(seen) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(seen))
	}
	if p := checkProof(t, k, seen[2], ts.URL+"/token"); p.str("nonce") != "nonce-A" {
		t.Errorf("next proof nonce = %q, want nonce-A", p.str("nonce"))
	}
}

func TestTransportUseNonceRetriedOnlyOnce(t *testing.T) {
	k := mustGenerate(t)
	pad := strings.Repeat("x", 5000)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, n int, s seenRequest) {
		jsonError(w, http.StatusBadRequest, fmt.Sprintf("n-%d", n),
			fmt.Sprintf(`{"error":"use_dpop_nonce","error_description":"try %d %s"}`, n, pad))
	})
	c := newClient(k, ts.URL+"/token")

	status, body := do(t, c, "POST", ts.URL+"/token", "a=1")
	if status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", status)
	}
	if want := `{"error":"use_dpop_nonce","error_description":"try 2 ` + pad + `"}`; body != want {
		t.Fatalf("caller got a body of %d bytes, not the second answer's %d", len(body), len(want))
	}
	seen := ts.requests()
	if len(seen) != 2 {
		t.Fatalf("server saw %d requests, want exactly 2", len(seen))
	}
	if p := checkProof(t, k, seen[1], ts.URL+"/token"); p.str("nonce") != "n-1" {
		t.Errorf("retry nonce = %q, want n-1", p.str("nonce"))
	}
}

func TestTransportRetriesOnceOn401UseNonce(t *testing.T) {
	k := mustGenerate(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, n int, s seenRequest) {
		p, err := parseProof(s.proof)
		if err != nil {
			t.Error(err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if p.str("nonce") != "n401" {
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
			w.Header().Set("DPoP-Nonce", "n401")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "fine")
	})
	c := newClient(k, ts.URL+"/token")
	if status, body := do(t, c, "POST", ts.URL+"/token", "a=1"); status != 200 || body != "fine" {
		t.Fatalf("status %d body %q", status, body)
	}
	seen := ts.requests()
	if len(seen) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(seen))
	}
	if seen[1].body != "a=1" {
		t.Errorf("retry body %q", seen[1].body)
	}
	if p := checkProof(t, k, seen[1], ts.URL+"/token"); p.str("nonce") != "n401" {
		t.Errorf("retry nonce = %q", p.str("nonce"))
	}
}

func TestTransport401WithoutUseNonceIsNotRetried(t *testing.T) {
	k := mustGenerate(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, n int, s seenRequest) {
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token", error_description="not error=\"use_dpop_nonce\""`)
		w.Header().Set("DPoP-Nonce", "n")
		w.WriteHeader(http.StatusUnauthorized)
	})
	c := newClient(k, ts.URL+"/token")
	if status, _ := do(t, c, "POST", ts.URL+"/token", "a=1"); status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", status)
	}
	if n := len(ts.requests()); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}
}

func TestTransportOtherErrorNotRetriedButNonceKept(t *testing.T) {
	k := mustGenerate(t)
	// Larger than the 64 KiB the transport inspects, so the caller's body
	// has to be reassembled from what was read and the rest.
	big := `{"error":"invalid_grant","error_description":"` + strings.Repeat("d", 100<<10) + `"}`
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, n int, s seenRequest) {
		if n == 1 {
			jsonError(w, http.StatusBadRequest, "n-ig", big)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	c := newClient(k, ts.URL+"/token")

	status, body := do(t, c, "POST", ts.URL+"/token", "a=1")
	if status != http.StatusBadRequest || body != big {
		t.Fatalf("status %d, body of %d bytes; want 400 and the full %d bytes", status, len(body), len(big))
	}
	if n := len(ts.requests()); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}
	if status, _ := do(t, c, "POST", ts.URL+"/token", "a=2"); status != 200 {
		t.Fatalf("status %d", status)
	}
	seen := ts.requests()
	if len(seen) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(seen))
	}
	if p := checkProof(t, k, seen[1], ts.URL+"/token"); p.str("nonce") != "n-ig" {
		t.Errorf("next proof nonce = %q, want n-ig", p.str("nonce"))
	}
}

func TestTransportNoRetryWithoutGetBody(t *testing.T) {
	k := mustGenerate(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, n int, s seenRequest) {
		jsonError(w, http.StatusBadRequest, "n1", useNonceBody)
	})
	c := newClient(k, ts.URL+"/token")
	req, err := http.NewRequest("POST", ts.URL+"/token", io.NopCloser(strings.NewReader("a=1")))
	if err != nil {
		t.Fatal(err)
	}
	if req.GetBody != nil {
		t.Fatal("test setup: the body is replayable")
	}
	status, body := send(t, c, req)
	if status != http.StatusBadRequest || body != useNonceBody {
		t.Fatalf("status %d body %q", status, body)
	}
	seen := ts.requests()
	if len(seen) != 1 || seen[0].body != "a=1" {
		t.Fatalf("server saw %d requests, want 1 with the body", len(seen))
	}
}

func TestTransportNotRetried(t *testing.T) {
	tests := []struct {
		name   string
		status int
		nonce  string
		body   string
	}{
		{"no DPoP-Nonce header", 400, "", useNonceBody},
		{"malformed nonce", 400, `bad"nonce`, useNonceBody},
		{"body beyond 64 KiB", 400, "n", `{"error":"use_dpop_nonce"}` + strings.Repeat(" ", 70<<10)},
		{"not JSON", 400, "n", "error=use_dpop_nonce"},
		{"other status", 403, "n", useNonceBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := mustGenerate(t)
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, n int, s seenRequest) {
				jsonError(w, tt.status, tt.nonce, tt.body)
			})
			c := newClient(k, ts.URL+"/token")
			status, body := do(t, c, "POST", ts.URL+"/token", "a=1")
			if status != tt.status || body != tt.body {
				t.Fatalf("status %d, body of %d bytes; want %d and %d bytes", status, len(body), tt.status, len(tt.body))
			}
			if n := len(ts.requests()); n != 1 {
				t.Fatalf("server saw %d requests, want 1", n)
			}
		})
	}
}

func TestTransportNoncePerOrigin(t *testing.T) {
	k := mustGenerate(t)
	a := newTestServer(t, func(w http.ResponseWriter, r *http.Request, n int, s seenRequest) {
		w.Header().Set("DPoP-Nonce", "from-a")
	})
	b := newTestServer(t, ok)
	c := newClient(k, a.URL+"/token", b.URL+"/token")

	do(t, c, "POST", a.URL+"/token", "x=1")
	do(t, c, "POST", b.URL+"/token", "x=1")
	do(t, c, "POST", a.URL+"/token", "x=1")

	if p := checkProof(t, k, b.requests()[0], b.URL+"/token"); p.str("nonce") != "" {
		t.Errorf("server b got a's nonce")
	}
	if p := checkProof(t, k, a.requests()[1], a.URL+"/token"); p.str("nonce") != "from-a" {
		t.Errorf("server a's nonce = %q, want from-a", p.str("nonce"))
	}
}

func TestTransportNonceFromUnproofedResponse(t *testing.T) {
	k := mustGenerate(t)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, n int, s seenRequest) {
		if r.Method == "GET" {
			w.Header().Set("DPoP-Nonce", "from-get")
		}
	})
	c := newClient(k, ts.URL+"/token")
	do(t, c, "GET", ts.URL+"/.well-known/oauth-authorization-server", "")
	do(t, c, "POST", ts.URL+"/token", "x=1")
	seen := ts.requests()
	if seen[0].proof != "" {
		t.Fatal("GET carried a proof")
	}
	if p := checkProof(t, k, seen[1], ts.URL+"/token"); p.str("nonce") != "from-get" {
		t.Errorf("nonce = %q, want from-get", p.str("nonce"))
	}
}

func TestTransportConcurrent(t *testing.T) {
	k := mustGenerate(t)
	const nonce = "srv-nonce"
	var mu sync.Mutex
	jtis := make(map[string]bool)
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request, n int, s seenRequest) {
		p, err := parseProof(s.proof)
		if err != nil {
			t.Error(err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		mu.Lock()
		dup := jtis[p.str("jti")]
		jtis[p.str("jti")] = true
		mu.Unlock()
		if dup {
			t.Errorf("jti replayed")
		}
		if p.str("nonce") != nonce {
			jsonError(w, http.StatusBadRequest, nonce, useNonceBody)
			return
		}
		w.Header().Set("DPoP-Nonce", nonce)
		_, _ = io.WriteString(w, "echo:"+s.body)
	})
	c := newClient(k, ts.URL+"/token")

	const workers, each = 16, 20
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				form := fmt.Sprintf("w=%d&i=%d", g, i)
				req, _ := http.NewRequest("POST", ts.URL+"/token", strings.NewReader(form))
				resp, err := c.Do(req)
				if err != nil {
					t.Errorf("request: %v", err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != 200 || string(b) != "echo:"+form {
					t.Errorf("status %d body %q", resp.StatusCode, b)
				}
			}
		})
	}
	wg.Wait()
	n := len(ts.requests())
	if n < workers*each || n > 2*workers*each {
		t.Fatalf("server saw %d requests for %d calls", n, workers*each)
	}
}

func TestClient(t *testing.T) {
	k := mustGenerate(t)
	base := &stubTransport{}
	errStop := fmt.Errorf("stop")
	jar := fakeJar{}
	orig := &http.Client{
		Transport:     base,
		Timeout:       42 * time.Second,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return errStop },
	}
	urls := []string{"https://as.example/token", "https://as.example/par"}
	c := Client(orig, k, fixedNow, urls...)
	urls[0] = "https://changed.example/"

	if c == orig {
		t.Fatal("Client returned its argument")
	}
	if orig.Transport != base {
		t.Fatal("Client changed the original client")
	}
	tr, ok := c.Transport.(*Transport)
	if !ok {
		t.Fatalf("Transport is %T", c.Transport)
	}
	if tr.Base != base || tr.Key != k || tr.Now == nil || tr.Now() != testNow {
		t.Fatal("Transport does not wrap the original transport with the key and clock")
	}
	if strings.Join(tr.URLs, " ") != "https://as.example/token https://as.example/par" {
		t.Fatalf("URLs = %v", tr.URLs)
	}
	if c.Timeout != 42*time.Second || c.Jar != jar || c.CheckRedirect(nil, nil) != errStop {
		t.Fatal("Timeout, Jar or CheckRedirect not kept")
	}

	defer func() {
		if recover() == nil {
			t.Fatal("Client(nil) did not panic")
		}
	}()
	Client(nil, k, nil)
}

func TestTransportDefaults(t *testing.T) {
	k := mustGenerate(t)
	ts := newTestServer(t, ok)
	// Nil Base and Now: http.DefaultTransport and time.Now.
	c := &http.Client{Transport: &Transport{Key: k, URLs: []string{ts.URL + "/token"}}}
	before := time.Now().Unix()
	do(t, c, "POST", ts.URL+"/token", "x=1")
	after := time.Now().Unix()
	p := verifyProof(t, ts.requests()[0].proof)
	iat, err := p.claims["iat"].(json.Number).Int64()
	if err != nil || iat < before || iat > after {
		t.Fatalf("iat = %v, want between %d and %d", p.claims["iat"], before, after)
	}
}

type stubTransport struct{}

func (stubTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("not used")
}

type fakeJar struct{}

func (fakeJar) SetCookies(*url.URL, []*http.Cookie) {}
func (fakeJar) Cookies(*url.URL) []*http.Cookie     { return nil }
