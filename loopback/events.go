package loopback

import (
	"context"
	"errors"
	"time"
)

// Events tell the caller what happens while a login waits, so that it can
// show it; the package itself writes nothing to a terminal. Every field is
// optional. The functions other than ReadPasted are called on the
// goroutine that called [Flow.Token], one at a time, and must return
// promptly.
type Events struct {
	// Started is called once the listener serves, before the browser is
	// opened, with what the person can open to sign in.
	Started func(Start)

	// OpenFailed is called when Config.Opener fails. The login goes on:
	// Start.LocalURL, opened by hand, starts the sign-in just as well. err
	// is sanitized and never quotes the URL the opener was given.
	OpenFailed func(err error)

	// NewAuthURL is called, when set, with a fresh pushed authorization
	// request shortly before the one shown last expires (RFC 9126 §2.2
	// expires_in), so a link printed for another machine works for the
	// whole wait. Without it pushed requests are not renewed, and
	// Start.LocalURL is the link that stays valid.
	NewAuthURL func(authURL string, expires time.Time)
	// NewAuthURLFailed is called when such a renewal fails; it is tried
	// again a little later, while the link shown last still works.
	NewAuthURLFailed func(err error)

	// ReadPasted, when set, returns the next address the person pasted:
	// the address the browser ended on when it could not reach the
	// listener, typically on another machine (the port is not tunnelled).
	// It runs on a goroutine of its own, again after each refused address,
	// until it returns an error or the login ends; it need not return when
	// ctx is done (a terminal read cannot be interrupted), and the login
	// does not wait for it. A pasted address is held to exactly the
	// checks a callback on the listener is (state, then iss, then PKCE at
	// the code exchange); whichever of the two spends the state first
	// wins.
	ReadPasted func(ctx context.Context) (string, error)
	// PasteRefused is called with the reason a pasted address was refused
	// without ending the login (not this sign-in's callback, or a state
	// that does not match). The error wraps ErrPastedAddress. An address
	// whose state matches ends the login like a callback would, with its
	// outcome.
	PasteRefused func(err error)

	// Done is called once when the wait is over, whatever its outcome,
	// before Token returns; nothing else is called after it.
	Done func()
}

// Start is what a login offers the person once its listener serves.
type Start struct {
	// AuthURL is the authorization request (the URL given to the Opener).
	// When it is a pushed request (RFC 9126) it stops working at
	// AuthURLExpires; a zero AuthURLExpires means it does not expire or
	// the server did not say when.
	AuthURL        string
	AuthURLExpires time.Time
	// LocalURL is the listener's start link,
	// http://127.0.0.1:<port>/start/<key>: each visit makes a fresh
	// authorization request and redirects the browser to it (303), so it
	// works for the whole wait, from this machine or through a tunnel to
	// the port.
	LocalURL string
	// Timeout is how long the login waits from now.
	Timeout time.Duration
	// Paste reports whether pasted addresses are read (Events.ReadPasted
	// is set).
	Paste bool
}

// ErrPastedAddress is wrapped by the reasons a pasted address is refused
// while the login goes on.
var ErrPastedAddress = errors.New("the pasted address is refused")

func (e *Events) started(s Start) {
	if e.Started != nil {
		e.Started(s)
	}
}

func (e *Events) openFailed(err error) {
	if e.OpenFailed != nil {
		e.OpenFailed(err)
	}
}

func (e *Events) pasteRefused(err error) {
	if e.PasteRefused != nil {
		e.PasteRefused(err)
	}
}

func (e *Events) done() {
	if e.Done != nil {
		e.Done()
	}
}
