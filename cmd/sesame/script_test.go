package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sesame-auth/sesame/internal/authtest"
)

// The script tests in testdata/script pin what a user sees of every
// command: stdout, stderr and the exit code. testdata/script/README.md says
// how to write them and how to regenerate their expected output.

var updateScripts = flag.Bool("update", false, "TestScript: rewrite the expected output in testdata/script from what sesame prints now")

// scriptEpoch is where the clock of every script stands until advance
// moves it: a fixed instant, so the expiry times sesame prints are the same
// on every run. The authorization server keeps the same clock.
var scriptEpoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// scriptTimeout bounds one sesame command of a script, as a person would
// give up on a hung command.
const scriptTimeout = 30 * time.Second

func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                "testdata/script",
		UpdateScripts:      *updateScripts,
		RequireUniqueNames: true,
		Setup:              setupScript,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sesame":     cmdSesame,
			"authserver": cmdAuthserver,
			"browser":    cmdBrowser,
			"advance":    cmdAdvance,
		},
	})
}

// scriptState is one script's world: the harness (authorization server,
// keychain, token cache, clock) its sesame commands share.
type scriptState struct {
	h    *harness
	work string
	// self is this test binary, the sesame that setup writes into git and
	// kubectl configurations.
	self string
	// interrupt makes the browser press Ctrl-C (cancel the command)
	// instead of signing in.
	interrupt bool
}

type scriptStateKey struct{}

func setupScript(env *testscript.Env) error {
	t, ok := env.T().(testing.TB)
	if !ok {
		return fmt.Errorf("script tests need a testing.TB, got %T", env.T())
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	st := &scriptState{h: newHarness(t), work: env.WorkDir, self: self}
	st.h.epoch = scriptEpoch
	st.h.as.Configure(authtest.WithClock(st.h.now))
	// Every directory sesame could write to is the script's own: never
	// the configuration, keychain or locks of the person running the
	// tests.
	dirs := map[string]string{
		"HOME":              filepath.Join(env.WorkDir, "home"),
		"SESAME_CONFIG_DIR": filepath.Join(env.WorkDir, "home", ".config", "sesame"),
		"XDG_RUNTIME_DIR":   filepath.Join(env.WorkDir, "run"),
	}
	for k, dir := range dirs {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		env.Setenv(k, dir)
	}
	env.Values[scriptStateKey{}] = st
	return nil
}

func stateOf(ts *testscript.TestScript) *scriptState {
	return ts.Value(scriptStateKey{}).(*scriptState)
}

// cmdSesame is `[!] sesame [-exit=N] [-stdin=FILE] [-person] [-stdout-tty]
// ARGS...`: it runs sesame in process with ARGS and the script's
// environment, and fails unless the exit code is N (default 0). A non-zero
// code needs both ! and -exit=N, so no exit code goes unpinned.
//
//   - -stdin=FILE: the command's standard input is FILE (the script's
//     stdin command feeds only exec).
//   - -person: stdin and stderr are terminals, a person is at them.
//   - -stdout-tty: stdout is a terminal.
//
// What varies from run to run is replaced in stdout and stderr (see
// normalize).
func cmdSesame(ts *testscript.TestScript, neg bool, args []string) {
	st := stateOf(ts)
	want, stdin := 0, ""
	st.h.person, st.h.stdoutTTY = false, false
options:
	for len(args) > 0 {
		name, value, hasValue := strings.Cut(args[0], "=")
		switch name {
		case "-exit":
			n, err := strconv.Atoi(value)
			if err != nil || !hasValue {
				ts.Fatalf("usage: sesame -exit=N: %q", args[0])
			}
			want = n
		case "-stdin":
			if !hasValue {
				ts.Fatalf("usage: sesame -stdin=FILE")
			}
			stdin = ts.ReadFile(value)
		case "-person":
			st.h.person = true
		case "-stdout-tty":
			st.h.stdoutTTY = true
		default:
			break options
		}
		args = args[1:]
	}
	switch {
	case neg && want == 0:
		ts.Fatalf("! sesame needs the exit code it expects: ! sesame -exit=N ...")
	case !neg && want != 0:
		ts.Fatalf("sesame -exit=%d needs !: ! sesame -exit=%d ...", want, want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	st.h.opener = nil
	if st.interrupt {
		st.h.opener = interruptingBrowser{cancel}
	}
	r := st.h.runIn(ctx, strings.NewReader(stdin), ts.Getenv, args...)
	fmt.Fprint(ts.Stdout(), st.normalize(r.stdout))
	fmt.Fprint(ts.Stderr(), st.normalize(r.stderr))
	if r.code != want {
		ts.Fatalf("sesame %s: exit code %d, want %d", strings.Join(args, " "), r.code, want)
	}
}

// randomParams are the authorization URL's values drawn at random for each
// login (RFC 7636 challenge, OIDC nonce, state) and the loopback
// listener's port in its redirect_uri.
var randomParams = regexp.MustCompile(`\b(code_challenge|nonce|state)=[A-Za-z0-9_-]+|(redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A)[0-9]+`)

// normalize replaces what differs between runs by names a script can pin:
// $ISSUER (the server's URL), $WORK, $SESAME (this test binary),
// $USER_CODE (the last device flow's code), each token the server issued
// by $ACCESS_TOKEN_n, $REFRESH_TOKEN_n or $ID_TOKEN_n, numbered in the
// order the server issued them, and in authorization URLs $CODE_CHALLENGE,
// $NONCE, $STATE and the loopback $PORT.
func (st *scriptState) normalize(s string) string {
	as := st.h.as
	pairs := []string{as.Issuer(), "$ISSUER", st.work, "$WORK", st.self, "$SESAME"}
	if code := as.LastUserCode(); code != "" {
		pairs = append(pairs, code, "$USER_CODE")
	}
	var access, refresh, id int
	name := func(token, kind string, n *int) {
		if token != "" {
			*n++
			pairs = append(pairs, token, fmt.Sprintf("$%s_%d", kind, *n))
		}
	}
	for _, iss := range as.Issued() {
		name(iss.AccessToken, "ACCESS_TOKEN", &access)
		name(iss.RefreshToken, "REFRESH_TOKEN", &refresh)
		name(iss.IDToken, "ID_TOKEN", &id)
	}
	s = strings.NewReplacer(pairs...).Replace(s)
	return randomParams.ReplaceAllStringFunc(s, func(m string) string {
		sub := randomParams.FindStringSubmatch(m)
		if sub[1] != "" {
			return sub[1] + "=$" + strings.ToUpper(sub[1])
		}
		return sub[2] + "$PORT"
	})
}

// cmdAuthserver is `authserver [options]`: it exports the script's
// authorization server as ISSUER, CLIENT_ID and CA_FILE (its certificate,
// written to $WORK/ca.pem), and changes how the server behaves from now on:
//
//   - -deny=DESCRIPTION: the person refuses in the browser; the
//     error_description (Go escapes allowed, e.g. \x1b) is DESCRIPTION.
//     -deny= (empty) makes them approve again.
//   - -device=approve|deny|expire: the person approves or refuses the
//     device flow's code on another device before the first poll
//     (interval 1 s), or lets it expire.
//   - -revoke=STATUS: the revocation endpoint answers every request with
//     STATUS and revokes nothing.
//   - -no-revocation: the metadata names no revocation endpoint.
//   - -drop-token-responses=N: the next N token requests are carried out
//     and answered by closing the connection.
//   - -revoke-grant: the grant signed in last is revoked at the server, as
//     an administrator or a password change would.
//
// It may be run again to change the server's behaviour mid-script.
func cmdAuthserver(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! authserver")
	}
	st := stateOf(ts)
	as := st.h.as
	fs := flag.NewFlagSet("authserver", flag.ContinueOnError)
	deny := fs.String("deny", "", "")
	device := fs.String("device", "", "")
	revoke := fs.Int("revoke", 0, "")
	noRevocation := fs.Bool("no-revocation", false, "")
	drop := fs.Int("drop-token-responses", 0, "")
	revokeGrant := fs.Bool("revoke-grant", false, "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		ts.Fatalf("usage: authserver [-deny=DESCRIPTION] [-device=approve|deny|expire] [-revoke=STATUS] [-no-revocation] [-drop-token-responses=N] [-revoke-grant]")
	}
	if *revokeGrant && !as.Revoke(as.LatestRefreshToken()) {
		ts.Fatalf("authserver -revoke-grant: no grant to revoke")
	}
	var opts []authtest.Option
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "deny" {
			return
		}
		if *deny == "" {
			opts = append(opts, authtest.WithApprove())
			return
		}
		desc, err := strconv.Unquote(`"` + *deny + `"`)
		ts.Check(err)
		opts = append(opts, authtest.WithDeny(desc))
	})
	switch *device {
	case "":
	case "expire":
		opts = append(opts, authtest.WithDeviceTiming(10*time.Minute, time.Second), authtest.WithDevicePolls("expired_token"), authtest.WithTokenHook(nil))
	case "approve", "deny":
		decide := as.ApproveDevice
		if *device == "deny" {
			decide = as.DenyDevice
		}
		opts = append(opts,
			authtest.WithDeviceTiming(10*time.Minute, time.Second),
			authtest.WithTokenHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.PostForm.Get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code" {
					_ = decide(as.LastUserCode())
				}
				return false
			}))
	default:
		ts.Fatalf("authserver -device=%s: want approve, deny or expire", *device)
	}
	if *revoke != 0 {
		status := *revoke
		opts = append(opts, authtest.WithHook(authtest.PathRevoke, func(w http.ResponseWriter, r *http.Request) bool {
			http.Error(w, http.StatusText(status), status)
			return true
		}))
	}
	if *noRevocation {
		opts = append(opts, authtest.WithMetadataMutator(func(md map[string]any) { delete(md, "revocation_endpoint") }))
	}
	if *drop > 0 {
		opts = append(opts, authtest.WithDroppedTokenResponses(*drop))
	}
	as.Configure(opts...)

	caFile := filepath.Join(st.work, "ca.pem")
	ts.Check(os.WriteFile(caFile, as.Certificate(), 0o600))
	ts.Setenv("ISSUER", as.Issuer())
	ts.Setenv("CLIENT_ID", as.ClientID)
	ts.Setenv("CA_FILE", caFile)
}

// cmdBrowser is `browser follow|interrupt`: what the person does when
// sesame opens the browser. follow (the default) signs in; interrupt
// presses Ctrl-C in the terminal instead, which cancels the command.
func cmdBrowser(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || (args[0] != "follow" && args[0] != "interrupt") {
		ts.Fatalf("usage: browser follow|interrupt")
	}
	stateOf(ts).interrupt = args[0] == "interrupt"
}

// interruptingBrowser is a person who, shown the browser, presses Ctrl-C.
type interruptingBrowser struct{ ctrlC context.CancelFunc }

func (b interruptingBrowser) Open(ctx context.Context, url string) error {
	b.ctrlC()
	return nil
}

// cmdAdvance is `advance DURATION`: sesame's and the server's clock move
// forward.
func cmdAdvance(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: advance DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	stateOf(ts).h.advance(d)
}
