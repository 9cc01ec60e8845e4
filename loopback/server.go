package loopback

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"time"
)

// serverLimits bound what a local process can make the callback server do
// while a login is pending (requirement 23). Anything on the machine
// can connect to a loopback port, so the server treats every connection as
// possibly hostile: headers must arrive quickly and be small, and at most
// maxConns connections are held at once. Connections are served concurrently
// and a new one never waits for a slot: at the limit, the one that has waited
// longest without a request being handled is closed (see connLimiter), so
// idle or slow connections opened by another user cannot delay the browser.
type serverLimits struct {
	readHeaderTimeout time.Duration // cuts slow-loris connections
	readTimeout       time.Duration // a callback has no body to wait for
	writeTimeout      time.Duration // covers the token exchange done in the handler
	idleTimeout       time.Duration // a browser keep-alive need not outlive the page
	maxHeaderBytes    int
	maxConns          int           // sockets held at once; the oldest waiting one makes room
	shutdownGrace     time.Duration // time for the final page to drain
}

// defaultLimits are the production values. They are a per-Flow field rather
// than constants only so that tests can shrink the timeouts of one Flow
// without waiting seconds, with no package-level hook.
var defaultLimits = serverLimits{
	readHeaderTimeout: 5 * time.Second,
	readTimeout:       10 * time.Second,
	writeTimeout:      exchangeTimeout + 30*time.Second,
	idleTimeout:       5 * time.Second,
	maxHeaderBytes:    8 << 10,
	maxConns:          64,
	shutdownGrace:     time.Second,
}

// newServer configures the HTTP server for one attempt. ErrorLog is discarded
// because this is a library: net/http would otherwise write accept and
// protocol errors to the process's stderr, which belongs to the CLI.
func newServer(ctx context.Context, h http.Handler, lim serverLimits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.readHeaderTimeout,
		ReadTimeout:       lim.readTimeout,
		WriteTimeout:      lim.writeTimeout,
		IdleTimeout:       lim.idleTimeout,
		MaxHeaderBytes:    lim.maxHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0),
		// "OPTIONS *" would otherwise get net/http's own 200 answer, the one
		// response not subject to our checks and headers.
		DisableGeneralOptionsHandler: true,
		BaseContext:                  func(net.Listener) context.Context { return ctx },
	}
}

// runningServer is a server serving one listener, with a way to stop it and
// know it has stopped.
type runningServer struct {
	srv   *http.Server
	ln    *connLimiter
	grace time.Duration
	done  chan struct{}
}

// startServer serves ln through a connLimiter, whose hooks it installs in
// srv before serving.
func startServer(srv *http.Server, ln net.Listener, lim serverLimits) *runningServer {
	cl := newConnLimiter(ln, lim.maxConns)
	srv.Handler = cl.track(srv.Handler)
	srv.ConnContext = cl.connContext
	srv.ConnState = cl.connState
	rs := &runningServer{
		srv:   srv,
		ln:    cl,
		grace: lim.shutdownGrace,
		done:  make(chan struct{}),
	}
	go func() {
		defer close(rs.done)
		_ = srv.Serve(rs.ln) // always ErrServerClosed or a listener error after Close
	}()
	return rs
}

// shutdown closes the listener at once, so the port refuses new connections
// (RFC 8252 §8.3: open the port only while the response is expected), and
// every connection with no request in a handler — idle ones and those still
// sending headers, which net/http would otherwise leave open until the grace
// ends — then gives in-flight responses — the final page — a short grace to
// drain before closing every connection.
func (rs *runningServer) shutdown() {
	_ = rs.ln.Close()
	rs.ln.closeWaiting()
	ctx, cancel := context.WithTimeout(context.Background(), rs.grace)
	defer cancel()
	if rs.srv.Shutdown(ctx) != nil {
		_ = rs.srv.Close()
	}
	<-rs.done
}

// abort closes the listener and every connection without waiting, for
// cancellation and timeouts, where there is no page left to deliver.
func (rs *runningServer) abort() {
	_ = rs.srv.Close()
	<-rs.done
}
