package loopback

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// startPrefix is the path of the start link, followed by the attempt's
// start key: http://127.0.0.1:<port>/start/<key>.
const startPrefix = "/start/"

// startKeyBytes is the start key's entropy. 128 bits, the floor RFC 6749
// §10.10 sets for values an attacker must not guess, keeps the link short
// enough to copy by hand.
const startKeyBytes = 16

func newStartKey() string {
	b := make([]byte, startKeyBytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// serveStart answers the start link: a fresh authorization request of this
// attempt and a 303 to it, so the link works for the whole wait even when
// each pushed request_uri lives a minute (RFC 9126 §2.2).
//
// The key keeps other local users and web pages from having the listener
// hand them an authorization request of this attempt, which would let them
// sign the person in to an account of theirs: the link is no more
// available than the authorization URL itself (the opener's argv, the
// terminal). The Location is always an authorization request this attempt
// built and checkOpenURL passed, never anything from the request
// (requirement 18). The answers before the key matches are the bare
// statuses of any unknown path.
func (cb *callback) serveStart(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.EscapedPath(), startPrefix)
	if subtle.ConstantTimeCompare([]byte(key), []byte(cb.startKey)) != 1 || r.URL.Opaque != "" {
		writeStatus(w, http.StatusNotFound)
		return
	}
	if !isBareNavigation(w, r) {
		return
	}
	if cb.isSpent() {
		// The sign-in is already being completed.
		writeStatus(w, http.StatusGone)
		return
	}
	l, err := cb.requests.next(r.Context())
	if err != nil {
		writeStatus(w, http.StatusBadGateway)
		return
	}
	h := w.Header()
	setSecurityHeaders(h)
	h.Set("Location", l.url)
	w.WriteHeader(http.StatusSeeOther)
}
