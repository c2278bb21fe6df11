// A real OpenID Connect provider (panva's oidc-provider) for IOC's end-to-end sign-in tests.
//
// Why a real one: a mock would agree with whatever IOC's client does; this one enforces
// PKCE, exact redirect URIs, client authentication, signed ID tokens and RP-initiated logout
// the way a campus identity provider does.  It listens on loopback only, over plain http,
// keeps everything in memory and loads nothing from the internet (its pages have no
// external fonts or scripts), so a browser test stays on the machine.
//
// Configuration, all from the environment (tests/idp/__init__.py sets it):
//   OIDC_PORT                 port to listen on; 0 = any free port (the default)
//   OIDC_REDIRECT_URIS        comma-separated redirect URIs of the client "ioc" (required)
//   OIDC_POST_LOGOUT_REDIRECT_URIS  comma-separated post_logout_redirect_uris (optional)
//   OIDC_BACKCHANNEL_LOGOUT_URI     the client's backchannel_logout_uri (optional)
//   OIDC_CLIENT_ID / OIDC_CLIENT_SECRET   default ioc / ioc-secret-123
//   OIDC_TOKEN_AUTH_METHOD    client_secret_basic (default) or client_secret_post
//   OIDC_USERS                JSON list of {login, password, name, email, groups}
//                             (default: li.si / oidc-pass-1 in ioc-analysts)
//
// When listening it prints one line "READY <port> <issuer>" on stdout.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const env = process.env;
const list = (value) => (value || '').split(',').map((s) => s.trim()).filter(Boolean);

const users = env.OIDC_USERS ? JSON.parse(env.OIDC_USERS) : [{
  login: 'li.si',
  password: 'oidc-pass-1',
  name: '李四',
  email: 'li.si@example.edu.cn',
  groups: ['ioc-analysts'],
}];
const byLogin = new Map(users.map((u) => [u.login, u]));

const redirectUris = list(env.OIDC_REDIRECT_URIS);
if (redirectUris.length === 0) {
  console.error('OIDC_REDIRECT_URIS is required (comma-separated redirect URIs of the client)');
  process.exit(2);
}

const client = {
  client_id: env.OIDC_CLIENT_ID || 'ioc',
  client_secret: env.OIDC_CLIENT_SECRET || 'ioc-secret-123',
  client_name: 'IOC',
  redirect_uris: redirectUris,
  post_logout_redirect_uris: list(env.OIDC_POST_LOGOUT_REDIRECT_URIS),
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: env.OIDC_TOKEN_AUTH_METHOD || 'client_secret_basic',
};
if (env.OIDC_BACKCHANNEL_LOGOUT_URI) {
  client.backchannel_logout_uri = env.OIDC_BACKCHANNEL_LOGOUT_URI;
  client.backchannel_logout_session_required = true;
}

const SCOPES = ['openid', 'offline_access', 'profile', 'email', 'groups'];

function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// One page layout without external resources: the browser must not leave the machine.
function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:24rem;margin:3rem auto}input,button{display:block;width:100%;margin:.4rem 0;padding:.4rem}.error{color:#b00}</style>
</head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

function loginForm(uid, { login = '', error = '' } = {}) {
  return page('Sign in to the test OpenID provider', `
${error ? `<p class="error" id="error">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login" id="login-form" autocomplete="off">
  <label for="login">Login</label><input id="login" name="login" value="${esc(login)}" required autofocus>
  <label for="password">Password</label><input id="password" name="password" type="password" required>
  <button type="submit" id="sign-in">Sign in</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const configuration = {
  clients: [client],
  // A fresh signing key per run: nothing is persisted, and the quick-start key of the
  // library (with its warning) is not used.
  jwks: {
    keys: [{
      ...crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
      kid: crypto.randomUUID(),
      use: 'sig',
      alg: 'RS256',
    }],
  },
  cookies: {
    keys: [crypto.randomBytes(32).toString('base64url')],
    // Cookies are per host, not per port: IOC (and the CAS server) on 127.0.0.1 share the
    // jar with this provider, so the names say whose they are.
    names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
  },
  scopes: SCOPES,
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // Campus providers commonly put the profile in the ID token as well; with the default
  // (true) a code flow would only get these claims from the userinfo endpoint.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    revocation: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out', `${form}
<p>Do you want to sign out from ${esc(ctx.host)}?</p>
<button type="submit" form="op.logoutForm" value="yes" name="logout" id="logout-yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" id="logout-no">No, stay signed in</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<p id="signed-out">You are signed out.</p>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', Object.entries(out)
      .map(([k, v]) => `<p class="error"><strong>${esc(k)}</strong>: ${esc(v)}</p>`).join(''));
  },
  async findAccount(ctx, sub) {
    const user = byLogin.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: user.name,
          preferred_username: user.login,
          email: user.email,
          email_verified: true,
          groups: user.groups || [],
        };
      },
    };
  },
  // The client is first-party: consent is granted without a page, for every scope the
  // provider supports (tokens still only carry what was requested).
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(SCOPES.join(' '));
    await grant.save();
    return grant;
  },
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 600,
    Session: 8 * 3600,
    Grant: 8 * 3600,
    RefreshToken: 8 * 3600,
  },
};

const server = http.createServer();
server.listen(Number(env.OIDC_PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration);

  // The login page: a plain form, checked against the configured users.
  provider.use(async (ctx, next) => {
    const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
    if (!m) return next();
    ctx.set('cache-control', 'no-store');
    try {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== m[1]) throw new errors.SessionNotFound('interaction mismatch');
      if (!m[2] && ctx.method === 'GET') {
        ctx.type = 'html';
        ctx.body = loginForm(details.uid);
        return undefined;
      }
      if (m[2] && ctx.method === 'POST') {
        const form = await readForm(ctx.req);
        const login = form.get('login') || '';
        const user = byLogin.get(login);
        const password = Buffer.from(form.get('password') || '');
        const ok = user && password.length === Buffer.byteLength(user.password)
          && crypto.timingSafeEqual(password, Buffer.from(user.password));
        if (!ok) {
          ctx.status = 200;
          ctx.type = 'html';
          ctx.body = loginForm(details.uid, { login, error: 'Wrong login or password.' });
          return undefined;
        }
        await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: user.login } }, {
          mergeWithLastSubmission: false,
        });
        ctx.respond = false;
        return undefined;
      }
      ctx.status = 405;
      return undefined;
    } catch (err) {
      if (err instanceof errors.SessionNotFound) {
        ctx.status = err.status;
        ctx.type = 'html';
        ctx.body = page('Error', `<p class="error">${esc(err.message)}: ${esc(err.error_description || '')}</p>`);
        return undefined;
      }
      throw err;
    }
  });

  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  console.log(`READY ${port} ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
