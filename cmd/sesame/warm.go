package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/redact"
)

// kubectl, git, docker and IDEs call sesame many times a minute, and most
// of those calls find a fresh access token in the volatile cache: the warm
// call, sesame's hot path. Its work is a configuration read and two
// system calls, less than building the command tree costs, let alone the
// signal handlers. So main first tries the call with runWarm, and builds
// the tree only when that declines.

// errNotWarm is freshToken's answer in a warm call when the cache has no
// fresh token for the profile: the command tree then does the call.
var errNotWarm = errors.New("no fresh token in the volatile cache")

// warmCall is a helper command line as the command tree would parse it.
type warmCall struct {
	command       string // token, kubectl, git-credential or docker-credential
	op            string // git-credential's and docker-credential's argument
	profile       string
	profileGiven  bool
	resource      string
	requireScopes []string
	token         tokenOptions
}

// runWarm answers a helper call from the volatile token cache without
// the command tree: `token`, `kubectl`, `git-credential get|store` and
// `docker-credential get`, with the flags their configurations pass
// (-p, --resource, --require-scope, and token's --output, --min-ttl and
// --reveal). It runs the commands' own code (runToken, runKubectl, ...)
// with the app the tree would build, in warm mode, where freshToken takes
// a cached token or none (session.Grant.Cached): the keychain, the lock
// and the network are never reached, and nothing is written but the
// answer.
//
// It returns handled false, having written nothing, for anything else:
// a command line with something the tree might treat otherwise (help,
// another flag or spelling, a usage mistake, --debug), no fresh cached
// token, or an error before any output. The caller then runs the tree,
// which does the call from the start and says whatever is to be said;
// runWarm puts what it read of stdin back in env.Stdin for it. An error
// after output has begun (a stdout that cannot be written) is reported
// here, as the tree would report it.
func runWarm(args []string, env *Env) (code int, handled bool) {
	c, ok := parseWarm(args)
	if !ok || env.Getenv("SESAME_DEBUG") != "" || env.Getenv("SESAME_DEBUG_FILE") != "" {
		return 0, false
	}
	if c.profileGiven && profile.ValidateName(c.profile) != nil {
		return 0, false
	}
	stdin := &stdinTap{r: env.Stdin}
	stdout, stderr := &touchWriter{w: env.Stdout}, &touchWriter{w: env.Stderr}
	warmEnv := *env
	warmEnv.Stdin, warmEnv.Stdout, warmEnv.Stderr = stdin, stdout, stderr
	a := &app{
		env:           &warmEnv,
		profileName:   c.profile,
		resource:      c.resource,
		requireScopes: c.requireScopes,
		log:           redact.New(nil, false),
		warm:          true,
	}
	ctx := context.Background()
	var err error
	switch c.command {
	case "token":
		err = runToken(ctx, a, &c.token)
	case "kubectl":
		err = runKubectl(ctx, a)
	case "git-credential":
		err = runGitCredential(ctx, a, c.op, c.profileGiven || env.Getenv("SESAME_PROFILE") != "")
	case "docker-credential":
		err = runDockerCredential(ctx, a, c.op)
	}
	switch {
	case err == nil:
		return exitOK, true
	case !stdout.touched && !stderr.touched:
		if stdin.used() {
			env.Stdin = stdin.replay()
		}
		return 0, false
	case c.command == "docker-credential":
		return a.exit(a.dockerError(err)), true
	default:
		return a.exit(err), true
	}
}

// parseWarm parses a helper command line for runWarm. It takes only what
// the command tree would parse the same way without a doubt: the command
// first, then its flags in their plain spellings (-p NAME, --profile NAME
// or --profile=NAME, --flag VALUE or --flag=VALUE, a bare boolean flag),
// no value empty or starting with "-", and the arguments the command
// takes. ok is false for anything else.
func parseWarm(args []string) (c warmCall, ok bool) {
	if len(args) == 0 {
		return c, false
	}
	c.command = args[0]
	c.token.output = "raw"
	var operands []string
	for rest := args[1:]; len(rest) > 0; {
		arg := rest[0]
		rest = rest[1:]
		if !strings.HasPrefix(arg, "-") {
			operands = append(operands, arg)
			continue
		}
		name, inline, hasInline := strings.Cut(arg, "=")
		value := func() (string, bool) {
			v := inline
			if !hasInline {
				if len(rest) == 0 {
					return "", false
				}
				v, rest = rest[0], rest[1:]
			}
			return v, v != "" && !strings.HasPrefix(v, "-")
		}
		var v string
		switch {
		case name == "-p" || name == "--profile":
			v, ok = value()
			c.profile, c.profileGiven = v, true
		case name == "--resource":
			v, ok = value()
			c.resource = v
		case name == "--require-scope":
			v, ok = value()
			c.requireScopes = append(c.requireScopes, v)
		case name == "--output" && c.command == "token":
			v, ok = value()
			c.token.output = v
		case name == "--min-ttl" && c.command == "token":
			if v, ok = value(); ok {
				c.token.minTTL, ok = parseDuration(v)
			}
		case name == "--reveal" && c.command == "token" && !hasInline:
			c.token.reveal, ok = true, true
		default:
			ok = false
		}
		if !ok {
			return c, false
		}
	}
	switch c.command {
	case "token", "kubectl":
		return c, len(operands) == 0
	case "git-credential", "docker-credential":
		if len(operands) != 1 {
			return c, false
		}
		// git's erase may change the stored grant, and docker's other
		// operations come seldom: the tree does them.
		c.op = operands[0]
		return c, c.op == "get" || c.op == "store" && c.command == "git-credential"
	}
	return c, false
}

// parseDuration is --min-ttl's value as pflag parses it.
func parseDuration(s string) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	return d, err == nil
}

// touchWriter passes writes on and remembers that there were some.
type touchWriter struct {
	w       io.Writer
	touched bool
}

func (t *touchWriter) Write(p []byte) (int, error) {
	t.touched = true
	return t.w.Write(p)
}

// stdinTap passes stdin on and keeps what it read, so that the command
// tree, when it does the call after all, reads the same input.
type stdinTap struct {
	r    io.Reader
	read bytes.Buffer
	err  error // what ended the reading, io.EOF included
}

func (t *stdinTap) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.r.Read(p)
	t.read.Write(p[:n])
	t.err = err
	return n, err
}

func (t *stdinTap) used() bool { return t.read.Len() > 0 || t.err != nil }

// replay is stdin as the tree must see it: what was read, then what ended
// the reading (end of input must not be asked of a terminal twice), or
// else the rest.
func (t *stdinTap) replay() io.Reader {
	rest := t.r
	if t.err != nil {
		rest = failedReader{t.err}
	}
	return io.MultiReader(bytes.NewReader(t.read.Bytes()), rest)
}

// failedReader returns err on every read.
type failedReader struct{ err error }

func (r failedReader) Read([]byte) (int, error) { return 0, r.err }
