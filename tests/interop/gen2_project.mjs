// Drives the UNMODIFIED aws-amplify JS client against `ampbase serve <Gen 2 project root>`
// (tests/interop/test_gen2_project.py): the project's amplify/data/resource.ts has a Todo
// model (allow.publicApiKey()) and a custom query `shout` whose Lambda is replaced by a
// Python handler in amplify/data/handlers.py.
//
//   NODE_EXTRA_CA_CERTS=<ca.pem> node [--experimental-websocket] gen2_project.mjs create-list --outputs <amplify_outputs.json>
//
// Output: one JSON line, {"ok": true, "result": ...} or {"ok": false, "error": ...}.
import fs from 'node:fs';
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/data';
import { errorsOf, plain } from './support.mjs';

const argv = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
};

Amplify.configure(JSON.parse(fs.readFileSync(argv('outputs', 'amplify_outputs.json'), 'utf8')));
const client = generateClient();

const scenarios = {
  async 'create-list'() {
    const created = await client.models.Todo.create({ content: 'from a Gen 2 project', isDone: false });
    const listed = await client.models.Todo.list();
    const shouted = await client.queries.shout({ text: 'hello' });
    return {
      created: plain(created.data),
      createErrors: errorsOf(created),
      listed: plain(listed.data),
      listErrors: errorsOf(listed),
      shouted: plain(shouted.data),
      shoutErrors: errorsOf(shouted),
    };
  },
};

const scenario = process.argv[2];
try {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  const result = await scenarios[scenario]();
  process.stdout.write(JSON.stringify({ ok: true, result }) + '\n');
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error?.message ?? error), stack: error?.stack ?? null }) + '\n');
}
process.exit(0);
