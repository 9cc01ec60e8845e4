package loopback

import (
	"context"
	"fmt"
	"net"
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

// limitListener accepts at most n connections at a time. A loopback server
// needs one or two (the browser and its favicon request); the limit keeps a
// local process from exhausting file descriptors or goroutines while the
// login is pending (SECURITY-REQUIREMENTS 23). Connections beyond the limit
// wait in the kernel backlog until a slot frees.
//
// It does the job of golang.org/x/net/netutil.LimitListener without adding a
// module for twenty lines.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newLimitListener(l net.Listener, n int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), done: make(chan struct{})}
}

// Accept takes a slot before accepting, so the n+1th connection is not even
// accepted until one of the n ends.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

// Close unblocks an Accept that is waiting for a slot, then closes the
// socket so new connections are refused at once.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
