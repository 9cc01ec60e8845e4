package dpop

import (
	"net/http"
	"net/url"
	"sync"

	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// nonceHeader carries a server-provided nonce in a response (RFC 9449 §8).
const nonceHeader = "DPoP-Nonce"

// nonces remembers the latest nonce each origin sent. A server may hand out
// a new nonce in any response, not only in a use_dpop_nonce error, and the
// client is to use it in its next proof to that server (RFC 9449 §8, §8.2).
// Keying by origin keeps one server's nonce from reaching another.
type nonces struct {
	mu sync.Mutex
	m  map[string]string // origin -> nonce
}

// get returns the nonce last seen from origin, or "".
func (n *nonces) get(origin string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.m[origin]
}

// observe records the DPoP-Nonce of resp, if it has a well-formed one, and
// returns it ("" otherwise).
func (n *nonces) observe(origin string, resp *http.Response) string {
	v := resp.Header.Get(nonceHeader)
	if !validNonce(v) {
		return ""
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = make(map[string]string)
	}
	n.m[origin] = v
	return v
}

// validNonce reports whether v matches the nonce syntax 1*NQCHAR, that is
// printable ASCII without space, '"' and '\' (RFC 9449 §8.1). Anything else
// is ignored rather than echoed into a signed proof.
func validNonce(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// endpoint is u reduced to what [Transport] compares: origin and path,
// without query and fragment, as for "htu" (RFC 9449 §4.3).
func endpoint(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	return urlcheck.Origin(u) + p
}
