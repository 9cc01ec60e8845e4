package main

import (
	"io"
	"os"
	"sync"

	"golang.org/x/term"

	"github.com/sesame-auth/sesame/internal/clock"
	"github.com/sesame-auth/sesame/internal/tokencache"
	"github.com/sesame-auth/sesame/keychain"
	"github.com/sesame-auth/sesame/loopback"
)

// Env is everything a command needs from the outside world. main builds it
// from the process; tests build their own, with an in-memory store, buffers
// for the streams and a clock whose waits take no time.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// StdinTTY and StdoutTTY say whether the streams are terminals: a
	// caller on a terminal is a person who can be shown a browser.
	StdinTTY, StdoutTTY, StderrTTY bool
	Getenv                         func(string) string
	// Clock tells the time and waits; tests give one whose waits take
	// no real time.
	Clock clock.Clock
	// Store opens the credential store; it is called at most once per run
	// and only by commands that need it.
	Store func() (keychain.Store, error)
	// Cache is the volatile access-token cache (the kernel keyring on
	// Linux); nil means none.
	Cache tokencache.Cache
	// StderrSize is the size of the terminal on stderr, asked each time
	// (the window may have been resized); ok is false when it is unknown.
	// Nil means unknown.
	StderrSize func() (cols, rows int, ok bool)
	// Opener, when set, replaces the browser launcher (tests use a
	// scripted browser); --no-browser still wins.
	Opener loopback.Opener
	// DetachRefresh finishes refreshes in a child process of their own
	// session (refresher.go), so they survive the caller's death; tests
	// that run commands in process leave it off.
	DetachRefresh bool
	// Exec, when set, replaces execReplace for sesame exec: a test that
	// runs commands in process runs the command as a child instead, as
	// replacing the test binary would end the test.
	Exec func(path string, args, env []string) error
	// PresetOrigins moves provider presets with a fixed host (google,
	// codeberg) to an in-process test server, by preset name. Only tests
	// set it: systemEnv never does, and neither the configuration file
	// nor the environment can.
	PresetOrigins map[string]string
}

// systemEnv is the Env of a real process.
func systemEnv() *Env {
	return &Env{
		Stdin:         os.Stdin,
		Stdout:        os.Stdout,
		Stderr:        os.Stderr,
		StdinTTY:      term.IsTerminal(int(os.Stdin.Fd())),
		StdoutTTY:     term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY:     term.IsTerminal(int(os.Stderr.Fd())),
		Getenv:        os.Getenv,
		Clock:         clock.System,
		Cache:         tokencache.New(),
		DetachRefresh: canDetachRefresh,
		Store: sync.OnceValues(func() (keychain.Store, error) {
			return openStore(os.Getenv)
		}),
		StderrSize: func() (int, int, bool) {
			cols, rows, err := term.GetSize(int(os.Stderr.Fd()))
			return cols, rows, err == nil && cols > 0 && rows > 0
		},
	}
}
