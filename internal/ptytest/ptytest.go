//go:build unix

// Package ptytest runs a program in a real pseudo-terminal of a given size
// and shows what a person at that terminal would see: the visible rows of a
// small screen emulator fed with everything the program writes (see
// screen). It is for tests only: the terminal experience tested as a
// person sees it, with the kernel's line discipline in between, so Ctrl-C
// is a SIGINT to the program's process group and "\n" reaches the screen
// as CR LF.
//
//	term := ptytest.Start(t, []string{exe, "login"}, env, 80, 24)
//	term.WaitFor("waiting for approval")
//	term.Send("\x03")
//	code := term.Wait()
//	rows := term.Screen()
//
// Waits end on the program's output, never on a timer; HangGuard only
// turns a program that never shows what a test waits for into a failure.
package ptytest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// HangGuard is how long WaitFor and Wait wait before they fail the test.
// It is a guard against a hung program, not a measure of speed.
var HangGuard = 2 * time.Minute

// Term is a program running in a pseudo-terminal.
type Term struct {
	t   testing.TB
	cmd *exec.Cmd
	pty *os.File

	mu      sync.Mutex
	screen  *screen
	raw     strings.Builder
	changed chan struct{} // closed and replaced at every output

	readDone chan struct{} // the program's side of the terminal is closed
	exited   chan struct{} // the program has exited; code is set
	code     int
}

// Start runs args[0] with the arguments args[1:] and the environment env
// (nil: this process's) in a new session whose controlling terminal is a
// pseudo-terminal of cols×rows, as a terminal emulator would. The program
// is killed when the test ends.
func Start(t testing.TB, args, env []string, cols, rows int) *Term {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		t.Fatalf("ptytest: start %s: %v", args[0], err)
	}
	term := &Term{
		t: t, cmd: cmd, pty: f,
		screen:   newScreen(cols, rows),
		changed:  make(chan struct{}),
		readDone: make(chan struct{}),
		exited:   make(chan struct{}),
	}
	go term.read()
	go func() {
		err := cmd.Wait()
		term.code = exitCode(err)
		close(term.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-term.exited:
		default:
			_ = cmd.Process.Kill()
			<-term.exited
		}
		_ = f.Close()
	})
	return term
}

func exitCode(err error) int {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	default:
		return -1
	}
}

// read feeds the screen until the program's side of the terminal closes
// (Linux then reads EIO, other systems EOF).
func (term *Term) read() {
	defer close(term.readDone)
	buf := make([]byte, 4096)
	for {
		n, err := term.pty.Read(buf)
		if n > 0 {
			term.mu.Lock()
			_, _ = term.screen.Write(buf[:n])
			term.raw.Write(buf[:n])
			close(term.changed)
			term.changed = make(chan struct{})
			term.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// Send types s at the terminal: "\x03" is Ctrl-C, "\r" is Enter.
func (term *Term) Send(s string) {
	term.t.Helper()
	if _, err := term.pty.WriteString(s); err != nil {
		term.t.Fatalf("ptytest: send %q: %v", s, err)
	}
}

// Screen returns the visible rows, top to bottom, without trailing spaces.
func (term *Term) Screen() []string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.screen.lines()
}

// Output returns every byte the program wrote to the terminal so far.
func (term *Term) Output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.raw.String()
}

// WaitFor waits until some visible row contains text, and returns the
// screen. It fails the test if the program closes the terminal first.
func (term *Term) WaitFor(text string) []string {
	term.t.Helper()
	return term.WaitUntil("a row containing "+fmt.Sprintf("%q", text), func(rows []string) bool {
		for _, r := range rows {
			if strings.Contains(r, text) {
				return true
			}
		}
		return false
	})
}

// WaitUntil waits until ok holds for the visible rows, and returns them.
// what names the condition in the failure message.
func (term *Term) WaitUntil(what string, ok func(rows []string) bool) []string {
	term.t.Helper()
	guard := time.NewTimer(HangGuard)
	defer guard.Stop()
	for {
		term.mu.Lock()
		rows, changed := term.screen.lines(), term.changed
		term.mu.Unlock()
		if ok(rows) {
			return rows
		}
		select {
		case <-changed:
		case <-term.readDone:
			if rows := term.Screen(); ok(rows) {
				return rows
			}
			term.t.Fatalf("ptytest: the program closed the terminal before showing %s; the screen:\n%s", what, Dump(term.Screen()))
		case <-guard.C:
			term.t.Fatalf("ptytest: no %s after %v; the screen:\n%s", what, HangGuard, Dump(term.Screen()))
		}
	}
}

// Wait waits for the program to exit and for the terminal to show all it
// wrote, and returns its exit code (-1 when a signal killed it).
func (term *Term) Wait() int {
	term.t.Helper()
	guard := time.NewTimer(HangGuard)
	defer guard.Stop()
	for _, done := range []chan struct{}{term.exited, term.readDone} {
		select {
		case <-done:
		case <-guard.C:
			term.t.Fatalf("ptytest: the program still runs after %v; the screen:\n%s", HangGuard, Dump(term.Screen()))
		}
	}
	return term.code
}

// Dump frames rows as a screenshot for a failure message or a log: one
// row a line between rules as wide as the longest row.
func Dump(rows []string) string {
	width := 0
	for _, r := range rows {
		width = max(width, len([]rune(r)))
	}
	rule := "+" + strings.Repeat("-", width) + "+\n"
	var b strings.Builder
	b.WriteString(rule)
	for _, r := range rows {
		b.WriteString("|" + r + strings.Repeat(" ", width-len([]rune(r))) + "|\n")
	}
	b.WriteString(rule)
	return b.String()
}
