//go:build unix

package ptytest

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/term"
)

// helperEnv makes the test binary the program under test: it reports the
// terminal's size, echoes a line typed at it and exits 3.
const helperEnv = "PTYTEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		w, h, err := term.GetSize(int(os.Stderr.Fd()))
		fmt.Fprintf(os.Stderr, "size %dx%d %v\nready\n", w, h, err)
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		fmt.Printf("got %s\n", strings.TrimSpace(line))
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func start(t *testing.T, cols, rows int) *Term {
	return Start(t, []string{os.Args[0]}, append(os.Environ(), helperEnv+"=1"), cols, rows)
}

func TestTerm_SizeInputAndExitCode(t *testing.T) {
	term := start(t, 80, 24)
	term.WaitFor("ready")
	term.Send("hello\r")
	if code := term.Wait(); code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	screen := term.Screen()
	if len(screen) != 24 || screen[0] != "size 80x24 <nil>" || screen[1] != "ready" || screen[2] != "hello" || screen[3] != "got hello" {
		t.Fatalf("the screen:\n%s", Dump(screen))
	}
}

// Ctrl-C is the terminal's: the line discipline echoes ^C and sends
// SIGINT, which kills a program that does not catch it.
func TestTerm_CtrlC(t *testing.T) {
	term := start(t, 40, 5)
	term.WaitFor("ready")
	term.Send("\x03")
	if code := term.Wait(); code != -1 {
		t.Fatalf("exit %d, want -1 (killed by SIGINT)", code)
	}
	if screen := term.Screen(); screen[2] != "^C" {
		t.Fatalf("the screen:\n%s", Dump(screen))
	}
}
