package session

import (
	"context"
	"errors"

	"github.com/sesame-auth/sesame/keychain"
)

// A Finisher carries a refresh through once the caller, holding the
// profile lock, has decided it is needed. From the moment the request is
// sent, the server may rotate the refresh token; if the answer were then
// abandoned, the grant would be lost (RFC 6819 §5.2.2.3, RFC 9700
// §4.14.2). So the answer is awaited, within its own bound, and stored
// whatever happens to the caller.
//
// The in-process finisher (a nil Finisher) shields the refresh from the
// caller's context, so Ctrl-C or SIGTERM wait for the answer to be stored.
// The command line uses one that runs the refresh in a short-lived child
// process of its own session, which also survives a SIGKILL of the caller
// or its process group (see cmd/sesame/refresher.go).
type Finisher interface {
	// Finish refreshes s's grant while held is locked, and returns the
	// token, as RefreshLocked does. rec is the record the caller read
	// under the lock.
	Finish(ctx context.Context, s *Grant, held Held, rec *keychain.Record) (*Result, error)
}

// CancelledError is a caller cancelled while its refresh was on the wire:
// the refresh was finished all the same, and its result stored (or, with
// Detached, is being finished by another process).
type CancelledError struct {
	// Detached: the refresh goes on in another process after this one
	// returns.
	Detached bool
}

func (e *CancelledError) Error() string {
	if e.Detached {
		return "cancelled; the refresh already sent is being finished in the background, and its result will be stored"
	}
	return "cancelled; the refresh already sent was finished and its result stored"
}

// Is makes errors.Is(err, context.Canceled) true.
func (e *CancelledError) Is(target error) bool { return target == context.Canceled }

// finish runs the refresh through s.Finish, or in this process.
func (s *Grant) finish(ctx context.Context, held Held, rec *keychain.Record) (*Result, error) {
	if s.Finish != nil {
		return s.Finish.Finish(ctx, s, held, rec)
	}
	return FinishInProcess(ctx, s, rec)
}

// FinishInProcess refreshes rec's grant with a context the caller's
// cancellation does not reach: the refresh ends by its own bounds, and a
// caller cancelled meanwhile gets a CancelledError after its result is
// stored.
func FinishInProcess(ctx context.Context, s *Grant, rec *keychain.Record) (*Result, error) {
	res, err := s.refresh(context.WithoutCancel(ctx), rec)
	if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
		return nil, &CancelledError{}
	}
	return res, err
}
