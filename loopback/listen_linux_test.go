//go:build linux

package loopback

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// bindWith tries to bind a fresh socket to ip:port with SO_REUSEADDR and
// SO_REUSEPORT set, as a hostile local process would, and reports the error.
func bindWith(t *testing.T, ip net.IP, port int) error {
	t.Helper()
	family := unix.AF_INET
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: port}
	if ip4 := ip.To4(); ip4 != nil {
		copy(sa.(*unix.SockaddrInet4).Addr[:], ip4)
	} else {
		family = unix.AF_INET6
		s6 := &unix.SockaddrInet6{Port: port}
		copy(s6.Addr[:], ip.To16())
		sa = s6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unix.Close(fd) }()
	for _, opt := range []int{unix.SO_REUSEADDR, unix.SO_REUSEPORT} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return err
	}
	return unix.Listen(fd, 1)
}

func TestListen_NoSharedPort_Req03(t *testing.T) {
	redirectURI, _, _, _ := pendingFlow(t, defaultLimits)
	u, _ := url.Parse(redirectURI)
	port, _ := strconv.Atoi(u.Port())
	ip := net.ParseIP(u.Hostname())
	if err := bindWith(t, ip, port); err == nil {
		t.Errorf("another socket bound %s with SO_REUSEADDR|SO_REUSEPORT", u.Host)
	}
	if err := bindWith(t, net.IPv4zero, port); err == nil {
		t.Errorf("another socket bound the wildcard address on port %d", port)
	}

	// The listener itself must not have SO_REUSEPORT set.
	ln, err := listenLoopback(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil || v != 0 {
		t.Errorf("SO_REUSEPORT = %d, %v; want 0", v, gerr)
	}
}
