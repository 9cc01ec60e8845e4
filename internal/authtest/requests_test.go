package authtest

import (
	"net/http"
	"net/url"
	"testing"
)

// Received is closed by the first request for its path, and at once for a
// path that already had one; other paths leave it open.
func TestReceived(t *testing.T) {
	s := New(t)
	token := s.Received(PathToken)
	again := s.Received(PathToken)
	status, _ := post(t, s, PathRevoke, url.Values{"client_id": {s.ClientID}, "token": {"x"}})
	if status != http.StatusOK {
		t.Fatalf("revoke: %d", status)
	}
	select {
	case <-token:
		t.Fatal("a request for another path closed the channel")
	default:
	}
	refresh(t, s, "x")
	for _, ch := range []<-chan struct{}{token, again, s.Received(PathToken)} {
		select {
		case <-ch:
		default:
			t.Fatal("a token request arrived, and the channel is still open")
		}
	}
}
