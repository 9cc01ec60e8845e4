package loopback

import (
	"strings"
	"testing"
)

func TestErrorStrings(t *testing.T) {
	for _, e := range []error{ErrIssuerMismatch, ErrTimeout, ErrPortInUse, ErrMalformedResponse, ErrOpenBrowser} {
		if s := e.Error(); s != strings.ToLower(s[:1])+s[1:] || strings.HasSuffix(s, ".") {
			t.Errorf("error %q is not lower case without a final period", s)
		}
	}
}
