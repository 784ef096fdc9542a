// Owner and group rules through the UNMODIFIED aws-amplify JS client, signed in with tokens from
// `ampbase token` supplied by a custom tokenProvider (docs/authorization.md §3).
//
//   TOKEN_ALICE=… TOKEN_BOB=… TOKEN_CAROL=… NODE_EXTRA_CA_CERTS=<ca.pem> node auth.mjs <scenario> --outputs <file>
//
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
const tokens = { alice: process.env.TOKEN_ALICE, bob: process.env.TOKEN_BOB, carol: process.env.TOKEN_CAROL };
let current = 'alice';
Amplify.configure(outputs, {
  Auth: {
    tokenProvider: {
      async getTokens() {
        return { accessToken: decodeJWT(tokens[current]) };
      },
    },
  },
});
const client = generateClient({ authMode: 'userPool' });
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let acks = 0;
Hub.listen('api', ({ payload }) => {
  if (payload.event === 'Subscription ack') acks += 1;
});

async function as(user, fn) {
  const before = current;
  current = user;
  try {
    return await fn();
  } finally {
    current = before;
  }
}

const scenarios = {
  async owner() {
    const Todo = client.models.Todo;
    const mine = await as('alice', () => Todo.create({ content: `${run} alice` }));
    const bobs = await as('bob', () => Todo.create({ content: `${run} bob` }));
    const aliceList = await as('alice', () => Todo.list({ filter: { content: { beginsWith: run } } }));
    const bobGetsAlices = await as('bob', () => Todo.get({ id: mine.data.id }));
    const bobUpdatesAlices = await as('bob', () => Todo.update({ id: mine.data.id, content: 'stolen' }));
    const carolList = await as('carol', () => Todo.list({ filter: { content: { beginsWith: run } } }));
    return {
      created: plain(mine.data),
      createErrors: errorsOf(mine).concat(errorsOf(bobs)),
      aliceSees: aliceList.data.map((t) => t.content.slice(run.length + 1)),
      aliceListErrors: errorsOf(aliceList),
      bobGet: { data: plain(bobGetsAlices.data), errors: errorsOf(bobGetsAlices) },
      bobUpdate: { data: plain(bobUpdatesAlices.data), errors: errorsOf(bobUpdatesAlices) },
      carolSees: carolList.data.map((t) => t.content.slice(run.length + 1)).sort(),
    };
  },

  async subscription() {
    const Todo = client.models.Todo;
    const seen = [];
    const errors = [];
    const sub = Todo.onCreate().subscribe({
      next: (t) => seen.push(t.content),
      error: (e) => errors.push(plain(e)),
    });
    await until(() => acks >= 1, 'start_ack');
    await as('bob', () => Todo.create({ content: `${run} from bob` }));
    await Todo.create({ content: `${run} from alice` });
    await until(() => seen.some((c) => c === `${run} from alice`), "alice's own event");
    await sleep(300);
    sub.unsubscribe();
    return { seen: seen.filter((c) => c.startsWith(run)).map((c) => c.slice(run.length + 1)), errors };
  },
};

try {
  const result = await scenarios[scenario]();
  console.log(JSON.stringify({ ok: true, result }));
  process.exit(0);
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error), stack: error?.stack }));
  process.exit(1);
}
