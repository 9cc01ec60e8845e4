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

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/keychain"
)

// BenchmarkTokenWarmProcess times whole `sesame token` processes answering
// from a warm record in the real keychain, and reports the median and the
// stripped binary's size. Run it inside ../shared/keyring-session:
//
//	SESAME_REAL_KEYRING=1 ../shared/keyring-session go test -run '^$' -bench TokenWarm -benchtime 30x ./cmd/sesame/
func BenchmarkTokenWarmProcess(b *testing.B) {
	if os.Getenv("SESAME_REAL_KEYRING") != "1" {
		b.Skip("needs a real keychain: set SESAME_REAL_KEYRING=1 and run inside ../shared/keyring-session")
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
	p := &profile.Profile{Name: "bench", Issuer: "https://as.example", ClientID: "bench-client"}
	cfg.Profiles["bench"] = p
	if err := cfg.Save(); err != nil {
		b.Fatal(err)
	}
	store := keychain.NewKeyring(keychain.KeyringOptions{})
	const token = "SNTL-AT-bench"
	rec := &keychain.Record{Version: keychain.RecordVersion, Profile: "bench", Issuer: p.Issuer, ClientID: p.ClientID,
		TokenEndpoint: "https://as.example/token", RefreshToken: "SNTL-RT-bench", AccessToken: token, TokenType: "Bearer",
		Lifetime: time.Hour, Expiry: time.Now().Add(time.Hour)}
	ctx := context.Background()
	if err := store.Set(ctx, p.KeychainKey(), rec); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Delete(ctx, p.KeychainKey()) })

	env := append(os.Environ(), "SESAME_CONFIG_DIR="+cfgDir)
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(bin, "token", "-p", "bench")
		cmd.Env = env
		start := time.Now()
		out, err := cmd.Output()
		times = append(times, time.Since(start))
		if err != nil || strings.TrimSpace(string(out)) != token {
			b.Fatalf("sesame token: %v, stdout %q", err, out)
		}
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(st.Size())/(1<<20), "MiB-stripped")
}
