package authtest

import "net/http"

// WithLostTokenResponses makes the next n token requests be processed in
// full (codes spent, tokens rotated) and then answered with status and a
// plain-text body instead of the token response, as a gateway in front of
// a server that acted answers when its wait for the server ran out (a 502
// or 504). The client holds an answer that is no OAuth answer, for a
// request the server carried out: the case a single replay may recover on
// servers with a reuse grace (RFC 9700 §4.14.2). It replaces the count of
// [WithDroppedTokenResponses], which loses the answer by closing the
// connection instead; whichever is given last decides.
func WithLostTokenResponses(n, status int) Option {
	return func(c *config) { c.dropTokenResponses, c.lostStatus = n, status }
}

// loseAnswer sends, in place of a token response the server has acted on,
// nothing at all (status 0) or a bare status page.
func loseAnswer(w http.ResponseWriter, status int) {
	if status == 0 {
		dropConnection(w)
		return
	}
	http.Error(w, http.StatusText(status), status)
}
