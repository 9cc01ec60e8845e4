//go:build !unix

package filelock

import "io/fs"

// checkOwner has nothing to check where the user profile's ACLs already
// keep other users out of the cache directory.
func checkOwner(dir string, st fs.FileInfo) error { return nil }
