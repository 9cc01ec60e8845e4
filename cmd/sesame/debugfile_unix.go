//go:build unix

package main

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// openNoFollow makes the open fail on a symbolic link (O_NOFOLLOW).
const openNoFollow = syscall.O_NOFOLLOW

func isSymlinkError(err error) bool { return errors.Is(err, syscall.ELOOP) }

// ownedByMe refuses a file another user owns.
func ownedByMe(st fs.FileInfo) error {
	if s, ok := st.Sys().(*syscall.Stat_t); ok && int(s.Uid) != os.Getuid() {
		return errNotOwner
	}
	return nil
}
