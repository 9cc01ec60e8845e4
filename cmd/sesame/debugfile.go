package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sesame-auth/sesame/internal/private"
)

// openDebugFile opens path for the debug log (--debug-file,
// SESAME_DEBUG_FILE), for the helper calls whose stderr nobody sees:
// kubectl and IDEs swallow it. Lines are appended, each stamped with the
// time and process id, as one write each, so parallel helpers do not mix
// their lines. The log is redacted like stderr's (requirement 37), and the
// file is still kept to its owner: created 0600, never opened through a
// symbolic link, refused when it is not a regular file of this user that
// only this user can read.
//
// The path may be in a directory others can write to (/tmp), so what is
// found there is hostile until checked (issue 14). The open never blocks:
// O_NONBLOCK makes a FIFO with no reader fail at once (ENXIO) instead of
// waiting for one forever, and a FIFO, socket or device that does open is
// refused by fstat(2) on the open file, before anything is written, so no
// later check can be raced. Only a regular file gets its O_NONBLOCK
// cleared for writing.
func openDebugFile(path string, now func() time.Time) (*os.File, io.Writer, error) {
	f, err := os.OpenFile(path, debugFileFlags, 0o600)
	if err != nil {
		if private.IsSymlink(err) {
			return nil, nil, fmt.Errorf("debug file %s is a symbolic link; give the file itself", path)
		}
		// A FIFO without a reader fails with ENXIO and a directory with
		// EISDIR: say what is there rather than the errno's words.
		if st, lerr := os.Lstat(path); lerr == nil && !st.Mode().IsRegular() {
			return nil, nil, notRegularError(path, st.Mode())
		}
		return nil, nil, fmt.Errorf("debug file: %w", err)
	}
	st, err := f.Stat()
	switch {
	case err != nil:
		err = fmt.Errorf("debug file: %w", err)
	case !st.Mode().IsRegular():
		err = notRegularError(path, st.Mode())
	case private.Supported:
		// Where modes mean nothing (Windows), the profile's ACLs decide.
		if perr := private.Check(path, st, false); perr != nil {
			err = fmt.Errorf("debug file: %w", perr)
		}
	}
	if err == nil {
		err = setBlocking(f)
	}
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return f, &stampWriter{w: f, now: now, pid: strconv.Itoa(os.Getpid())}, nil
}

// debugFileFlags open the debug file for appending without ever waiting:
// O_NONBLOCK (ignored on Windows, where opening a file does not wait for a
// reader), O_NOFOLLOW where it exists, and O_NOCTTY so a terminal device
// given as the path can never become the controlling terminal.
const debugFileFlags = os.O_WRONLY | os.O_APPEND | os.O_CREATE | syscall.O_NONBLOCK | syscall.O_NOCTTY | private.NoFollow

// notRegularError names what was found at the debug file's path instead of
// a regular file.
func notRegularError(path string, mode fs.FileMode) error {
	kind := "not a regular file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO), not a regular file"
	case mode&fs.ModeSocket != 0:
		kind = "a socket, not a regular file"
	case mode&fs.ModeDevice != 0 || mode&fs.ModeCharDevice != 0:
		kind = "a device, not a regular file"
	case mode.IsDir():
		kind = "a directory, not a regular file"
	case mode&fs.ModeSymlink != 0:
		return fmt.Errorf("debug file %s is a symbolic link; give the file itself", path)
	}
	return fmt.Errorf("debug file %s is %s; give a file of your own, in a directory only you can write to", path, kind)
}

// setBlocking clears O_NONBLOCK on the checked regular file, so writes are
// plain blocking writes again.
func setBlocking(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("debug file: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = clearNonblock(syscall.SetNonblock, fd) }); err != nil {
		return fmt.Errorf("debug file: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("debug file: %w", serr)
	}
	return nil
}

// clearNonblock calls syscall.SetNonblock(fd, false) with the descriptor
// type of the platform: an int on Unix, a Handle on Windows (where it does
// nothing).
func clearNonblock[FD ~int | ~uintptr](setNonblock func(FD, bool) error, fd uintptr) error {
	return setNonblock(FD(fd), false)
}

// stampWriter prefixes every line with an RFC 3339 time and the process id
// and writes each call's lines in one write(2): with O_APPEND, the lines of
// one call never interleave with another process's.
type stampWriter struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
	pid string
}

func (s *stampWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stamp := s.now().UTC().Format("2006-01-02T15:04:05.000Z") + " [" + s.pid + "] "
	var b strings.Builder
	for line := range strings.Lines(string(p)) {
		b.WriteString(stamp)
		b.WriteString(line)
	}
	if _, err := io.WriteString(s.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}
