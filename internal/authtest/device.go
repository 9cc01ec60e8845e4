package authtest

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// deviceGrant is one RFC 8628 device authorization.
type deviceGrant struct {
	deviceCode string
	userCode   string
	clientID   string
	scope      string
	resources  []string
	expiry     time.Time
	approved   bool
	denied     bool
	redeemed   bool
	user       User
}

// userCodeAlphabet is RFC 8628 §6.1's example: consonants only, so codes
// never spell words and survive being read aloud.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// handleDeviceAuthorization implements RFC 8628 §3.1–3.2.
func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if !requirePost(w, r) {
		return
	}
	resp, e := s.deviceAuthorization(r)
	if e != nil {
		s.writeAnswerError(w, r, e)
		return
	}
	s.writeAnswer(w, r, http.StatusOK, resp)
}

// deviceAuthorization issues a device code and builds the answer.
func (s *Server) deviceAuthorization(r *http.Request) (map[string]any, *oauthError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := checkPublicClient(r, s.knownClientLocked); e != nil {
		return nil, e
	}
	d := &deviceGrant{
		deviceCode: "SNTL-DC-" + randomString(24),
		userCode:   newUserCode(),
		clientID:   r.PostForm.Get("client_id"),
		scope:      r.PostForm.Get("scope"),
		resources:  r.PostForm["resource"],
		expiry:     s.now().Add(s.cfg.deviceTTL),
	}
	switch s.cfg.deviceAnswer {
	case deviceAnswerApprove:
		d.approved, d.user = true, s.cfg.user
	case deviceAnswerDeny:
		d.denied, d.user = true, s.cfg.user
	}
	s.st.devices[d.deviceCode] = d
	s.st.userCodes[normalizeUserCode(d.userCode)] = d
	s.st.lastUserCode = d.userCode

	uri, complete := s.cfg.verificationURI, s.cfg.verificationURIComplete
	if uri == "" {
		uri = s.Issuer() + PathDeviceVerification
		complete = uri + "?" + url.Values{"user_code": {d.userCode}}.Encode()
	}
	resp := map[string]any{
		"device_code":      d.deviceCode,
		"user_code":        d.userCode,
		"verification_uri": uri,
		"expires_in":       int(s.cfg.deviceTTL / time.Second),
	}
	if complete != "" {
		resp["verification_uri_complete"] = complete
	}
	if iv := int(s.cfg.deviceInterval / time.Second); iv > 0 {
		resp["interval"] = iv
	}
	return resp, nil
}

// pollDeviceLocked answers a device_code token request (RFC 8628 §3.4–3.5).
// Scripted answers from [WithDevicePolls] come first, so a test can play
// pending, slow_down and the rest in a fixed order. A DPoP proof (thumbprint
// jkt) is optional, as for the code grant; the grant is bound to it. The
// caller holds s.mu.
func (s *Server) pollDeviceLocked(form url.Values, jkt string) (tokenSet, *oauthError) {
	d := s.st.devices[form.Get("device_code")]
	if d == nil {
		return tokenSet{}, badRequest("invalid_grant", "unknown device_code")
	}
	if d.clientID != form.Get("client_id") {
		return tokenSet{}, badRequest("invalid_grant", "device_code was issued to another client")
	}
	if len(s.cfg.devicePolls) > 0 {
		answer := s.cfg.devicePolls[0]
		s.cfg.devicePolls = s.cfg.devicePolls[1:]
		if answer != "" {
			return tokenSet{}, badRequest(answer, "")
		}
	}
	switch {
	case d.redeemed:
		return tokenSet{}, badRequest("invalid_grant", "device_code already used")
	case !s.now().Before(d.expiry):
		return tokenSet{}, badRequest("expired_token", "")
	case d.denied:
		return tokenSet{}, badRequest("access_denied", "")
	case !d.approved:
		return tokenSet{}, badRequest("authorization_pending", "")
	}
	d.redeemed = true
	f := s.newFamily(d.clientID, d.user, d.scope, d.resources)
	f.jkt = jkt
	return s.mint(GrantDeviceCode, f, d.scope, s.issuesRefreshTokenLocked(d.scope), ""), nil
}

// ApproveDevice approves the device authorization with userCode as the
// configured user, as if they had entered it on the verification page.
func (s *Server) ApproveDevice(userCode string) error {
	return s.decideDevice(userCode, false)
}

// DenyDevice refuses the device authorization with userCode; the next poll
// gets access_denied.
func (s *Server) DenyDevice(userCode string) error {
	return s.decideDevice(userCode, true)
}

// LastUserCode returns the user_code of the most recent device
// authorization, or "".
func (s *Server) LastUserCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.lastUserCode
}

func (s *Server) decideDevice(userCode string, deny bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.st.userCodes[normalizeUserCode(userCode)]
	if d == nil {
		return fmt.Errorf("authtest: unknown user code %q", userCode)
	}
	d.approved, d.denied, d.user = !deny, deny, s.cfg.user
	return nil
}

// handleDeviceVerification is the verification page. Visiting it with a
// user_code (as verification_uri_complete does) approves or denies that
// code according to [WithApprove] / [WithDeny], so a [Browser] given the
// complete URI plays the user.
func (s *Server) handleDeviceVerification(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	code := r.Form.Get("user_code")
	if code == "" {
		_, _ = fmt.Fprint(w, "<!doctype html><title>authtest device</title><p>Enter the code shown on your device.</p>")
		return
	}
	s.mu.Lock()
	deny := s.cfg.deny
	s.mu.Unlock()
	if err := s.decideDevice(code, deny); err != nil {
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprint(w, "<!doctype html><title>authtest device</title><p>Unknown code.</p>")
		return
	}
	_, _ = fmt.Fprint(w, "<!doctype html><title>authtest device</title><p>Done. You may close this window.</p>")
}

// newUserCode returns "XXXX-XXXX" over userCodeAlphabet, about 34 bits.
func newUserCode() string {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < 9 {
		if b.Len() == 4 {
			b.WriteByte('-')
			continue
		}
		_, _ = rand.Read(buf)
		// Rejection sampling keeps every letter equally likely: 240 is
		// the largest multiple of len(userCodeAlphabet) below 256.
		if buf[0] >= 240 {
			continue
		}
		b.WriteByte(userCodeAlphabet[int(buf[0])%len(userCodeAlphabet)])
	}
	return b.String()
}

// normalizeUserCode lets users type the code in lower case or without the
// dash (RFC 8628 §6.1).
func normalizeUserCode(c string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(c), "-", ""))
}
