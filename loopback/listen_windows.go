//go:build windows

package loopback

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
)

// soExclusiveAddrUse is SO_EXCLUSIVEADDRUSE, defined by Winsock as
// ((int)(~SO_REUSEADDR)); x/sys/windows does not export it.
const soExclusiveAddrUse = ^windows.SO_REUSEADDR

// controlExclusive sets SO_EXCLUSIVEADDRUSE before bind. Without it another
// process on Windows can bind the same port with SO_REUSEADDR and steal the
// callback carrying the authorization code (RFC 8252 App. B.3;
// requirement 3).
func controlExclusive(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = windows.SetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, soExclusiveAddrUse, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// isAddrInUse reports a port held by another socket. A port held with
// SO_EXCLUSIVEADDRUSE answers WSAEACCES rather than WSAEADDRINUSE.
func isAddrInUse(err error) bool {
	return errors.Is(err, windows.WSAEADDRINUSE) || errors.Is(err, windows.WSAEACCES)
}
