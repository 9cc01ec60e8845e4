package urlcheck

import (
	"errors"
	"net/url"
)

// StripURLError drops the *url.Error wrapper net/http puts around a failed
// request, whose text repeats the URL; the cause (a deadline, a TLS error)
// stays reachable for errors.Is and errors.As.
func StripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
