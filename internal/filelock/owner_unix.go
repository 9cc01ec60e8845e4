//go:build unix

package filelock

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner refuses a directory that belongs to another user.
func checkOwner(dir string, st fs.FileInfo) error {
	if s, ok := st.Sys().(*syscall.Stat_t); ok && int(s.Uid) != os.Getuid() {
		return fmt.Errorf("the lock directory %s belongs to another user", dir)
	}
	return nil
}
