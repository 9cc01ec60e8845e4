package loopback

import (
	"fmt"
	"net/url"
	"strings"
)

// paste takes an address the person pasted: the callback the browser
// could not deliver because it runs on another machine. It is held to the
// checks of a callback on the listener, in the same order: the address
// must be this attempt's redirect URI with single state, code, iss and
// error values; the state must match and not be spent; then complete
// checks iss before it reads error or code, and the code is redeemed with
// the PKCE verifier. Host, method and fetch metadata, which guard the
// listener against other local processes and web pages, have no
// counterpart here: the text comes from the person at the terminal.
//
// paste returns an error wrapping ErrPastedAddress when the address is
// refused before its state matched; the login goes on, as it does after a
// forged callback. Once the state matched, the outcome (a token, or the
// error that ends the login, ErrIssuerMismatch included) goes where a
// callback's goes, and paste returns nil. The pasted text is never quoted
// in an error: it may hold a code.
func (cb *callback) paste(text string) error {
	s := strings.TrimSpace(text)
	if s == "" {
		return fmt.Errorf("%w: it is empty", ErrPastedAddress)
	}
	if !strings.Contains(s, "://") {
		// Address bars often hide the scheme, and copying may lose it.
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Host != cb.host ||
		u.EscapedPath() != callbackPath || u.Opaque != "" {
		return fmt.Errorf("%w: it is not the address this sign-in ends on, http://%s%s?…", ErrPastedAddress, cb.host, callbackPath)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil || repeatsAny(q, singleParams) {
		return fmt.Errorf("%w: its parameters are malformed or repeated", ErrPastedAddress)
	}
	if !cb.spend(q.Get("state")) {
		return fmt.Errorf("%w: its state is not this sign-in's (an older or another sign-in's address?)", ErrPastedAddress)
	}
	cb.act(q, func(error) {})
	return nil
}
