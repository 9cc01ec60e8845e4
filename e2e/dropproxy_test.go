package e2e

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// dropProxy is a TLS reverse proxy in front of the test server's token
// endpoint (with a certificate from the test CA). For its first n refresh
// requests it forwards the request, lets the server process it (and rotate
// the refresh token), then closes the client's connection without an
// answer: the refresh response is lost on the way back.
type dropProxy struct {
	url      string
	refresh  atomic.Int32 // refresh requests seen
	dropped  atomic.Int32
	dropNext atomic.Int32
}

func startDropProxy(t *testing.T, srv *rig.Server, drop int) *dropProxy {
	t.Helper()
	p := &dropProxy{}
	p.dropNext.Store(int32(drop))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{
		TLSConfig: srv.CA.ServerTLSConfig(t),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			isRefresh := bytes.Contains(body, []byte("grant_type=refresh_token"))
			req, _ := http.NewRequestWithContext(r.Context(), r.Method, srv.Metadata.TokenEndpoint, bytes.NewReader(body))
			req.Header = r.Header.Clone()
			resp, err := srv.HTTPClient.Do(req)
			if err != nil {
				panic(http.ErrAbortHandler)
			}
			defer func() { _ = resp.Body.Close() }()
			answer, _ := io.ReadAll(resp.Body)
			if isRefresh {
				p.refresh.Add(1)
				if p.dropNext.Add(-1) >= 0 {
					p.dropped.Add(1)
					panic(http.ErrAbortHandler) // the answer is lost
				}
			}
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write(answer)
		}),
	}
	go func() { _ = hs.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = hs.Close() })
	p.url = "https://" + ln.Addr().String() + "/token"
	return p
}
