//go:build !linux

package tokencache

// New returns the platform's volatile cache: none here, so access tokens
// are read from the keychain record.
func New() Cache { return None{} }
