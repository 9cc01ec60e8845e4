package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
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
func openDebugFile(path string, now func() time.Time) (*os.File, io.Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|private.NoFollow, 0o600)
	if err != nil {
		if private.IsSymlink(err) {
			return nil, nil, fmt.Errorf("debug file %s is a symbolic link; give the file itself", path)
		}
		return nil, nil, fmt.Errorf("debug file: %w", err)
	}
	st, err := f.Stat()
	if err == nil && private.Supported {
		// Where modes mean nothing (Windows), the profile's ACLs decide.
		err = private.Check(path, st, false)
	}
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("debug file: %w", err)
	}
	return f, &stampWriter{w: f, now: now, pid: strconv.Itoa(os.Getpid())}, nil
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
