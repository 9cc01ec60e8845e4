//go:build unix

package private

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// Supported: ownership can be read and symbolic links refused here.
const Supported = true

// NoFollow makes an open fail on a symbolic link (O_NOFOLLOW).
const NoFollow = syscall.O_NOFOLLOW

// IsSymlink reports whether err is an open that NoFollow refused.
func IsSymlink(err error) bool { return errors.Is(err, syscall.ELOOP) }

// OwnedByMe reports whether st belongs to the current user.
func OwnedByMe(st fs.FileInfo) bool {
	s, ok := st.Sys().(*syscall.Stat_t)
	return !ok || int(s.Uid) == os.Getuid()
}

// Owner is the uid of the user who owns st.
func Owner(st fs.FileInfo) (uid int, ok bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(s.Uid), true
}
