package provider

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestNewHTTPClient_DefaultDeadlines_Req23 pins the defaults the
// requirement names: dial 10 s, TLS 10 s, response header 15 s, overall
// 30 s (http.DefaultClient has none).
func TestNewHTTPClient_DefaultDeadlines_Req23(t *testing.T) {
	c, err := NewHTTPClient(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Timeout != 30*time.Second {
		t.Errorf("overall timeout %v, want 30s", c.Timeout)
	}
	tr, ok := c.Transport.(*transport)
	if !ok {
		t.Fatalf("transport %T", c.Transport)
	}
	base, ok := tr.base.(*http.Transport)
	if !ok {
		t.Fatalf("base transport %T", tr.base)
	}
	if base.TLSHandshakeTimeout != 10*time.Second || base.ResponseHeaderTimeout != 15*time.Second {
		t.Errorf("TLS %v, header %v; want 10s and 15s", base.TLSHandshakeTimeout, base.ResponseHeaderTimeout)
	}
	if base.TLSClientConfig.MinVersion != tls.VersionTLS12 || base.TLSClientConfig.InsecureSkipVerify {
		t.Errorf("TLS config %+v", base.TLSClientConfig)
	}
	if (Options{}).withDefaults().DialTimeout != 10*time.Second {
		t.Errorf("dial timeout %v, want 10s", (Options{}).withDefaults().DialTimeout)
	}
}

// TestNewHTTPClient_RefusesOldTLS_Req21: a server that offers only TLS 1.1
// is refused, even with its certificate trusted.
func TestNewHTTPClient_RefusesOldTLS_Req21(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("{}"))
	}))
	srv.TLS = &tls.Config{MaxVersion: tls.VersionTLS11}
	srv.StartTLS()
	defer srv.Close()
	c, err := NewHTTPClient(Options{CAFile: caFileFor(t, srv.Certificate())})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/.well-known/openid-configuration", nil)
	resp, err := c.Do(req)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatal("a TLS 1.1 server was accepted")
	}
	if !strings.Contains(err.Error(), "protocol version") && !strings.Contains(err.Error(), "tls") {
		t.Fatalf("unexpected error: %v", err)
	}
}
