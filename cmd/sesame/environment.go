package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// envVar is one environment variable sesame reads, for `sesame help
// environment` and the man page's ENVIRONMENT section. Every Getenv in
// cmd/ and internal/ names its variable here (TestEnvironmentHelp_Complete).
type envVar struct{ name, meaning string }

// envGroup is a heading and its variables.
type envGroup struct {
	heading string
	vars    []envVar
}

var environmentVars = []envGroup{
	{"sesame's own:", []envVar{
		{"SESAME_PROFILE", `the profile when -p is not given (default "default")`},
		{"SESAME_CONFIG_DIR", "the directory of config.json (default: $XDG_CONFIG_HOME/sesame or ~/.config/sesame; ~/Library/Application Support/sesame on macOS, %AppData%\\sesame on Windows)"},
		{"SESAME_DEBUG", "any value: --debug, a log of requests and decisions on stderr, secrets redacted"},
		{"SESAME_DEBUG_FILE", "--debug-file: append the same log, time-stamped, to this file (0600)"},
		{"SESAME_STORE", `"file": keep grants in files (0600) on a machine without a keychain; "keychain" (the default): the OS keychain only`},
		{"SESAME_STATE_DIR", "with SESAME_STORE=file, grants go in its grants directory (default: $XDG_STATE_HOME/sesame/grants, else ~/.local/state/sesame/grants)"},
		{"SESAME_CLIENT_SECRET", "login with a --provider whose installed apps get a client secret (google): the secret, kept in the keychain and sent only to the token endpoint; not confidential (RFC 8252 §8.5); --client-secret-stdin reads it instead"},
	}},
	{"read from the system and the tools sesame serves:", []envVar{
		{"HOME, USERPROFILE", "the home directory (USERPROFILE on Windows): configuration, grant files, docker's ~/.docker"},
		{"XDG_CONFIG_HOME", "the base of the configuration directory (Linux)"},
		{"XDG_STATE_HOME", "the base of the grant file store (SESAME_STORE=file)"},
		{"XDG_RUNTIME_DIR", "lock files go in its sesame directory (default: the user cache directory's sesame/locks)"},
		{"XDG_CACHE_HOME", "the base of the lock directory when XDG_RUNTIME_DIR is not set"},
		{"DBUS_SESSION_BUS_ADDRESS", "the D-Bus session of the Secret Service keychain (Linux)"},
		{"BROWSER", "the program that opens the sign-in page (a profile's browser_command wins)"},
		{"DISPLAY, WAYLAND_DISPLAY", "--flow auto on Linux and over SSH: without a display (or BROWSER), login uses the device flow"},
		{"SSH_CONNECTION, SSH_TTY", "--flow auto: over SSH, a browser opens only with a forwarded display"},
		{"HTTPS_PROXY, HTTP_PROXY, NO_PROXY", "the proxy for requests to the authorization server"},
		{"SSL_CERT_FILE, SSL_CERT_DIR", "the system's CA certificates (Linux); a profile's --ca-file adds to them"},
		{"KUBERNETES_EXEC_INFO", "kubectl's cluster information, checked against the profile's kube server"},
		{"GIT_TERMINAL_PROMPT", `"0": git-credential never starts a login`},
		{"DOCKER_CONFIG", "setup docker: the directory of docker's config.json (default ~/.docker)"},
		{"PATH", "exec finds COMMAND on it; setup docker looks for docker-credential-sesame on it"},
		{"KUBECONFIG, GIT_CONFIG_GLOBAL", "passed on to the kubectl and git that setup and logout --forget run"},
	}},
	{"set by sesame:", []envVar{
		{"SESAME_ACCESS_TOKEN", "exec: the access token, in COMMAND's environment only (--env names another variable)"},
	}},
}

// environmentText is the help topic's text, wrapped for a terminal.
func environmentText() string {
	var b strings.Builder
	b.WriteString("The environment variables sesame reads. A flag given on the command line wins over the\nvariable it stands for.\n")
	for _, g := range environmentVars {
		b.WriteString("\n" + g.heading + "\n")
		for _, v := range g.vars {
			b.WriteString("  " + v.name + "\n")
			for _, l := range wrapWords(v.meaning, 84) {
				b.WriteString("      " + l + "\n")
			}
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// wrapWords breaks s into lines of at most width bytes, at spaces.
func wrapWords(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// newEnvironmentTopic is `sesame help environment`: a help topic, not a
// command (cobra lists it under "Additional help topics").
func newEnvironmentTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "environment",
		Short: "The environment variables sesame reads",
		Long:  environmentText(),
	}
}
