package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/internal/dpop"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/keychain"
)

// BenchmarkTokenWarmProcess times whole `sesame token` processes answering
// from a warm record in the real keychain, and reports the median and the
// stripped binary's size. Run it inside scripts/keyring-session:
//
//	SESAME_REAL_KEYRING=1 scripts/keyring-session go test -run '^$' -bench TokenWarm -benchtime 30x ./cmd/sesame/
func BenchmarkTokenWarmProcess(b *testing.B) {
	bin, env, size := warmProfile(b, false)
	const token = "SNTL-AT-bench"
	median := timeProcesses(b, bin, env, func(out string) bool { return out == token }, "token", "-p", "bench")
	b.ReportMetric(median, "ms-median")
	b.ReportMetric(float64(size)/(1<<20), "MiB-stripped")
}

// BenchmarkDPoPProofProcess times whole `sesame dpop-proof` processes for
// a DPoP-bound profile: the access token from the warm cache or record,
// the key from the keychain, one ES256 signature.
//
//	SESAME_REAL_KEYRING=1 scripts/keyring-session go test -run '^$' -bench DPoPProof -benchtime 30x ./cmd/sesame/
func BenchmarkDPoPProofProcess(b *testing.B) {
	bin, env, _ := warmProfile(b, true)
	median := timeProcesses(b, bin, env, func(out string) bool { return strings.Count(out, ".") == 2 },
		"dpop-proof", "-p", "bench", "--method", "GET", "--url", "https://api.example/x")
	b.ReportMetric(median, "ms-median")
}

// warmProfile builds a stripped sesame and stores, in the real keychain, a
// fresh grant for profile "bench" (DPoP-bound when withKey). It returns
// the binary, the environment to run it in and the binary's size.
func warmProfile(b *testing.B, withKey bool) (string, []string, int64) {
	if os.Getenv("SESAME_REAL_KEYRING") != "1" {
		b.Skip("needs a real keychain: set SESAME_REAL_KEYRING=1 and run inside scripts/keyring-session")
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "sesame")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	st, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}

	cfgDir := filepath.Join(dir, "config")
	cfg, _ := profile.Load(cfgDir)
	p := &profile.Profile{Name: "bench", Issuer: "https://as.example", ClientID: "bench-client", DPoP: withKey}
	cfg.Profiles["bench"] = p
	if err := cfg.Save(); err != nil {
		b.Fatal(err)
	}
	store := keychain.NewKeyring(keychain.KeyringOptions{})
	rec := &keychain.Record{Version: keychain.RecordVersion, Profile: "bench", Issuer: p.Issuer, ClientID: p.ClientID,
		TokenEndpoint: "https://as.example/token", RefreshToken: "SNTL-RT-bench", AccessToken: "SNTL-AT-bench", TokenType: "Bearer",
		Lifetime: time.Hour, Expiry: time.Now().Add(time.Hour)}
	if withKey {
		k, err := dpop.Generate()
		if err != nil {
			b.Fatal(err)
		}
		rec.DPoPKey, rec.TokenType = k.Marshal(), "DPoP"
	}
	ctx := context.Background()
	if err := store.Set(ctx, p.KeychainKey(), rec); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Delete(ctx, p.KeychainKey()) })
	return bin, append(os.Environ(), "SESAME_CONFIG_DIR="+cfgDir), st.Size()
}

// timeProcesses runs bin with args b.N times, checks each stdout with ok,
// and returns the median wall time in milliseconds.
func timeProcesses(b *testing.B, bin string, env []string, ok func(stdout string) bool, args ...string) float64 {
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		start := time.Now()
		out, err := cmd.Output()
		times = append(times, time.Since(start))
		if err != nil || !ok(strings.TrimSpace(string(out))) {
			b.Fatalf("sesame %v: %v, stdout %q", args, err, out)
		}
	}
	b.StopTimer()
	slices.Sort(times)
	return float64(times[len(times)/2].Microseconds()) / 1000
}
