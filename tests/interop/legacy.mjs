// The 6.5.x real-time handshake through the UNMODIFIED aws-amplify 6.5.4 client (npm alias
// `aws-amplify-65`): it connects with `?header=<base64 auth>&payload=e30=` rather than the
// newer sub-protocol header, then subscribes onCreate and receives an event.
//
//   NODE_EXTRA_CA_CERTS=<ca.pem> node legacy.mjs <scenario> --outputs <file>
//
// Prints one {"ok": true, "result": ...} or {"ok": false, "error": ...}.
import fs from 'node:fs';
import { Amplify } from 'aws-amplify-65';
import { generateClient } from 'aws-amplify-65/data';
import { Hub } from 'aws-amplify-65/utils';
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
let acks = 0;
Hub.listen('api', ({ payload }) => {
  if (payload.event === 'Subscription ack') acks += 1;
});
const urls = [];
const NativeWebSocket = globalThis.WebSocket;
globalThis.WebSocket = class extends NativeWebSocket {
  constructor(url, ...rest) {
    super(url, ...rest);
    urls.push(String(url));
  }
};

const scenarios = {
  async onCreate() {
    const Todo = client.models.Todo;
    const seen = [];
    const errors = [];
    const sub = Todo.onCreate().subscribe({
      next: (t) => seen.push(t.content),
      error: (e) => errors.push(plain(e)),
    });
    await until(() => acks >= 1, 'start_ack');
    const created = await Todo.create({ content: `${run} legacy` });
    await until(() => seen.includes(`${run} legacy`), 'the onCreate event');
    sub.unsubscribe();
    const url = new URL(urls[0]);
    const header = JSON.parse(Buffer.from(url.searchParams.get('header'), 'base64').toString('utf8'));
    return {
      createErrors: (created.errors ?? []).map((e) => e.message),
      seen: seen.filter((c) => c.startsWith(run)),
      errors,
      sockets: urls.length,
      payloadParam: url.searchParams.get('payload'),
      headerKeys: Object.keys(header).sort(),
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
