//go:build !unix

package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
)

// startDetached is not available here: the refresh is finished in the
// calling process, shielded from its cancellation.
func startDetached(string, []string, io.Writer, *os.File, *os.File) (*exec.Cmd, error) {
	return nil, errors.New("not supported on this platform")
}

func shieldRefresher() {}

// inheritedFiles: no refresher is started here.
func inheritedFiles() (report, lock *os.File, err error) {
	return nil, nil, errors.New("not supported on this platform")
}

// canDetachRefresh: no lock can be handed to a child here.
const canDetachRefresh = false
