//go:build windows

package loopback

import (
	"context"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/windows"
)

func TestListen_ExclusiveAddrUse_Req03(t *testing.T) {
	ln, err := listenLoopback(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	rc.Control(func(fd uintptr) {
		v, gerr = windows.GetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, soExclusiveAddrUse)
	})
	if gerr != nil || v != 1 {
		t.Errorf("SO_EXCLUSIVEADDRUSE = %d, %v; want 1", v, gerr)
	}
	// A second bind of the same address fails even with SO_REUSEADDR.
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = windows.SetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_REUSEADDR, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	if l2, err := lc.Listen(context.Background(), "tcp", ln.Addr().String()); err == nil {
		l2.Close()
		t.Errorf("a second socket bound %s", ln.Addr())
	}
}
