// A vendor's identity provider for the bench to judge: node `oidc-provider` (a certified
// OpenID Provider), with its own login and consent pages, its own paths (/auth, /token, /me,
// /jwks, /session/end) and signed userinfo, as FranceConnect asks of identity providers.
// Written for features/tests/vendor_idp.rs, which passes everything it needs in the environment:
// PORT, NODE_MODULES (where oidc-provider is installed), ACCOUNTS (a JSON file: login ->
// claims), FC_CALLBACK, FC_LOGOUT_CALLBACK, FC_SECRET, BENCH_REDIRECT, BENCH_SECRET, and
// DEVIATION, one way to break FranceConnect's rules on purpose: `no-acr` (the ID token carries
// no acr), `plain-userinfo` (userinfo as plain JSON), `missing-birthplace` (a claim of the
// identity pivot left out), `hs256` (tokens signed with the client secret). JS_LOGIN=1 makes
// the login form need JavaScript to submit (its action is set by a script).
import { createRequire } from 'node:module';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const env = process.env;
const deviation = env.DEVIATION || '';
const require = createRequire(path.join(env.NODE_MODULES, 'noop.js'));
const { default: Provider } = await import(require.resolve('oidc-provider'));

const accounts = JSON.parse(readFileSync(env.ACCOUNTS, 'utf8'));
const issuer = `http://127.0.0.1:${env.PORT}`;
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const key = { ...privateKey.export({ format: 'jwk' }), kid: 'vendor-es256', alg: 'ES256', use: 'sig' };

const alg = deviation === 'hs256' ? 'HS256' : 'ES256';
const client = (client_id, client_secret, redirect_uris, post_logout_redirect_uris) => ({
  client_id, client_secret, redirect_uris, post_logout_redirect_uris,
  token_endpoint_auth_method: 'client_secret_post',
  id_token_signed_response_alg: alg,
  ...(deviation === 'plain-userinfo' ? {} : { userinfo_signed_response_alg: alg }),
});

const provider = new Provider(issuer, {
  clients: [
    client('fc', env.FC_SECRET, [env.FC_CALLBACK], [env.FC_LOGOUT_CALLBACK]),
    client('bench-client', env.BENCH_SECRET, [env.BENCH_REDIRECT], []),
  ],
  jwks: { keys: [key] },
  cookies: { keys: ['vendor-idp-local-only'] },
  acrValues: ['eidas1'],
  scopes: ['openid', 'profile', 'email', 'birth', 'preferred_username', 'given_name',
    'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry'],
  claims: {
    profile: ['given_name', 'family_name', 'birthdate', 'gender', 'preferred_username'],
    birth: ['birthplace', 'birthcountry'],
    email: ['email'],
    preferred_username: ['preferred_username'],
    given_name: ['given_name'], family_name: ['family_name'], birthdate: ['birthdate'],
    gender: ['gender'], birthplace: ['birthplace'], birthcountry: ['birthcountry'],
  },
  features: { devInteractions: { enabled: false }, jwtUserinfo: { enabled: true } },
  enabledJWA: {
    idTokenSigningAlgValues: ['ES256', 'HS256'],
    userinfoSigningAlgValues: ['ES256', 'HS256'],
  },
  pkce: { required: () => false },
  routes: { authorization: '/auth', userinfo: '/me' },
  interactions: { url: (ctx, interaction) => `/signin/${interaction.uid}` },
  async findAccount(ctx, id) {
    const claims = { ...accounts[id] };
    if (!accounts[id]) return undefined;
    if (deviation === 'missing-birthplace') delete claims.birthplace;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
});

const page = (title, body) => `<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;

const form = async (req) => {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return Object.fromEntries(new URLSearchParams(raw));
};

// The vendor's own pages: an ordinary sign-in form (its own field names), then a consent form.
provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/signin\/([^/]+)(\/login|\/confirm)?$/);
  if (!m) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const [, uid, step] = m;
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    const action = env.JS_LOGIN ? '' : ` action="/signin/${uid}/login"`;
    const script = env.JS_LOGIN
      ? `<script>document.getElementById('signin').action = '/signin/${uid}/login';</script>`
      : '';
    ctx.body = details.prompt.name === 'login'
      ? page('Connexion', `<form id="signin" class="signin" method="post"${action}>
          <p><label>Identifiant <input type="text" name="username" autocomplete="username"></label></p>
          <p><label>Mot de passe <input type="password" name="pwd"></label></p>
          <p><button type="submit">Se connecter</button></p></form>${script}`)
      : page('Autoriser', `<form method="post" action="/signin/${uid}/confirm">
          <p>FranceConnect recevra votre identité.</p><button type="submit">Continuer</button></form>`);
    return;
  }
  if (!step) {
    // The form was sent to the page itself: its script did not run.
    ctx.status = 405;
    ctx.type = 'html';
    ctx.body = page('JavaScript requis', '<p>Activez JavaScript pour vous connecter.</p>');
    return;
  }
  let result;
  if (step === '/login') {
    const { username, pwd } = await form(ctx.req);
    if (!accounts[username] || pwd !== '123') {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = page('Connexion refusée', '<p>Identifiant ou mot de passe inconnu.</p>');
      return;
    }
    const acr = deviation === 'no-acr' ? {} : { acr: 'eidas1' };
    result = { login: { accountId: username, ...acr, amr: ['pwd'] } };
  } else {
    const { prompt: { details: missing }, params, session } = details;
    const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    result = { consent: { grantId: await grant.save() } };
  }
  // Merged: the consent step keeps the login it follows (FranceConnect asks prompt=login).
  const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  ctx.status = 303;
  ctx.set('Location', to);
});

provider.listen(Number(env.PORT), '127.0.0.1', () => console.log(`listening ${issuer}`));
