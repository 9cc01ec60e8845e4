package profile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// FileName is the configuration file's name inside the config directory.
const FileName = "config.json"

// configVersion is written into every file; a file from a newer sesame is
// refused rather than misread. Optional fields added since version 1
// (Default) left it at 1: they are written only when set, so a file without
// them stays readable by every sesame, and an older sesame refuses a file
// with them as an unknown field (decode's DisallowUnknownFields) rather than
// misreading it.
const configVersion = 1

// maxConfigBytes bounds what Load reads: a config file is a few KiB.
const maxConfigBytes = 1 << 20

// Config is the whole configuration file.
type Config struct {
	Version int `json:"version"`
	// Default is the profile used when neither -p nor $SESAME_PROFILE
	// names one (`sesame profile use`); "" means DefaultName.
	Default  string              `json:"default,omitempty"`
	Profiles map[string]*Profile `json:"profiles"`
	// path is where the file was loaded from and will be saved to.
	path string
}

// Dir returns the configuration directory: $SESAME_CONFIG_DIR, else
// os.UserConfigDir()/sesame.
func Dir(getenv func(string) string) (string, error) {
	if d := getenv("SESAME_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the configuration directory: %w", err)
	}
	return filepath.Join(base, "sesame"), nil
}

// Load reads the configuration file in dir. A missing file is an empty
// configuration; a file that does not parse is an error naming the file and,
// where known, the line.
func Load(dir string) (*Config, error) {
	return load(dir, nil)
}

// load is Load; a profile whose Validate error tolerate accepts is loaded
// all the same (RepairCAFile).
func load(dir string, tolerate func(error) bool) (*Config, error) {
	path := filepath.Join(dir, FileName)
	c := &Config{Version: configVersion, Profiles: map[string]*Profile{}, path: path}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("%s is larger than 1 MiB", path)
	}
	if err := decode(data, c, tolerate); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// decode parses a configuration file strictly into c. Profiles are
// validated in name order, so the error names the same profile every time;
// a Validate error that tolerate (if not nil) accepts is not one.
func decode(data []byte, c *Config, tolerate func(error) bool) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if !decodeLite(data, c) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(c); err != nil {
			return describeJSONError(data, err)
		}
		if dec.More() {
			return errors.New("unexpected data after the configuration object")
		}
	}
	if c.Version != configVersion {
		return fmt.Errorf("unsupported configuration version %d (this sesame reads version %d)", c.Version, configVersion)
	}
	if c.Profiles == nil {
		c.Profiles = map[string]*Profile{}
	}
	if c.Default != "" {
		if err := ValidateName(c.Default); err != nil {
			return fmt.Errorf("default: %w", err)
		}
	}
	for _, name := range c.Names() {
		p := c.Profiles[name]
		if p == nil {
			return fmt.Errorf("profile %q is empty", name)
		}
		p.Name = name
		if err := p.Validate(); err != nil && (tolerate == nil || !tolerate(err)) {
			return fmt.Errorf("profile %q: %w", name, err)
		}
	}
	return nil
}

// describeJSONError turns a decoding error into one line with a line
// number, in the file's terms: a JSON field and kind, not a Go type
// ("cannot unmarshal string into Go struct field Profile.profiles.scopes of
// type []string") nor the decoder's "json: " prefix.
func describeJSONError(data []byte, err error) error {
	var offset int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	msg := strings.TrimPrefix(err.Error(), "json: ")
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
		field := typ.Field
		if i := strings.LastIndex(field, "."); i >= 0 {
			field = field[i+1:]
		}
		if field == "" {
			msg = fmt.Sprintf("the file holds %s, not an object", jsonKind(typ.Value))
		} else {
			msg = fmt.Sprintf("%q must be %s, not %s", field, goTypeAsJSON(typ.Type), jsonKind(typ.Value))
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = "the file ends in the middle of the JSON"
	}
	if offset < 0 {
		return fmt.Errorf("invalid configuration: %s", msg)
	}
	line := 1 + bytes.Count(data[:min(int(offset), len(data))], []byte("\n"))
	return fmt.Errorf("invalid configuration at line %d: %s", line, msg)
}

// jsonKind is UnmarshalTypeError.Value ("string", "number -1") with its
// article.
func jsonKind(v string) string {
	if strings.HasPrefix(v, "array") || strings.HasPrefix(v, "object") {
		return "an " + v
	}
	return "a " + v
}

// goTypeAsJSON is the JSON a field of type t holds.
func goTypeAsJSON(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return goTypeAsJSON(t.Elem())
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}

// Path is the file this configuration is loaded from and saved to.
func (c *Config) Path() string { return c.path }

// Profile returns the named profile, or nil.
func (c *Config) Profile(name string) *Profile { return c.Profiles[name] }

// Names returns the profile names in sorted order.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Remove deletes the named profile, and the saved default when it named
// that profile. It reports whether the default was cleared.
func (c *Config) Remove(name string) (wasDefault bool) {
	delete(c.Profiles, name)
	if c.Default == name {
		c.Default = ""
		return true
	}
	return false
}

// Save writes the configuration: directory 0700, file 0600, through a
// temporary file, fsync and rename so a crash leaves the old or the new file.
//
// Save writes the whole configuration as it was loaded and changed in this
// process, without a lock: when two processes each Load, change and Save,
// the last writer wins and the other's change is lost. Callers should
// prefer Update, which re-reads the file under a lock.
func (c *Config) Save() error {
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, unwrapPathError(err))
	}
	c.Version = configVersion
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	tmp, err := os.CreateTemp(dir, ".config-*.json")
	if err != nil {
		return fmt.Errorf("cannot write the configuration in %s: %w", dir, unwrapPathError(err))
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("cannot write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		return fmt.Errorf("cannot replace %s: %w", c.path, unwrapPathError(err))
	}
	return nil
}

// lockFileName is the lock file Update takes, next to FileName. The
// configuration file itself is never locked: Save replaces it by rename,
// and a lock on the replaced file would protect nothing.
const lockFileName = ".config.lock"

// updateWait bounds how long Update waits for another process's update.
const updateWait = 5 * time.Second

// updatePoll is how often a waiting Update retries the lock.
const updatePoll = 10 * time.Millisecond

// Update applies change to the configuration in dir under an exclusive
// cross-process lock: it re-reads the file after taking the lock, calls
// change on what it read, and writes the result (temp file, fsync, rename,
// as Save) before releasing the lock. A change that returns an error writes
// nothing. It waits for the lock at most a bounded time (a few seconds;
// returns a clear error naming the file when another sesame holds it longer).
//
// The lock is the file .config.lock (mode 0600) in dir, which Update
// creates with mode 0700 when missing; the OS releases it when its holder
// exits, also on kill -9. A change that leaves a profile that would not
// load (one failing Validate) is refused and writes nothing either, so an
// update cannot make the file unreadable. Load takes no lock: it sees the
// old or the new file. change must not call Update on the same dir.
func Update(ctx context.Context, dir string, change func(*Config) error) (*Config, error) {
	return update(ctx, dir, updateWait, change)
}

// update is Update with the wait for the lock as a parameter.
func update(ctx context.Context, dir string, wait time.Duration, change func(*Config) error) (*Config, error) {
	path := filepath.Join(dir, FileName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", dir, unwrapPathError(err))
	}
	lock, err := lockConfig(ctx, dir, path, wait)
	if err != nil {
		return nil, err
	}
	defer func() {
		_ = lock.Unlock()
		_ = lock.Close()
	}()
	c, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if err := change(c); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("not updating %s: %w", path, err)
	}
	if err := c.Save(); err != nil {
		return nil, err
	}
	return c, nil
}

// lockConfig takes the exclusive lock on dir's configuration, waiting at
// most wait and no longer than ctx allows. Errors name the configuration
// file at path.
func lockConfig(ctx context.Context, dir, path string, wait time.Duration) (*flock.Flock, error) {
	lockPath := filepath.Join(dir, lockFileName)
	f := flock.New(lockPath, flock.SetPermissions(0o600))
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(updatePoll)
	defer tick.Stop()
	for {
		ok, err := f.TryLock()
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("cannot lock %s (lock file %s): %w", path, lockPath, unwrapPathError(err))
		}
		if ok {
			return f, nil
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			_ = f.Close()
			return nil, fmt.Errorf("cannot update %s: another sesame process has been updating it for more than %s (lock file %s)", path, wait, lockPath)
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("cannot update %s: %w", path, ctx.Err())
		}
	}
}

// check applies Load's checks to c's profiles, so that what Update writes
// loads again. It does not modify c.
func (c *Config) check() error {
	for name, p := range c.Profiles {
		if p == nil {
			return fmt.Errorf("profile %q is empty", name)
		}
		q := *p
		q.Name = name
		if err := q.Validate(); err != nil {
			return fmt.Errorf("profile %q: %w", name, err)
		}
	}
	return nil
}

// unwrapPathError drops the *fs.PathError wrapper whose text repeats the path.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
