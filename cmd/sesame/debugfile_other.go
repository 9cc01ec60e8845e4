//go:build !unix

package main

import "io/fs"

// openNoFollow is 0 where O_NOFOLLOW does not exist; the mode check still
// runs on what was opened.
const openNoFollow = 0

func isSymlinkError(error) bool { return false }

// ownedByMe has nothing to check where the user profile's ACLs already
// keep other users out.
func ownedByMe(fs.FileInfo) error { return nil }
