//go:build unix

package keychain

import "os"

// errFileStoreUnsupported is nil where the file store works.
var errFileStoreUnsupported error

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Sync()
}
