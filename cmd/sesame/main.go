// Command sesame signs a person or a script in to an OAuth 2.0 / OpenID
// Connect authorization server as a public client, keeps the grant in the
// OS keychain, and hands fresh access tokens to the tools that need them.
//
// The command tree lives in this package, a file per command; the protocol
// and storage work is done by the loopback, devicecode, keychain and
// credhelper packages and by internal/*.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

func main() {
	disableCoreDumps()
	args := os.Args[1:]
	// Installed as docker-credential-sesame (a link), sesame is docker's
	// credential helper: "credsStore": "sesame".
	if name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe"); name == "docker-credential-sesame" {
		args = append([]string{"docker-credential"}, args...)
	}
	env := systemEnv()
	ctx, stop := context.Background(), func() {}
	if len(os.Args) > 1 && os.Args[1] == refresherCommand {
		// The refresher stays deaf to every signal of its caller's
		// (refresher.go): it gets no signal context, since signal.Notify
		// would undo the Ignore for the signals it names.
		shieldRefresher()
	} else {
		// A warm helper call (warm.go) holds no lock, writes nothing and
		// sends nothing: there is nothing for a signal to wait for, so it
		// runs before the handlers are installed (they cost it more than
		// its work), and a signal ends it as one does while Go starts.
		if code, ok := runWarm(args, env); ok {
			os.Exit(code)
		}
		ctx, stop = cancelOnSignal(context.Background(), os.Exit)
	}
	code := runTree(ctx, args, env)
	stop()
	os.Exit(code)
}

// stopSignals end a command: Ctrl-C (SIGINT), SIGTERM from kubectl, IDEs,
// `timeout` and service managers, SIGQUIT (Ctrl-\), and SIGHUP, the
// terminal that was closed under a login waiting for its browser. Each
// cancels the command's context, so it ends the way Ctrl-C always did:
// waits stop, the loopback listener closes, the lock is released, a
// refresh already on the wire is finished by the refresher child (or, in
// this process, before returning), and the exit code is 130 (cancelled).
// Their default actions would do worse: SIGHUP and SIGTERM kill without
// any of that, and SIGQUIT also dumps every goroutine's stack on stderr.
//
// On Windows, Ctrl-C and Ctrl-Break arrive as os.Interrupt and a closed
// console window as SIGTERM; SIGHUP and SIGQUIT are never sent.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// cancelOnSignal returns a context cancelled by the first of stopSignals.
// A second one ends the process at once with exit code 130, through exit:
// the way out for a person whose command is stuck in something no context
// reaches. Like a SIGKILL it does not wait for a refresh finished in this
// process, which happens only where no refresher child can be started; the
// child itself is in a session of its own and never gets these signals.
// stop restores the default handling.
func cancelOnSignal(parent context.Context, exit func(int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, len(stopSignals))
	signal.Notify(sigs, stopSignals...)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case <-sigs:
			exit(exitCancelled)
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
			cancel()
		})
	}
}
