package main

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDebugFile_Req37: SESAME_DEBUG_FILE gets the redacted debug log of a
// helper call, time-stamped, in a 0600 file, and nothing on stderr; a
// symbolic link or a file others can read is refused with one error line.
func TestDebugFile_Req37(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	path := filepath.Join(t.TempDir(), "debug.log")
	h.env["SESAME_DEBUG_FILE"] = path
	h.advance(time.Hour) // the token call refreshes
	r := h.run("token", "-p", "work")
	wantExit(t, r, 0)
	if r.stderr != "" {
		t.Fatalf("stderr without --debug: %q", r.stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	if !strings.Contains(log, "sesame: debug: http: POST") || strings.Contains(log, "SNTL-") {
		t.Fatalf("debug file:\n%s", log)
	}
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[\d+\] sesame: debug: `)
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if !stamp.MatchString(line) {
			t.Fatalf("unstamped line %q", line)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", st.Mode().Perm())
	}
	// Appended, not truncated.
	wantExit(t, h.run("token", "-p", "work"), 0)
	if again, _ := os.ReadFile(path); !strings.HasPrefix(string(again), log) || len(again) <= len(data) {
		t.Fatal("the second call did not append to the log")
	}

	link := filepath.Join(t.TempDir(), "link.log")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	h.env["SESAME_DEBUG_FILE"] = link
	r = h.run("token", "-p", "work")
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "symbolic link")

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	h.env["SESAME_DEBUG_FILE"] = path
	r = h.run("token", "-p", "work")
	wantExit(t, r, exitError)
	wantOneErrorLine(t, r, "chmod 600")
}

// TestDebugFile_HostileTypes_Issue14: whatever another user plants at the
// debug file's path (it may be in /tmp), sesame neither blocks nor writes
// to it. A FIFO, with or without a reader, a socket and a directory are
// refused at once with one error line that names the path; each command
// must end within seconds (a blocking open would wait for a reader
// forever, and no signal would end it).
func TestDebugFile_HostileTypes_Issue14(t *testing.T) {
	h := newHarness(t)
	h.mustLogin()
	dir := t.TempDir()

	fifo := filepath.Join(dir, "fifo.log")
	haveFIFO := mkfifo(t, fifo)
	socket := filepath.Join(dir, "s.log")
	if l, err := net.Listen("unix", socket); err == nil {
		defer func() { _ = l.Close() }()
	} else {
		socket = ""
	}
	subdir := filepath.Join(dir, "dir.log")
	if err := os.Mkdir(subdir, 0o700); err != nil {
		t.Fatal(err)
	}

	type tc struct{ name, path, says string }
	cases := []tc{{"directory", subdir, "a directory"}}
	if socket != "" {
		cases = append(cases, tc{"socket", socket, "a socket"})
	}
	if haveFIFO {
		cases = append(cases, tc{"fifo without a reader", fifo, "a named pipe (FIFO)"})
	}
	for _, c := range cases {
		for _, args := range [][]string{{"status"}, {"token", "-p", "work"}} {
			h.env["SESAME_DEBUG_FILE"] = c.path
			r := runWithin(t, h, 10*time.Second, args...)
			wantExit(t, r, exitError)
			wantOneErrorLine(t, r, c.path)
			if !strings.Contains(r.stderr, c.says) || r.stdout != "" {
				t.Fatalf("%s, %v: stdout %q, stderr %q", c.name, args, r.stdout, r.stderr)
			}
		}
	}

	if haveFIFO {
		// A reader on the other end: the open succeeds, fstat refuses,
		// and nothing is written to the reader.
		rd, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rd.Close() }()
		h.env["SESAME_DEBUG_FILE"] = fifo
		h.advance(time.Hour) // the token call would refresh, and log it
		r := runWithin(t, h, 10*time.Second, "token", "-p", "work", "--debug")
		wantExit(t, r, exitError)
		wantOneErrorLine(t, r, "a named pipe (FIFO)")
		buf := make([]byte, 64)
		if n, _ := rd.Read(buf); n != 0 {
			t.Fatalf("the reader of the FIFO got %q", buf[:n])
		}
	}
}

// TestDebugFile_BlockingForWrites_Issue14: the regular file that passed
// its checks is written in blocking mode: O_NONBLOCK, needed only for the
// open, is cleared (read back from /proc on Linux).
func TestDebugFile_BlockingForWrites_Issue14(t *testing.T) {
	path := filepath.Join(t.TempDir(), "debug.log")
	f, w, err := openDebugFile(path, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if _, err := io.WriteString(w, "sesame: debug: one\n"); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "linux" {
		t.Skip("the open file's flags are read from /proc")
	}
	info, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		t.Skip(err)
	}
	m := regexp.MustCompile(`(?m)^flags:\s*([0-7]+)$`).FindSubmatch(info)
	if m == nil {
		t.Fatalf("no flags in fdinfo:\n%s", info)
	}
	flags, err := strconv.ParseUint(string(m[1]), 8, 64)
	if err != nil {
		t.Fatal(err)
	}
	if flags&syscall.O_NONBLOCK != 0 || flags&syscall.O_APPEND == 0 {
		t.Fatalf("flags %o: O_NONBLOCK not cleared, or O_APPEND lost", flags)
	}
}

// mkfifo makes a FIFO at path with mkfifo(1), and reports whether it could
// (not on Windows).
func mkfifo(t *testing.T, path string) bool {
	t.Helper()
	if runtime.GOOS == "windows" {
		return false
	}
	if err := exec.Command("mkfifo", "-m", "0600", path).Run(); err != nil {
		t.Logf("no FIFO: %v", err)
		return false
	}
	return true
}

// runWithin runs a command and fails the test if it has not returned
// within d: the hostile cases must never block.
func runWithin(t *testing.T, h *harness, d time.Duration, args ...string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- h.run(args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(d):
		t.Fatalf("sesame %v still running after %s: it blocked", args, d)
		return result{}
	}
}
