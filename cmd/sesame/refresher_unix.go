//go:build unix

package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// startDetached starts the refresher child in a session of its own, with
// the report pipe as fd 3 and the held lock as fd 4.
func startDetached(exe string, args []string, stderr io.Writer, report, lock *os.File) (*exec.Cmd, error) {
	cmd := exec.Command(exe, args...)
	cmd.Stderr = stderr
	cmd.ExtraFiles = []*os.File{report, lock}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd, cmd.Start()
}

// shieldRefresher makes the refresher deaf to the signals that end its
// caller: it must finish the refresh on the wire and store its answer.
// SIGPIPE too: a write to the stderr of a caller that is gone must fail,
// not kill it.
func shieldRefresher() {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE, syscall.SIGQUIT)
}

// inheritedFiles returns the report pipe and the lock file a refresher
// inherits as fds 3 and 4, after checking their types with fstat: in a
// process started otherwise those numbers may belong to the Go runtime
// (its epoll and event descriptors), and an *os.File over them would close
// them when collected.
func inheritedFiles() (report, lock *os.File, err error) {
	var st unix.Stat_t
	if err := unix.Fstat(refresherReportFD, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil, nil, errors.New("fd 3 is not the report pipe")
	}
	if err := unix.Fstat(refresherLockFD, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, nil, errors.New("fd 4 is not a lock file")
	}
	return os.NewFile(refresherReportFD, "report"), os.NewFile(refresherLockFD, "lock"), nil
}

// canDetachRefresh: a held lock can be handed to a child here.
const canDetachRefresh = true
