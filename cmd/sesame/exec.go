package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/spf13/cobra"
)

const defaultExecEnv = "SESAME_ACCESS_TOKEN"

// validEnvName reports whether name is a portable environment variable
// name: letters, digits and '_', not starting with a digit.
func validEnvName(name string) bool {
	for i, c := range name {
		letter := c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return name != ""
}

type execOptions struct {
	env string
}

func newExecCmd(a *app) *cobra.Command {
	o := &execOptions{}
	cmd := &cobra.Command{
		Use:   "exec [--env VAR] [--] COMMAND [ARG...]",
		Short: "Run a command with a fresh access token in one environment variable",
		Long: `Run COMMAND with a fresh access token in the environment variable VAR (default
SESAME_ACCESS_TOKEN). This is the one place sesame puts a token into an environment, and
only because you asked: the token is visible to COMMAND and to everything it starts.
sesame is replaced by COMMAND, so its exit code and signals are COMMAND's. sesame's own
flags end at COMMAND: what follows it is COMMAND's, flags included; '--' before COMMAND is
needed only when COMMAND itself starts with '-'.`,
		Example: `  sesame exec -p work -- sh -c 'curl -H "Authorization: Bearer $SESAME_ACCESS_TOKEN" https://api.example.com/'
  sesame exec -p work --env GITHUB_TOKEN gh api user`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("exec needs a command: sesame exec -- COMMAND [ARG...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExec(cmd.Context(), a, o, args)
		},
	}
	// Flags after COMMAND are COMMAND's: `sesame exec -p work curl -s URL`
	// runs curl -s rather than failing on sesame's unknown -s.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&o.env, "env", defaultExecEnv, "name of the environment variable that receives the token")
	addResourceFlag(cmd, a)
	return cmd
}

func runExec(ctx context.Context, a *app, o *execOptions, args []string) error {
	if !validEnvName(o.env) {
		return usageErrorf("invalid --env %q: a variable name of letters, digits and '_'", o.env)
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return cannotRun(args[0], err)
	}
	_, p, err := a.requireProfile()
	if err != nil {
		return err
	}
	rec, err := a.freshToken(ctx, p, 0, a.interactive())
	if err != nil {
		return err
	}
	env := append(withoutVar(os.Environ(), o.env), o.env+"="+rec.AccessToken)
	replace := execReplace
	if a.env.Exec != nil {
		replace = a.env.Exec
	}
	return replace(path, args, env)
}

// cannotRun says that the program name could not be started, naming it
// once: exec.Error names it again ("exec: \"x\": executable file not found
// in $PATH").
func cannotRun(name string, err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	return fmt.Errorf("cannot run %q: %w", name, err)
}

// withoutVar drops every NAME= entry, so the child sees exactly one value.
func withoutVar(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if len(kv) > len(name) && kv[:len(name)+1] == name+"=" {
			continue
		}
		out = append(out, kv)
	}
	return out
}
