// Realtime scenarios for the UNMODIFIED aws-amplify JS client against a running ampbase server.
//
//   NODE_EXTRA_CA_CERTS=<ca.pem> node [--experimental-websocket] realtime.mjs <scenario> --outputs <amplify_outputs.json>
//
// Prints progress lines {"phase": ...} and finally one {"ok": true, "result": ...} or
// {"ok": false, "error": ...}. tests/interop/test_js_realtime.py runs them.
import fs from 'node:fs';
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/data';
import { Hub } from 'aws-amplify/utils';
import { plain, sleep, until } from './support.mjs';

function argv(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const scenario = process.argv[2];
const outputs = JSON.parse(fs.readFileSync(argv('outputs', 'amplify_outputs.json'), 'utf8'));
Amplify.configure(outputs);
const client = generateClient();
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

const phase = (name, extra = {}) => console.log(JSON.stringify({ phase: name, ...extra }));

// Hub bookkeeping shared by the scenarios.
const states = [];
let acks = 0;
Hub.listen('api', ({ payload }) => {
  if (payload.event === 'ConnectionStateChange') states.push(payload.data.connectionState);
  if (payload.event === 'Subscription ack') acks += 1;
});

// Subscribe and collect what the app sees: next(record) and error(e).
function collect(observable) {
  const box = { items: [], errors: [] };
  box.sub = observable.subscribe({
    next: (item) => box.items.push(plain(item)),
    error: (e) => box.errors.push(plain(e)),
  });
  return box;
}

const contents = (box) =>
  box.items.filter((t) => t.content?.startsWith(`${run} `)).map((t) => t.content.slice(run.length + 1));

const scenarios = {
  async lifecycle() {
    // onCreate without and with filters (and/or, in/notIn on an enum), onUpdate, onDelete,
    // then unsubscribe: the stopped subscription gets nothing more, the others carry on.
    const Todo = client.models.Todo;
    const mine = { content: { beginsWith: run } };
    const all = collect(Todo.onCreate());
    const lowOrDone = collect(
      Todo.onCreate({ filter: { and: [mine, { or: [{ priority: { in: ['LOW'] } }, { isDone: { eq: true } }] }] } }),
    );
    const notLow = collect(Todo.onCreate({ filter: { and: [mine, { priority: { notIn: ['LOW'] } }] } }));
    const updates = collect(Todo.onUpdate({ filter: mine }));
    const deletes = collect(Todo.onDelete({ filter: mine }));
    await until(() => acks >= 5, 'five start_acks');

    const a = (await Todo.create({ content: `${run} a`, priority: 'LOW' })).data;
    const b = (await Todo.create({ content: `${run} b`, priority: 'HIGH', isDone: true })).data;
    await Todo.create({ content: `${run} c`, priority: 'MEDIUM' });
    await until(() => contents(all).filter((c) => ['a', 'b', 'c'].includes(c)).length === 3, 'three creates');
    await until(() => notLow.items.length === 2 && lowOrDone.items.length === 2, 'the filtered creates');

    await Todo.update({ id: a.id, isDone: true });
    await Todo.delete({ id: b.id });
    await until(() => updates.items.length === 1 && deletes.items.length === 1, 'update and delete events');

    notLow.sub.unsubscribe();
    await sleep(200); // let the stop reach the server before the next write
    await Todo.create({ content: `${run} d`, priority: 'HIGH' });
    await until(() => contents(all).includes('d'), 'the create after unsubscribe');
    await sleep(300); // the stopped subscription would have received it by now
    const result = {
      all: contents(all).filter((c) => c.length === 1),
      lowOrDone: contents(lowOrDone),
      notLow: contents(notLow),
      updated: updates.items.map((t) => ({ content: t.content.slice(run.length + 1), isDone: t.isDone })),
      deleted: contents(deletes),
      errors: [all, lowOrDone, notLow, updates, deletes].flatMap((box) => box.errors),
      states: [...states],
    };
    [all, lowOrDone, updates, deletes].forEach((box) => box.sub.unsubscribe());
    return result;
  },

  async observeSnapshots() {
    // observeQuery: isSynced false while paging (limit 2 over 5 items), then true, then live.
    const Todo = client.models.Todo;
    const prefix = `${run} obs`;
    for (let i = 0; i < 5; i += 1) await Todo.create({ content: `${prefix} ${i}` });
    const snapshots = [];
    const sub = Todo.observeQuery({ filter: { content: { beginsWith: prefix } }, limit: 2 }).subscribe({
      next: ({ items, isSynced }) => snapshots.push({ isSynced, count: items.length }),
    });
    await until(() => snapshots.some((s) => s.isSynced), 'the synced snapshot');
    await until(() => acks >= 3, 'three start_acks');
    await Todo.create({ content: `${prefix} live` });
    await until(() => snapshots[snapshots.length - 1].count === 6, 'the live snapshot');
    sub.unsubscribe();
    return { snapshots };
  },

  async resubscribe() {
    // The server goes away under a live subscription; the client reconnects by itself,
    // re-sends start with the same id and events flow again.
    const Todo = client.models.Todo;
    const box = collect(Todo.onCreate({ filter: { content: { beginsWith: run } } }));
    await until(() => acks >= 1, 'the first start_ack');
    await Todo.create({ content: `${run} before` });
    await until(() => box.items.length === 1, 'the event before the restart');
    phase('subscribed'); // the test now restarts the server
    await until(() => states.includes('ConnectionDisrupted'), 'the disruption', 60000);
    await until(() => acks >= 2, 'the re-subscription', 120000);
    let created = null;
    for (let attempt = 0; attempt < 50 && created === null; attempt += 1) {
      const result = await Todo.create({ content: `${run} after` });
      if (result.data) created = result.data;
      else await sleep(200);
    }
    await until(() => box.items.length === 2, 'the event after the restart');
    box.sub.unsubscribe();
    return { contents: contents(box), errors: box.errors, states: [...states], acks };
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
