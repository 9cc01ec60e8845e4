// Package private checks that a file or directory can be reached by its
// owner alone: the grant file store (requirement 38), the debug
// log file and the lock directory all refuse anything else, with one rule.
package private

import (
	"fmt"
	"io/fs"
)

// NotPrivateError says why a path is not private, and how to fix it when a
// chmod can.
type NotPrivateError struct {
	Path   string
	Reason string
	Fix    string
}

func (e *NotPrivateError) Error() string {
	s := e.Path + " " + e.Reason
	if e.Fix != "" {
		s += "; run: " + e.Fix
	}
	return s
}

// Check returns a *NotPrivateError unless st, the Lstat or Stat of path,
// is a directory (dir) or regular file (!dir) that is not a symbolic link,
// belongs to the current user, and grants nothing to group or others.
func Check(path string, st fs.FileInfo, dir bool) error {
	mode := st.Mode()
	perm := mode.Perm()
	switch {
	case mode&fs.ModeSymlink != 0:
		return &NotPrivateError{Path: path, Reason: "is a symbolic link"}
	case dir && !st.IsDir():
		return &NotPrivateError{Path: path, Reason: "is not a directory"}
	case !dir && !mode.IsRegular():
		return &NotPrivateError{Path: path, Reason: "is not a regular file"}
	case !OwnedByMe(st):
		return &NotPrivateError{Path: path, Reason: "belongs to another user"}
	case dir && perm&0o077 != 0:
		return &NotPrivateError{Path: path, Reason: fmt.Sprintf("can be reached by others (mode %04o)", perm), Fix: "chmod 700 " + path}
	case perm&0o077 != 0:
		return &NotPrivateError{Path: path, Reason: fmt.Sprintf("can be read by others (mode %04o)", perm), Fix: "chmod 600 " + path}
	}
	return nil
}
