// OIDC, Lambda and IAM modes through the UNMODIFIED aws-amplify JS client (6.22.1) against
// `ampbase serve tests/interop/auth_modes/resource.py` (docs/authorization.md §3).
//
//   OIDC_ALICE=… OIDC_BOB=… OIDC_MOD=… OIDC_FORGED=… IAM_AUTH='{"accessKeyId":…}' IAM_GUEST=… \
//   IAM_UNKNOWN=… NODE_EXTRA_CA_CERTS=<ca.pem> node auth_modes.mjs <scenario> --outputs <file>
//
// OIDC tokens come from a custom tokenProvider (the client sends `tokens.accessToken` for
// 'oidc'), IAM credentials from a custom credentialsProvider (the client signs every request and
// the realtime handshake with them), Lambda tokens from `authToken`.
// Prints one {"ok": true, "result": ...} or {"ok": false, "error": ...}.
import fs from 'node:fs';
import { Amplify } from 'aws-amplify';
import { decodeJWT } from 'aws-amplify/auth';
import { generateClient } from 'aws-amplify/data';
import { Hub } from 'aws-amplify/utils';
import { errorsOf, plain, sleep, until } from './support.mjs';

function argv(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const scenario = process.argv[2];
const outputs = JSON.parse(fs.readFileSync(argv('outputs', 'amplify_outputs.json'), 'utf8'));
const oidcTokens = {
  alice: process.env.OIDC_ALICE,
  bob: process.env.OIDC_BOB,
  mod: process.env.OIDC_MOD,
};
const iamCredentials = {
  auth: JSON.parse(process.env.IAM_AUTH ?? 'null'),
  guest: JSON.parse(process.env.IAM_GUEST ?? 'null'),
  unknown: JSON.parse(process.env.IAM_UNKNOWN ?? 'null'),
};
let user = null; // whose OIDC token the tokenProvider returns (null: signed out)
let principal = 'guest'; // whose IAM credentials the credentialsProvider returns

Amplify.configure(outputs, {
  Auth: {
    tokenProvider: {
      async getTokens() {
        return user ? { accessToken: decodeJWT(oidcTokens[user]) } : null;
      },
    },
    credentialsProvider: {
      async getCredentialsAndIdentityId() {
        const c = iamCredentials[principal];
        return {
          credentials: {
            accessKeyId: c.accessKeyId,
            secretAccessKey: c.secretAccessKey,
            sessionToken: c.sessionToken,
          },
          identityId: c.identityId,
        };
      },
      async clearCredentialsAndIdentityId() {},
    },
  },
});

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const parsed = (json) => (typeof json === 'string' ? JSON.parse(json) : plain(json));
const outcome = (result) => ({ data: plain(result.data), errors: errorsOf(result) });
// A request the server refused with HTTP 401: the client renames the error 'Unauthorized' when the
// response's errorType is UnauthorizedException (the original name is kept in originalError).
const refusal = (result) => ({
  data: plain(result.data),
  errors: (result.errors ?? []).map((e) => ({
    message: e.message,
    originalName: e.originalError?.name ?? null,
    hasRecoverySuggestion: Boolean(e.recoverySuggestion),
  })),
});
const strip = (items) => items.filter((c) => c?.startsWith(run)).map((c) => c.slice(run.length + 1));
let acks = 0;
Hub.listen('api', ({ payload }) => {
  if (payload.event === 'Subscription ack') acks += 1;
});

async function as(name, fn) {
  const before = user;
  user = name;
  try {
    return await fn();
  } finally {
    user = before;
  }
}

async function signedAs(name, fn) {
  const before = principal;
  principal = name;
  try {
    return await fn();
  } finally {
    principal = before;
  }
}

// A GraphQL error thrown by the client (subscriptions, custom operations) as plain data.
function thrown(error) {
  const errors = error?.errors ?? error?.error?.errors;
  if (Array.isArray(errors)) return { errors: errors.map((e) => ({ errorType: e.errorType ?? null, message: e.message })) };
  return { message: String(error?.message ?? error) };
}

const scenarios = {
  async oidcOwner() {
    const Note = generateClient({ authMode: 'oidc' }).models.Note;
    const mine = await as('alice', () => Note.create({ content: `${run} alice` }));
    const bobs = await as('bob', () => Note.create({ content: `${run} bob` }));
    const filter = { content: { beginsWith: run } };
    const aliceList = await as('alice', () => Note.list({ filter }));
    const aliceGet = await as('alice', () => Note.get({ id: mine.data.id }));
    const bobGet = await as('bob', () => Note.get({ id: mine.data.id }));
    const bobUpdate = await as('bob', () => Note.update({ id: mine.data.id, content: 'stolen' }));
    const modList = await as('mod', () => Note.list({ filter }));
    // per-request authToken: wins over the signed-in user's token
    const bobViaToken = await as('alice', () =>
      Note.list({ filter, authMode: 'oidc', authToken: oidcTokens.bob }),
    );
    const forged = await as('alice', () =>
      Note.list({ filter, authMode: 'oidc', authToken: process.env.OIDC_FORGED }),
    );
    const wrongAudience = await as('alice', () =>
      Note.list({ filter, authMode: 'oidc', authToken: process.env.OIDC_WRONG_AUD }),
    );
    const who = await as('mod', () => generateClient({ authMode: 'oidc' }).queries.whoAmI());
    // authToken on a client with no signed-in user
    let signedOut;
    try {
      signedOut = outcome(await Note.list({ filter, authMode: 'oidc', authToken: oidcTokens.bob }));
    } catch (error) {
      signedOut = { thrown: thrown(error) };
    }
    return {
      created: plain(mine.data),
      createErrors: errorsOf(mine).concat(errorsOf(bobs)),
      aliceSees: strip(aliceList.data.map((n) => n.content)),
      aliceListErrors: errorsOf(aliceList),
      aliceGet: outcome(aliceGet),
      bobGet: outcome(bobGet),
      bobUpdate: outcome(bobUpdate),
      modSees: strip(modList.data.map((n) => n.content)).sort(),
      modListErrors: errorsOf(modList),
      bobViaToken: strip((bobViaToken.data ?? []).map((n) => n.content)),
      forged: refusal(forged),
      wrongAudience: refusal(wrongAudience),
      whoAmI: { data: parsed(who.data), errors: errorsOf(who) },
      signedOut: signedOut.data ? { data: strip(signedOut.data.map((n) => n.content)), errors: signedOut.errors } : signedOut,
    };
  },

  async oidcSubscription() {
    const Note = generateClient({ authMode: 'oidc' }).models.Note;
    const seen = { alice: [], mod: [] };
    const errors = [];
    const subs = [];
    for (const who of ['alice', 'mod']) {
      await as(who, async () => {
        const before = acks;
        subs.push(
          Note.onCreate().subscribe({
            next: (n) => seen[who].push(n.content),
            error: (e) => errors.push(thrown(e)),
          }),
        );
        await until(() => acks > before, `${who}'s start_ack`);
      });
    }
    await as('bob', () => Note.create({ content: `${run} from bob` }));
    await as('alice', () => Note.create({ content: `${run} from alice` }));
    await until(() => strip(seen.mod).length === 2 && strip(seen.alice).length >= 1, 'the events');
    await sleep(300);
    subs.forEach((s) => s.unsubscribe());
    return { alice: strip(seen.alice), mod: strip(seen.mod).sort(), errors };
  },

  async lambda() {
    const client = generateClient({ authMode: 'lambda', authToken: 'allow-acme' });
    const created = await client.models.Memo.create({ title: `${run} memo`, secret: 'classified' });
    const got = await client.models.Memo.get({ id: created.data.id });
    const listed = await client.models.Memo.list({ filter: { title: { beginsWith: run } } });
    const who = await client.queries.whoAmI();
    const otherTenant = await client.queries.whoAmI({ authToken: 'allow-globex' });
    const denied = await client.models.Memo.list({ authToken: 'deny-me' });
    const deniedQuery = await client.queries.whoAmI({ authToken: 'deny-me' });
    // the same token through another mode's rules: Note admits OIDC users only
    const wrongRules = await generateClient({ authMode: 'lambda', authToken: 'allow-acme' }).models.Note.list();
    return {
      created: outcome(created),
      got: outcome(got),
      listed: { data: plain(listed.data).map((m) => ({ ...m, title: strip([m.title])[0] })), errors: errorsOf(listed) },
      whoAmI: { data: parsed(who.data), errors: errorsOf(who) },
      otherTenant: parsed(otherTenant.data),
      denied: refusal(denied),
      deniedQuery: refusal(deniedQuery),
      wrongRules: outcome(wrongRules),
    };
  },

  async lambdaSubscription() {
    const client = generateClient({ authMode: 'lambda', authToken: 'allow-acme' });
    const seen = [];
    const errors = [];
    const sub = client.models.Memo.onCreate().subscribe({
      next: (m) => seen.push(plain(m)),
      error: (e) => errors.push(thrown(e)),
    });
    await until(() => acks >= 1, 'start_ack');
    await client.models.Memo.create({ title: `${run} live`, secret: 's' });
    await until(() => seen.some((m) => m.title === `${run} live`), 'the event');
    sub.unsubscribe();
    const event = seen.find((m) => m.title === `${run} live`);
    // a token the authorizer refuses: the subscription fails (the client then drops the socket)
    const refused = [];
    const denied = client.models.Memo.onCreate({ authToken: 'deny-me' }).subscribe({
      next: () => refused.push({ unexpected: 'event' }),
      error: (e) => refused.push(thrown(e)),
    });
    await until(() => refused.length >= 1, 'the refused subscription');
    denied.unsubscribe();
    return { event: { title: 'live', secret: event.secret }, errors, refused };
  },

  async iam() {
    const client = generateClient({ authMode: 'iam' });
    const Post = client.models.Post;
    const created = await signedAs('auth', () => Post.create({ title: `${run} by auth` }));
    const filter = { title: { beginsWith: run } };
    const authList = await signedAs('auth', () => Post.list({ filter }));
    const guestList = await signedAs('guest', () => Post.list({ filter }));
    const guestGet = await signedAs('guest', () => Post.get({ id: created.data.id }));
    const guestCreate = await signedAs('guest', () => Post.create({ title: `${run} by guest` }));
    const guestDelete = await signedAs('guest', () => Post.delete({ id: created.data.id }));
    const alias = await signedAs('guest', () =>
      generateClient({ authMode: 'identityPool' }).models.Post.list({ filter }),
    );
    const unknown = await signedAs('unknown', () => Post.list({ filter }));
    // a client in the default mode (oidc), switched to IAM per request
    const perRequest = await signedAs('auth', () => generateClient().models.Post.list({ filter, authMode: 'iam' }));
    const authWho = await signedAs('auth', () => client.queries.whoAmI());
    const guestWho = await signedAs('guest', () => client.queries.whoAmI());
    const guestNotes = await signedAs('guest', () => client.models.Note.list());
    return {
      created: outcome(created),
      authSees: strip(authList.data.map((p) => p.title)),
      authListErrors: errorsOf(authList),
      guestSees: strip(guestList.data.map((p) => p.title)),
      guestListErrors: errorsOf(guestList),
      guestGet: { title: strip([guestGet.data?.title])[0] ?? null, errors: errorsOf(guestGet) },
      guestCreate: outcome(guestCreate),
      guestDelete: outcome(guestDelete),
      aliasSees: strip((alias.data ?? []).map((p) => p.title)),
      aliasErrors: errorsOf(alias),
      unknown: refusal(unknown),
      perRequestSees: strip((perRequest.data ?? []).map((p) => p.title)),
      perRequestErrors: errorsOf(perRequest),
      authWho: { data: parsed(authWho.data), errors: errorsOf(authWho) },
      guestWho: { data: parsed(guestWho.data), errors: errorsOf(guestWho) },
      guestNotes: outcome(guestNotes),
    };
  },

  async iamSubscription() {
    const Post = generateClient({ authMode: 'iam' }).models.Post;
    const seen = [];
    const errors = [];
    const sub = await signedAs('guest', async () => {
      const s = Post.onCreate().subscribe({
        next: (p) => seen.push(p.title),
        error: (e) => errors.push(thrown(e)),
      });
      await until(() => acks >= 1, 'start_ack');
      return s;
    });
    await signedAs('auth', () => Post.create({ title: `${run} live` }));
    await until(() => seen.includes(`${run} live`), 'the event');
    sub.unsubscribe();
    return { seen: strip(seen), errors };
  },
};

try {
  const result = await scenarios[scenario]();
  console.log(JSON.stringify({ ok: true, result }));
  process.exit(0);
} catch (error) {
  console.log(
    JSON.stringify({ ok: false, error: String(error?.message ?? error), stack: error?.stack, detail: plain(error) }),
  );
  process.exit(1);
}
