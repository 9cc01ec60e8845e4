package session

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/sesame-auth/sesame/keychain"
)

// DropAccessToken forgets an access token that a caller's server
// rejected (git's erase): under the profile lock, if the stored grant
// still holds exactly that token, for any of its resources, it is removed
// from the record and the cache, so the next call refreshes. The grant
// itself stays. It reports whether the token was dropped.
func (s *Grant) DropAccessToken(ctx context.Context, token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	if s.Lock != nil {
		held, err := s.Lock(ctx, nil)
		if err != nil {
			return false, err
		}
		defer held.Release()
	}
	rec, err := s.Store.Get(ctx, s.Key)
	if errors.Is(err, keychain.ErrNotFound) || errors.Is(err, keychain.ErrCorrupt) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	next := *rec
	next.ResourceTokens = maps.Clone(rec.ResourceTokens)
	dropped := false
	if next.AccessToken == token {
		next.AccessToken = ""
		dropped = true
	}
	for r, at := range rec.ResourceTokens {
		if at != nil && at.AccessToken == token {
			delete(next.ResourceTokens, r)
			dropped = true
		}
	}
	if !dropped {
		return false, nil
	}
	Forget(s.Cache, s.Key, rec, s.Resource)
	if err := s.Store.Set(ctx, s.Key, &next); err != nil {
		return false, fmt.Errorf("could not drop the rejected access token: %w", err)
	}
	return true, nil
}
