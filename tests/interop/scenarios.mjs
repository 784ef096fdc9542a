// Drives the UNMODIFIED aws-amplify JS client (generateClient from aws-amplify/data) against a
// running ampbase server and prints what the client hands back to application code as JSON.
//
//   NODE_EXTRA_CA_CERTS=<ca.pem> node [--experimental-websocket] scenarios.mjs <scenario> --outputs <amplify_outputs.json>
//
// Output: one JSON document on stdout, {"ok": true, "result": ...} or {"ok": false, "error": ...}.
// tests/interop/test_js_client.py runs each scenario and asserts on the result.
import fs from 'node:fs';
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/data';
import { Hub } from 'aws-amplify/utils';
import { errorsOf, plain } from './support.mjs';

function argv(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const scenario = process.argv[2];
const outputs = JSON.parse(fs.readFileSync(argv('outputs', 'amplify_outputs.json'), 'utf8'));
Amplify.configure(outputs);
const client = generateClient();
// A run id keeps scenarios independent when they share one server and database.
const run = argv('run', `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`);

// Records carry lazy-loader functions; JSON drops them.

async function inBatches(items, size, fn) {
  const results = [];
  for (let i = 0; i < items.length; i += size) {
    results.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  }
  return results;
}

async function listAll(list, args) {
  const pages = [];
  let nextToken = null;
  do {
    const page = await list({ ...args, nextToken });
    if (page.errors?.length) throw new Error(`list failed: ${JSON.stringify(page.errors)}`);
    pages.push(page.data.map((r) => plain(r)));
    nextToken = page.nextToken ?? null;
  } while (nextToken);
  return pages;
}

const scenarios = {
  async crud() {
    const Todo = client.models.Todo;
    const created = await Todo.create({
      content: `buy milk ${run}`,
      isDone: false,
      priority: 'HIGH',
      location: { lat: 1.5, long: 2.5 },
    });
    const id = created.data.id;
    const got = await Todo.get({ id });
    const updated = await Todo.update({ id, isDone: true, createdAt: '2000-01-01T00:00:00.000Z' });
    const listed = await Todo.list({ filter: { content: { eq: `buy milk ${run}` } } });
    const deleted = await Todo.delete({ id });
    const afterDelete = await Todo.get({ id });
    return {
      created: plain(created.data),
      createErrors: errorsOf(created),
      got: plain(got.data),
      updated: plain(updated.data),
      listed: plain(listed.data),
      listNextToken: listed.nextToken ?? null,
      deleted: plain(deleted.data),
      afterDelete: plain(afterDelete.data),
      afterDeleteErrors: errorsOf(afterDelete),
    };
  },

  async filter() {
    const Todo = client.models.Todo;
    const specs = [
      { content: `${run} alpha`, isDone: true, priority: 'HIGH' },
      { content: `${run} beta`, isDone: false, priority: 'LOW' },
      { content: `${run} gamma`, isDone: true, priority: 'LOW' },
      { content: `${run} delta`, isDone: false, priority: 'MEDIUM' },
      { content: `${run} alphabet`, isDone: false },
    ];
    await inBatches(specs, 5, (s) => Todo.create(s));
    const mine = { content: { beginsWith: run } };
    const names = async (filter) => {
      const pages = await listAll(Todo.list, { filter: { and: [mine, filter] } });
      return pages.flat().map((t) => t.content.slice(run.length + 1)).sort();
    };
    return {
      done: await names({ isDone: { eq: true } }),
      notDone: await names({ isDone: { ne: true } }),
      low: await names({ priority: { eq: 'LOW' } }),
      lowOrHigh: await names({ or: [{ priority: { eq: 'LOW' } }, { priority: { eq: 'HIGH' } }] }),
      notLow: await names({ not: { priority: { eq: 'LOW' } } }),
      containsAlpha: await names({ content: { contains: 'alpha' } }),
      withContent: await names({ content: { attributeExists: true } }),
      notContainsA: await names({ content: { notContains: 'ta' } }),
      betweenBD: await names({ content: { between: [`${run} b`, `${run} e`] } }),
      doneAndHigh: await names({ and: [{ isDone: { eq: true } }, { priority: { eq: 'HIGH' } }] }),
    };
  },

  async paginate() {
    const Todo = client.models.Todo;
    const count = 250;
    const prefix = `page ${run} `;
    await inBatches([...Array(count).keys()], 25, (i) =>
      Todo.create({ content: `${prefix}${String(i).padStart(3, '0')}`, isDone: i % 2 === 0 }),
    );
    const filter = { content: { beginsWith: prefix } };
    const by100 = await listAll(Todo.list, { filter, limit: 100 });
    const byDefault = await listAll(Todo.list, { filter });
    const doneBy30 = await listAll(Todo.list, { filter: { and: [filter, { isDone: { eq: true } }] }, limit: 30 });
    const contents = (pages) => pages.flat().map((t) => t.content);
    return {
      pageSizes100: by100.map((p) => p.length),
      unique100: new Set(contents(by100)).size,
      total100: contents(by100).length,
      defaultTotal: contents(byDefault).length,
      defaultUnique: new Set(contents(byDefault)).size,
      donePageSizes: doneBy30.map((p) => p.length),
      doneUnique: new Set(contents(doneBy30)).size,
      allDone: doneBy30.flat().every((t) => t.isDone === true),
    };
  },

  async errors() {
    const Todo = client.models.Todo;
    const missingUpdate = await Todo.update({ id: `missing-${run}`, isDone: true });
    const missingDelete = await Todo.delete({ id: `missing-${run}` });
    let unknownField;
    try {
      unknownField = { resolved: plain(await client.graphql({ query: 'query { listTodos { items { id nope } } }' })) };
    } catch (e) {
      unknownField = { rejected: errorsOf(e), data: plain(e.data) };
    }
    let missingVariable;
    try {
      missingVariable = {
        resolved: plain(await client.graphql({ query: 'query ($id: ID!) { getTodo(id: $id) { id } }', variables: {} })),
      };
    } catch (e) {
      missingVariable = { rejected: errorsOf(e) };
    }
    let badFilter;
    try {
      badFilter = plain(await Todo.list({ filter: { nope: { eq: 1 } } }));
    } catch (e) {
      badFilter = { thrown: String(e) };
    }
    const badKeyClient = generateClient({ authMode: 'apiKey', apiKey: 'da2-notavalidkeyatall0000000' });
    const badKey = await badKeyClient.models.Todo.list();
    return {
      missingUpdate: { data: plain(missingUpdate.data), errors: errorsOf(missingUpdate) },
      missingDelete: { data: plain(missingDelete.data), errors: errorsOf(missingDelete) },
      unknownField,
      missingVariable,
      badFilter: { data: badFilter.data ?? null, errors: errorsOf(badFilter), thrown: badFilter.thrown ?? null },
      badKey: { data: plain(badKey.data), errors: errorsOf(badKey) },
    };
  },

  async cpk() {
    const Product = client.models.Product;
    const sku = `SKU-${run}`;
    const regions = ['eu-west', 'us-east', 'us-west', 'ap-south'];
    const created = await inBatches(regions, 4, (region) =>
      Product.create({ sku, region, title: `${region} title`, tags: ['a', region] }),
    );
    const got = await Product.get({ sku, region: 'us-east' });
    const updated = await Product.update({ sku, region: 'us-east', title: 'renamed' });
    const asc = await Product.list({ sku });
    const desc = await Product.list({ sku, sortDirection: 'DESC' });
    const us = await Product.list({ sku, region: { beginsWith: 'us' }, sortDirection: 'DESC' });
    const between = await Product.list({ sku, region: { between: ['b', 'us-east'] } });
    const duplicate = await Product.create({ sku, region: 'eu-west', title: 'again' });
    const deleted = await Product.delete({ sku, region: 'ap-south' });
    const afterDelete = await Product.list({ sku });
    return {
      createErrors: created.flatMap(errorsOf),
      got: plain(got.data),
      updated: plain(updated.data),
      asc: asc.data.map((p) => p.region),
      desc: desc.data.map((p) => p.region),
      us: us.data.map((p) => p.region),
      between: between.data.map((p) => p.region),
      duplicate: { data: plain(duplicate.data), errors: errorsOf(duplicate) },
      deleted: plain(deleted.data),
      afterDelete: afterDelete.data.map((p) => p.region),
    };
  },

  async index() {
    const Customer = client.models.Customer;
    const rep = `rep-${run}`;
    const names = ['Mona', 'Alice', 'Max', 'Zed', 'Mia', 'Bob'];
    await inBatches(names, 6, (name) => Customer.create({ name, accountRepresentativeId: rep }));
    await Customer.create({ name: 'Mallory', accountRepresentativeId: `other-${run}` });
    const q = Customer.listCustomerByAccountRepresentativeIdAndName;
    const asc = await q({ accountRepresentativeId: rep });
    const desc = await q({ accountRepresentativeId: rep }, { sortDirection: 'DESC' });
    const m = await q({ accountRepresentativeId: rep, name: { beginsWith: 'M' } }, { sortDirection: 'DESC' });
    const gt = await q({ accountRepresentativeId: rep, name: { gt: 'Max' } });
    const filtered = await q({ accountRepresentativeId: rep }, { filter: { name: { contains: 'o' } } });
    const pages = await listAll((args) => q({ accountRepresentativeId: rep }, { ...args, sortDirection: 'DESC' }), {
      limit: 4,
    });
    return {
      asc: asc.data.map((c) => c.name),
      desc: desc.data.map((c) => c.name),
      mDesc: m.data.map((c) => c.name),
      gtMax: gt.data.map((c) => c.name),
      containsO: filtered.data.map((c) => c.name),
      pagedDesc: pages.map((p) => p.map((c) => c.name)),
      errors: [asc, desc, m, gt, filtered].flatMap(errorsOf),
    };
  },

  async relations() {
    const { Team, Member } = client.models;
    const team = (await Team.create({ name: `team ${run}` })).data;
    const names = ['ann', 'ben', 'cat'];
    await inBatches(names, 3, (name) => Member.create({ name, teamId: team.id }));
    const loner = (await Member.create({ name: 'loner' })).data;
    const members = await team.members();
    const firstMember = members.data.find((m) => m.name === 'ann');
    const parent = await firstMember.team();
    const lonerTeam = await loner.team();
    const nested = await Team.get({ id: team.id }, { selectionSet: ['id', 'name', 'members.*'] });
    const viaBelongsTo = await Member.list({
      filter: { teamId: { eq: team.id } },
      selectionSet: ['name', 'team.name'],
    });
    return {
      members: members.data.map((m) => m.name).sort(),
      memberErrors: errorsOf(members),
      parent: plain(parent.data)?.name ?? null,
      lonerTeam: plain(lonerTeam.data),
      nested: { name: nested.data?.name, members: (nested.data?.members ?? []).map((m) => m.name).sort() },
      nestedErrors: errorsOf(nested),
      viaBelongsTo: viaBelongsTo.data.map((m) => `${m.name}@${m.team?.name}`).sort(),
    };
  },

  async subscribe() {
    // onCreate with a filter: only the matching create arrives, as the bare record (§6.5).
    const Todo = client.models.Todo;
    const content = `sub ${run}`;
    const states = [];
    const acked = new Promise((resolve) => {
      Hub.listen('api', ({ payload }) => {
        if (payload.event === 'ConnectionStateChange') states.push(payload.data.connectionState);
        if (payload.event === 'Subscription ack') resolve();
      });
    });
    const received = [];
    let sub;
    const first = new Promise((resolve, reject) => {
      sub = Todo.onCreate({ filter: { content: { beginsWith: content } } }).subscribe({
        next: (item) => {
          received.push(plain(item));
          resolve();
        },
        error: (e) => reject(new Error(`subscription error: ${JSON.stringify(e)}`)),
      });
    });
    const timeout = (ms, what) =>
      new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms));
    await Promise.race([acked, timeout(20000, 'start_ack')]);
    await Todo.create({ content: `other ${run}` });
    const created = (await Todo.create({ content: `${content} match`, priority: 'LOW' })).data;
    await Promise.race([first, timeout(20000, 'the subscription event')]);
    sub.unsubscribe();
    return { received, createdId: created.id, states };
  },
  async observe() {
    // observeQuery: list pages + onCreate/onUpdate/onDelete, snapshots until synced and after events.
    const Todo = client.models.Todo;
    const prefix = `obs ${run}`;
    await inBatches([0, 1, 2], 3, (i) => Todo.create({ content: `${prefix} seed ${i}` }));
    const snapshots = [];
    const waitFor = (predicate, what) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 20000);
        const check = () => {
          if (predicate(snapshots[snapshots.length - 1])) {
            clearTimeout(timer);
            resolve();
          } else setTimeout(check, 50);
        };
        check();
      });
    const acked = new Promise((resolve) => {
      let count = 0;
      Hub.listen('api', ({ payload }) => {
        if (payload.event === 'Subscription ack' && ++count === 3) resolve();
      });
    });
    const sub = Todo.observeQuery({ filter: { content: { beginsWith: prefix } } }).subscribe({
      next: ({ items, isSynced }) =>
        snapshots.push({ isSynced, contents: items.map((t) => t.content).sort(), ids: items.map((t) => t.id) }),
    });
    await waitFor((s) => s?.isSynced, 'the synced snapshot');
    const synced = snapshots[snapshots.length - 1];
    await acked;
    const added = (await Todo.create({ content: `${prefix} added` })).data;
    await waitFor((s) => s.contents.includes(`${prefix} added`), 'the create event');
    await Todo.update({ id: added.id, content: `${prefix} changed` });
    await waitFor((s) => s.contents.includes(`${prefix} changed`), 'the update event');
    await Todo.delete({ id: added.id });
    await waitFor((s) => !s.contents.includes(`${prefix} changed`), 'the delete event');
    const final = snapshots[snapshots.length - 1];
    sub.unsubscribe();
    const strip = (s) => s.contents.map((c) => c.slice(prefix.length + 1));
    return { synced: strip(synced), final: strip(final), snapshotCount: snapshots.length };
  },

  async updateDelete() {
    // onUpdate / onDelete deliver the updated and the deleted record.
    const Todo = client.models.Todo;
    const todo = (await Todo.create({ content: `ud ${run}`, isDone: false })).data;
    const events = [];
    const subs = [];
    let acks = 0;
    const acked = new Promise((resolve) => {
      Hub.listen('api', ({ payload }) => {
        if (payload.event === 'Subscription ack' && ++acks === 2) resolve();
      });
    });
    const got = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for update/delete events')), 20000);
      const push = (kind) => (item) => {
        events.push({ kind, id: item.id, isDone: item.isDone });
        if (events.length === 2) {
          clearTimeout(timer);
          resolve();
        }
      };
      const filter = { content: { eq: `ud ${run}` } };
      subs.push(Todo.onUpdate({ filter }).subscribe({ next: push('update'), error: reject }));
      subs.push(Todo.onDelete({ filter }).subscribe({ next: push('delete'), error: reject }));
    });
    await acked;
    await Todo.update({ id: todo.id, isDone: true });
    await Todo.delete({ id: todo.id });
    await got;
    subs.forEach((s) => s.unsubscribe());
    return { events, id: todo.id };
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
