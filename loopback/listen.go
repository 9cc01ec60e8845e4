package loopback

import (
	"container/list"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// The redirect listener binds a loopback IP literal and nothing else (RFC 8252
// §7.3, §8.3; RFC 9700 §2.6). A host name is never resolved to choose the
// bind address: a hosts file mapping "localhost" elsewhere would move the
// listener off the loopback interface. The wildcard addresses, which would
// expose the callback to the local network, cannot be expressed at all.
var loopbackHosts = []string{"127.0.0.1", "::1"}

// listenLoopback binds 127.0.0.1, or [::1] when the machine has no IPv4
// loopback, at port (0 lets the OS pick an unused ephemeral port).
//
// With a fixed port that another socket already holds we return ErrPortInUse
// instead of trying [::1]: the user chose the port for a tunnel or a
// registered redirect URI that names 127.0.0.1, and a silent switch would
// break it in a confusing way.
func listenLoopback(ctx context.Context, port int) (net.Listener, error) {
	return listenFirst(ctx, loopbackHosts, port)
}

// listenFirst binds the first of hosts that can be bound at port. It is
// separate from listenLoopback only so a test can simulate a machine without
// IPv4 loopback.
func listenFirst(ctx context.Context, hosts []string, port int) (net.Listener, error) {
	lc := net.ListenConfig{Control: controlExclusive}
	var firstErr error
	for _, host := range hosts {
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			return ln, nil
		}
		if port != 0 && isAddrInUse(err) {
			return nil, fmt.Errorf("%w: %s", ErrPortInUse, net.JoinHostPort(host, strconv.Itoa(port)))
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("cannot listen on a loopback address: %w", firstErr)
}

// connLimiter bounds the connections the callback server holds without ever
// making a new one wait for a free slot (requirement 23).
//
// Anything on the machine can connect to a loopback port. A limit that blocks
// Accept while full (netutil.LimitListener, or a semaphore taken before
// Accept) lets another local user hold every slot with idle connections: the
// browser's connection then waits in the kernel's FIFO backlog behind
// hundreds of others, each released only by its header deadline, and the
// login times out. So Accept here never waits for a slot. It takes every
// connection the kernel has, at once, and when it already holds max it closes
// the connection that has waited longest without a request being served: one
// that sent nothing, or only part of a request (slow loris), or that sits idle
// after its response. A connection whose request is being handled is never
// chosen. The newest connection — the browser's, which sends its request as
// soon as it connects — is therefore served at once, whatever number of idle
// connections were opened before it, and the process never holds more than
// max of these sockets.
//
// If all max connections are in a handler, which lasts microseconds except
// for the one request that spent the state, the new connection is closed
// instead.
//
// The server reports what its connections do through three hooks that
// startServer installs: connContext ties a request's context to its conn,
// track marks a conn busy while its request is being handled, and connState
// marks it waiting again once its response is written (StateIdle) and
// forgets it when it closes.
type connLimiter struct {
	net.Listener
	max int

	closeOnce sync.Once

	mu      sync.Mutex
	open    int        // conns accepted and not yet closed, busy or waiting
	waiting *list.List // of *trackedConn with no request in a handler, oldest first
	evicted int        // conns closed to make room, for tests
}

func newConnLimiter(l net.Listener, max int) *connLimiter {
	if max < 1 {
		max = 1
	}
	return &connLimiter{Listener: l, max: max, waiting: list.New()}
}

// Accept returns the next connection. It blocks only in the underlying
// Accept, so closing the listener unblocks it.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, l: l}
		l.mu.Lock()
		var victim *trackedConn
		if l.open >= l.max {
			if e := l.waiting.Front(); e != nil {
				victim = e.Value.(*trackedConn)
				l.forgetLocked(victim)
				l.evicted++
			}
		}
		if l.open >= l.max {
			// Every slot is in a handler: refuse the newcomer.
			l.mu.Unlock()
			_ = c.Close()
			continue
		}
		l.open++
		tc.elem = l.waiting.PushBack(tc)
		l.mu.Unlock()
		if victim != nil {
			// Closing wakes the victim's serving goroutine, which then
			// ends; for a socket in non-blocking mode, as Go's are, Close
			// returns only once the descriptor is closed.
			_ = victim.Conn.Close()
		}
		return tc, nil
	}
}

// Close closes the listening socket. Only the first call closes it, so
// that http.Server.Shutdown, which closes its listeners again after
// runningServer.shutdown has, does not see an error and fall back to
// cutting the final page short.
func (l *connLimiter) Close() error {
	var err error
	l.closeOnce.Do(func() { err = l.Listener.Close() })
	return err
}

// closeWaiting closes every connection that has no request in a handler:
// once the login is answered they have nothing left to receive.
func (l *connLimiter) closeWaiting() {
	l.mu.Lock()
	var victims []*trackedConn
	for e := l.waiting.Front(); e != nil; e = l.waiting.Front() {
		c := e.Value.(*trackedConn)
		l.forgetLocked(c)
		victims = append(victims, c)
	}
	l.mu.Unlock()
	for _, c := range victims {
		_ = c.Conn.Close()
	}
}

// forgetLocked stops counting c. It is idempotent. l.mu is held.
func (l *connLimiter) forgetLocked(c *trackedConn) {
	if c.gone {
		return
	}
	c.gone = true
	l.open--
	if c.elem != nil {
		l.waiting.Remove(c.elem)
		c.elem = nil
	}
}

// busy takes c out of the eviction order while its request is handled.
func (l *connLimiter) busy(c *trackedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !c.gone && c.elem != nil {
		l.waiting.Remove(c.elem)
		c.elem = nil
	}
}

// wait puts c back in the eviction order as its newest member: its response
// has just been written.
func (l *connLimiter) wait(c *trackedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.gone {
		return
	}
	if c.elem != nil {
		l.waiting.MoveToBack(c.elem)
		return
	}
	c.elem = l.waiting.PushBack(c)
}

func (l *connLimiter) forget(c *trackedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgetLocked(c)
}

// stats reports the connections held and how many were closed to make room.
func (l *connLimiter) stats() (open, evicted int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open, l.evicted
}

// connKey is the context key under which connContext stores the conn.
type connKey struct{}

// connContext is the server's ConnContext.
func (l *connLimiter) connContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*trackedConn); ok && tc.l == l {
		return context.WithValue(ctx, connKey{}, tc)
	}
	return ctx
}

// connState is the server's ConnState. StateActive is not a sign of a real
// request — one byte of a request line makes a conn active — so only the
// handler (track) marks a conn busy; StateIdle follows the written response.
func (l *connLimiter) connState(c net.Conn, s http.ConnState) {
	tc, ok := c.(*trackedConn)
	if !ok || tc.l != l {
		return
	}
	switch s {
	case http.StateIdle:
		l.wait(tc)
	case http.StateHijacked, http.StateClosed:
		l.forget(tc)
	}
}

// track wraps the handler: a conn whose request headers have all arrived is
// busy, and not closed to make room, until its response is written.
func (l *connLimiter) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tc, ok := r.Context().Value(connKey{}).(*trackedConn); ok && tc.l == l {
			l.busy(tc)
		}
		h.ServeHTTP(w, r)
	})
}

// trackedConn is a conn the limiter counts. The fields other than Conn and l
// are guarded by l.mu.
type trackedConn struct {
	net.Conn
	l    *connLimiter
	elem *list.Element // in l.waiting, or nil while busy or gone
	gone bool          // closed or evicted: no longer counted
}

func (c *trackedConn) Close() error {
	c.l.forget(c)
	return c.Conn.Close()
}
