//go:build unix

package keychain

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// fileStoreSupported: the file store runs where it can check owners and
// refuse symbolic links.
const fileStoreSupported = true

var errFileStoreUnsupported error

// openNoFollow makes an open fail on a symbolic link.
const openNoFollow = syscall.O_NOFOLLOW

func isSymlink(err error) bool { return errors.Is(err, syscall.ELOOP) }

func ownedByMe(st fs.FileInfo) bool {
	s, ok := st.Sys().(*syscall.Stat_t)
	return !ok || int(s.Uid) == os.Getuid()
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
