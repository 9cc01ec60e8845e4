package loopback

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/authtest"
)

func TestListen_LoopbackOnlyAndMatchesRedirect_Req01(t *testing.T) {
	as := authtest.New(t)
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) {
		u, err := url.Parse(p.redirectURI)
		if err != nil || u.Scheme != "http" || u.Path != "/callback" || u.RawQuery != "" {
			b.note("redirect uri shape: " + p.redirectURI)
		}
		ip := net.ParseIP(u.Hostname())
		if ip == nil || !ip.IsLoopback() || u.Port() == "" || u.Port() == "0" {
			b.note("redirect uri host is not a loopback literal with a port: " + u.Host)
		}
		// The listener is where the redirect URI says.
		if c, err := net.DialTimeout("tcp", u.Host, time.Second); err != nil {
			b.note("cannot connect to the redirect uri's address: " + err.Error())
		} else {
			_ = c.Close()
		}
		// And nowhere else: not on any other address of this machine.
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
				continue
			}
			hp := net.JoinHostPort(ipn.IP.String(), u.Port())
			if c, err := net.DialTimeout("tcp", hp, time.Second); err == nil {
				_ = c.Close()
				b.note("listener reachable on " + hp)
			}
		}
		goodCallback(ctx, b, p)
	})
	if _, err := runFlow(t, mustNew(t, testConfig(as, b))); err != nil {
		t.Fatal(err)
	}
	for _, n := range b.wait(t) {
		t.Error(n)
	}
}

func TestListen_BindsLiteralOnly_Req01_Req02(t *testing.T) {
	for _, h := range loopbackHosts {
		ip := net.ParseIP(h)
		if ip == nil || !ip.IsLoopback() {
			t.Errorf("bind host %q is not a loopback IP literal", h)
		}
	}
	if loopbackHosts[0] != "127.0.0.1" || loopbackHosts[1] != "::1" {
		t.Errorf("bind order = %q, want 127.0.0.1 then ::1", loopbackHosts)
	}
	ln, err := listenLoopback(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	addr := ln.Addr().(*net.TCPAddr)
	if !addr.IP.IsLoopback() || addr.Port == 0 {
		t.Errorf("bound %v", addr)
	}
}

func TestListen_IPv6Fallback_Req02(t *testing.T) {
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback here:", err)
	} else {
		_ = ln.Close()
	}
	// 192.0.2.1 (TEST-NET-1) is on no interface, so binding it fails the way
	// 127.0.0.1 does on a host with only ::1 up.
	ln, err := listenFirst(context.Background(), []string{"192.0.2.1", "::1"}, 0)
	if err != nil {
		t.Fatalf("fallback to ::1: %v", err)
	}
	defer func() { _ = ln.Close() }()
	addr := ln.Addr().(*net.TCPAddr)
	host := net.JoinHostPort(addr.IP.String(), strconv.Itoa(addr.Port))
	if !strings.HasPrefix(host, "[::1]:") {
		t.Errorf("host %q, want [::1]:port", host)
	}
	if _, err := listenFirst(context.Background(), []string{"192.0.2.1"}, 0); err == nil || errors.Is(err, ErrPortInUse) {
		t.Errorf("no bindable host: %v", err)
	}
}

func TestListen_FixedPortInUse_Req03(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	port := other.Addr().(*net.TCPAddr).Port
	_, err = listenLoopback(context.Background(), port)
	if !errors.Is(err, ErrPortInUse) {
		t.Fatalf("listen on a taken port: %v, want ErrPortInUse", err)
	}

	as := authtest.New(t)
	b := newBrowser(t, as, nil)
	cfg := testConfig(as, b)
	cfg.Port = port
	if _, err := runFlow(t, mustNew(t, cfg)); !errors.Is(err, ErrPortInUse) {
		t.Fatalf("Token on a taken port: %v, want ErrPortInUse", err)
	}
	if len(b.URLs()) != 0 {
		t.Error("browser opened although the port could not be bound")
	}
}

func TestListen_FixedPort(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	_ = probe.Close()
	as := authtest.New(t)
	b := newBrowser(t, as, func(ctx context.Context, b *testBrowser, p authRequest) { goodCallback(ctx, b, p) })
	cfg := testConfig(as, b)
	cfg.Port = port
	res, err := runFlow(t, mustNew(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://127.0.0.1:" + strconv.Itoa(port) + "/callback"; res.RedirectURI != want {
		t.Errorf("redirect uri %q, want %q", res.RedirectURI, want)
	}
}

// pendingFlow starts a login whose browser never answers and returns its
// redirect URI, the Flow's error channel and a cancel function.
func pendingFlow(t *testing.T, lim serverLimits) (redirectURI string, as *authtest.Server, done <-chan error, cancel func()) {
	t.Helper()
	as = authtest.New(t)
	uris := make(chan string, 1)
	cfg := testConfig(as, nil)
	cfg.OnAuthURL = func(u string) {
		pu, _ := url.Parse(u)
		uris <- pu.Query().Get("redirect_uri")
	}
	f := mustNew(t, cfg)
	f.limits = lim
	ctx, cancelCtx := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	// The cleanup waits on finished, not on errc: a test that took the
	// error from done would otherwise leave the cleanup waiting forever.
	finished := make(chan struct{})
	go func() { defer close(finished); _, err := f.Token(ctx); errc <- err }()
	select {
	case redirectURI = <-uris:
	case err := <-errc:
		t.Fatalf("Token ended early: %v", err)
	}
	t.Cleanup(func() { cancelCtx(); <-finished })
	return redirectURI, as, errc, cancelCtx
}

func TestServer_LimitsConfigured_Req23(t *testing.T) {
	f := mustNew(t, testConfig(authtest.New(t), nil))
	if f.limits.readHeaderTimeout != 5*time.Second || f.limits.maxHeaderBytes != 8<<10 || f.limits.maxConns != 64 {
		t.Errorf("limits = %+v", f.limits)
	}
	srv := newServer(context.Background(), http.NotFoundHandler(), f.limits)
	if srv.ReadHeaderTimeout != 5*time.Second || srv.MaxHeaderBytes != 8192 || srv.IdleTimeout <= 0 || srv.IdleTimeout > 10*time.Second {
		t.Errorf("server = ReadHeaderTimeout %v, MaxHeaderBytes %d, IdleTimeout %v", srv.ReadHeaderTimeout, srv.MaxHeaderBytes, srv.IdleTimeout)
	}
}

func TestServer_SlowLorisCut_Req23(t *testing.T) {
	lim := defaultLimits
	lim.readHeaderTimeout = 300 * time.Millisecond
	redirectURI, _, _, _ := pendingFlow(t, lim)
	u, _ := url.Parse(redirectURI)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	start := time.Now()
	if _, err := io.WriteString(c, "GET /callback HTTP/1.1\r\nHost: "+u.Host+"\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	// Trickle a byte every 100 ms; the server must cut us off soon after the
	// header deadline, whatever we keep sending.
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	cut := make(chan struct{})
	go func() {
		defer close(cut)
		_, _ = io.Copy(io.Discard, c)
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-cut:
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("slow connection cut after %v", d)
			}
			return
		case <-tick.C:
			_, _ = c.Write([]byte("a"))
		}
	}
}

func TestServer_HeaderSizeLimit_Req23(t *testing.T) {
	redirectURI, _, _, _ := pendingFlow(t, defaultLimits)
	r := send(context.Background(), http.MethodGet, redirectURI+"?state=x", nil, func(r *http.Request) {
		r.Header.Set("X-Big", strings.Repeat("a", 16<<10))
	})
	// The server answers 431 and closes; the unread rest of our request can
	// make the kernel reset the connection before we read it all, which is
	// an equally good refusal.
	if r.status != http.StatusRequestHeaderFieldsTooLarge && r.err == nil {
		t.Errorf("16 KiB of headers got %d, %v", r.status, r.err)
	}
}

// TestServer_ConnectionLimit_Req23: at the connection limit a new connection
// is served at once, and the connection that has waited longest without a
// request is closed to make room; the others stay open and the flow goes on.
func TestServer_ConnectionLimit_Req23(t *testing.T) {
	lim := defaultLimits
	lim.maxConns = 8
	redirectURI, _, done, _ := pendingFlow(t, lim)
	u, _ := url.Parse(redirectURI)
	var idle []net.Conn
	for range 8 {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		idle = append(idle, c)
	}
	// A ninth connection is served while eight idle ones are open.
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if _, err := io.WriteString(c, "GET /other HTTP/1.1\r\nHost: "+u.Host+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("ninth connection while eight idle ones are open: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("ninth connection got %d", resp.StatusCode)
	}
	// The oldest idle connection made room: the server closed it. It was
	// accepted first because the kernel's backlog is first in, first out.
	if err := idle[0].SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := idle[0].Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("oldest idle connection: read %v, want it closed by the server", err)
	}
	select {
	case err := <-done:
		t.Fatalf("flow ended: %v", err)
	default:
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestConnLimiter_CloseUnblocksAccept(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newConnLimiter(inner, 1)
	c1, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c1.Close() }()
	s1, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	// Accept does not wait for a slot, only for a connection: Close ends
	// it whether or not it has started waiting yet.
	errc := make(chan error, 1)
	go func() { _, err := l.Accept(); errc <- err }()
	_ = l.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Accept stayed blocked after Close")
	}
	_ = s1.Close()
	_ = s1.Close() // closing twice must not free two slots
	if open, _ := l.stats(); open != 0 {
		t.Errorf("open = %d after close", open)
	}
}
