package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/sesame-auth/sesame/loopback"
)

// browserWait shows a browser login's wait on stderr: the link to open,
// an opener's failure with the link to open by hand, a renewed link, a
// refused pasted address, and the wait itself: on a terminal a live line
// with the time left, redrawn each second; elsewhere one plain line.
//
// The loopback flow calls the Events one at a time; the live line's
// ticker runs beside them, so every write goes through mu.
type browserWait struct {
	a *app
	// live draws the wait as a line redrawn in place (the login command,
	// stderr is a terminal and not given over to --json).
	live bool
	// noBrowser: the link is for a browser elsewhere, so it is the
	// authorization request itself.
	noBrowser bool
	// paste reads addresses pasted at the terminal (the login command,
	// stdin and stderr are terminals).
	paste bool

	mu       sync.Mutex
	deadline time.Time
	drawn    string // the live line on screen, "" when none
	stop     chan struct{}
	stopped  chan struct{}
	restore  func() // gives the terminal its echo back
	noEcho   bool   // the terminal's echo is off for the whole wait
	localURL string // the start link, to open by hand
	lines    *bufio.Reader
	// elsewhere: the person may use a browser on another machine
	// (--no-browser, or the browser did not open here), so the
	// authorization request is shown, and shown again when renewed.
	elsewhere   bool
	authURL     string    // the latest authorization request
	authExpires time.Time // when it expires; zero if it does not
}

// browserEvents are the loopback Events of a login shown on this run's
// stderr.
func (a *app) browserEvents(lo loginUI, hasOpener bool) loopback.Events {
	w := &browserWait{
		a: a,
		// A helper's login shares stderr with git's or kubectl's
		// prompts: no line redrawn there.
		live:      a.env.StderrTTY && !lo.json && lo.loginCmd,
		noBrowser: !hasOpener,
		paste:     lo.loginCmd && a.env.StdinTTY && a.env.StderrTTY,
	}
	ev := loopback.Events{
		Started:    w.started,
		OpenFailed: w.openFailed,
		// Renewed even while the browser here is expected to sign in: if
		// it does not open, the request for another machine is then
		// fresh.
		NewAuthURL:       w.renewed,
		NewAuthURLFailed: w.renewFailed,
		PasteRefused:     w.pasteRefused,
		Done:             w.done,
	}
	if w.paste {
		ev.ReadPasted = w.readPasted
	}
	return ev
}

// Headings of the link blocks. Each says "open this URL in your browser",
// which scripts and people look for.
const (
	headingOpening   = "open this URL in your browser to sign in (it is being opened for you; it works for as long as sesame waits):"
	headingElsewhere = "open this URL in your browser to sign in:"
	headingByHand    = "open this URL in your browser by hand to sign in:"
)

func (w *browserWait) started(s loopback.Start) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.a.messages()
	w.authURL, w.authExpires = s.AuthURL, s.AuthURLExpires
	if w.noBrowser {
		// The browser may be on another machine, where only the
		// authorization request itself works.
		w.elsewhere = true
		m.block(headingElsewhere, "  "+s.AuthURL, "")
		w.sayExpiryLocked(m)
	} else {
		// The browser is on this machine: the start link works for the
		// whole wait, and through a tunnel to the port too.
		m.block(headingOpening, "  "+s.LocalURL, "")
	}
	w.localURL = s.LocalURL
	// The server's error page is the one answer sesame cannot see.
	m.say(errorPageHint)
	if w.paste {
		w.echoOffLocked()
		prompt := "if the browser cannot reach 127.0.0.1 (it runs on another machine), paste the address it ended on here and press Enter"
		if w.noEcho {
			prompt += "; it is not shown"
		}
		m.say(prompt)
	}
	w.deadline = w.a.env.Clock.Now().Add(s.Timeout)
	if !w.live {
		m.say(fmt.Sprintf("waiting for the browser (at most %s)", s.Timeout.Round(time.Second)))
		return
	}
	w.drawLocked()
	w.stop, w.stopped = make(chan struct{}), make(chan struct{})
	go w.tick(w.stop, w.stopped)
}

// errorPageHint says what a server's error page in place of the sign-in
// means: a client id or redirect URI it does not take (login --help).
const errorPageHint = "an error page from the server instead of a sign-in means it does not take the client id or the redirect URI (see 'sesame login --help')"

// tick redraws the live line each second until stop is closed.
func (w *browserWait) tick(stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			w.mu.Lock()
			w.drawLocked()
			w.mu.Unlock()
		}
	}
}

// drawLocked draws the live line when its text changed; w.mu is held.
func (w *browserWait) drawLocked() {
	left := max(w.deadline.Sub(w.a.env.Clock.Now()), 0).Round(time.Second)
	what := "the browser"
	if w.paste {
		what = "the browser or a pasted address"
	}
	line := fmt.Sprintf("waiting for %s, %s left", what, left)
	if line == w.drawn {
		return
	}
	w.a.messages().progress(line)
	w.drawn = line
}

// sayLocked prints lines above the live line: it clears it, lets print
// write, and draws it again; w.mu is held.
func (w *browserWait) sayLocked(print func(m messages)) {
	m := w.a.messages()
	if w.drawn != "" {
		m.endProgress()
		w.drawn = ""
	}
	print(m)
	if w.live && w.stop != nil {
		w.drawLocked()
	}
}

// sayExpiryLocked says until when the authorization request shown works,
// if it expires; w.mu is held.
func (w *browserWait) sayExpiryLocked(m messages) {
	if !w.authExpires.IsZero() {
		m.say(fmt.Sprintf("it works until %s; a new one is printed before then", clockTime(w.authExpires)))
	}
}

// openFailed says at once that the browser did not open, with the link to
// open by hand here and, since a browser here may be missing altogether
// (SSH), the authorization request for a browser on another machine.
func (w *browserWait) openFailed(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.elsewhere = true
	w.sayLocked(func(m messages) {
		m.warn(err.Error())
		m.block(headingByHand, "  "+w.localURL, "")
		m.block("or in a browser on another machine:", "  "+w.authURL, "")
		w.sayExpiryLocked(m)
	})
}

func (w *browserWait) renewed(authURL string, expires time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.authURL, w.authExpires = authURL, expires
	if !w.elsewhere {
		return
	}
	w.sayLocked(func(m messages) {
		heading := "the URL above is about to expire; open this one instead:"
		if !expires.IsZero() {
			heading = fmt.Sprintf("the URL above is about to expire; open this one instead (it works until %s):", clockTime(expires))
		}
		m.block(heading, "  "+authURL, "")
	})
}

func (w *browserWait) renewFailed(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.elsewhere {
		return
	}
	w.sayLocked(func(m messages) { m.warn("no new sign-in URL yet: " + err.Error()) })
}

func (w *browserWait) pasteRefused(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sayLocked(func(m messages) { m.warn(err.Error()) })
}

// done ends the wait: the ticker stops, the live line goes, and the
// terminal echoes again.
func (w *browserWait) done() {
	w.mu.Lock()
	stop, stopped := w.stop, w.stopped
	w.stop = nil
	w.mu.Unlock()
	if stop != nil {
		close(stop)
		<-stopped
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.drawn != "" {
		w.a.messages().endProgress()
		w.drawn = ""
	}
	if w.restore != nil {
		w.restore()
		w.restore = nil
	}
}

// stdinTerminal is stdin's descriptor when it is a terminal.
func (w *browserWait) stdinTerminal() (fd int, ok bool) {
	f, isFile := w.a.env.Stdin.(*os.File)
	if !isFile || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}

// echoOffLocked stops the terminal's echo for the whole wait, before the
// prompt is shown: a pasted address holds an authorization code, which
// has no business in the scrollback, and the live line goes on being
// redrawn where the text would have appeared. done puts the echo back.
// w.mu is held.
func (w *browserWait) echoOffLocked() {
	fd, ok := w.stdinTerminal()
	if !ok {
		return
	}
	// Where the echo cannot be stopped (echoOff says so) the pasted line
	// shows: the code in it is useless without the PKCE verifier, which
	// never leaves this process (RFC 7636 §1), and sesame keeps to its
	// rule of never reading from the terminal the way a password prompt
	// does (requirement 10).
	if restore, ok := echoOff(fd); ok {
		w.restore, w.noEcho = restore, true
	}
}

// readPasted reads one pasted line from stdin: a line of the terminal,
// whose echo echoOffLocked stopped where it could, or of whatever stdin
// is. The read cannot be interrupted; the login abandons it when it ends
// (see loopback.Events.ReadPasted).
func (w *browserWait) readPasted(context.Context) (string, error) {
	w.mu.Lock()
	if w.lines == nil {
		w.lines = bufio.NewReader(w.a.env.Stdin)
	}
	r := w.lines
	w.mu.Unlock()
	line, err := r.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// clockTime is t as the person's wall clock shows it.
func clockTime(t time.Time) string { return t.Local().Format("15:04:05") }
