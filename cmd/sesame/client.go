package main

import (
	"net/http"
	"time"

	"github.com/sesame-auth/sesame/internal/filelock"
	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/internal/provider"
	"github.com/sesame-auth/sesame/internal/session"
)

// deps are the session's dependencies, built from this run's Env.
func (a *app) deps() *session.Deps {
	return &session.Deps{
		Store:     a.store,
		Cache:     a.env.Cache,
		LockDir:   func() (string, error) { return filelock.Dir(a.env.Getenv) },
		ConfigDir: func() (string, error) { return profile.Dir(a.env.Getenv) },
		HTTPClient: func(p *profile.Profile, responseTimeout time.Duration) (*http.Client, error) {
			o := provider.Options{CAFile: p.CAFile, AllowInsecureLoopback: p.InsecureLoopbackAS, Debug: a.log}
			if responseTimeout > 0 {
				// A refresh is never abandoned while the server may
				// still be carrying it out (session.RefreshTimeout).
				o.HeaderTimeout, o.Timeout = responseTimeout, responseTimeout+5*time.Second
			}
			return provider.NewHTTPClient(o)
		},
		Finisher: a.finisher,
		Clock:    a.env.Clock,
		Log:      a.log,

		PresetOrigins: a.env.PresetOrigins,
	}
}

// ui is how the session speaks to the person at this run's stderr. A
// helper call never opens a browser unless it runs for a person.
func (a *app) ui(p *profile.Profile, lo loginUI) *session.UI {
	opener := a.opener(p, lo.noBrowser)
	return &session.UI{
		Warn:    a.warn,
		Info:    func(msg string) { a.say(msg) },
		Opener:  opener,
		Browser: a.browserEvents(lo, opener != nil),
		Device:  a.deviceUI(p, lo),
	}
}
