//go:build !linux

package e2e

import (
	"errors"
	"os/exec"
)

// errNoPeakRSS: peak memory is measured on Linux only
// (peakrss_linux_test.go).
var errNoPeakRSS = errors.New("peak memory is measured on Linux only")

func peakRSS(*exec.Cmd) (int64, error) { return 0, errNoPeakRSS }
