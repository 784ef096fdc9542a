// Two auth modes through the UNMODIFIED aws-amplify JS client (6.22.1): an apiKey and a userPool
// subscription on one socket, and per-request authMode/authToken for create and list.
//
//   TOKEN_ALICE=… NODE_EXTRA_CA_CERTS=<ca.pem> node realtime_modes.mjs <scenario> --outputs <file>
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
const alice = process.env.TOKEN_ALICE;
Amplify.configure(outputs, {
  Auth: {
    tokenProvider: {
      async getTokens() {
        return { accessToken: decodeJWT(alice) };
      },
    },
  },
});
const client = generateClient({ authMode: 'apiKey' });
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let acks = 0;
let sockets = 0;
Hub.listen('api', ({ payload }) => {
  if (payload.event === 'Subscription ack') acks += 1;
});
const NativeWebSocket = globalThis.WebSocket;
globalThis.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    sockets += 1;
  }
};

const scenarios = {
  async twoModes() {
    const Note = client.models.Note;
    const viaKey = [];
    const viaPool = [];
    const errors = [];
    const a = Note.onCreate({ authMode: 'apiKey' }).subscribe({
      next: (n) => viaKey.push(n.content),
      error: (e) => errors.push(plain(e)),
    });
    const b = Note.onCreate({ authMode: 'userPool' }).subscribe({
      next: (n) => viaPool.push(n.content),
      error: (e) => errors.push(plain(e)),
    });
    await until(() => acks >= 2, 'two start_acks');
    const created = await Note.create({ content: `${run} hello` }, { authMode: 'userPool' });
    const want = `${run} hello`;
    await until(() => viaKey.includes(want) && viaPool.includes(want), 'both events');
    a.unsubscribe();
    b.unsubscribe();
    return {
      createErrors: errorsOf(created),
      owner: created.data?.owner ?? null,
      viaKey: viaKey.filter((c) => c.startsWith(run)),
      viaPool: viaPool.filter((c) => c.startsWith(run)),
      sockets,
      errors,
    };
  },

  async perRequest() {
    const Note = client.models.Note;
    const created = await Note.create({ content: `${run} token` }, { authMode: 'userPool', authToken: alice });
    const filter = { content: { beginsWith: run } };
    const poolList = await Note.list({ filter, authMode: 'userPool' });
    const keyList = await Note.list({ filter, authMode: 'apiKey' });
    const keyCreate = await Note.create({ content: `${run} key` }, { authMode: 'apiKey' });
    return {
      created: plain(created.data),
      createErrors: errorsOf(created),
      poolSees: poolList.data.map((n) => n.content),
      poolErrors: errorsOf(poolList),
      keySees: keyList.data.map((n) => n.content),
      keyErrors: errorsOf(keyList),
      keyCreateErrors: errorsOf(keyCreate),
    };
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
