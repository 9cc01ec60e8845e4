package profile

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// RelativeCAFileError is the error of a profile whose ca_file is not an
// absolute path. A relative path would be read from the working directory
// of each process that uses the profile: git runs credential helpers at the
// top of the repository, so a repository that ships a ca.pem would add a
// trusted root. Such a profile is refused when the configuration loads.
type RelativeCAFileError struct {
	Profile string // the profile's name
	CAFile  string // the relative path found in the file
}

func (e *RelativeCAFileError) Error() string {
	return fmt.Sprintf("ca_file %q is not an absolute path (it would be read from each caller's working directory): run 'sesame login -p %s --ca-file /absolute/path'",
		e.CAFile, e.Profile)
}

// RepairCAFile replaces the relative ca_file of the named profile, the
// fault [RelativeCAFileError] reports, with caFile: an absolute path, or
// "" to trust no CA file. It is how `sesame login -p NAME --ca-file PATH`
// repairs a configuration that no longer loads, before it signs in.
//
// It runs under [Update]'s lock and refuses any other fault: a file that
// does not load for another reason, a profile that is missing or whose
// ca_file is already absolute. Every other profile is written back as it
// is, including another relative ca_file, which [Load] still refuses.
func RepairCAFile(ctx context.Context, dir, name, caFile string) error {
	if caFile != "" && !filepath.IsAbs(caFile) {
		return &RelativeCAFileError{Profile: name, CAFile: caFile}
	}
	path := filepath.Join(dir, FileName)
	lock, err := lockConfig(ctx, dir, path, updateWait)
	if err != nil {
		return err
	}
	defer func() {
		_ = lock.Unlock()
		_ = lock.Close()
	}()
	c, err := load(dir, func(err error) bool {
		var rel *RelativeCAFileError
		return errors.As(err, &rel)
	})
	if err != nil {
		return err
	}
	p := c.Profiles[name]
	if p == nil || p.CAFile == "" || filepath.IsAbs(p.CAFile) {
		return fmt.Errorf("not updating %s: profile %q has no relative ca_file to replace", path, name)
	}
	q := *p
	q.CAFile = caFile
	if err := q.Validate(); err != nil {
		return fmt.Errorf("not updating %s: profile %q: %w", path, name, err)
	}
	c.Profiles[name] = &q
	return c.Save()
}
