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
	"syscall"
)

func main() {
	disableCoreDumps()
	if len(os.Args) > 1 && os.Args[1] == refresherCommand {
		shieldRefresher()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	args := os.Args[1:]
	// Installed as docker-credential-sesame (a link), sesame is docker's
	// credential helper: "credsStore": "sesame".
	if name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe"); name == "docker-credential-sesame" {
		args = append([]string{"docker-credential"}, args...)
	}
	code := Main(ctx, args, systemEnv())
	stop()
	os.Exit(code)
}
