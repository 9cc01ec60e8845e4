//go:build !unix

package private

import "io/fs"

// Supported is false where ownership cannot be read from a file's mode
// (Windows: ACLs, which this package does not check).
const Supported = false

// NoFollow is 0 where O_NOFOLLOW does not exist.
const NoFollow = 0

// IsSymlink is false: no open is refused for a link here.
func IsSymlink(error) bool { return false }

// OwnedByMe is true: the user profile's ACLs keep other users out.
func OwnedByMe(fs.FileInfo) bool { return true }

// Owner is not known here.
func Owner(fs.FileInfo) (uid int, ok bool) { return 0, false }
