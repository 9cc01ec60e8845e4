package provider

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// refetchInterval is the least time between two fetches of one jwks_uri
// (requirement 24: re-fetch "at a limited rate"). go-oidc fetches
// the key set again whenever no cached key verifies a signature, so a
// stream of forged or unknown-kid tokens would otherwise be a stream of
// requests to the server. Tokens signed with a cached key still verify
// while the limit holds: only the fetch is refused.
const refetchInterval = 30 * time.Second

// fetchClock is the limiter's clock; tests move it.
var fetchClock = time.Now

// errRefetchLimited is the fetch error while the limit holds.
var errRefetchLimited = errors.New("the server's keys were fetched moments ago; not fetching them again yet")

// keySets caches one go-oidc RemoteKeySet per client and jwks_uri, for the
// life of the process only: key sets are public, but a cache on disk would
// be one more thing to trust. go-oidc fetches again when it meets an
// unknown kid, so rotation still works, at most once per refetchInterval.
var keySets struct {
	sync.Mutex
	m map[keySetKey]*oidc.RemoteKeySet
}

// keySetKey includes the client: a key set fetched through one client's
// trust roots must not be served to a caller that configured other roots.
type keySetKey struct {
	client *http.Client
	uri    string
}

func keySetFor(client *http.Client, jwksURI string) *oidc.RemoteKeySet {
	keySets.Lock()
	defer keySets.Unlock()
	k := keySetKey{client, jwksURI}
	if ks, ok := keySets.m[k]; ok {
		return ks
	}
	if keySets.m == nil {
		keySets.m = make(map[keySetKey]*oidc.RemoteKeySet)
	}
	limited := *client
	limited.Transport = &fetchLimiter{base: client.Transport, now: fetchClock}
	// go-oidc keeps this context for every later fetch (ignoring its
	// cancellation), so it must not be a caller's request context; the
	// client's Timeout bounds each fetch instead.
	ctx := oidc.ClientContext(withBodyLimit(context.Background(), jwksBodyLimit), &limited)
	ks := oidc.NewRemoteKeySet(ctx, jwksURI)
	keySets.m[k] = ks
	return ks
}

// fetchLimiter lets one request through per refetchInterval and refuses
// the others without touching the network. It serves one key set, whose
// only requests are fetches of its jwks_uri.
type fetchLimiter struct {
	base http.RoundTripper
	now  func() time.Time

	mu   sync.Mutex
	last time.Time
}

// RoundTrip implements http.RoundTripper.
func (f *fetchLimiter) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	now := f.now()
	if !f.last.IsZero() && now.Sub(f.last) < refetchInterval {
		f.mu.Unlock()
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, errRefetchLimited
	}
	f.last = now
	f.mu.Unlock()
	base := f.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// WarmKeySet fetches the server's signing keys into this process's key
// set, if they are not there yet, by checking the signature of an ID token
// signed with them (its claims, expiry included, are not looked at). A
// refresh calls it before it is sent, with the stored ID token, so the
// refreshed ID token is verified with keys already at hand: a key fetch
// that fails just after the server rotated the refresh token then costs
// nothing. An error only means the keys are not at hand yet.
func WarmKeySet(ctx context.Context, client *http.Client, m *Metadata, raw string) error {
	if m == nil || m.JWKSURI == "" || client == nil {
		return errors.New("no jwks_uri")
	}
	_, err := keySetFor(client, m.JWKSURI).VerifySignature(ctx, raw)
	return err
}
