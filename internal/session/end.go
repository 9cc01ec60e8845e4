package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/sesame-auth/sesame/keychain"
)

// Revoker revokes a grant's tokens at its server (RFC 7009) and reports
// whether the server confirmed the refresh token's revocation.
type Revoker func(ctx context.Context, rec *keychain.Record) (confirmed bool)

// Ended is what [Grant.End] did.
type Ended struct {
	// Found: a grant was stored.
	Found bool
	// Confirmed: the server confirmed the revocation (true when nothing
	// was stored).
	Confirmed bool
}

// End revokes (with s.Revoke) and deletes the grant (logout). It holds the profile lock
// throughout, so a refresh in flight finishes first and the newest refresh
// token is the one revoked, and no refresh can write the grant back after
// it was deleted. The volatile cache is cleared after the delete. Local
// data goes whatever the server said (requirement 33). resources are the
// profile's resource indicators, whose cached tokens go too.
func (s *Grant) End(ctx context.Context, resources ...string) (Ended, error) {
	if s.Lock != nil {
		held, err := s.Lock(ctx, nil)
		if err != nil {
			return Ended{}, err
		}
		defer held.Release()
	}
	Forget(s.Cache, s.Key, nil, append(resources, s.Resource)...)
	rec, err := s.Store.Get(ctx, s.Key)
	if errors.Is(err, keychain.ErrNotFound) {
		s.markers().remove()
		return Ended{Confirmed: true}, nil
	}
	if err != nil && !errors.Is(err, keychain.ErrCorrupt) {
		return Ended{}, err
	}
	done := Ended{Found: true}
	if rec != nil && rec.RefreshToken+rec.AccessToken != "" && s.Revoke != nil {
		done.Confirmed = s.Revoke(ctx, rec)
	}
	if err := s.Store.Delete(ctx, s.Key); err != nil && !errors.Is(err, keychain.ErrNotFound) {
		return done, fmt.Errorf("could not delete the stored grant of %q: %w", s.Binding.Profile, err)
	}
	Forget(s.Cache, s.Key, rec, append(resources, s.Resource)...)
	s.markers().remove()
	return done, nil
}

// Replace stores rec, the grant a login just got, in place of what the
// profile held. Under the profile lock it re-reads the newest stored
// grant (a refresh may have rotated it while the browser was open), writes
// the new one and swaps the cached token. Then, without the lock, it
// revokes the replaced refresh token, and ends each of previous: grants
// the profile held under another key before its issuer, client or
// registration changed (requirement 33: a replaced grant is revoked, not
// left alive).
func (s *Grant) Replace(ctx context.Context, rec *keychain.Record, previous []*Grant, resources ...string) error {
	old, err := s.replaceLocked(ctx, rec, resources)
	if err != nil {
		return err
	}
	if old != nil && old.RefreshToken != "" && old.RefreshToken != rec.RefreshToken && s.Revoke != nil {
		s.Revoke(ctx, old)
	}
	for _, g := range previous {
		if g.Key == s.Key {
			continue
		}
		if _, err := g.End(ctx, resources...); err != nil {
			s.warn(fmt.Sprintf("the grant the profile held before could not be deleted: %v", err))
		}
	}
	return nil
}

// replaceLocked writes rec under the lock and returns the grant it
// replaced, if any.
func (s *Grant) replaceLocked(ctx context.Context, rec *keychain.Record, resources []string) (*keychain.Record, error) {
	if s.Lock != nil {
		held, err := s.Lock(ctx, nil)
		if err != nil {
			return nil, err
		}
		defer held.Release()
	}
	old, err := s.Store.Get(ctx, s.Key)
	if err != nil && !errors.Is(err, keychain.ErrNotFound) && !errors.Is(err, keychain.ErrCorrupt) {
		return nil, err
	}
	if err := s.Store.Set(ctx, s.Key, rec); err != nil {
		return nil, err
	}
	Forget(s.Cache, s.Key, old, resources...)
	s.markers().remove()
	if s.Cache != nil {
		Remember(s.Cache, CacheKey(s.Key, rec.Resource), rec, s.now())
	}
	return old, nil
}
