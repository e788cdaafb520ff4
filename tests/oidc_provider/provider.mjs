// Test-only OpenID Connect identity provider for the platform's sign-in tests.
//
// Started by tests/oidc_idp.py on a loopback port. It stands in for the company IdP:
// authorization-code flow with mandatory PKCE (S256), a fresh RSA signing key per run,
// the built-in development login form (login = account id, any password) and no consent
// screen. Never use it outside the test suite.
//
// Environment:
//   PORT           port to listen on (127.0.0.1 only)
//   ISSUER         issuer identifier, e.g. http://127.0.0.1:PORT (use this exact spelling everywhere)
//   CLIENTS_JSON   JSON list of {client_id, client_secret, redirect_uris[, token_endpoint_auth_method]}
//   ACCOUNTS_FILE  JSON file {accountId: {claim: value, ...}}, re-read on every lookup so a test
//                  can change an employee's claims between two sign-ins
//
// Prints exactly one line "ready <issuer>" on stdout once it listens; everything else goes
// to stderr.

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider, { interactionPolicy } from 'oidc-provider';

function fail(message) {
  console.error(`test-oidc-provider: ${message}`);
  process.exit(2);
}

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) fail(`environment variable ${name} is required`);
  return value;
}

const port = Number.parseInt(requiredEnv('PORT'), 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`PORT is not a port: ${process.env.PORT}`);
const issuer = requiredEnv('ISSUER');
const accountsFile = requiredEnv('ACCOUNTS_FILE');

let clientsInput;
try {
  clientsInput = JSON.parse(requiredEnv('CLIENTS_JSON'));
} catch (err) {
  fail(`CLIENTS_JSON is not valid JSON: ${err.message}`);
}
if (!Array.isArray(clientsInput) || clientsInput.length === 0) fail('CLIENTS_JSON must be a non-empty list');

const clients = clientsInput.map((client) => ({
  client_id: client.client_id,
  client_secret: client.client_secret,
  redirect_uris: client.redirect_uris,
  post_logout_redirect_uris: client.post_logout_redirect_uris ?? [],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: client.token_endpoint_auth_method ?? 'client_secret_basic',
}));

// Discovery advertises only the client authentication methods our clients use, so a
// relying party that picks a method from discovery picks the one its client is registered with.
const clientAuthMethods = [...new Set(clients.map((client) => client.token_endpoint_auth_method))];

// Scope -> claims. Every key becomes a scope ("roles" included).
const claims = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name'],
  groups: ['groups'],
  department: ['department'],
  roles: ['roles'],
};
const scopedClaimNames = new Set(Object.values(claims).flat());

// Claims the provider sets itself; an account file can never override them.
const protocolClaimNames = new Set([
  'sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'azp', 'auth_time', 'acr', 'amr',
  'sid', 'at_hash', 'c_hash', 's_hash',
]);

function readAccounts() {
  let text;
  try {
    text = readFileSync(accountsFile, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') return {};
    throw err;
  }
  const accounts = JSON.parse(text);
  if (accounts === null || typeof accounts !== 'object' || Array.isArray(accounts)) {
    throw new TypeError(`${accountsFile} must hold a JSON object of accountId -> claims`);
  }
  return accounts;
}

function accountExists(accountId) {
  return typeof accountId === 'string' && Object.hasOwn(readAccounts(), accountId);
}

async function findAccount(ctx, accountId) {
  if (!accountExists(accountId)) return undefined;
  return {
    accountId,
    async claims() {
      // Read again: the claims may have changed since the account was looked up.
      const current = readAccounts()[accountId] ?? {};
      return { ...current, sub: accountId };
    },
  };
}

// Consent is implied for the company's own platform: establish (or extend) the grant
// for whatever the relying party asks for, so no consent page is ever shown.
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant) {
    grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.account.accountId });
  }
  grant.addOIDCScope(oidc.params.scope || 'openid');
  const requestedClaims = [...oidc.requestParamClaims];
  if (requestedClaims.length) grant.addOIDCClaims(requestedClaims);
  await grant.save();
  return grant;
}

// An IdP session whose account was removed from the accounts file asks for a new login
// instead of failing later with an internal error.
const policy = interactionPolicy.base();
policy.get('login').checks.add(new interactionPolicy.Check(
  'account_removed',
  'the signed-in account no longer exists',
  (ctx) => {
    const { accountId } = ctx.oidc.session;
    return accountId && !accountExists(accountId)
      ? interactionPolicy.Check.REQUEST_PROMPT
      : interactionPolicy.Check.NO_NEED_TO_PROMPT;
  },
));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients,
  clientAuthMethods,
  responseTypes: ['code'],
  pkce: { methods: ['S256'], required: () => true },
  claims,
  conformIdTokenClaims: false,
  findAccount,
  loadExistingGrant,
  interactions: { policy },
  jwks: { keys: [signingKey] },
  // Lifetimes in seconds, set explicitly (the defaults log a notice on every use).
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 120,
    IdToken: 3600,
    Interaction: 3600,
    Grant: 86400,
    Session: 86400,
  },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: true },
  },
});

// Pass through claims that no scope maps (for example Microsoft Entra's group-overage
// markers "_claim_names"/"_claim_sources", or tenant-specific keys) whenever the account
// has them, in the ID token and in userinfo alike. The provider's own mask decides
// everything else, so scoped claims still follow the granted scopes.
const scopedResult = provider.Claims.prototype.result;
provider.Claims.prototype.result = async function resultWithPassThrough() {
  const masked = await scopedResult.call(this);
  for (const [key, value] of Object.entries(this.available)) {
    if (!scopedClaimNames.has(key) && !protocolClaimNames.has(key)) masked[key] = value;
  }
  return masked;
};

function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// Login form submissions are checked against the accounts file: a known account signs in,
// an unknown one ends the authorization with access_denied (the relying party gets
// error=access_denied on its redirect_uri) rather than an internal server error.
const interactionPath = /^\/interaction\/([^/]+)$/;
provider.use(async (ctx, next) => {
  const match = ctx.method === 'POST' ? interactionPath.exec(ctx.path) : null;
  if (!match) return next();

  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch {
    return next(); // expired or foreign interaction: let the provider render its error page
  }
  if (details.uid !== match[1] || details.prompt.name !== 'login') return next();

  const form = new URLSearchParams(await readBody(ctx.req));
  const accountId = (form.get('login') ?? '').trim();
  const result = accountExists(accountId)
    ? { login: { accountId } }
    : { error: 'access_denied', error_description: 'unknown user' };
  if (!('login' in result)) console.error(`test-oidc-provider: login refused for unknown account ${JSON.stringify(accountId)}`);
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.respond = false;
  return undefined;
});

provider.on('server_error', (ctx, err) => {
  console.error(`test-oidc-provider: server_error on ${ctx?.method} ${ctx?.path}:`, err);
});
for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'end_session.error']) {
  provider.on(event, (ctx, err) => {
    console.error(`test-oidc-provider: ${event} on ${ctx?.method} ${ctx?.path}: ${err?.name}: ${err?.message} ${err?.error_description ?? ''}`);
  });
}

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
server.on('error', (err) => {
  console.error(`test-oidc-provider: cannot listen on 127.0.0.1:${port}: ${err.message}`);
  process.exit(1);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
  });
}
