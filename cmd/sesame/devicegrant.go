package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/devicecode"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/internal/session"
)

// chooseFlow is the flow a login of p would take here.
func (a *app) chooseFlow(p *profile.Profile, md *provider.Metadata) string {
	return session.ChooseFlow(p, md, a.canShowBrowser(p))
}

// canShowBrowser guesses whether a browser can open where sesame runs: a
// configured browser command says yes; an SSH session without a
// forwarded display, a Linux session without a display, or a container
// say no.
func (a *app) canShowBrowser(p *profile.Profile) bool {
	if p.BrowserCommand != "" || a.env.Getenv("BROWSER") != "" || a.env.Opener != nil {
		return true
	}
	display := a.env.Getenv("DISPLAY") != "" || a.env.Getenv("WAYLAND_DISPLAY") != ""
	if a.env.Getenv("SSH_CONNECTION") != "" || a.env.Getenv("SSH_TTY") != "" {
		return display
	}
	for _, marker := range []string{"/.dockerenv", "/run/.containerenv"} {
		if _, err := os.Stat(marker); err == nil {
			return false
		}
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return true
	}
	return display
}

// deviceEvent is one line of `sesame login --json` in the device flow.
type deviceEvent struct {
	Event                   string    `json:"event"`
	VerificationURI         string    `json:"verification_uri"`
	VerificationURIComplete string    `json:"verification_uri_complete,omitempty"`
	UserCode                string    `json:"user_code"`
	ExpiresAt               time.Time `json:"expires_at"`
}

// loginUI is what a login command asks of the terminal: flags that
// change how the person is shown the login.
type loginUI struct {
	noBrowser bool
	// json writes the device flow's events to stdout (login --json).
	json bool
	// openDevicePage opens the device verification page in the browser.
	openDevicePage bool
	// qr says when to draw the device flow's link as a QR code.
	qr qrMode
	// loginCmd: the login command, not a helper's login, owns the
	// terminal: the browser flow's wait is drawn live and a pasted
	// address is read (browserwait.go).
	loginCmd bool
}

// qrMode is --qr / --no-qr: auto draws the code on a terminal only.
type qrMode int

const (
	qrAuto qrMode = iota
	qrAlways
	qrNever
)

// endCountdown clears the device flow's countdown line, if one was shown.
func (a *app) endCountdown(lo loginUI) {
	if a.env.StderrTTY && !lo.json {
		a.messages().endProgress()
	}
}

// deviceUI shows the device flow (RFC 8628) on stderr — and, with --json,
// as an event on stdout — with a countdown on a terminal.
func (a *app) deviceUI(p *profile.Profile, lo loginUI) devicecode.UI {
	countdown := a.env.StderrTTY && !lo.json
	var qrEncoder devicecode.QREncoder
	if lo.qr == qrAlways || (lo.qr == qrAuto && a.env.StderrTTY) {
		qrEncoder = terminalQR{}
	}
	return devicecode.UI{
		Show: func(pr devicecode.Prompt) { a.showDevicePrompt(p, pr, lo) },
		QR:   qrEncoder,
		Waiting: func(w devicecode.Wait) {
			if countdown {
				a.messages().progress(fmt.Sprintf("waiting for approval, %s left", w.Remaining.Truncate(time.Second)))
			}
		},
	}
}

// showDevicePrompt tells the person where to go and what to enter
// (requirement 41): the verification host on a line of its own,
// the full page, the code exactly as received, and the phishing warning.
func (a *app) showDevicePrompt(p *profile.Profile, pr devicecode.Prompt, lo loginUI) {
	m := a.messages()
	host := pr.HostASCII
	if pr.HostUnicode != pr.HostASCII {
		host = pr.HostUnicode + " (" + pr.HostASCII + ")"
	}
	body := []string{"  " + pr.Origin, "", "  host: " + host, "  page: " + pr.VerificationURI, "  code: " + pr.UserCode, ""}
	if pr.VerificationURIComplete != "" {
		body = append(body, "  or open this link, which carries the code:", "  "+pr.VerificationURIComplete, "")
	}
	if pr.QR != "" {
		body = append(append(body, strings.Split(strings.TrimSuffix(pr.QR, "\n"), "\n")...), "")
	}
	m.block(fmt.Sprintf("to sign in to profile %q, open this page on any device:", p.Name), body...)
	if pr.DifferentDomain {
		// Shouted on purpose: a page outside the issuer's domain is how a
		// device-code phishing attempt looks (requirement 41).
		m.say(fmt.Sprintf("WARNING: this page is on %s, not on the issuer's domain %s", pr.Domain, pr.IssuerDomain))
	}
	m.say(fmt.Sprintf("%s; the code expires at %s", devicecode.PhishingWarning, pr.ExpiresAt.Local().Format("15:04:05")))
	if lo.json {
		_ = writeJSON(a.env.Stdout, deviceEvent{
			Event:                   "device_authorization",
			VerificationURI:         pr.VerificationURI,
			VerificationURIComplete: pr.VerificationURIComplete,
			UserCode:                pr.UserCode,
			ExpiresAt:               pr.ExpiresAt.UTC().Truncate(time.Second),
		})
	}
	if lo.openDevicePage && a.env.StdinTTY && a.env.StderrTTY {
		if o := a.opener(p, false); o != nil {
			_ = o.Open(context.Background(), pr.BrowserURI())
		}
	}
}
