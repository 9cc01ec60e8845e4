package session

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sesame-auth/sesame/internal/private"
)

// An in-flight marker is written, under the profile lock, just before a
// refresh request is sent, and removed once its answer is settled: stored,
// or a refusal handled. A marker that is still there when the next refresh
// starts means the previous one was interrupted after it may have reached
// the server (the machine crashed, the process holding the answer was
// killed, the server never answered). If the server then refuses the
// grant, that interruption is the likely cause, and sesame says so instead
// of raising a theft alarm (RFC 9700 §4.14.2: a reuse the client did not
// cause is a sign of theft; a reuse it caused itself is not).
//
// A marker holds a time and a 96-bit fingerprint of the refresh token,
// never the token: it lives in the lock directory, a file and not the
// keychain.
type marker struct {
	Started time.Time `json:"started"`
	Token   string    `json:"rt"`
}

// maxMarker bounds what is read of a marker file.
const maxMarker = 512

// fingerprint identifies a refresh token without revealing it.
func fingerprint(refreshToken string) string {
	h := sha256.Sum256([]byte(refreshToken))
	return base64.RawURLEncoding.EncodeToString(h[:12])
}

// markers reads and writes the in-flight marker of one grant. The zero
// value (no directory) keeps nothing.
type markers struct{ path string }

// markers returns the marker store of s's grant; without a MarkerDir, or
// when the directory cannot be had, one that keeps nothing: a marker only
// improves a message and must never stop a refresh.
func (s *Grant) markers() markers {
	if s.MarkerDir == nil {
		return markers{}
	}
	dir, err := s.MarkerDir()
	if err != nil {
		return markers{}
	}
	name := strings.NewReplacer(":", "_", "/", "_", "\\", "_").Replace(s.Key) + ".refresh"
	return markers{path: filepath.Join(dir, name)}
}

// read returns the marker, or nil when there is none or it is unreadable.
func (m markers) read() *marker {
	var mk marker
	if !readMarkerFile(m.path, &mk) || mk.Token == "" {
		return nil
	}
	return &mk
}

// readMarkerFile decodes the JSON file at path into v, reporting whether
// there was one to decode. The file is opened without following a link
// and without blocking on a FIFO someone planted, and only a regular file
// of at most maxMarker bytes is read.
func readMarkerFile(path string, v any) bool {
	if path == "" {
		return false
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|private.NoFollow, 0)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false
	}
	data, err := io.ReadAll(io.LimitReader(f, maxMarker))
	return err == nil && json.Unmarshal(data, v) == nil
}

// write records that a refresh of refreshToken starts now. It is written
// in place (no rename): a half-written marker reads as none, which only
// costs the diagnosis its precision.
func (m markers) write(refreshToken string, now time.Time) {
	if m.path == "" {
		return
	}
	data, _ := json.Marshal(marker{Started: now.UTC().Truncate(time.Second), Token: fingerprint(refreshToken)})
	f, err := os.OpenFile(m.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NONBLOCK|private.NoFollow, 0o600)
	if err != nil {
		return
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		_, _ = f.Write(data)
		_ = f.Sync()
	}
	_ = f.Close()
}

// remove deletes the marker: the refresh's answer is settled, or the
// grant was replaced or ended; a refused note goes with it.
func (m markers) remove() {
	if m.path != "" {
		_ = os.Remove(m.path)
	}
	m.removeRefused()
}

// interruptedEarlier returns when an earlier refresh of the same refresh
// token started and was never settled, or the zero time.
func (m markers) interruptedEarlier(refreshToken string) time.Time {
	if mk := m.read(); mk != nil && mk.Token == fingerprint(refreshToken) {
		return mk.Started
	}
	return time.Time{}
}
