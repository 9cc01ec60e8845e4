package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// errNoPeakRSS is peakRSS's error where it cannot measure; here it can.
var errNoPeakRSS = errors.New("peak memory not measured")

// peakRSS runs cmd (not started; its streams files, so that nothing copies
// them) to its end and returns its peak resident memory in bytes: the
// VmHWM of its own address space, read at its exit under ptrace. The
// rusage that wait4 reports cannot be used: Go starts children with
// vfork, and the kernel carries the parent's peak (the benchmark's, some
// 14 MiB) into the child's maxrss at its exec.
func peakRSS(cmd *exec.Cmd) (int64, error) {
	// ptrace requests come from the thread that started the child.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Release() }()
	pid := cmd.Process.Pid
	var ws syscall.WaitStatus
	// The child stops at its exec.
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		return 0, err
	}
	if err := syscall.PtraceSetOptions(pid, syscall.PTRACE_O_TRACEEXIT); err != nil {
		return 0, err
	}
	if err := syscall.PtraceCont(pid, 0); err != nil {
		return 0, err
	}
	var peak int64
	for {
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
			return 0, err
		}
		switch {
		case ws.Exited() && ws.ExitStatus() != 0:
			return 0, fmt.Errorf("exit status %d", ws.ExitStatus())
		case ws.Exited():
			return peak, nil
		case ws.Signaled():
			return 0, fmt.Errorf("killed by %v", ws.Signal())
		case ws.Stopped() && ws.StopSignal() == syscall.SIGTRAP && ws.TrapCause() == syscall.PTRACE_EVENT_EXIT:
			var err error
			if peak, err = vmHWM(pid); err != nil {
				return 0, err
			}
			if err := syscall.PtraceCont(pid, 0); err != nil {
				return 0, err
			}
		case ws.Stopped():
			// A signal for the child (the Go runtime's SIGURG): deliver it.
			if err := syscall.PtraceCont(pid, int(ws.StopSignal())); err != nil {
				return 0, err
			}
		}
	}
}

// vmHWM is the peak resident set size of pid's address space.
func vmHWM(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
