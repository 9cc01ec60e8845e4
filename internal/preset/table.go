package preset

// table is every preset. Each entry cites the documentation it follows;
// README's Providers section says which were tested and how. It is
// constant data, laid out by the compiler: the configuration file is read
// on every helper call, which looks presets up, so nothing here may run at
// start-up (no maps, no function calls).
var table = []Preset{
	{
		// GitHub has no discovery document and no ID tokens for user
		// sign-in: the endpoints are the documented ones. OAuth apps get
		// tokens that do not expire; GitHub Apps with expiring user tokens
		// get an 8-hour access token and a rotating 6-month refresh token.
		// The web flow, and refreshing a token it issued, need the app's
		// client secret; the device flow and its refreshes do not, so the
		// device flow is the default.
		Name:          "github",
		Title:         "GitHub",
		Docs:          "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps",
		DefaultHost:   "github.com",
		Issuer:        "{origin}",
		Authorization: "{origin}/login/oauth/authorize",
		Token:         "{origin}/login/oauth/access_token",
		Device:        "{origin}/login/device/code",
		Scopes:        []string{"repo"},
		Secret:        SecretOptional,
		Flow:          "device",
		GitUsername:   "x-access-token",
		GitHost:       true,
		// No ID token names the account: the REST API's "get the
		// authenticated user" does, at api.github.com, or under /api/v3
		// on GitHub Enterprise Server
		// (https://docs.github.com/en/rest/users/users#get-the-authenticated-user,
		// https://docs.github.com/en/enterprise-server@latest/rest/users/users).
		User:    "{api}/user",
		API:     "https://api.github.com",
		HostAPI: "{origin}/api/v3",
		Quirks: []string{
			"no ID token: the account is named by the REST API's GET /user (api.github.com, or /api/v3 on GitHub Enterprise Server)",
			"no discovery document: the endpoints are built in (GitHub Enterprise Server: --host)",
			"token answers are form-encoded unless JSON is asked for: sesame asks for JSON",
			"device-flow errors (authorization_pending, slow_down) come with HTTP 200",
			"the web flow and its refreshes need the app's client secret; the device flow does not, and is the default",
			"no RFC 7009 revocation: logout deletes the grant here only",
		},
	},
	{
		Name:        "gitlab",
		Title:       "GitLab",
		Docs:        "https://docs.gitlab.com/api/oauth2/",
		DefaultHost: "gitlab.com",
		Issuer:      "{origin}",
		Discovery:   true,
		Scopes:      []string{"openid", "email", "read_repository", "write_repository"},
		GitUsername: "oauth2",
		GitHost:     true,
		Quirks: []string{
			"offline_access is not a GitLab scope: refresh tokens come without it",
			"an application with Confidential unchecked is a public client (PKCE, no secret)",
		},
	},
	{
		// Google issues "Desktop app" clients a secret its token endpoint
		// requires, refuses offline_access, and returns a refresh token
		// only with access_type=offline (and again on a later login only
		// with prompt=consent).
		Name:        "google",
		Title:       "Google",
		Docs:        "https://developers.google.com/identity/protocols/oauth2/native-app",
		DefaultHost: "accounts.google.com",
		FixedHost:   true,
		Issuer:      "{origin}",
		Discovery:   true,
		Scopes:      []string{"openid", "email"},
		AuthParams:  [][2]string{{"access_type", "offline"}, {"prompt", "consent"}},
		Secret:      SecretRequired,
		Flow:        "browser",
		Quirks: []string{
			"the token endpoint requires the Desktop app's client secret (not confidential: RFC 8252 §8.5)",
			"offline_access is refused; access_type=offline and prompt=consent ask for the refresh token",
			"a Desktop app client cannot use the device flow: the browser flow is the default",
		},
	},
	{
		// Entra's multi-tenant documents (common, organizations,
		// consumers) carry the issuer https://login.microsoftonline.com/{tenantid}/v2.0,
		// which Microsoft's libraries check against the ID token's tid.
		Name:              "entra",
		NoConsentPrompt:   true,
		Title:             "Microsoft Entra ID",
		Docs:              "https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc",
		DefaultHost:       "login.microsoftonline.com",
		NeedsTenant:       true,
		Issuer:            "{origin}/{tenant}/v2.0",
		Discovery:         true,
		IssuerPlaceholder: "{tenantid}",
		Scopes:            []string{"openid", "profile", "email", "offline_access"},
		// The device flow's page is https://microsoft.com/devicelogin.
		VerificationHosts: []string{"microsoft.com"},
		Quirks: []string{
			"--tenant common or organizations: the document's {tenantid} issuer is checked as Microsoft's libraries check it, against the ID token's tid",
			"no RFC 7009 revocation: logout deletes the grant here only",
			"national clouds: --host login.microsoftonline.us and the like",
		},
	},
	{
		Name:            "gitea",
		NoConsentPrompt: true,
		Title:           "Gitea",
		Docs:            "https://docs.gitea.com/development/oauth2-provider",
		Issuer:          "{origin}/",
		Discovery:       true,
		Scopes:          giteaScopes,
		GitUsername:     "oauth2",
		GitHost:         true,
		Quirks:          giteaQuirks,
	},
	{
		Name:            "forgejo",
		NoConsentPrompt: true,
		Title:           "Forgejo",
		Docs:            "https://forgejo.org/docs/latest/user/oauth2-provider/",
		Issuer:          "{origin}/",
		Discovery:       true,
		Scopes:          giteaScopes,
		GitUsername:     "oauth2",
		GitHost:         true,
		Quirks:          giteaQuirks,
	},
	{
		Name:            "codeberg",
		NoConsentPrompt: true,
		Title:           "Codeberg",
		Docs:            "https://forgejo.org/docs/latest/user/oauth2-provider/",
		DefaultHost:     "codeberg.org",
		FixedHost:       true,
		Issuer:          "{origin}/",
		Discovery:       true,
		Scopes:          giteaScopes,
		GitUsername:     "oauth2",
		GitHost:         true,
		Quirks:          giteaQuirks,
	},
	{
		Name:            "keycloak",
		NoConsentPrompt: true,
		Title:           "Keycloak",
		Docs:            "https://www.keycloak.org/securing-apps/oidc-layers",
		NeedsRealm:      true,
		Issuer:          "{origin}/realms/{realm}",
		Discovery:       true,
		Scopes:          []string{"openid", "offline_access"},
	},
	{
		// Okta's custom authorization servers live under /oauth2/<id>;
		// --realm names one, "default" unless given.
		Name:            "okta",
		NoConsentPrompt: true,
		Title:           "Okta",
		Docs:            "https://developer.okta.com/docs/api/openapi/okta-oauth/oauth/tag/CustomAS",
		DefaultRealm:    "default",
		Issuer:          "{origin}/oauth2/{realm}",
		Discovery:       true,
		Scopes:          []string{"openid", "offline_access"},
	},
}

// Gitea and its fork Forgejo (Codeberg runs Forgejo): OIDC discovery
// whose issuer is the instance's ROOT_URL, which ends in a slash; refresh
// tokens without offline_access; no device flow, no revocation.
var (
	giteaScopes = []string{"openid", "email", "profile"}
	giteaQuirks = []string{
		"the issuer is the instance URL with its trailing slash",
		"a public client (Confidential client unchecked) may use any port on http://127.0.0.1/callback",
		"no device flow and no revocation endpoint: logout deletes the grant here only",
	}
)
