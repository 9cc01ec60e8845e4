// Test authorization server for sesame's end-to-end tests.
//
// panva's oidc-provider, configured strictly: two identical public native
// clients, sesame-e2e and sesame-e2e-2 (PKCE S256 required, refresh tokens
// only for offline_access, which an authorization request keeps only with
// prompt=consent (OpenID Connect Core §11, oidc-provider's default), rotated
// on every use with reuse detection and no grace
// period, RFC 9207 iss on every authorization response, device flow,
// revocation), a third for kubelogin (redirect URI http://127.0.0.1/, for
// the benchmark that compares the two) and one confidential client the tests
// use to introspect.
//
// It binds first (port 0 = any free port), then builds the provider with the
// issuer URL it actually got, and only then prints one JSON line on stdout:
//   {"issuer":"https://127.0.0.1:PORT","pid":1234}
// Nobody can reach the server before that line, so there is no race.
// oidc-provider prints its own notices on stdout too: readers must look for
// the line that parses as JSON with an "issuer" key.
//
// Configuration (flags win over environment):
//   --port N              E2E_PORT                 default 0 (any)
//   --host H              E2E_HOST                 default 127.0.0.1
//   --cert F --key F      E2E_TLS_CERT E2E_TLS_KEY required
//   --access-token-ttl S  E2E_ACCESS_TOKEN_TTL     default 30
//   --refresh-token-ttl S E2E_REFRESH_TOKEN_TTL    default 86400
//   --event-log F         E2E_EVENT_LOG            JSON lines; default none
//   --rs-secret S         E2E_RS_SECRET            secret of client e2e-rs (required)
//   --device-interval S   E2E_DEVICE_INTERVAL      interval in device responses, default 1
//   --device-slow-down    E2E_DEVICE_SLOW_DOWN=1   answer slow_down to polls faster than interval
//   --device-code-ttl S   E2E_DEVICE_CODE_TTL      device code lifetime, default 600
//   --dpop-nonce          E2E_DPOP_NONCE=1         require a server-provided DPoP nonce (RFC 9449 §8)
//   --dpop-algs A,B       E2E_DPOP_ALGS            DPoP algorithms offered, default ES256,Ed25519,EdDSA
//   --id-token-ttl S      E2E_ID_TOKEN_TTL         ID token lifetime, default 3600
//
// Fault injection (all off by default):
//   --clock-offset S      E2E_CLOCK_OFFSET         the server's clock runs S seconds off (signed;
//                                                  pass a negative one as --clock-offset=-S)
//   --clock-offset-on-signal
//                         E2E_CLOCK_OFFSET_ON_SIGNAL=1
//                                                  the clock starts right (offset 0) and the
//                                                  --clock-offset takes effect when the process
//                                                  gets SIGUSR2 (event clock.offset)
//   --jwks-fail-after-refresh N
//                         E2E_JWKS_FAIL_AFTER_REFRESH
//                                                  after each successful refresh_token grant, the
//                                                  next N requests to the jwks_uri get 503, empty
//   --refresh-delay-ms N  E2E_REFRESH_DELAY_MS     answer every refresh_token grant N ms late (it
//                                                  is processed, and the token rotated, at once)
//   --refresh-error-code C
//                         E2E_REFRESH_ERROR_CODE   answer C instead of invalid_grant when a
//                                                  refresh_token grant fails (status 400 and
//                                                  error_description kept): unauthorized_client
//                                                  as Gitea answers a reused token,
//                                                  invalid_request as LemonLDAP::NG does
//
// The clock offset shifts Date.now() and new Date() (no arguments) before
// oidc-provider is loaded, so every iat, exp, auth_time and expiry check it
// makes (and jose's) follows the shifted clock, and so does the Date header of
// every answer. Two things stay on the real clock: the event log's "time", so
// that tests can compare it with their own, and the expires attribute of the
// cookies, shifted back so that the browser keeps them for their real
// lifetime and a sign-in works whatever the offset. DPoP proofs whose iat is
// off by more than oidc-provider's tolerance are refused, as a skewed server
// would. With --clock-offset-on-signal the offset is 0 until SIGUSR2 and
// --clock-offset from then on (so a sign-in can happen on the right clock
// and only later requests see the skew); each SIGUSR2 records a clock.offset
// event (clock_offset in seconds, server_time on the shifted clock) once the
// new offset is in effect, so a test can wait for it. Every refresh_token
// request event carries delay_ms when it was delayed and rewritten_from when
// its error was rewritten; each 503 of the jwks_uri records a jwks.failed
// event.
//
// DPoP (ES256, EdDSA) is always offered, as oidc-provider does by default; a
// client that sends proofs gets a refresh token bound to its key. Resource
// indicators (RFC 8707): https://api.e2e.test/ (scopes api:read api:write)
// and https://other.e2e.test/ (scope other:read) are resource servers with
// opaque, introspectable access tokens whose aud is the resource. Dynamic
// client registration (RFC 7591) and its management (RFC 7592) are open.
//
// The event log never holds a token, code or secret. Token models are
// identified by "token_id": the first 16 characters of the unpadded base64url
// SHA-256 of the token's jti. Opaque tokens here ARE their jti, so a test that
// holds a token string can compute the same fingerprint (rig.TokenID).

import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

// oidc-provider is imported below, once the clock is set.

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'access-token-ttl': { type: 'string' },
    'refresh-token-ttl': { type: 'string' },
    'event-log': { type: 'string' },
    'rs-secret': { type: 'string' },
    'device-interval': { type: 'string' },
    'device-slow-down': { type: 'boolean' },
    'device-code-ttl': { type: 'string' },
    'dpop-nonce': { type: 'boolean' },
    'dpop-algs': { type: 'string' },
    'id-token-ttl': { type: 'string' },
    'clock-offset': { type: 'string' },
    'clock-offset-on-signal': { type: 'boolean' },
    'jwks-fail-after-refresh': { type: 'string' },
    'refresh-delay-ms': { type: 'string' },
    'refresh-error-code': { type: 'string' },
  },
  strict: true,
});

const env = process.env;
const opt = (flag, name, fallback) => args[flag] ?? env[name] ?? fallback;
const int = (flag, name, fallback) => {
  const raw = opt(flag, name, String(fallback));
  const n = Number.parseInt(raw, 10);
  if (!Number.isSafeInteger(n) || n < 0 || String(n) !== raw.trim()) {
    fail(`--${flag} / ${name}: not a non-negative integer: ${JSON.stringify(raw)}`);
  }
  return n;
};
const signedInt = (flag, name, fallback) => {
  const raw = opt(flag, name, String(fallback));
  const n = Number.parseInt(raw, 10);
  if (!Number.isSafeInteger(n) || String(n) !== raw.trim()) {
    fail(`--${flag} / ${name}: not an integer: ${JSON.stringify(raw)}`);
  }
  return n;
};

function fail(msg) {
  process.stderr.write(`e2e-server: error: ${msg}\n`);
  process.exit(2);
}

const config = {
  port: int('port', 'E2E_PORT', 0),
  host: opt('host', 'E2E_HOST', '127.0.0.1'),
  cert: opt('cert', 'E2E_TLS_CERT'),
  key: opt('key', 'E2E_TLS_KEY'),
  accessTokenTTL: int('access-token-ttl', 'E2E_ACCESS_TOKEN_TTL', 30),
  refreshTokenTTL: int('refresh-token-ttl', 'E2E_REFRESH_TOKEN_TTL', 86400),
  eventLog: opt('event-log', 'E2E_EVENT_LOG'),
  rsSecret: opt('rs-secret', 'E2E_RS_SECRET'),
  deviceInterval: int('device-interval', 'E2E_DEVICE_INTERVAL', 1),
  deviceCodeTTL: int('device-code-ttl', 'E2E_DEVICE_CODE_TTL', 600),
  deviceSlowDown: args['device-slow-down'] === true || env.E2E_DEVICE_SLOW_DOWN === '1',
  dpopNonce: args['dpop-nonce'] === true || env.E2E_DPOP_NONCE === '1',
  dpopAlgs: opt('dpop-algs', 'E2E_DPOP_ALGS', 'ES256,Ed25519,EdDSA').split(',').filter(Boolean),
  idTokenTTL: int('id-token-ttl', 'E2E_ID_TOKEN_TTL', 3600),
  clockOffset: signedInt('clock-offset', 'E2E_CLOCK_OFFSET', 0),
  clockOffsetOnSignal: args['clock-offset-on-signal'] === true || env.E2E_CLOCK_OFFSET_ON_SIGNAL === '1',
  jwksFailAfterRefresh: int('jwks-fail-after-refresh', 'E2E_JWKS_FAIL_AFTER_REFRESH', 0),
  refreshDelayMs: int('refresh-delay-ms', 'E2E_REFRESH_DELAY_MS', 0),
  refreshErrorCode: opt('refresh-error-code', 'E2E_REFRESH_ERROR_CODE', ''),
};
if (!config.cert || !config.key) fail('--cert and --key (or E2E_TLS_CERT, E2E_TLS_KEY) are required');
if (!config.rsSecret) fail('--rs-secret (or E2E_RS_SECRET) is required');
if (config.clockOffsetOnSignal && config.clockOffset === 0) {
  fail('--clock-offset-on-signal / E2E_CLOCK_OFFSET_ON_SIGNAL needs a non-zero --clock-offset');
}
if (config.accessTokenTTL < 1) fail('access token TTL must be at least 1 second');
// RFC 6749 §5.2: error is %x20-21 / %x23-5B / %x5D-7E; no space either here.
if (config.refreshErrorCode && !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(config.refreshErrorCode)) {
  fail(`--refresh-error-code / E2E_REFRESH_ERROR_CODE: not an OAuth error code: ${JSON.stringify(config.refreshErrorCode)}`);
}

// ---- clock offset: before oidc-provider is loaded -------------------------

const RealDate = Date;
const realNow = RealDate.now;
// The offset in effect; with --clock-offset-on-signal, 0 until SIGUSR2.
let clockOffsetMs = config.clockOffsetOnSignal ? 0 : config.clockOffset * 1000;
const clockShifted = config.clockOffset !== 0; // now or after SIGUSR2
if (clockShifted) {
  // Date.now itself (oidc-provider's epochTime, its memory adapter) and a
  // Proxy for new Date() / Date() without arguments (jose's checks); with
  // arguments, and for instanceof, Date stays the real one. Node's own
  // internals keep the real clock.
  RealDate.now = () => realNow() + clockOffsetMs;
  globalThis.Date = new Proxy(RealDate, {
    construct: (target, argv, newTarget) => Reflect.construct(
      target,
      argv.length === 0 ? [RealDate.now()] : argv,
      newTarget,
    ),
    apply: () => new RealDate(RealDate.now()).toString(),
  });
}

// Cookie expiry back on the real clock (see the header).
const unshiftCookie = (cookie) => cookie.replace(/;\s*expires=([^;]*)/gi, (whole, date) => {
  const t = RealDate.parse(date);
  return Number.isNaN(t) ? whole : `; expires=${new RealDate(t - clockOffsetMs).toUTCString()}`;
});

const { default: Provider, errors: oidcErrors } = await import('oidc-provider');

// ---- event log -------------------------------------------------------------

const fingerprint = (value) => (value
  ? createHash('sha256').update(value).digest('base64url').slice(0, 16)
  : undefined);

function record(kind, fields = {}) {
  if (!config.eventLog) return;
  const line = { time: new RealDate(realNow()).toISOString(), kind };
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined && v !== null && v !== '') line[k] = v;
  }
  // appendFileSync: one write(2) per line with O_APPEND, so lines never
  // interleave and a reader never sees half a line of a finished event.
  appendFileSync(config.eventLog, `${JSON.stringify(line)}\n`);
}

const errFields = (err) => ({
  error: err?.error ?? err?.name,
  error_description: err?.error_description,
  // error_detail is where oidc-provider says why (e.g. "refresh token already
  // used"); the client only ever sees the generic description.
  error_detail: err?.error_detail ?? err?.message,
  cause: err?.cause?.message,
  status: err?.status ?? err?.statusCode,
});

const ctxFields = (ctx) => ({
  route: ctx?.oidc?.route,
  client_id: ctx?.oidc?.client?.clientId,
});

const tokenFields = (token) => (token ? {
  token_kind: token.kind,
  token_id: token.kind === 'Grant' ? undefined : fingerprint(token.jti),
  grant_id: token.kind === 'Grant' ? token.jti : token.grantId,
  client_id: token.clientId,
  account_id: token.accountId,
  scope: token.scope,
  rotations: token.rotations,
  expires_at: token.exp,
  // RFC 9449: the thumbprint of the DPoP key the token is bound to.
  jkt: token.jkt,
  // RFC 8707: the resource server an access token is for.
  aud: token.resourceServer?.audience ?? token.aud,
} : {});

// ---- bind first, then build the provider for the URL we got ----------------

const tls = { cert: readFileSync(config.cert), key: readFileSync(config.key) };
let handler = (req, res) => { res.writeHead(503).end(); };
const server = createServer(tls, (req, res) => handler(req, res));
// Above any client's polling interval: Node's 5 s default races a client that
// polls every 5-10 s and produces ECONNRESET (E2E-NOTES).
server.keepAliveTimeout = 30_000;
server.headersTimeout = 31_000;

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port, config.host, resolve);
});
const { port } = server.address();
const hostInURL = config.host.includes(':') ? `[${config.host}]` : config.host;
const issuer = `https://${hostInURL}:${port}`;

const jwk = (type, options) => ({
  ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
  use: 'sig',
});
const jwks = {
  keys: [
    { ...jwk('rsa', { modulusLength: 2048 }), alg: 'RS256', kid: 'e2e-rs256' },
    { ...jwk('ec', { namedCurve: 'P-256' }), alg: 'ES256', kid: 'e2e-es256' },
  ],
};

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

// RFC 8707 resource servers: indicator -> the scopes it knows.
const resourceServers = {
  'https://api.e2e.test/': 'api:read api:write',
  'https://other.e2e.test/': 'other:read',
  // the resource of the examples in sesame's --help and README
  'https://api.example.com': 'api:read',
};

const publicClient = {
  client_id: 'sesame-e2e',
  client_name: 'sesame e2e',
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback'],
  grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE],
  response_types: ['code'],
};

const provider = new Provider(issuer, {
  clients: [
    publicClient,
    // The same client under another id, for tests that re-point a profile.
    { ...publicClient, client_id: 'sesame-e2e-2' },
    // kubelogin, for the benchmark that compares it with sesame: its
    // loopback listener takes the code at path / (oauth2cli's default).
    { ...publicClient, client_id: 'kubelogin-e2e', redirect_uris: ['http://127.0.0.1/'] },
    {
      // A resource server: it only introspects.
      client_id: 'e2e-rs',
      client_secret: config.rsSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  clientBasedCORS: () => false,
  enabledJWA: { dPoPSigningAlgValues: config.dpopAlgs },
  jwks,
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: `${sub}@example.test`,
          email_verified: true,
          name: `E2E ${sub}`,
        };
      },
    };
  },
  // PKCE: required for every client (v9 knows only S256, plain is refused).
  // Scope claims (email, name) go into the ID token too, not only to userinfo:
  // sesame shows the identity from the ID token it got at login.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  // Refresh tokens as oidc-provider issues them by default (its
  // issueRefreshToken is left alone): only for a grant that holds
  // offline_access, which the authorization endpoint drops unless prompt
  // includes consent (OpenID Connect Core §11; the device flow, which has no
  // prompt, keeps it). Not tied to the browser session (a CLI outlives it).
  expiresWithSession: async () => false,
  // Rotate on every use. Replaying a consumed (rotated) refresh token makes
  // oidc-provider destroy it and revoke the whole grant (reuse detection, see
  // lib/actions/grants/refresh_token.js "refresh token already used").
  rotateRefreshToken: true,
  revokeGrantPolicy: () => true,
  ttl: {
    AccessToken: () => config.accessTokenTTL,
    AuthorizationCode: 60,
    DeviceCode: config.deviceCodeTTL,
    Grant: config.refreshTokenTTL,
    IdToken: config.idTokenTTL,
    Interaction: 600,
    RefreshToken: () => config.refreshTokenTTL,
    Session: 3600,
  },
  // RFC 9207: oidc-provider v9 has no switch; it always advertises
  // authorization_response_iss_parameter_supported and adds iss to every
  // authorization response that carries no ID token and is not JARM.
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    introspection: {
      enabled: true,
      // e2e-rs may introspect anything; a public client only its own tokens.
      allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none'
        || token.clientId === client.clientId,
    },
    revocation: {
      enabled: true,
      allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
    },
    rpInitiatedLogout: { enabled: false },
    dPoP: {
      enabled: true,
      ...(config.dpopNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}),
    },
    resourceIndicators: {
      enabled: true,
      // Every listed resource requested at authorization is granted; an
      // access token names exactly one (the token request's resource).
      async getResourceServerInfo(ctx, indicator) {
        const scope = resourceServers[indicator];
        if (!scope) throw new oidcErrors.InvalidTarget();
        return {
          scope,
          audience: indicator,
          accessTokenTTL: config.accessTokenTTL,
          accessTokenFormat: 'opaque',
        };
      },
    },
    registration: { enabled: true, initialAccessToken: false },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    ctx.body = `<!DOCTYPE html><html><head><title>oops! something went wrong</title></head><body>`
      + `<h1>oops! something went wrong</h1><p id="error">${esc(out.error)}</p>`
      + `<p id="error_description">${esc(out.error_description ?? '')}</p></body></html>`;
  },
});

// ---- clock offset: what the browser and the Date header see ---------------

if (clockShifted) {
  // Registered first, so outermost: it sees every cookie and the final answer.
  provider.use(async (ctx, next) => {
    await next();
    const cookies = ctx.response.get('Set-Cookie');
    if (cookies) ctx.set('Set-Cookie', [].concat(cookies).map(unshiftCookie));
    ctx.set('Date', new Date().toUTCString());
  });
}

// ---- device flow additions: interval and (opt-in) slow_down ----------------

const lastPoll = new Map();
provider.use(async (ctx, next) => {
  const started = process.hrtime.bigint();
  await next();
  const route = ctx.oidc?.route;
  if (route === 'device_authorization' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
    ctx.body.interval = config.deviceInterval;
  }
  if (route === 'token' && ctx.oidc.params?.grant_type === DEVICE_CODE && config.deviceSlowDown
      && ctx.status === 400 && ctx.body?.error === 'authorization_pending') {
    const key = fingerprint(ctx.oidc.params.device_code);
    const now = Date.now();
    const last = lastPoll.get(key);
    lastPoll.set(key, now);
    if (last !== undefined && now - last < config.deviceInterval * 1000) {
      ctx.body = { error: 'slow_down', error_description: 'polling too fast' };
      record('device.slow_down', { ...ctxFields(ctx), since_last_ms: now - last });
    }
  }
  if (route === 'revocation' && ctx.status === 200) {
    record('revocation.success', {
      ...ctxFields(ctx),
      token_type_hint: ctx.oidc.params?.token_type_hint,
    });
  }
  record('request', {
    method: ctx.method,
    path: ctx.path,
    ...ctxFields(ctx),
    grant_type: route === 'token' ? ctx.oidc.params?.grant_type : undefined,
    status: ctx.status,
    error: ctx.status >= 400 && ctx.body && typeof ctx.body === 'object' ? ctx.body.error : undefined,
    rewritten_from: ctx.state.e2eRewrittenFrom,
    delay_ms: ctx.state.e2eDelayMs,
    ms: Number((process.hrtime.bigint() - started) / 1000000n),
  });
});

// ---- fault injection: jwks_uri failures, late or rewritten refresh answers -

// Inside the middleware above, so that its request event shows the answer as
// sent (rewritten error, delay included).
const jwksPath = provider.pathFor('jwks');
let jwksFailures = 0; // left to answer 503, set by each successful refresh
provider.use(async (ctx, next) => {
  if (jwksFailures > 0 && ctx.path === jwksPath) {
    jwksFailures -= 1;
    record('jwks.failed', { method: ctx.method, path: ctx.path, remaining: jwksFailures });
    ctx.body = null; // first: a null body sets 204
    ctx.status = 503;
    return;
  }
  await next();
  if (ctx.oidc?.route !== 'token' || ctx.oidc.params?.grant_type !== 'refresh_token') return;
  if (config.refreshErrorCode && ctx.status === 400 && ctx.body?.error === 'invalid_grant') {
    const { status } = ctx;
    ctx.body = { ...ctx.body, error: config.refreshErrorCode };
    ctx.status = status;
    ctx.state.e2eRewrittenFrom = 'invalid_grant';
  }
  if (config.refreshDelayMs > 0) {
    // The grant is done (the refresh token rotated); only the answer waits.
    await sleep(config.refreshDelayMs);
    ctx.state.e2eDelayMs = config.refreshDelayMs;
  }
});

// ---- events ----------------------------------------------------------------

provider.on('grant.success', (ctx) => {
  if (ctx.oidc.params?.grant_type === 'refresh_token') jwksFailures = config.jwksFailAfterRefresh;
  const e = ctx.oidc.entities;
  record('grant.success', {
    ...ctxFields(ctx),
    grant_type: ctx.oidc.params?.grant_type,
    grant_id: e.Grant?.jti,
    account_id: e.Account?.accountId,
    access_token_id: fingerprint(e.AccessToken?.jti),
    access_token_jkt: e.AccessToken?.jkt,
    access_token_aud: e.AccessToken?.resourceServer?.audience,
    refresh_token_jkt: e.RefreshToken?.jkt,
    refresh_token_id: fingerprint(e.RefreshToken?.jti),
    rotated_refresh_token_id: fingerprint(e.RotatedRefreshToken?.jti),
    rotations: e.RefreshToken?.rotations,
  });
});
provider.on('registration_create.success', (ctx, client) => record('registration_create.success', {
  client_id: client.clientId,
  token_endpoint_auth_method: client.tokenEndpointAuthMethod,
  application_type: client.applicationType,
}));
provider.on('registration_delete.success', (ctx, client) => record('registration_delete.success', {
  client_id: client.clientId,
}));
provider.on('grant.revoked', (ctx, grantId) => record('grant.revoked', { ...ctxFields(ctx), grant_id: grantId }));
provider.on('authorization.accepted', (ctx) => record('authorization.accepted', ctxFields(ctx)));
provider.on('authorization.success', (ctx, out) => record('authorization.success', {
  ...ctxFields(ctx),
  // keys only: the values are the code and the state
  response_params: Object.keys(out ?? {}).sort(),
  iss: out?.iss,
}));
provider.on('interaction.started', (ctx, prompt) => record('interaction.started', {
  ...ctxFields(ctx), prompt: prompt?.name, reasons: prompt?.reasons,
}));
provider.on('interaction.ended', (ctx) => record('interaction.ended', ctxFields(ctx)));
provider.on('device_authorization.success', (ctx) => record('device_authorization.success', ctxFields(ctx)));
provider.on('server_error', (ctx, err) => record('server_error', { ...ctxFields(ctx), ...errFields(err) }));

for (const kind of [
  'authorization.error', 'grant.error', 'introspection.error', 'revocation.error',
  'device_authorization.error', 'code_verification.error', 'device_resume.error',
  'discovery.error', 'jwks.error', 'userinfo.error', 'pushed_authorization_request.error',
  'registration_create.error', 'registration_delete.error',
]) {
  provider.on(kind, (ctx, err) => record(kind, { ...ctxFields(ctx), ...errFields(err) }));
}

// Model events: <model>.saved / consumed / destroyed ("revoked" tokens are
// destroyed). Sessions and interactions are left out: they are noise.
for (const model of ['access_token', 'refresh_token', 'authorization_code', 'device_code', 'grant']) {
  for (const what of ['saved', 'consumed', 'destroyed']) {
    provider.on(`${model}.${what}`, (token) => record(`${model}.${what}`, tokenFields(token)));
  }
}

// ---- serve -----------------------------------------------------------------

handler = provider.callback();
if (config.clockOffsetOnSignal) {
  // Before the ready line: a test may signal as soon as it has read it.
  process.on('SIGUSR2', () => {
    clockOffsetMs = config.clockOffset * 1000;
    record('clock.offset', { clock_offset: config.clockOffset, server_time: new Date().toISOString() });
  });
}
process.stdout.write(`${JSON.stringify({ issuer, pid: process.pid })}\n`);
record('server.started', {
  issuer,
  pid: process.pid,
  clock_offset: clockOffsetMs / 1000 || undefined,
  clock_offset_on_signal: config.clockOffsetOnSignal ? config.clockOffset : undefined,
  server_time: clockOffsetMs ? new Date().toISOString() : undefined,
});

const stop = (signal) => {
  record('server.stopping', { signal });
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
