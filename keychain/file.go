package keychain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sesame-auth/sesame/internal/private"
)

// ErrInsecure means the file store, or one of its files, can be reached by
// someone other than its owner (group or world permissions, another owner,
// a symbolic link). Nothing is read from or written to it then.
var ErrInsecure = errors.New("the grant file store is not private")

// maxFileRecord bounds what File reads: a record is a few KiB.
const maxFileRecord = 1 << 20

// File keeps each record in a file of its own in one directory. It exists
// for machines with no OS keychain (a server over SSH, a container), only
// when the user asks for it (requirement 38): the directory is
// 0700 and every file 0600, owned by the user; files are created with
// O_EXCL|O_NOFOLLOW and replaced by writing a temporary file, syncing it and
// renaming it over the old one, so a reader never sees half a record; and
// nothing is read from a file or directory that others can reach or that
// is a symbolic link. Windows is not supported: it always has a Credential
// Manager.
type File struct {
	dir string
}

// NewFile returns a file store in dir. Nothing is touched until first use.
func NewFile(dir string) *File { return &File{dir: filepath.Clean(dir)} }

// Name implements Store.
func (f *File) Name() string { return "file " + f.dir }

// Get implements Store.
func (f *File) Get(ctx context.Context, key string) (*Record, error) {
	path, err := f.path(key, false)
	if err != nil {
		return nil, err
	}
	fh, err := os.OpenFile(path, os.O_RDONLY|private.NoFollow, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, ErrNotFound
	case private.IsSymlink(err):
		return nil, fmt.Errorf("%w: %s is a symbolic link", ErrInsecure, path)
	case err != nil:
		return nil, fmt.Errorf("grant file: %w", err)
	}
	defer func() { _ = fh.Close() }()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("grant file: %w", err)
	}
	if err := private.Check(path, st, false); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInsecure, err)
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxFileRecord+1))
	if err != nil {
		return nil, fmt.Errorf("grant file: %w", err)
	}
	if len(data) > maxFileRecord {
		return nil, fmt.Errorf("%w: %s is larger than a record can be", ErrCorrupt, path)
	}
	return DecodeRecord(data)
}

// Set implements Store: a new file, written, synced, closed, then renamed
// over the old one, then the directory synced.
func (f *File) Set(ctx context.Context, key string, r *Record) error {
	data, err := EncodeRecord(r)
	if err != nil {
		return err
	}
	path, err := f.path(key, true)
	if err != nil {
		return err
	}
	var suffix [8]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return err
	}
	tmp := filepath.Join(f.dir, ".tmp-"+hex.EncodeToString(suffix[:]))
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|private.NoFollow, 0o600)
	if err != nil {
		return fmt.Errorf("grant file: %w", err)
	}
	_, werr := fh.Write(data)
	if werr == nil {
		werr = fh.Sync()
	}
	if cerr := fh.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("grant file: %w", werr)
	}
	return syncDir(f.dir)
}

// Delete implements Store.
func (f *File) Delete(ctx context.Context, key string) error {
	path, err := f.path(key, false)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("grant file: %w", err)
	}
	return syncDir(f.dir)
}

// path returns key's file after checking the directory, which create
// makes (0700) when it is missing; without create a missing directory
// means no record.
func (f *File) path(key string, create bool) (string, error) {
	if !private.Supported {
		return "", errFileStoreUnsupported
	}
	name := strings.NewReplacer(":", "_", "/", "_", `\`, "_").Replace(key)
	if name == "" || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("invalid key for the file store")
	}
	st, err := os.Lstat(f.dir)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return "", ErrNotFound
		}
		if err := os.MkdirAll(f.dir, 0o700); err != nil {
			return "", fmt.Errorf("grant file store: %w", err)
		}
		st, err = os.Lstat(f.dir)
	}
	if err != nil {
		return "", fmt.Errorf("grant file store: %w", err)
	}
	if err := private.Check(f.dir, st, true); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInsecure, err)
	}
	return filepath.Join(f.dir, name+".json"), nil
}
