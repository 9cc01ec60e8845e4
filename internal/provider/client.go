package provider

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/sesame-auth/sesame/internal/private"
	"github.com/sesame-auth/sesame/internal/redact"
	"github.com/sesame-auth/sesame/internal/urlcheck"
)

// Default deadlines (requirement 23). http.DefaultClient has
// none, so a server that accepts a connection and never answers would
// hang a credential helper, and with it kubectl or git, forever.
const (
	DefaultDialTimeout   = 10 * time.Second
	DefaultTLSTimeout    = 10 * time.Second
	DefaultHeaderTimeout = 15 * time.Second
	DefaultTimeout       = 30 * time.Second
)

// maxRedirects is how many same-origin redirects a GET may follow
// (requirement 22).
const maxRedirects = 3

// Options configures [NewHTTPClient]. The zero value is a strict client
// with the default deadlines.
type Options struct {
	// CAFile names a PEM file whose certificates are trusted in addition
	// to the system roots, for servers with a private CA. It never turns
	// off chain or host-name verification.
	CAFile string

	// AllowInsecureLoopback permits plain http to a loopback IP literal,
	// for tests against a local server (requirement 20).
	AllowInsecureLoopback bool

	// DialTimeout bounds connecting, TLSTimeout the TLS handshake,
	// HeaderTimeout the wait for response headers once the request is
	// written, and Timeout the whole exchange including reading the body.
	// Zero means the Default* value.
	DialTimeout, TLSTimeout, HeaderTimeout, Timeout time.Duration

	// Debug receives one redacted line per request. Nil disables it.
	Debug *redact.Logger
}

func (o Options) withDefaults() Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.TLSTimeout <= 0 {
		o.TLSTimeout = DefaultTLSTimeout
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = DefaultHeaderTimeout
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// NewHTTPClient returns the client sesame uses for every request to an
// authorization server: token, device, PAR, revocation, metadata, JWKS
// and userinfo.
//
// It verifies certificate chains against the system roots plus
// opts.CAFile, always checks host names, requires TLS 1.2 or later
// (RFC 8414 §6.1, RFC 6749 §10.9; requirement 21), takes a proxy
// from the environment, applies the four deadlines, reads at most 1 MiB of
// any response body, refuses plain http (see [urlcheck.Endpoint]) and
// refuses redirects of anything but GET (see the package doc).
//
// Pass it to x/oauth2 with context.WithValue(ctx, oauth2.HTTPClient, c).
func NewHTTPClient(opts Options) (*http.Client, error) {
	opts = opts.withDefaults()
	roots, err := rootPool(opts.CAFile)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 30 * time.Second}
	base := &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: dialer.DialContext,
		TLSClientConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			RootCAs:    roots,
		},
		TLSHandshakeTimeout:   opts.TLSTimeout,
		ResponseHeaderTimeout: opts.HeaderTimeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          8,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{
		Transport: &transport{
			base:                  base,
			allowInsecureLoopback: opts.AllowInsecureLoopback,
			debug:                 opts.Debug,
		},
		CheckRedirect: checkRedirect,
		Timeout:       opts.Timeout,
	}, nil
}

// rootPool returns the system roots plus the certificates in caFile.
func rootPool(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		// Some platforms have no readable system store; the CA file may
		// still be enough, and without one every handshake fails loudly.
		pool = x509.NewCertPool()
	}
	if caFile == "" {
		return pool, nil
	}
	pem, err := readCAFile(caFile)
	if err != nil {
		return nil, err
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca file %s: no PEM certificate found", caFile)
	}
	return pool, nil
}

// maxCAFileBytes bounds what readCAFile reads: the largest system bundles
// are a few hundred KiB.
const maxCAFileBytes = 16 << 20

// readCAFile reads the PEM file of CA certificates at path, an absolute
// path, after checking that no other user can change what it holds, as ssh
// checks its key files: a CA file is a trust decision, and whoever can
// write it can have sesame's refresh tokens sent to their own server.
//
// Refused (except on Windows, where the mode bits mean nothing): a file
// that is not regular; a file, or a symbolic link to it, owned by a user
// other than the current one or root; a file that group or others can
// write; a directory holding the file (or the link) that a user other than
// the current one or root owns; such a directory that group or others can
// write, unless it is sticky (/tmp), where only an entry's owner can
// replace it. The file is checked and read through one open descriptor.
func readCAFile(path string) ([]byte, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("the CA file %q is not an absolute path (it would be read from each caller's working directory); sesame will not trust it", path)
	}
	if runtime.GOOS == "windows" {
		data, err := os.ReadFile(path)
		if err != nil {
			// os errors already name the file.
			return nil, fmt.Errorf("ca file: %w", err)
		}
		return data, nil
	}
	uid := os.Getuid()
	link, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("ca file: %w", err)
	}
	target := path
	if link.Mode()&fs.ModeSymlink != 0 {
		// The link is an entry of its directory too: whoever can replace
		// it chooses the file.
		if err := checkCAEntry(path, path, link, uid); err != nil {
			return nil, err
		}
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return nil, fmt.Errorf("ca file: %w", err)
		}
	}
	before, err := os.Stat(target)
	if err != nil {
		return nil, fmt.Errorf("ca file: %w", err)
	}
	if !before.Mode().IsRegular() {
		// Checked before opening: opening a FIFO would block.
		return nil, fmt.Errorf("the CA file %s is not a regular file; sesame will not trust it", path)
	}
	f, err := os.Open(target)
	if err != nil {
		return nil, fmt.Errorf("ca file: %w", err)
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ca file %s: %w", path, err)
	}
	if !os.SameFile(before, fi) {
		return nil, fmt.Errorf("the CA file %s changed while it was being read; sesame will not trust it", path)
	}
	if err := checkCAEntry(path, target, fi, uid); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCAFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("ca file %s: %w", path, err)
	}
	if len(data) > maxCAFileBytes {
		return nil, fmt.Errorf("the CA file %s is larger than 16 MiB", path)
	}
	return data, nil
}

// checkCAEntry checks entry (the CA file, or a symbolic link to it, with
// its Lstat or fstat info fi) and the directory that holds it against
// other users, with uid the current user. path is the name the user gave,
// for the message.
func checkCAEntry(path, entry string, fi fs.FileInfo, uid int) error {
	dir := filepath.Dir(entry)
	di, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("ca file %s: %w", path, err)
	}
	return caFilePermError(path, entry, fi, dir, di, uid)
}

// caFilePermError is the refusal of a CA file entry with info fi in the
// directory dir with info di, for the user uid, or nil. It reads no file.
func caFilePermError(path, entry string, fi fs.FileInfo, dir string, di fs.FileInfo, uid int) error {
	what := "the CA file " + path
	if entry != path {
		what += " (" + entry + ")"
	}
	owner, ok := private.Owner(fi)
	switch {
	case !ok:
		return fmt.Errorf("%s: cannot tell who owns it; sesame will not trust it", what)
	case owner != uid && owner != 0:
		return fmt.Errorf("%s belongs to another user (uid %d); sesame will not trust it", what, owner)
	case fi.Mode()&fs.ModeSymlink == 0 && fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s can be written by other users (mode %s); sesame will not trust it", what, octalMode(fi.Mode()))
	}
	downer, ok := private.Owner(di)
	switch {
	case !ok:
		return fmt.Errorf("%s: cannot tell who owns its directory %s; sesame will not trust it", what, dir)
	case downer != uid && downer != 0:
		return fmt.Errorf("%s is in a directory of another user (%s, uid %d); sesame will not trust it", what, dir, downer)
	case di.Mode().Perm()&0o022 != 0 && di.Mode()&fs.ModeSticky == 0:
		return fmt.Errorf("%s is in a directory other users can write (%s, mode %s); sesame will not trust it", what, dir, octalMode(di.Mode()))
	}
	return nil
}

// octalMode shows m's permission bits, and the sticky bit, in octal as
// chmod takes them: 0666, 01777.
func octalMode(m fs.FileMode) string {
	bits := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	return fmt.Sprintf("%04o", bits)
}

// ErrRedirectRefused is returned (wrapped in a *url.Error) when the client
// declines to follow a redirect.
var ErrRedirectRefused = errors.New("redirect refused")

// checkRedirect follows at most maxRedirects same-origin redirects of a
// GET or HEAD and nothing else.
//
// For a POST it must refuse every 3xx: on 307 and 308 Go re-sends the
// body, which carries the code, code_verifier, refresh_token or
// device_code, to the new location (RFC 9700 §4.12, RFC 6749 §10.8). It
// refuses before the new request is sent, so the target sees nothing.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	status := 0
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	for _, r := range via {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return fmt.Errorf("%w: the server answered %d to a %s request, which would re-send its credentials",
				ErrRedirectRefused, status, r.Method)
		}
	}
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrRedirectRefused, maxRedirects)
	}
	if !urlcheck.SameOrigin(req.URL, first.URL) {
		return fmt.Errorf("%w: %s redirects to another origin, %s://%s",
			ErrRedirectRefused, first.URL.Host, req.URL.Scheme, redact.Sanitize(req.URL.Host))
	}
	return nil
}
