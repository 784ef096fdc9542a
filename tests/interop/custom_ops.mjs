// Custom queries, mutations and subscriptions through the UNMODIFIED aws-amplify JS client
// (client.queries.*, client.mutations.*, client.subscriptions.*) against `ampbase serve
// tests/interop/custom_ops/resource.py`, whose operations are served by Python functions.
//
//   NODE_EXTRA_CA_CERTS=<ca.pem> node [--experimental-websocket] custom_ops.mjs <scenario> --outputs <amplify_outputs.json>
//
// Output: one JSON line, {"ok": true, "result": ...} or {"ok": false, "error": ...}.
import fs from 'node:fs';
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/data';
import { Hub } from 'aws-amplify/utils';
import { plain } from './support.mjs';

function argv(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const scenario = process.argv[2];
Amplify.configure(JSON.parse(fs.readFileSync(argv('outputs', 'amplify_outputs.json'), 'utf8')));
const client = generateClient();
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

const errorsOf = (result) =>
  (result.errors ?? []).map((e) => ({ errorType: e.errorType ?? null, message: e.message, errorInfo: e.errorInfo ?? null }));

const scenarios = {
  async operations() {
    return {
      names: {
        queries: Object.keys(client.queries).sort(),
        mutations: Object.keys(client.mutations).sort(),
        subscriptions: Object.keys(client.subscriptions).sort(),
      },
      enums: Object.keys(client.enums ?? {}),
      statusValues: client.enums?.Status?.values?.() ?? null,
    };
  },

  async queries() {
    const echo = await client.queries.echo({ content: 'hello' });
    const shout = await client.queries.shout({ text: 'quiet' });
    const tags = await client.queries.tags();
    return {
      echo: plain(echo.data),
      echoErrors: errorsOf(echo),
      shout: plain(shout.data),
      tags: plain(tags.data),
    };
  },

  async mutations() {
    const before = await client.queries.noteCount();
    const published = await client.mutations.publish({
      channel: `general-${run}`,
      text: 'hi',
      status: 'DONE',
      at: { x: 1.5, y: -2 },
    });
    const after = await client.queries.noteCount();
    const note = await client.models.Note.get({ id: published.data.noteId });
    return {
      published: plain(published.data),
      errors: errorsOf(published),
      before: before.data,
      after: after.data,
      noteBody: note.data?.body ?? null,
      channel: `general-${run}`,
    };
  },

  async errors() {
    const failed = await client.mutations.fail();
    const crashed = await client.queries.crash();
    const badEnum = await client.mutations.publish({ channel: 'x', status: 'LATER' });
    return {
      failed: { data: plain(failed.data), errors: errorsOf(failed) },
      crashed: { data: plain(crashed.data), errors: errorsOf(crashed) },
      badEnum: { data: plain(badEnum.data), errors: errorsOf(badEnum) },
    };
  },

  async subscription() {
    const channel = `live-${run}`;
    const received = [];
    const acked = new Promise((resolve) => {
      Hub.listen('api', ({ payload }) => {
        if (payload.event === 'Subscription ack') resolve();
      });
    });
    let sub;
    const got = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for receive events')), 20000);
      sub = client.subscriptions.receive({ channel }).subscribe({
        next: (message) => {
          received.push(plain(message));
          if (received.length === 2) {
            clearTimeout(timer);
            resolve();
          }
        },
        error: (e) => {
          clearTimeout(timer);
          reject(new Error(`subscription error: ${JSON.stringify(plain(e))}`));
        },
      });
    });
    await acked;
    await client.mutations.publish({ channel, text: 'one', status: 'OPEN' });
    await client.mutations.publish({ channel: `other-${run}`, text: 'not for us' });
    await client.mutations.publish({ channel, text: 'two', at: { x: 3 } });
    await got;
    sub.unsubscribe();
    return { received, channel };
  },
};

const fn = scenarios[scenario];
if (!fn) {
  console.log(JSON.stringify({ ok: false, error: `unknown scenario ${scenario}; known: ${Object.keys(scenarios)}` }));
  process.exit(2);
}
try {
  const result = await fn();
  console.log(JSON.stringify({ ok: true, result }));
  process.exit(0);
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e?.message ?? e), stack: e?.stack ?? null, detail: plain(e) }));
  process.exit(1);
}
