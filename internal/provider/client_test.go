package provider

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/redact"
)

func get(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(req)
}

func okHandler(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }

func TestNewHTTPClient_UntrustedCert_Req21(t *testing.T) {
	srv, _ := newServer(t, okHandler)
	strict, err := NewHTTPClient(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, strict, srv.URL); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("self-signed server accepted without a CA file: %v", err)
	}
	resp, err := get(t, clientFor(t, srv, Options{}), srv.URL)
	if err != nil {
		t.Fatalf("with CA file: %v", err)
	}
	_ = resp.Body.Close()
}

func TestNewHTTPClient_WrongName_Req21(t *testing.T) {
	ca := newTestCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(okHandler))
	srv.TLS = serverTLS(ca.leaf(t, []string{"wrong.example"}, nil))
	srv.StartTLS()
	t.Cleanup(srv.Close)

	c, err := NewHTTPClient(Options{CAFile: caFileFor(t, ca.cert)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = get(t, c, srv.URL) // https://127.0.0.1:port
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("certificate for another name accepted: %v", err)
	}

	// The same CA with the right name works, so the failure above is the
	// name check and not the chain.
	good := httptest.NewUnstartedServer(http.HandlerFunc(okHandler))
	good.TLS = serverTLS(ca.leaf(t, nil, []net.IP{net.IPv4(127, 0, 0, 1)}))
	good.StartTLS()
	t.Cleanup(good.Close)
	resp, err := get(t, c, good.URL)
	if err != nil {
		t.Fatalf("right name: %v", err)
	}
	_ = resp.Body.Close()
}

func TestNewHTTPClient_CAFileErrors_Req21(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(dir, "missing.pem"), empty} {
		if _, err := NewHTTPClient(Options{CAFile: f}); err == nil || !strings.Contains(err.Error(), "ca file") {
			t.Errorf("CAFile %s: err = %v", f, err)
		}
	}
}

func TestNewHTTPClient_PlainHTTP_Req20(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		okHandler(w, r)
	}))
	t.Cleanup(srv.Close)

	strict, _ := NewHTTPClient(Options{})
	if _, err := get(t, strict, srv.URL); err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("plain http accepted: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("refused request reached the server")
	}
	loose, _ := NewHTTPClient(Options{AllowInsecureLoopback: true})
	resp, err := get(t, loose, srv.URL)
	if err != nil {
		t.Fatalf("loopback http with the flag: %v", err)
	}
	_ = resp.Body.Close()
}

func TestClient_RedirectOfPOST_Req22(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		other, otherRec := newServer(t, okHandler)
		as, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/token", code)
		})
		c := clientFor(t, as, Options{})
		req, _ := http.NewRequest(http.MethodPost, as.URL+"/token", strings.NewReader("code=SNTL-C&code_verifier=SNTL-V"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, err := c.Do(req)
		if !errors.Is(err, ErrRedirectRefused) {
			t.Errorf("%d: err = %v, want ErrRedirectRefused", code, err)
		}
		if err != nil && strings.Contains(err.Error(), "SNTL") {
			t.Errorf("%d: error quotes the body: %v", code, err)
		}
		if n := len(otherRec.Paths()); n != 0 {
			t.Errorf("%d: the redirect target received %d requests", code, n)
		}
	}
}

func TestClient_RedirectOfGET_Req22(t *testing.T) {
	other, otherRec := newServer(t, okHandler)
	var srv *httptest.Server
	srv, _ = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/jwks", http.StatusFound)
		case "/hop1", "/hop2", "/hop3":
			next := map[string]string{"/hop1": "/hop2", "/hop2": "/hop3", "/hop3": "/done"}[r.URL.Path]
			http.Redirect(w, r, next, http.StatusFound)
		case "/loop0":
			http.Redirect(w, r, "/hop1", http.StatusFound)
		default:
			okHandler(w, r)
		}
	})
	// other shares the CA file with srv: both use httptest's certificate.
	c := clientFor(t, srv, Options{})

	if _, err := get(t, c, srv.URL+"/away"); !errors.Is(err, ErrRedirectRefused) {
		t.Errorf("cross-origin redirect: err = %v", err)
	}
	if n := len(otherRec.Paths()); n != 0 {
		t.Errorf("other origin received %d requests", n)
	}
	resp, err := get(t, c, srv.URL+"/hop1")
	if err != nil {
		t.Fatalf("3 same-origin redirects: %v", err)
	}
	_ = resp.Body.Close()
	if _, err := get(t, c, srv.URL+"/loop0"); !errors.Is(err, ErrRedirectRefused) {
		t.Errorf("4 redirects: err = %v", err)
	}
}

func TestClient_EndlessBody_Req23(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			if r.Context().Err() != nil {
				return
			}
		}
	})
	c := clientFor(t, srv, Options{})

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resp, err := get(t, c, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	runtime.ReadMemStats(&after)

	if !errors.Is(err, ErrBodyTooLarge) || err.Error() != "response body exceeds 1 MiB" {
		t.Fatalf("err = %v", err)
	}
	if growth := int64(after.HeapAlloc) - int64(before.HeapAlloc); growth > 8<<20 {
		t.Errorf("heap grew by %d bytes", growth)
	}
}

func TestClient_DeclaredLargeBody_Req23(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000000")
		_, _ = w.Write(make([]byte, 1024))
	})
	_, err := get(t, clientFor(t, srv, Options{}), srv.URL)
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

func TestClient_BodyAtLimit_Req23(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1048576") // exactly 1 MiB is fine
		_, _ = w.Write(make([]byte, DefaultBodyLimit))
	})
	resp, err := get(t, clientFor(t, srv, Options{}), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || len(b) != DefaultBodyLimit {
		t.Fatalf("read %d bytes, err = %v", len(b), err)
	}
}

func TestClient_SilentServer_Req23(t *testing.T) {
	release := make(chan struct{})
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	c := clientFor(t, srv, Options{Timeout: 300 * time.Millisecond, HeaderTimeout: 5 * time.Second})
	start := time.Now()
	_, err := get(t, c, srv.URL)
	if err == nil {
		t.Fatal("no error from a server that never answers")
	}
	// Generous bound: the point is "bounded", not a timing benchmark.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v with a 300ms timeout", d)
	}
}

func TestClient_SilentTCP_Req23(t *testing.T) {
	// Accepts the connection and never speaks TLS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, conn)
		}
	}()
	c, err := NewHTTPClient(Options{TLSTimeout: 200 * time.Millisecond, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := get(t, c, "https://"+ln.Addr().String()+"/"); err == nil {
		t.Fatal("no error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestClient_DebugLog_Req37(t *testing.T) {
	srv, _ := newServer(t, okHandler)
	var log bytes.Buffer
	c := clientFor(t, srv, Options{Debug: redact.New(&log, true)})
	resp, err := get(t, c, srv.URL+"/cb?code=SNTL-C&state=SNTL-S")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	out := log.String()
	if !strings.Contains(out, "sesame: debug: http: GET https://127.0.0.1:") || !strings.Contains(out, "200 OK") {
		t.Errorf("log = %q", out)
	}
	if strings.Contains(out, "SNTL") {
		t.Errorf("secret in debug log: %q", out)
	}
}
