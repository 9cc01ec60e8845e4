package e2e

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
	"github.com/sesame-auth/sesame/internal/tokencache"
)

// BenchmarkParallelRefresh_RealServer measures, against oidc-provider, one
// `sesame token` process refreshing an expired token, and 50 processes
// started together on an expired token (one refresh, 49 waiters). It
// reports the medians and their ratio, next to 50 bare process starts and
// 50 warm calls, and fails if the 50 ever cause more than one refresh.
//
//	SESAME_E2E=1 scripts/keyring-session go test -run '^$' -bench ParallelRefresh -benchtime 10x ./e2e/
func BenchmarkParallelRefresh_RealServer(b *testing.B) {
	rig.RequireTools(b)
	srv := rig.StartServer(b, rig.ServerOptions{})
	c := newCLI(b, srv, "e2e-bench-parallel")
	if r := c.login(); r.code != 0 {
		b.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	ctx := context.Background()
	expire := func() {
		rec := c.record()
		rec.Expiry = time.Now().Add(-time.Minute)
		if err := c.store().Set(ctx, c.key(), rec); err != nil {
			b.Fatal(err)
		}
		tokencache.New().Delete(c.key())
	}
	// The floor: 50 processes that do nothing but start (sesame version).
	parallel := func(args ...string) time.Duration {
		began := time.Now()
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.command(ctx, args...).Run(); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		return time.Since(began)
	}
	var singles, bursts, floors, warms []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		expire()
		b.StartTimer()
		began := time.Now()
		c.mustRun("token", "-p", c.name)
		singles = append(singles, time.Since(began))

		b.StopTimer()
		expire()
		before := refreshes(srv)
		b.StartTimer()
		bursts = append(bursts, parallel("token", "-p", c.name))
		b.StopTimer()
		floors = append(floors, parallel("version"))
		// The same 50 on the fresh token the burst left: what the burst
		// costs beyond its one refresh.
		warms = append(warms, parallel("token", "-p", c.name))
		b.StartTimer()
		if got := refreshes(srv) - before; got != 1 {
			b.Fatalf("50 parallel callers caused %d refreshes, want 1", got)
		}
	}
	b.StopTimer()
	slices.Sort(singles)
	slices.Sort(bursts)
	slices.Sort(floors)
	slices.Sort(warms)
	s, p, f, w := singles[len(singles)/2], bursts[len(bursts)/2], floors[len(floors)/2], warms[len(warms)/2]
	b.ReportMetric(float64(w.Microseconds())/1000, "ms-50-warm")
	b.ReportMetric(float64(f.Microseconds())/1000, "ms-50-process-starts")
	b.ReportMetric(float64(s.Microseconds())/1000, "ms-single-refresh")
	b.ReportMetric(float64(p.Microseconds())/1000, "ms-50-parallel")
	b.ReportMetric(float64(p)/float64(s), "ratio")
}
