// A standard graphql-transport-ws client (the `graphql-ws` npm package, over Node's global
// WebSocket and wss://) subscribing to onCreateTodo with the API key in `connectionParams`.
//
//   NODE_EXTRA_CA_CERTS=<ca.pem> node graphql_ws_client.mjs <scenario> --outputs <file>
//
// Prints one {"ok": true, "result": ...} or {"ok": false, "error": ...}.
import fs from 'node:fs';
import { createClient } from 'graphql-ws';
import { sleep, until } from './support.mjs';

function argv(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const scenario = process.argv[2];
const outputs = JSON.parse(fs.readFileSync(argv('outputs', 'amplify_outputs.json'), 'utf8'));
const httpUrl = outputs.data.url;
const apiKey = outputs.data.api_key;
const wsUrl = `${httpUrl.replace(/^https:/, 'wss:')}/realtime`;
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

async function graphql(query, variables, key = apiKey) {
  const response = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

const scenarios = {
  async onCreate() {
    let acked = false;
    const client = createClient({
      url: wsUrl,
      webSocketImpl: globalThis.WebSocket,
      connectionParams: { 'x-api-key': apiKey },
      lazy: false,
      retryAttempts: 0,
      on: { connected: () => (acked = true) },
    });
    const seen = [];
    const errors = [];
    let started = false;
    const dispose = client.subscribe(
      { query: 'subscription { onCreateTodo { id content } }' },
      {
        next: (value) => {
          if (value.errors) errors.push(value.errors);
          if (value.data?.onCreateTodo) seen.push(value.data.onCreateTodo.content);
        },
        error: (e) => errors.push(String(e?.message ?? e?.reason ?? JSON.stringify(e))),
        complete: () => {},
      },
    );
    await until(() => acked, 'connection_ack');
    started = true;
    // The server gives no per-operation ack in this protocol: create until the event arrives.
    const want = `${run} via graphql-ws`;
    const creates = [];
    const deadline = Date.now() + 20000;
    while (!seen.includes(want) && Date.now() < deadline) {
      const created = await graphql('mutation ($c: String) { createTodo(input: {content: $c}) { id } }', { c: want });
      creates.push(created.errors ?? []);
      await sleep(200);
    }
    dispose();
    await client.dispose();
    return { started, seen: [...new Set(seen.filter((c) => c.startsWith(run)))], errors, createErrors: creates.flat() };
  },

  async badKey() {
    const closes = [];
    const client = createClient({
      url: wsUrl,
      webSocketImpl: globalThis.WebSocket,
      connectionParams: { 'x-api-key': 'da2-not-a-key' },
      lazy: false,
      retryAttempts: 0,
      on: { closed: (event) => closes.push(event?.code ?? null) },
    });
    await until(() => closes.length > 0, 'the close');
    await client.dispose();
    return { closes };
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
