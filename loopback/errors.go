package loopback

import "errors"

// ErrIssuerMismatch reports an authorization response whose RFC 9207 iss
// parameter is wrong, missing although the server announced it, or present
// although the server never announced it. Such a response may come from a
// mix-up attack (RFC 9700 §4.4), so nothing else in it is trusted: its code is
// not redeemed and its error fields are neither kept nor shown.
var ErrIssuerMismatch = errors.New("authorization response came from an unexpected issuer")

// ErrTimeout reports that no authorization response arrived before the flow's
// deadline. The listener is closed when it is returned.
var ErrTimeout = errors.New("timed out waiting for the browser to complete sign-in")

// ErrPortInUse reports that a fixed callback port could not be bound because
// another socket holds it. The flow does not pick another port: the user chose
// this one, most likely to match an SSH tunnel or a registered redirect URI.
var ErrPortInUse = errors.New("callback port is already in use")

// ErrOpenBrowser reports that Config.Opener failed while there was no
// Config.OnAuthURL to show the URL instead, so the user had no way to go on.
var ErrOpenBrowser = errors.New("cannot open the browser")

// ErrMalformedResponse reports an authorization response that carried the
// right state and iss but neither a code nor an error (RFC 6749 §4.1.2). The
// state is spent by then, so the flow ends.
var ErrMalformedResponse = errors.New("authorization response carried neither a code nor an error")
