//go:build !unix

package keychain

import "errors"

// On Windows the file store would need an ACL for the user alone and DPAPI
// (requirement 38); Windows always has a Credential Manager, so
// the store refuses to work there instead.
var errFileStoreUnsupported = errors.New("the grant file store is not available on this platform; use the system keychain")

func syncDir(string) error { return errFileStoreUnsupported }
