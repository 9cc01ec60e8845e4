//go:build unix

package main

import (
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
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

// canDetachRefresh: a held lock can be handed to a child here.
const canDetachRefresh = true
