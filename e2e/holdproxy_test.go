package e2e

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// holdProxy is a TLS reverse proxy in front of the test server (certificate
// from the test CA, HTTP/1.1 like the server). It forwards every request to
// the same path on the server and copies the answer back unchanged, so a
// client tells it from the server only by the delay. A refresh request
// marked by HoldNext is forwarded at once (the server processes it and
// rotates the refresh token) but its answer is held until Release; a client
// that went away meanwhile never gets it.
//
// The server sees the proxy's requests as they came, so a DPoP proof (whose
// htu names the proxy) is refused: use it without DPoP.
type holdProxy struct {
	url  string // the server's token endpoint, through the proxy
	base string // https://127.0.0.1:PORT; any path of the server, through the proxy

	refreshes atomic.Int32 // refresh requests seen
	delivered atomic.Int32 // refresh answers written to their client, held or not
	lost      atomic.Int32 // held answers the client never received (gone at release)

	srv    *rig.Server
	client *http.Client
	closed chan struct{}

	mu      sync.Mutex
	next    *hold // taken by the next refresh request
	current *hold // the latest HoldNext, for Holding, ClientGone and Release
}

// hold is one HoldNext.
type hold struct {
	answered chan struct{} // the server has answered; the answer is held
	gone     chan struct{} // the client went away while its answer was held
	release  chan struct{}
	done     chan struct{} // the answer was delivered or dropped
	taken    bool          // a request took it (under holdProxy.mu)
	once     sync.Once
}

// startHoldProxy starts a hold proxy in front of srv, stopped when the test
// ends (a held answer is then dropped).
func startHoldProxy(t *testing.T, srv *rig.Server) *holdProxy {
	t.Helper()
	client := *srv.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p := &holdProxy{srv: srv, client: &client, closed: make(chan struct{})}
	tokenURL, err := url.Parse(srv.Metadata.TokenEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{
		TLSConfig: srv.CA.ServerTLSConfig(t),
		Protocols: new(http.Protocols),
		Handler:   http.HandlerFunc(p.serve),
	}
	hs.Protocols.SetHTTP1(true) // no h2: the server speaks HTTP/1.1 only
	go func() { _ = hs.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		close(p.closed)
		_ = hs.Close()
	})
	p.base = "https://" + ln.Addr().String()
	p.url = p.base + tokenURL.RequestURI()
	return p
}

// HoldNext makes the proxy hold the answer to the next refresh request: the
// request is forwarded to the server (which rotates the refresh token) and
// the answer kept until Release.
func (p *holdProxy) HoldNext() {
	h := &hold{
		answered: make(chan struct{}),
		gone:     make(chan struct{}),
		release:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	p.mu.Lock()
	p.next, p.current = h, h
	p.mu.Unlock()
}

// Holding returns a channel closed once the server has answered the request
// of the latest HoldNext: the rotation happened and the answer is held. Nil
// (never ready) before any HoldNext.
func (p *holdProxy) Holding() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current == nil {
		return nil
	}
	return p.current.answered
}

// ClientGone returns a channel closed once the client of the held request
// has closed its connection. Nil before any HoldNext.
func (p *holdProxy) ClientGone() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current == nil {
		return nil
	}
	return p.current.gone
}

// Release sends the held answer of the latest HoldNext to its client if the
// client is still connected (delivered), else drops it (lost), and returns
// once it did. Before the request came, it cancels the hold instead.
func (p *holdProxy) Release() {
	p.mu.Lock()
	h := p.current
	if h == nil {
		p.mu.Unlock()
		return
	}
	if p.next == h {
		p.next = nil
	}
	taken := h.taken
	p.mu.Unlock()
	h.once.Do(func() { close(h.release) })
	if taken {
		<-h.done
	}
}

// hopByHop are the headers of one connection, not of the message
// (RFC 9110 §7.6.1).
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (p *holdProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	form, _ := url.ParseQuery(string(body))
	isRefresh := r.Method == http.MethodPost && form.Get("grant_type") == "refresh_token"
	var h *hold
	if isRefresh {
		p.refreshes.Add(1)
		p.mu.Lock()
		h, p.next = p.next, nil
		if h != nil {
			h.taken = true
		}
		p.mu.Unlock()
	}
	if h != nil {
		defer close(h.done)
	}

	// A request that reached the server is processed even if its client
	// gives up meanwhile: no cancellation from the client's side.
	req, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method,
		p.srv.Issuer+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	req.Header = r.Header.Clone()
	for _, k := range hopByHop {
		req.Header.Del(k)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	answer, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		panic(http.ErrAbortHandler)
	}

	if h != nil {
		close(h.answered)
		select {
		case <-h.release:
		case <-r.Context().Done(): // the client closed the connection
			close(h.gone)
			select {
			case <-h.release:
			case <-p.closed:
			}
		case <-p.closed:
		}
		if r.Context().Err() != nil {
			p.lost.Add(1)
			panic(http.ErrAbortHandler)
		}
	}

	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	for _, k := range hopByHop {
		w.Header().Del(k)
	}
	// Counted before the write: the client may look at the counters as soon
	// as it has the answer.
	if isRefresh {
		p.delivered.Add(1)
	}
	w.WriteHeader(resp.StatusCode)
	_, err = w.Write(answer)
	if err == nil {
		err = http.NewResponseController(w).Flush()
	}
	if isRefresh && err != nil {
		p.delivered.Add(-1)
		if h != nil {
			p.lost.Add(1)
		}
	}
}
