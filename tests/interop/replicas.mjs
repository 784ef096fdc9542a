// The UNMODIFIED aws-amplify JS client across ampbase replicas (tests/scale/test_replicas.py).
//
//   NODE_EXTRA_CA_CERTS=<ca.pem> node [--experimental-websocket] replicas.mjs subscribe \
//       --outputs <replica A outputs> --run <tag> --expect <n>
//   NODE_EXTRA_CA_CERTS=<ca.pem> node [--experimental-websocket] replicas.mjs create \
//       --outputs <replica B outputs> --run <tag> --count <n>
//
// `subscribe` prints {"phase":"subscribed"} once the server acknowledged onCreateTodo, then
// collects the creates whose content starts with the tag until it has <expect> of them, waits a
// little longer (a duplicate would arrive then) and prints {"ok":true,"result":{contents}}.
// `create` creates <count> todos "<tag> <i>" one after another and prints their ids.
import fs from 'node:fs';
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/data';
import { Hub } from 'aws-amplify/utils';
import { sleep } from './support.mjs';

function argv(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const mode = process.argv[2];
Amplify.configure(JSON.parse(fs.readFileSync(argv('outputs', 'amplify_outputs.json'), 'utf8')));
const client = generateClient();
const run = argv('run', 'run');

let acks = 0;
Hub.listen('api', ({ payload }) => {
  if (payload.event === 'Subscription ack') acks += 1;
});

async function until(predicate, what, ms) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const modes = {
  async subscribe() {
    const expect = Number(argv('expect', '1'));
    const contents = [];
    const errors = [];
    const sub = client.models.Todo.onCreate({ filter: { content: { beginsWith: `${run} ` } } }).subscribe({
      next: (item) => contents.push(item.content.slice(run.length + 1)),
      error: (e) => errors.push(JSON.parse(JSON.stringify(e ?? null))),
    });
    await until(() => acks >= 1, 'the subscription ack', 30000);
    console.log(JSON.stringify({ phase: 'subscribed' }));
    try {
      await until(() => contents.length >= expect, `${expect} events`, 60000);
    } catch (e) {
      // report what arrived; the test names what is missing
    }
    await sleep(1500); // a duplicate or a stray event would arrive now
    sub.unsubscribe();
    return { contents, errors };
  },

  async create() {
    const count = Number(argv('count', '1'));
    const ids = [];
    for (let i = 0; i < count; i += 1) {
      const { data, errors } = await client.models.Todo.create({ content: `${run} ${i}` });
      if (errors?.length) throw new Error(JSON.stringify(errors));
      ids.push(data.id);
    }
    return { ids };
  },
};

const fn = modes[mode];
if (!fn) {
  console.log(JSON.stringify({ ok: false, error: `unknown mode ${mode}; known: ${Object.keys(modes)}` }));
  process.exit(2);
}
try {
  console.log(JSON.stringify({ ok: true, result: await fn() }));
  process.exit(0);
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e?.message ?? e), stack: e?.stack ?? null }));
  process.exit(1);
}
