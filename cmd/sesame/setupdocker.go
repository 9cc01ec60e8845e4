package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/credhelper"
	"github.com/sesame-auth/sesame/internal/profile"
)

// dockerHelperName is the helper name docker's credHelpers gives: docker
// runs "docker-credential-" + it from PATH.
const (
	dockerHelperName    = "sesame"
	dockerHelperProgram = "docker-credential-" + dockerHelperName
)

type setupDockerOptions struct {
	registries []string
	username   string
	apply      bool
}

func newSetupDockerCmd(a *app) *cobra.Command {
	o := &setupDockerOptions{}
	cmd := &cobra.Command{
		Use:   "docker [--registry HOST]... [--apply]",
		Short: "Print (or --apply) docker's credHelpers entries for the profile's registries",
		Long: `Add the --registry hosts to the profile's docker registries and print the "credHelpers"
entries of docker's config.json ($DOCKER_CONFIG/config.json, else ~/.docker/config.json)
that make docker ask sesame for those registries' credentials. --apply writes them into
the file, keeping everything else in it; a config.json that is not valid JSON is left as
it is, and setup exits 1 saying where it does not parse. --username saves the user name
answered to docker (default oauth2accesstoken), for registries that check it.
Docker runs the helper as docker-credential-sesame from PATH: 'make install' makes that
link to sesame, or make it yourself (setup says how when it is missing).`,
		Example: `  sesame setup docker -p work --registry registry.example.com
  sesame setup docker -p work --registry registry.example.com --apply`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSetupDocker(cmd.Context(), a, o)
		},
	}
	cmd.Flags().StringArrayVar(&o.registries, "registry", nil, "a registry host, with an optional :port, saved in the profile (repeatable)")
	cmd.Flags().StringVar(&o.username, "username", "", "user name to answer docker with, saved in the profile (default "+profile.DefaultDockerUsername+")")
	cmd.Flags().BoolVar(&o.apply, "apply", false, "write the entries into docker's config.json instead of only printing them")
	return cmd
}

func runSetupDocker(ctx context.Context, a *app, o *setupDockerOptions) error {
	_, p, err := a.requireProfile()
	if err != nil {
		return err
	}
	for _, r := range o.registries {
		if !slices.Contains(p.DockerHosts, r) {
			p.DockerHosts = append(p.DockerHosts, r)
		}
	}
	if o.username != "" {
		p.DockerUsername = o.username
	}
	if err := p.Validate(); err != nil {
		return &usageError{msg: err.Error()}
	}
	if len(p.DockerHosts) == 0 {
		return usageErrorf("profile %q has no docker registries: give one with --registry HOST", p.Name)
	}
	if len(o.registries) > 0 || o.username != "" {
		err := a.updateConfig(ctx, func(c *profile.Config) error {
			cp := c.Profile(p.Name)
			if cp == nil {
				return fmt.Errorf("profile %q was removed meanwhile", p.Name)
			}
			for _, r := range o.registries {
				if !slices.Contains(cp.DockerHosts, r) {
					cp.DockerHosts = append(cp.DockerHosts, r)
				}
			}
			if o.username != "" {
				cp.DockerUsername = o.username
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	path, err := dockerConfigPath(a.env.Getenv)
	if err != nil {
		return err
	}
	entries, _, err := credhelper.SetDockerCredHelpers(nil, dockerHelperName, p.DockerHosts)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(a.env.Stdout, "# the entries for %s (beside what is in it):\n%s", path, entries); err != nil {
		return err
	}
	if o.apply {
		if err := applyDockerConfig(a, path, p.DockerHosts); err != nil {
			return err
		}
	}
	if !onPath(dockerHelperProgram, a.env.Getenv("PATH")) {
		self, err := selfPath()
		if err != nil {
			return err
		}
		a.warn("docker runs " + dockerHelperProgram + " from PATH, and there is none")
		a.say("link it to sesame in a directory on PATH: ln -s " + shellQuote(self) + " ~/.local/bin/" + dockerHelperProgram + " (or run 'make install')")
	}
	return nil
}

// applyDockerConfig writes the credHelpers entries for registries into the
// config.json at path, atomically and with the file's mode, or creates it.
func applyDockerConfig(a *app, path string, registries []string) error {
	var replaced map[string]string
	path, err := rewriteFile(path, func(old []byte) ([]byte, bool, error) {
		data, r, err := credhelper.SetDockerCredHelpers(old, dockerHelperName, registries)
		replaced = r
		return data, true, err
	})
	var ce *credhelper.DockerConfigError
	if errors.As(err, &ce) {
		return withHint(fmt.Errorf("%s is %w", path, err), "fix it (docker cannot read it either), then run setup again; sesame changed nothing")
	}
	if err != nil {
		return err
	}
	for _, r := range registries {
		if h, ok := replaced[r]; ok {
			a.say(fmt.Sprintf("%s: registry %q used helper %q before", path, r, h))
		}
	}
	a.say("wrote the credHelpers entries into " + path)
	return nil
}

// rewriteFile replaces the file at path (where it points, if it is a
// link) with what edit makes of its content (nil when there is no file),
// atomically and with the file's mode (0600 for a new file, in a new 0700
// directory), when edit says to write. It returns the path it wrote.
func rewriteFile(path string, edit func(old []byte) (data []byte, write bool, err error)) (string, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	old, err := os.ReadFile(path)
	mode := fs.FileMode(0o600)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	case err != nil:
		return path, err
	default:
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm()
		}
	}
	data, write, err := edit(old)
	if err != nil || !write {
		return path, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return path, err
	}
	return path, writeFileAtomic(path, data, mode)
}

// dockerConfigPath is docker's config.json: in $DOCKER_CONFIG, else in
// ~/.docker.
func dockerConfigPath(getenv func(string) string) (string, error) {
	if dir := getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json"), nil
	}
	home := getenv("HOME")
	if runtime.GOOS == "windows" {
		home = firstNonEmpty(getenv("USERPROFILE"), home)
	}
	if home == "" {
		return "", errors.New("cannot find docker's config.json: neither DOCKER_CONFIG nor HOME is set")
	}
	return filepath.Join(home, ".docker", "config.json"), nil
}

// writeFileAtomic replaces path with data by a temporary file in the same
// directory, fsync and rename: a crash leaves the old file or the new one,
// never half of one.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	err = tmp.Chmod(mode)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// onPath reports whether an executable file name is in one of pathList's
// directories, as the shell and docker look for it.
func onPath(name, pathList string) bool {
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			continue
		}
		st, err := os.Stat(filepath.Join(dir, name))
		if err == nil && st.Mode().IsRegular() && (runtime.GOOS == "windows" || st.Mode().Perm()&0o111 != 0) {
			return true
		}
	}
	return false
}
