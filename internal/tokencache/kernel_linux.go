//go:build linux

package tokencache

import (
	"time"

	"golang.org/x/sys/unix"
)

// keyPerm gives the possessor and the user's own processes every right on
// the key, and nobody else any (KEY_POS_ALL | KEY_USR_ALL).
const keyPerm = 0x3f3f0000

// Kernel is the Linux kernel user keyring.
type Kernel struct{}

// New returns the platform's volatile cache.
func New() Cache { return Kernel{} }

func description(key string) string { return "sesame:at:" + key }

func (Kernel) find(key string) (int, bool) {
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", description(key), 0)
	return id, err == nil
}

// Get reads the entry: one search and one read system call.
func (k Kernel) Get(key string) (*Entry, bool) {
	id, ok := k.find(key)
	if !ok {
		return nil, false
	}
	buf := make([]byte, 4096)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
	if err != nil {
		return nil, false
	}
	if n > len(buf) {
		if n > maxPayload {
			return nil, false
		}
		buf = make([]byte, n)
		if n, err = unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0); err != nil || n > len(buf) {
			return nil, false
		}
	}
	return decode(buf[:n])
}

// Put adds or updates the key in the user keyring with a timeout.
func (Kernel) Put(key string, e *Entry, ttl time.Duration) {
	secs := int(ttl / time.Second)
	if secs < 1 {
		return
	}
	payload, ok := encode(e)
	if !ok {
		return
	}
	id, err := unix.AddKey("user", description(key), payload, unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		return
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_SETPERM, id, keyPerm, 0, 0); err != nil {
		// A key we cannot restrict must not linger.
		_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
		return
	}
	_, _ = unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, secs, 0, 0)
}

// Delete invalidates the key: the kernel removes it from every keyring.
func (k Kernel) Delete(key string) {
	if id, ok := k.find(key); ok {
		_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
	}
}

func (Kernel) Name() string { return "kernel keyring" }
