package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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

// endCountdown clears the device flow's countdown line, if one is shown,
// so that what comes next starts on a line of its own.
func (a *app) endCountdown() {
	if a.countdown {
		a.messages().endProgress()
		a.countdown = false
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
				// A line wider than the terminal would wrap, and the next
				// redraw would clear only its last row.
				cols, _ := a.stderrSize()
				msg := fmt.Sprintf("waiting for approval, %s left", w.Remaining.Truncate(time.Second))
				a.messages().progress(truncateRunes(msg, cols-len(prefixInfo)-1))
				a.countdown = true
			}
		},
	}
}

// defaultCols and defaultRows are the size assumed for a terminal that
// does not tell its own: the classic 80×24.
const defaultCols, defaultRows = 80, 24

// stderrSize is the size of the terminal on stderr.
func (a *app) stderrSize() (cols, rows int) {
	if a.env.StderrSize != nil {
		if c, r, ok := a.env.StderrSize(); ok {
			return c, r
		}
	}
	return defaultCols, defaultRows
}

// showDevicePrompt tells the person where to go and what to enter
// (requirement 41). It is laid out for a terminal, whose last rows are
// what a person sees: first the site the page is on (scheme and host on a
// line of their own, an internationalized host also in Unicode) and the
// phishing warning, then the QR code when there is room for it, and last
// the page and the code exactly as received, right above the countdown.
// Nothing before them is a URL to open: the site line is introduced as the
// site, so it is not taken for the page, and the issuer is not named.
func (a *app) showDevicePrompt(p *profile.Profile, pr devicecode.Prompt, lo loginUI) {
	m := a.messages()
	says := []string{fmt.Sprintf("to sign in to profile %q, open the page below on any device", p.Name)}
	if pr.DifferentDomain {
		// Shouted on purpose: a page outside the issuer's domain is how a
		// device-code phishing attempt looks (requirement 41).
		says = append(says, fmt.Sprintf("WARNING: this page is on %s, not on the issuer's domain %s", pr.Domain, pr.IssuerDomain))
	}
	says = append(says, devicecode.PhishingWarning)
	heading := fmt.Sprintf("the code expires at %s; the page is on this site:", pr.ExpiresAt.Local().Format("15:04:05"))
	site := []string{"  " + pr.Origin}
	if pr.HostUnicode != pr.HostASCII {
		site = append(site, "  host: "+pr.HostUnicode+" ("+pr.HostASCII+")")
	}
	page := []string{"", "  page: " + pr.VerificationURI, "  code: " + pr.UserCode}
	if pr.VerificationURIComplete != "" {
		page = append(page, "  or open this link, which carries the code:", "  "+pr.VerificationURIComplete)
	}
	page = append(page, "")
	var qr []string
	if pr.QR != "" {
		qr = append([]string{""}, strings.Split(strings.TrimSuffix(pr.QR, "\n"), "\n")...)
		if lo.qr != qrAlways {
			cols, rows := a.stderrSize()
			text := make([]string, 0, len(says)+1)
			for _, s := range append(says, heading) {
				text = append(text, prefixInfo+s)
			}
			// The blank line under the heading, and the countdown.
			text = append(text, "", "")
			// A QR code wider than the terminal would wrap into noise.
			if maxRunes(qr) > cols || !fitsTerminal(slices.Concat(text, site, qr, page), cols, rows) {
				qr = nil
			}
		}
	}
	for _, s := range says {
		m.say(s)
	}
	m.block(heading, slices.Concat(site, qr, page)...)
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

// fitsTerminal reports whether lines, wrapped at cols, fill at most rows
// rows: a prompt that fits is seen whole, its top not scrolled away. A
// rune is taken to fill one column, as the QR code's blocks and URLs do.
func fitsTerminal(lines []string, cols, rows int) bool {
	used := 0
	for _, l := range lines {
		used += max(1, (utf8.RuneCountInString(l)+cols-1)/cols)
	}
	return used <= rows
}

// maxRunes is the length in runes of the longest of lines.
func maxRunes(lines []string) int {
	n := 0
	for _, l := range lines {
		n = max(n, utf8.RuneCountInString(l))
	}
	return n
}

// truncateRunes cuts s to at most n runes (at least one).
func truncateRunes(s string, n int) string {
	r := []rune(s)
	return string(r[:min(len(r), max(n, 1))])
}
