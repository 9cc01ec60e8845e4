package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/pkg/browser"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/loopback"
)

// opener picks how the authorization URL is opened: nothing with
// --no-browser; else the profile's browser command, $BROWSER (as gh does),
// or the system browser through pkg/browser.
func (a *app) opener(p *profile.Profile, noBrowser bool) loopback.Opener {
	if noBrowser {
		return nil
	}
	if a.env.Opener != nil {
		return a.env.Opener
	}
	if c := firstNonEmpty(p.BrowserCommand, a.env.Getenv("BROWSER")); c != "" {
		return &commandOpener{argv: strings.Fields(c), out: a.env.Stderr}
	}
	return &systemOpener{out: a.env.Stderr}
}

// commandOpener runs a program with the URL as its one last argument, with
// no shell in between, and its output on stderr so stdout stays clean.
type commandOpener struct {
	argv []string
	out  io.Writer
}

func (o *commandOpener) Open(ctx context.Context, url string) error {
	if len(o.argv) == 0 {
		return errors.New("empty browser command")
	}
	// The process is not tied to ctx: a browser outlives the login.
	cmd := exec.Command(o.argv[0], append(o.argv[1:], url)...)
	cmd.Stdout, cmd.Stderr = o.out, o.out
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if err := launched(ctx, done); err != nil {
		return fmt.Errorf("%s: %w", o.argv[0], err)
	}
	return nil
}

// launchWait is how long an opener watches its launcher: one that fails
// (xdg-open with nothing to open, a $BROWSER that exits non-zero) does so
// at once, and one still running after it has handed the URL to a
// browser, or is the browser.
const launchWait = 3 * time.Second

// launched waits for the launcher's exit, done, for launchWait at most:
// its error if it failed by then, else nil.
func launched(ctx context.Context, done <-chan error) error {
	t := time.NewTimer(launchWait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// systemOpener is pkg/browser with the launched program's output sent to
// stderr: by default pkg/browser copies it to our stdout, which carries
// protocol output.
type systemOpener struct{ out io.Writer }

func (o *systemOpener) Open(ctx context.Context, url string) error {
	browser.Stdout, browser.Stderr = o.out, o.out
	done := make(chan error, 1)
	// pkg/browser waits for the launcher (xdg-open, open, rundll32); that
	// may block, and the listener must keep serving meanwhile.
	go func() { done <- browser.OpenURL(url) }()
	return launched(ctx, done)
}
