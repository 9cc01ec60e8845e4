//go:build !windows

package loopback

import (
	"errors"
	"syscall"
)

// controlExclusive leaves the socket as Go makes it. Go sets SO_REUSEADDR on
// Unix listeners, which only lets a new socket bind a port whose old
// connections linger in TIME_WAIT; it never sets SO_REUSEPORT, and neither do
// we, so no other process can bind the same address and port while the flow
// listens (RFC 8252 App. B.5; requirement 3).
func controlExclusive(network, address string, c syscall.RawConn) error {
	return nil
}

func isAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE)
}
