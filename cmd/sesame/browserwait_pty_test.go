//go:build linux

package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// ptyScreen collects what sesame writes to its terminal and lets a test
// wait for a piece of it.
type ptyScreen struct {
	mu      sync.Mutex
	out     bytes.Buffer
	changed chan struct{} // closed and replaced at each write
	closed  bool
}

func readScreen(ptmx *os.File) *ptyScreen {
	s := &ptyScreen{changed: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			close(s.changed)
			s.changed = make(chan struct{})
			if err != nil {
				s.closed = true
			}
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s
}

// waitFor returns the screen once it matches re; the deadline only keeps
// a broken test from hanging.
func (s *ptyScreen) waitFor(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		text, changed, closed := s.out.String(), s.changed, s.closed
		s.mu.Unlock()
		if m := re.FindString(text); m != "" {
			return m
		}
		if closed {
			t.Fatalf("the terminal closed without %q:\n%q", re, text)
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %q on the terminal within 30 s:\n%q", re, text)
		}
	}
}

func (s *ptyScreen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// TestBrowserWait_PTY_PasteOnTerminal: sesame login --no-browser on an
// 80x24 terminal, the browser on another machine. The terminal shows the
// URL, the paste prompt and the live wait line; the person pastes the
// address the browser ended on, which is not echoed (it holds the code);
// a wrong one is refused on a line of its own and the wait goes on; the
// right one signs in; and the terminal echoes again afterwards.
func TestBrowserWait_PTY_PasteOnTerminal(t *testing.T) {
	as := authtest.New(t)
	dir := t.TempDir()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty here: %v", err)
	}
	defer func() { _ = ptmx.Close(); _ = tty.Close() }()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "login", "-p", "work", "--issuer", as.Issuer(), "--client-id", as.ClientID,
		"--ca-file", as.CAFile(), "--flow", "browser", "--no-browser", "--timeout", "2m")
	cmd.Env = []string{
		asSesameEnv + "=1",
		"HOME=" + dir,
		"PATH=" + os.Getenv("PATH"),
		"TERM=xterm",
		"SESAME_CONFIG_DIR=" + filepath.Join(dir, "config"),
		"SESAME_STATE_DIR=" + filepath.Join(dir, "state"),
		"XDG_RUNTIME_DIR=" + dir,
		"SESAME_STORE=file",
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(dir, "no-such-bus"),
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	defer func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	screen := readScreen(ptmx)

	authURL := screen.waitFor(t, regexp.MustCompile(`https://127\.0\.0\.1:[0-9]+/authorize\?[^\s]+`))
	screen.waitFor(t, regexp.MustCompile(`paste the address it ended on here`))
	screen.waitFor(t, regexp.MustCompile(`\r\x1b\[Ksesame: waiting for the browser or a pasted address, [0-9]m[0-9]+s left`))

	callbacks := make(chan *url.URL, 1)
	b := authtest.NewBrowser(t, as, authtest.BrowserCallbackScript(func(_ context.Context, cb *url.URL) { callbacks <- cb }))
	if err := b.Open(context.Background(), authURL); err != nil {
		t.Fatal(err)
	}
	cb := <-callbacks
	code := cb.Query().Get("code")

	wrong := *cb
	q := wrong.Query()
	q.Set("state", "not-this-one")
	wrong.RawQuery = q.Encode()
	if _, err := ptmx.WriteString(wrong.String() + "\r"); err != nil {
		t.Fatal(err)
	}
	screen.waitFor(t, regexp.MustCompile(`\r\x1b\[Ksesame: warning: the pasted address is refused: its state is not this sign-in's[^\r\n]*\r\n\r\x1b\[Ksesame: waiting`))
	if _, err := ptmx.WriteString(cb.String() + "\r"); err != nil {
		t.Fatal(err)
	}
	screen.waitFor(t, regexp.MustCompile(`sesame: signed in to [^\r\n]+ as alice@example\.test`))
	<-exited
	if waitErr != nil {
		t.Fatalf("sesame login: %v\n%q", waitErr, screen)
	}
	if strings.Contains(screen.String(), code) || strings.Contains(screen.String(), "not-this-one") {
		t.Errorf("the pasted address was echoed:\n%q", screen)
	}
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 {
		t.Errorf("the terminal does not echo after the login")
	}
}
