package registration

import (
	"errors"
	"io"
)

// maxBody is the most this package reads of any response body. A
// registration response is a few hundred bytes; the limit only stops a
// broken or hostile server from making sesame allocate without bound, even
// if the caller's client enforced no limit of its own.
const maxBody = 1 << 20

// errBodyTooLarge reports a body over [maxBody]. Its text names the limit,
// never the body.
var errBodyTooLarge = errors.New("response body exceeds 1 MiB")

// readBody reads all of r up to [maxBody] bytes. One byte more is read to
// tell a body of exactly the limit from a longer one: a longer body is an
// error, never silently cut short, because a truncated JSON document must
// not parse as a shorter valid one.
func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, errBodyTooLarge
	}
	return b, nil
}
