package authtest

import (
	"net/http"
	"net/url"
	"time"
)

// Request is one request as the server received it, recorded before any
// delay, hook or handler ran. Requests whose connection is later dropped,
// and requests the server rejects, are recorded too: "the server saw zero
// token requests" is one of the assertions the client's tests rely on.
type Request struct {
	Method string
	// Path is the URL path, e.g. "/token".
	Path string
	// RequestURI is the raw request target (path and query) as sent, so a
	// test can check that no token ever travelled in a URL.
	RequestURI string
	// Query holds the URL query parameters only.
	Query url.Values
	// PostForm holds the parameters of an application/x-www-form-urlencoded
	// body only.
	PostForm url.Values
	// Form holds both, body first, as net/http merges them.
	Form   url.Values
	Header http.Header
	// Time is when the request arrived, on the server's clock (see
	// [WithClock]).
	Time time.Time
}

// record appends r to the log. The caller holds s.mu and has parsed the form.
func (s *Server) record(r *http.Request) {
	s.reqs = append(s.reqs, Request{
		Method:     r.Method,
		Path:       r.URL.Path,
		RequestURI: r.RequestURI,
		Query:      cloneValues(r.URL.Query()),
		PostForm:   cloneValues(r.PostForm),
		Form:       cloneValues(r.Form),
		Header:     r.Header.Clone(),
		Time:       s.now(),
	})
	if ch, ok := s.awaited[r.URL.Path]; ok {
		close(ch)
		delete(s.awaited, r.URL.Path)
	}
}

// Received returns a channel that is closed once a request for path has
// arrived: recorded, before any delay, hook or handler ran. It is closed
// already when one has. A test that must act while the server holds a
// request, or once the client has sent one, waits on it instead of
// polling [Server.CountRequests].
func (s *Server) Received(path string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.reqs {
		if r.Path == path {
			ch := make(chan struct{})
			close(ch)
			return ch
		}
	}
	ch, ok := s.awaited[path]
	if !ok {
		if s.awaited == nil {
			s.awaited = map[string]chan struct{}{}
		}
		ch = make(chan struct{})
		s.awaited[path] = ch
	}
	return ch
}

// Requests returns a copy of every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = r
		out[i].Query = cloneValues(r.Query)
		out[i].PostForm = cloneValues(r.PostForm)
		out[i].Form = cloneValues(r.Form)
		out[i].Header = r.Header.Clone()
	}
	return out
}

// RequestsTo returns the recorded requests whose path is path.
func (s *Server) RequestsTo(path string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// CountRequests reports how many requests arrived for path, e.g.
// CountRequests(authtest.PathToken).
func (s *Server) CountRequests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.reqs {
		if r.Path == path {
			n++
		}
	}
	return n
}

// counters are kept apart from the request log because they count what the
// handlers decided, not merely what arrived.
type counters struct {
	tokenRequests int
	refreshes     int
}

// TokenRequests reports how many requests reached the token endpoint's
// handler, whatever their grant type or outcome. Requests answered by a
// [WithHook] hook are not counted here; [Server.CountRequests] counts them.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.tokenRequests
}

// RefreshCount reports how many refresh_token grant requests reached the
// token endpoint's handler, successful or not. Counting attempts rather
// than successes is deliberate: "exactly one refresh" must also catch a
// second, rejected attempt.
func (s *Server) RefreshCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.refreshes
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return url.Values{}
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
