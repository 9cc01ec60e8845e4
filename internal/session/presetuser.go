package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/internal/profile"
	"github.com/sesame-auth/sesame/keychain"
)

// presetUserTimeout bounds the request that names the account: a name is
// worth a moment, not the login.
const presetUserTimeout = 5 * time.Second

// maxPresetUser bounds the answer read: GitHub's user object is a few
// kilobytes.
const maxPresetUser = 1 << 20

// presetUser is what sesame reads of GitHub's "get the authenticated
// user" answer.
type presetUser struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	Name  string `json:"name"`
}

// namePresetUser names the account of a login whose provider issues no ID
// token but names its users through its REST API (GitHub's GET /user), so
// that the "signed in ... as" line names the person as the server does
// (issue 15) rather than "an unnamed account". It runs at login only,
// never on a refresh, and the endpoint is the preset table's: the
// configuration file cannot send the access token anywhere else.
//
// The login goes in Username (as preferred_username would), the display
// name in Name and GitHub's numeric user id in Subject: the account line
// shows the first of email, username, name and sub, and GitHub names its
// users by their login, so its public email is not kept. A failure is logged and never fatal: the grant is good either
// way, and the account stays unnamed.
func namePresetUser(ctx context.Context, d *Deps, client *http.Client, p *profile.Profile, rec *keychain.Record) {
	pr := presetOf(p)
	if pr == nil || pr.User == "" || rec.Subject != "" || rec.Username != "" || rec.AccessToken == "" {
		return
	}
	if !strings.EqualFold(rec.TokenType, "bearer") {
		d.logf("login: the %s access token is not sent to the user endpoint", rec.TokenType)
		return
	}
	s, err := ResolvePreset(d, p)
	if err == nil {
		var u *presetUser
		if u, err = fetchPresetUser(ctx, client, s.User, rec.AccessToken); err == nil {
			if u.ID > 0 {
				rec.Subject = strconv.FormatInt(u.ID, 10)
			}
			rec.Username, rec.Name = u.Login, u.Name
			d.logf("login: %s names the account", s.User)
			return
		}
	}
	d.logf("login: the account stays unnamed: %v", err)
}

// fetchPresetUser asks endpoint who the access token is for, with the
// headers GitHub's REST API documents.
func fetchPresetUser(ctx context.Context, client *http.Client, endpoint, accessToken string) (*presetUser, error) {
	ctx, cancel := context.WithTimeout(ctx, presetUserTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", endpoint, resp.StatusCode)
	}
	var u presetUser
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxPresetUser)).Decode(&u); err != nil {
		return nil, fmt.Errorf("GET %s: unreadable answer", endpoint)
	}
	if u.Login == "" {
		return nil, errors.New("GET " + endpoint + ": no login in the answer")
	}
	return &u, nil
}
