//go:build linux

package e2e

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/e2e/rig"
)

// Issue 14, item 4: another local user ties up the callback listener. They
// hold about 1000 idle connections (and a few slow-loris ones) to the
// callback port before the browser comes back; with a listener that waits
// for a free slot before accepting, the browser's request then queues in the
// kernel behind all of them until the login times out.

const (
	hlIdle   = 1000 // idle connections the attacker holds
	hlSlow   = 5    // slow-loris connections: one header byte per second
	hlServed = 64   // loopback's connection limit (defaultLimits.maxConns)
)

// TestHostileListener_IdleConnections_RealServer runs `sesame login --port
// P` twice against the real server and headless chromium: once undisturbed,
// for the normal time, and once with 1000 idle and 5 slow-loris connections
// to 127.0.0.1:P opened after sesame binds the port and before the browser
// starts (the browser is gated on a file until then). While the browser
// signs in, the attacker reopens whatever sesame closes, so the listener
// stays at its limit. The attacked login must exit 0 within the normal time
// plus a margin, store the grant and show the browser "Signed in", and the
// sesame process must hold no more than the limit in extra descriptors.
//
// The test process needs more than 1000 descriptors; Go raises the soft
// RLIMIT_NOFILE to the hard limit at start, and hlRaiseNoFile makes sure of
// it (or skips if the hard limit is too low).
func TestHostileListener_IdleConnections_RealServer(t *testing.T) {
	rig.RequireTools(t)
	hlRaiseNoFile(t, 4*(hlIdle+hlSlow))
	srv := rig.StartServer(t, rig.ServerOptions{})

	base := hlLogin(t, srv, "e2e-hl-base", false)
	hit := hlLogin(t, srv, "e2e-hl-attacked", true)

	t.Logf("undisturbed login: %v after the browser started, sesame held at most %d descriptors",
		base.took.Round(time.Millisecond), base.maxFDs)
	t.Logf("attacked login: %v after the browser started, sesame held at most %d descriptors; "+
		"the attacker opened %d connections and sesame closed %d of them",
		hit.took.Round(time.Millisecond), hit.maxFDs, hit.opened, hit.cut)

	if limit := 2*base.took + 10*time.Second; hit.took > limit {
		t.Errorf("attacked login took %v, undisturbed %v: want at most %v", hit.took, base.took, limit)
	}
	if hit.maxFDs > base.maxFDs+hlServed+4 {
		t.Errorf("sesame held %d descriptors under attack, %d undisturbed: more than the %d-connection limit apart",
			hit.maxFDs, base.maxFDs, hlServed)
	}
	// The attack reached the listener: sesame accepted the connections and
	// closed all but its limit to make room.
	if hit.cut < hlIdle+hlSlow-hlServed {
		t.Errorf("sesame closed %d of the attacker's %d connections, want at least %d", hit.cut, hit.opened, hlIdle+hlSlow-hlServed)
	}
}

// hlResult is what one login did.
type hlResult struct {
	took        time.Duration // from opening the browser gate to sesame's exit
	maxFDs      int           // most descriptors sesame held while it ran
	opened, cut int           // attacker connections opened, and closed by sesame
	stderr      string
}

// hlLogin runs one `sesame login --port P` for a new profile, with the
// browser held back until sesame listens (and, if attack, until the
// attacker's connections are in place), and checks that it succeeded and
// stored the grant.
func hlLogin(t *testing.T, srv *rig.Server, name string, attack bool) hlResult {
	t.Helper()
	c := newCLI(t, srv, name)
	openGate := gateBrowser(t, c)
	port := hlFreePort(t)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"login", "-p", c.name, "--issuer", c.srv.Issuer, "--client-id", c.srv.ClientID,
		"--ca-file", c.srv.CAFile, "--scope", "openid", "--scope", "email", "--scope", "profile", "--scope", "offline_access",
		"--port", strconv.Itoa(port)}
	cmd := c.command(ctx, args...)
	errPath := filepath.Join(t.TempDir(), "stderr")
	errFile, err := os.Create(errPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = errFile.Close() }()
	cmd.Stderr = errFile // stdout stays empty for login
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	readErr := func() string { b, _ := os.ReadFile(errPath); return string(b) }

	// The URL is printed after the listener is bound.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(readErr(), "open this URL in your browser") {
		select {
		case err := <-exited:
			t.Fatalf("sesame exited before it listened (%v):\n%s", err, readErr())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sesame did not show the sign-in URL within 30 s:\n%s", readErr())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Sample sesame's descriptors until it exits.
	fds := &hlFDWatch{pid: cmd.Process.Pid, stop: make(chan struct{}), done: make(chan struct{})}
	go fds.run()

	var a *hlAttacker
	if attack {
		a = hlAttack(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		defer a.close()
		// Sesame has accepted them all and kept only its limit.
		if !a.waitCut(hlIdle+hlSlow-hlServed, 20*time.Second) {
			t.Fatalf("sesame closed only %d of %d connections within 20 s", a.cutCount(), a.openedCount())
		}
		a.keepUp() // reopen what sesame closes, so the limit stays reached
	}

	openGate()
	start := time.Now()
	var waitErr error
	select {
	case waitErr = <-exited:
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		waitErr = <-exited
	}
	res := hlResult{took: time.Since(start), stderr: readErr()}
	close(fds.stop)
	<-fds.done
	res.maxFDs = fds.max
	if a != nil {
		a.close()
		res.opened, res.cut = a.openedCount(), a.cutCount()
	}
	c.stderrs = append(c.stderrs, res.stderr)

	var ee *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &ee) {
		t.Fatalf("%s: %v", name, waitErr)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("%s: login exited %d after %v:\n%s", name, code, res.took, res.stderr)
	}
	if !strings.Contains(res.stderr, "signed in to "+srv.Issuer+" as alice@example.test") {
		t.Fatalf("%s: login did not say who signed in:\n%s", name, res.stderr)
	}
	runs := c.waitBrowserRuns(1)
	if len(runs) != 1 || runs[0].Outcome != "callback" || runs[0].Status != http.StatusOK || runs[0].Title != "Signed in" {
		t.Fatalf("%s: the browser saw %+v", name, runs)
	}
	if !strings.HasPrefix(runs[0].URL, "http://127.0.0.1:"+strconv.Itoa(port)+"/callback") {
		t.Errorf("%s: callback at %q, want port %d", name, runs[0].URL, port)
	}
	rec := c.record()
	if rec == nil || rec.RefreshToken == "" || rec.AccessToken == "" || rec.Subject != "alice" {
		t.Fatalf("%s: keychain record after login: %+v", name, rec)
	}
	c.assertNoLeak(rec.AccessToken, rec.RefreshToken)
	return res
}

// hlFreePort is a port on 127.0.0.1 that was free a moment ago.
func hlFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// hlRaiseNoFile makes sure this process may open n descriptors, raising the
// soft limit up to the hard one if needed.
func hlRaiseNoFile(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("RLIMIT_NOFILE hard limit %d is below the %d descriptors the attack needs", lim.Max, n)
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("raising RLIMIT_NOFILE to %d: %v", n, err)
	}
}

// hlFDWatch records the most descriptors a process holds, sampling
// /proc/PID/fd every 50 ms until stop is closed.
type hlFDWatch struct {
	pid        int
	max        int
	stop, done chan struct{}
}

func (w *hlFDWatch) run() {
	defer close(w.done)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if ents, err := os.ReadDir("/proc/" + strconv.Itoa(w.pid) + "/fd"); err == nil && len(ents) > w.max {
			w.max = len(ents)
		}
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
	}
}

// hlAttacker is the other local user: it holds idle and slow-loris
// connections to the callback port and counts those sesame closes.
type hlAttacker struct {
	t    *testing.T
	host string

	mu         sync.Mutex
	conns      map[net.Conn]bool // open connections; true for slow-loris
	opened     int
	cut        int
	idle, slow int // open connections of each kind

	cutc    chan struct{} // one value per connection sesame closed (best effort)
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
}

func hlAttack(t *testing.T, host string) *hlAttacker {
	t.Helper()
	a := &hlAttacker{t: t, host: host, conns: map[net.Conn]bool{}, cutc: make(chan struct{}, 4*(hlIdle+hlSlow)), stop: make(chan struct{})}
	for range hlIdle {
		a.dial(false)
	}
	for range hlSlow {
		a.dial(true)
	}
	return a
}

// dial opens one connection; a slow-loris one starts a request and then
// sends one header byte per second.
func (a *hlAttacker) dial(slow bool) {
	c, err := net.DialTimeout("tcp", a.host, 5*time.Second)
	if err != nil {
		return
	}
	a.mu.Lock()
	select {
	case <-a.stop: // close has run or is running: keep nothing open
		a.mu.Unlock()
		_ = c.Close()
		return
	default:
	}
	a.conns[c] = slow
	a.opened++
	if slow {
		a.slow++
	} else {
		a.idle++
	}
	a.mu.Unlock()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		_, _ = io.Copy(io.Discard, c) // returns when sesame (or close) closes it
		_ = c.Close()
		a.mu.Lock()
		delete(a.conns, c)
		if slow {
			a.slow--
		} else {
			a.idle--
		}
		a.mu.Unlock()
		select {
		case <-a.stop:
		default:
			a.mu.Lock()
			a.cut++
			a.mu.Unlock()
			select {
			case a.cutc <- struct{}{}:
			default:
			}
		}
	}()
	if !slow {
		return
	}
	_, _ = io.WriteString(c, "GET /callback HTTP/1.1\r\nHost: "+a.host+"\r\nX-Slow: ")
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-a.stop:
				return
			case <-tick.C:
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()
}

// keepUp reopens, every 200 ms, up to a listener's worth of the connections
// sesame closed, slow-loris ones first: a steady stream that keeps the
// listener at its limit while the browser signs in, without a flood.
func (a *hlAttacker) keepUp() {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-a.stop:
				return
			case <-tick.C:
			}
			a.mu.Lock()
			slow, idle := hlSlow-a.slow, hlIdle-a.idle
			a.mu.Unlock()
			for i := 0; i < hlServed && (slow > 0 || idle > 0); i++ {
				if slow > 0 {
					a.dial(true)
					slow--
				} else {
					a.dial(false)
					idle--
				}
			}
		}
	}()
}

// waitCut waits until sesame has closed n connections.
func (a *hlAttacker) waitCut(n int, within time.Duration) bool {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for range n {
		select {
		case <-a.cutc:
		case <-deadline.C:
			return false
		}
	}
	return true
}

func (a *hlAttacker) openedCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.opened
}

func (a *hlAttacker) cutCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cut
}

// close closes every connection and waits for the attacker's goroutines.
func (a *hlAttacker) close() {
	a.stopped.Do(func() {
		close(a.stop)
		a.mu.Lock()
		for c := range a.conns {
			_ = c.Close()
		}
		a.mu.Unlock()
		a.wg.Wait()
	})
}
