package session

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/sesame-auth/sesame/internal/private"
)

// A refused note remembers, after the server refused a grant and sesame
// deleted it (dropGrant), when and with what answer: the commands that
// follow then say that the server ended the grant, not that none was ever
// stored. It lives next to the in-flight marker, in the lock directory,
// and holds the server's answer (its error code and description, as the
// refusal's error showed them), never a token. A login (Replace) or a
// logout (End) removes it with the marker.
type refusedNote struct {
	At     time.Time `json:"at"`
	Answer string    `json:"answer"`
}

// refusedPath is the note's file, or "" when markers keep nothing.
func (m markers) refusedPath() string {
	if m.path == "" {
		return ""
	}
	return strings.TrimSuffix(m.path, ".refresh") + ".refused"
}

// maxAnswer bounds the answer a note keeps, so the note stays within
// what readRefused reads.
const maxAnswer = 300

// writeRefused records the refusal answered now.
func (m markers) writeRefused(answer string, now time.Time) {
	path := m.refusedPath()
	if path == "" {
		return
	}
	if len(answer) > maxAnswer {
		answer = answer[:maxAnswer] + "..."
	}
	data, _ := json.Marshal(refusedNote{At: now.UTC().Truncate(time.Second), Answer: answer})
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NONBLOCK|private.NoFollow, 0o600)
	if err != nil {
		return
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		_, _ = f.Write(data)
	}
	_ = f.Close()
}

// readRefused returns the note, or nil when there is none or it does not
// read (it only improves a message).
func (m markers) readRefused() *refusedNote {
	var n refusedNote
	if !readMarkerFile(m.refusedPath(), &n) || n.At.IsZero() || n.Answer == "" {
		return nil
	}
	return &n
}

// removeRefused deletes the note.
func (m markers) removeRefused() {
	if path := m.refusedPath(); path != "" {
		_ = os.Remove(path)
	}
}

// Refused reports when the server refused the profile's last grant, and
// its answer, if that is why no grant is stored; ok is false otherwise.
func (s *Grant) Refused() (at time.Time, answer string, ok bool) {
	if n := s.markers().readRefused(); n != nil {
		return n.At, n.Answer, true
	}
	return time.Time{}, "", false
}

// noGrantReason is why a profile without a stored grant needs a login.
func (s *Grant) noGrantReason() string {
	if at, answer, ok := s.Refused(); ok {
		return fmt.Sprintf("profile %q has no grant since %s, when %s", s.Binding.Profile, at.Format("2006-01-02 15:04:05 UTC"), answer)
	}
	return fmt.Sprintf("profile %q has no stored grant", s.Binding.Profile)
}
