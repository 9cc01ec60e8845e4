package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sesame-auth/sesame/internal/authtest"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/keychain"
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
			"sesame":      cmdSesame,
			"authserver":  cmdAuthserver,
			"browser":     cmdBrowser,
			"advance":     cmdAdvance,
			"docker-host": cmdDockerHost,
			"keychain":    cmdKeychain,
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
	// browser is what the person does when the browser opens: "follow"
	// (sign in), "interrupt" (Ctrl-C instead), "fail" (it does not open)
	// or "elsewhere" (it opens on another machine; see cmdBrowser).
	browser string
	// omitted are the metadata fields the server leaves out.
	omitted []string
	// clients are the client ids the server registered, in order.
	clients []string
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
	st.h.clock.epoch = scriptEpoch
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
	// The path setup writes into configurations, for scripts to look for.
	env.Setenv("SESAME", self)
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
//   - -stdin=FILE: the command's standard input is FILE, with the names
//     normalize gives put back (the script's stdin command feeds only
//     exec).
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
			stdin = st.denormalize(ts.ReadFile(value))
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
	var in io.Reader = strings.NewReader(stdin)
	switch st.browser {
	case "interrupt":
		st.h.opener = interruptingBrowser{cancel}
	case "fail":
		st.h.opener = failingBrowser{}
	case "elsewhere":
		pasted, paste := io.Pipe()
		defer func() { _ = pasted.Close() }() // ends a paste nobody reads
		in = io.MultiReader(in, pasted)
		st.h.opener = elsewhereBrowser(st.h.t, st.h.as, paste)
	}
	r := st.h.runIn(ctx, in, ts.Getenv, args...)
	for _, id := range st.h.as.RegisteredClients() {
		if !slices.Contains(st.clients, id) {
			st.clients = append(st.clients, id)
		}
	}
	_, err := io.WriteString(ts.Stdout(), st.normalize(r.stdout))
	ts.Check(err)
	_, err = io.WriteString(ts.Stderr(), st.normalize(r.stderr))
	ts.Check(err)
	if r.code != want {
		ts.Fatalf("sesame %s: exit code %d, want %d", strings.Join(args, " "), r.code, want)
	}
}

// randomParams are the authorization URL's values drawn at random for each
// login (RFC 7636 challenge, OIDC nonce, state) and the loopback
// listener's port in its redirect_uri.
var randomParams = regexp.MustCompile(`\b(code_challenge|nonce|state)=[A-Za-z0-9_-]+|(redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A)[0-9]+|(http://127\.0\.0\.1:)[0-9]+/start/[A-Za-z0-9_-]+|(\bhttp://127\.0\.0\.1:)[0-9]+`)

// normalize replaces what differs between runs by names a script can pin:
// $ISSUER (the server's URL), $WORK, $SESAME (this test binary),
// $USER_CODE (the last device flow's code), each token the server issued
// by $ACCESS_TOKEN_n, $REFRESH_TOKEN_n or $ID_TOKEN_n, numbered in the
// order the server issued them, each client it registered by
// $REGISTERED_CLIENT_n, in authorization URLs $CODE_CHALLENGE, $NONCE,
// $STATE and the loopback $PORT, in the start link $PORT and $START_KEY,
// and $PORT for the port of any other http://127.0.0.1 URL (a redirect URI
// in a hint).
func (st *scriptState) normalize(s string) string {
	var pairs []string
	for _, n := range st.names() {
		pairs = append(pairs, n.value, n.name)
	}
	s = strings.NewReplacer(pairs...).Replace(s)
	return randomParams.ReplaceAllStringFunc(s, func(m string) string {
		sub := randomParams.FindStringSubmatch(m)
		switch {
		case sub[1] != "":
			return sub[1] + "=$" + strings.ToUpper(sub[1])
		case sub[3] != "":
			return sub[3] + "$PORT/start/$START_KEY"
		case sub[4] != "":
			return sub[4] + "$PORT"
		}
		return sub[2] + "$PORT"
	})
}

// denormalize puts the values back in place of the names of normalize (but
// for the random URL parameters), so a script can feed sesame what it
// printed, e.g. the token git hands back to erase.
func (st *scriptState) denormalize(s string) string {
	names := st.names()
	// The longest name first: $ACCESS_TOKEN_10 is not $ACCESS_TOKEN_1.
	slices.SortStableFunc(names, func(a, b namedValue) int { return len(b.name) - len(a.name) })
	var pairs []string
	for _, n := range names {
		pairs = append(pairs, n.name, n.value)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

type namedValue struct{ name, value string }

// names are the values normalize replaces and their names.
func (st *scriptState) names() []namedValue {
	as := st.h.as
	names := []namedValue{{"$ISSUER", as.Issuer()}, {"$WORK", st.work}, {"$SESAME", st.self}}
	if code := as.LastUserCode(); code != "" {
		names = append(names, namedValue{"$USER_CODE", code})
	}
	var access, refresh, id int
	add := func(token, kind string, n *int) {
		if token != "" {
			*n++
			names = append(names, namedValue{fmt.Sprintf("$%s_%d", kind, *n), token})
		}
	}
	for _, iss := range as.Issued() {
		add(iss.AccessToken, "ACCESS_TOKEN", &access)
		add(iss.RefreshToken, "REFRESH_TOKEN", &refresh)
		add(iss.IDToken, "ID_TOKEN", &id)
	}
	var clients int
	for _, c := range st.clients {
		add(c, "REGISTERED_CLIENT", &clients)
	}
	return names
}

// cmdAuthserver is `authserver [options]`: it exports the script's
// authorization server as ISSUER, CLIENT_ID, CA_FILE (its certificate,
// written to $WORK/ca.pem) and AS_HOST (its host:port, for --host), and changes how the server behaves from now on:
//
//   - -deny=DESCRIPTION: the person refuses in the browser; the
//     error_description (Go escapes allowed, e.g. \x1b) is DESCRIPTION.
//     -deny= (empty) makes them approve again.
//   - -device=approve|deny|expire: the person approves or refuses the
//     device flow's code on another device before the first poll
//     (interval 1 s), or lets it expire.
//   - -verification-uri=URI: the device flow's verification page is URI.
//   - -revoke=STATUS: the revocation endpoint answers every request with
//     STATUS and revokes nothing; 0 restores it.
//   - -no-revocation, -no-device: the metadata names no revocation or no
//     device authorization endpoint; =false restores it.
//   - -dpop: the server binds tokens to DPoP keys (RFC 9449).
//   - -registration: the server registers clients (RFC 7591).
//   - -deregister=STATUS: the clients registered so far cannot be deleted:
//     their configuration endpoint answers STATUS (RFC 7592).
//   - -drop-token-responses=N: the next N token requests are carried out
//     and answered by closing the connection.
//   - -revoke-grant: the grant signed in last is revoked at the server, as
//     an administrator or a password change would.
//   - -github: the server answers as GitHub does (gitHubBehaviour): no
//     discovery, GitHub's paths, form answers unless JSON is asked for.
//
// It may be run again to change the server's behaviour mid-script.
func cmdAuthserver(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! authserver")
	}
	st := stateOf(ts)
	as := st.h.as
	fs := flag.NewFlagSet("authserver", flag.ContinueOnError)
	fs.SetOutput(ts.Stderr())
	deny := fs.String("deny", "", "")
	device := fs.String("device", "", "")
	verificationURI := fs.String("verification-uri", "", "")
	revoke := fs.Int("revoke", 0, "")
	noRevocation := fs.Bool("no-revocation", false, "")
	noDevice := fs.Bool("no-device", false, "")
	dpop := fs.Bool("dpop", false, "")
	registration := fs.Bool("registration", false, "")
	deregister := fs.Int("deregister", 0, "")
	drop := fs.Int("drop-token-responses", 0, "")
	revokeGrant := fs.Bool("revoke-grant", false, "")
	strictOffline := fs.Bool("strict-offline", false, "")
	confidential := fs.Bool("confidential", false, "")
	oneGrant := fs.Bool("one-grant", false, "")
	userinfoOnly := fs.Bool("userinfo-only", false, "")
	subject := fs.String("subject", "", "")
	par := fs.Bool("par", false, "")
	redirectHosts := fs.String("redirect-hosts", "", "")
	github := fs.Bool("github", false, "")
	refreshExpiresIn := fs.Int("refresh-expires-in", 0, "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		ts.Fatalf("usage: authserver [-deny=DESCRIPTION] [-device=approve|deny|expire] [-verification-uri=URI] [-revoke=STATUS] [-no-revocation] [-no-device] [-dpop] [-registration] [-deregister=STATUS] [-drop-token-responses=N] [-revoke-grant] [-strict-offline] [-confidential] [-one-grant] [-userinfo-only] [-subject=SUB] [-par] [-redirect-hosts=HOST,...] [-refresh-expires-in=SECONDS] [-github]")
	}
	var opts []authtest.Option
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "deny":
			if *deny == "" {
				opts = append(opts, authtest.WithApprove())
				break
			}
			desc, err := strconv.Unquote(`"` + *deny + `"`)
			ts.Check(err)
			opts = append(opts, authtest.WithDeny(desc))
		case "device":
			opts = append(opts, authtest.WithDeviceTiming(10*time.Minute, time.Second), st.deviceDecision(ts, *device))
			if *device == "expire" {
				opts = append(opts, authtest.WithDevicePolls("expired_token"))
			}
		case "verification-uri":
			opts = append(opts, authtest.WithVerificationURI(*verificationURI, ""))
		case "revoke":
			opts = append(opts, authtest.WithHook(authtest.PathRevoke, answerStatus(*revoke)))
		case "no-revocation":
			st.omitMetadata("revocation_endpoint", *noRevocation)
		case "no-device":
			st.omitMetadata("device_authorization_endpoint", *noDevice)
		case "dpop":
			if *dpop {
				opts = append(opts, authtest.WithDPoP(authtest.DPoPOptions{}))
			}
		case "registration":
			if *registration {
				opts = append(opts, authtest.WithRegistration())
			}
		case "deregister":
			for _, id := range as.RegisteredClients() {
				opts = append(opts, authtest.WithHook(authtest.PathRegister+"/"+id, answerStatus(*deregister)))
			}
		case "drop-token-responses":
			opts = append(opts, authtest.WithDroppedTokenResponses(*drop))
		case "strict-offline":
			opts = append(opts, authtest.WithStrictOfflineAccess(*strictOffline))
		case "confidential":
			opts = append(opts, authtest.WithConfidentialClient(*confidential))
		case "one-grant":
			opts = append(opts, authtest.WithOneGrantPerClient(*oneGrant))
		case "userinfo-only":
			opts = append(opts, authtest.WithClaimsOnlyInUserinfo(*userinfoOnly))
		case "subject":
			// Gitea's: a number for sub, the login name in
			// preferred_username.
			opts = append(opts, authtest.WithUser(authtest.User{Subject: *subject, Username: "alice", Email: "alice@example.test", Name: "Alice Example"}))
		case "par":
			if *par {
				opts = append(opts, authtest.WithPAR(false))
			}
		case "redirect-hosts":
			opts = append(opts, authtest.WithRedirectHosts(strings.Split(*redirectHosts, ",")...))
		case "github":
			if *github {
				opts = append(opts, gitHubBehaviour(as)...)
			}
		case "refresh-expires-in":
			// Keycloak's refresh_expires_in: the refresh token's lifetime.
			n := *refreshExpiresIn
			opts = append(opts, authtest.WithTokenResponseMutator(func(resp map[string]any) {
				if _, ok := resp["refresh_token"]; ok && n > 0 {
					resp["refresh_expires_in"] = n
				}
			}))
		case "revoke-grant":
			if *revokeGrant && !as.Revoke(as.LatestRefreshToken()) {
				ts.Fatalf("authserver -revoke-grant: no grant to revoke")
			}
		}
	})
	omitted := st.omitted
	opts = append(opts, authtest.WithMetadataMutator(func(md map[string]any) {
		for _, k := range omitted {
			delete(md, k)
		}
	}))
	as.Configure(opts...)

	caFile := filepath.Join(st.work, "ca.pem")
	ts.Check(os.WriteFile(caFile, as.Certificate(), 0o600))
	ts.Setenv("ISSUER", as.Issuer())
	ts.Setenv("CLIENT_ID", as.ClientID)
	ts.Setenv("CA_FILE", caFile)
	ts.Setenv("AS_HOST", strings.TrimPrefix(as.URL(), "https://"))
}

// deviceDecision is the token hook that plays the person of -device: it
// approves or denies the device code just before the poll is answered.
func (st *scriptState) deviceDecision(ts *testscript.TestScript, decision string) authtest.Option {
	as := st.h.as
	var decide func(userCode string) error
	switch decision {
	case "approve":
		decide = as.ApproveDevice
	case "deny":
		decide = as.DenyDevice
	case "expire":
		return authtest.WithTokenHook(nil)
	default:
		ts.Fatalf("authserver -device=%s: want approve, deny or expire", decision)
	}
	return authtest.WithTokenHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.PostForm.Get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code" {
			_ = decide(as.LastUserCode())
		}
		return false
	})
}

// omitMetadata adds key to the metadata the server leaves out, or with
// omit false takes it back.
func (st *scriptState) omitMetadata(key string, omit bool) {
	st.omitted = slices.DeleteFunc(st.omitted, func(k string) bool { return k == key })
	if omit {
		st.omitted = append(st.omitted, key)
	}
}

// answerStatus is a hook that answers every request with status, or with
// status 0 is no hook at all.
func answerStatus(status int) authtest.Hook {
	if status == 0 {
		return nil
	}
	return func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, http.StatusText(status), status)
		return true
	}
}

// cmdBrowser is `browser follow|interrupt|fail|elsewhere`: what the
// person does when sesame opens the browser. follow (the default) signs
// in; interrupt presses Ctrl-C in the terminal instead, which cancels the
// command; with fail the browser does not open; with elsewhere it opens on
// another machine, which cannot reach sesame's listener: the person signs
// in there and pastes into sesame's stdin first the address with its state
// mangled, then the address the browser ended on.
func cmdBrowser(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || !slices.Contains([]string{"follow", "interrupt", "fail", "elsewhere"}, args[0]) {
		ts.Fatalf("usage: browser follow|interrupt|fail|elsewhere")
	}
	stateOf(ts).browser = args[0]
}

// failingBrowser is a launcher that cannot open a browser.
type failingBrowser struct{}

func (failingBrowser) Open(context.Context, string) error {
	return errors.New("xdg-open: no method available for opening the URL")
}

// elsewhereBrowser signs in at as and, instead of delivering the callback,
// has the person paste it (see cmdBrowser).
func elsewhereBrowser(t testing.TB, as *authtest.Server, paste *io.PipeWriter) *authtest.Browser {
	return authtest.NewBrowser(t, as, authtest.BrowserCallbackScript(func(_ context.Context, cb *url.URL) {
		mangled := *cb
		q := mangled.Query()
		q.Set("state", "mangled")
		mangled.RawQuery = q.Encode()
		_, _ = io.WriteString(paste, mangled.String()+"\n")
		_, _ = io.WriteString(paste, cb.String()+"\n")
	}))
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

// cmdDockerHost is `docker-host PROFILE REGISTRY`: it adds REGISTRY to the
// profile's docker hosts in the configuration file, as a person does by
// hand (no command writes them).
func cmdDockerHost(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: docker-host PROFILE REGISTRY")
	}
	cfg, err := profile.Load(ts.Getenv("SESAME_CONFIG_DIR"))
	ts.Check(err)
	p := cfg.Profile(args[0])
	if p == nil {
		ts.Fatalf("docker-host: no profile %q", args[0])
	}
	p.DockerHosts = append(p.DockerHosts, args[1])
	ts.Check(cfg.Save())
}

// cmdKeychain is `keychain memory|unavailable|locked|full|file`: the
// credential store the following commands get. memory (the default) is a
// working keychain; unavailable and locked are an OS keychain that is not
// there or stays locked, full one that reads but refuses to store (their
// errors are the bare sentinels, so only the hints are sesame's own
// words); file is no keychain and SESAME_STORE=file, the grant file store
// in $WORK/grants.
func cmdKeychain(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: keychain memory|unavailable|locked|full|file"
	if neg || len(args) != 1 {
		ts.Fatalf(usage)
	}
	h := stateOf(ts).h
	switch args[0] {
	case "memory":
		h.altStore = nil
	case "unavailable":
		h.altStore = unavailableStore{}
	case "locked":
		h.altStore = lockedStore{}
	case "full":
		h.altStore = fullStore{h.store}
	case "file":
		h.altStore = &keychain.Fallback{Primary: unavailableStore{}, Secondary: keychain.NewFile(filepath.Join(stateOf(ts).work, "grants"))}
	default:
		ts.Fatalf(usage)
	}
}

// lockedStore is a keychain that stays locked.
type lockedStore struct{}

func (lockedStore) Get(context.Context, string) (*keychain.Record, error) {
	return nil, keychain.ErrLocked
}
func (lockedStore) Set(context.Context, string, *keychain.Record) error { return keychain.ErrLocked }
func (lockedStore) Delete(context.Context, string) error                { return keychain.ErrLocked }
func (lockedStore) Name() string                                        { return "secret-service" }

// fullStore is a keychain that reads but stores nothing more.
type fullStore struct{ keychain.Store }

func (fullStore) Set(context.Context, string, *keychain.Record) error { return keychain.ErrTooLarge }
