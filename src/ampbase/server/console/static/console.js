// ampbase admin console: browse and edit records, watch live changes, explore the GraphQL API.
// Plain ES module, no build step. Talks to /console/api/* with the console token (admin) and
// to /graphql/realtime with the AppSync realtime protocol (API key or token) for live changes.

const TOKEN_KEY = 'ampbase.console.token';
const API = new URL('api/', document.baseURI);
const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  meta: null,
  mis: null,
  model: null,
  filters: [],
  pageTokens: [null],
  page: 0,
  nextToken: null,
  rows: [],
  schemaDocs: null,
  live: null,
};

// ---------------------------------------------------------------- helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function errorText(errors) {
  return (errors || []).map((e) => (e.errorType ? `${e.errorType}: ${e.message}` : e.message)).join('; ');
}

async function api(path, options = {}) {
  const response = await fetch(new URL(path, API), {
    ...options,
    headers: { ...(options.headers || {}), authorization: `Bearer ${state.token}` },
  });
  if (response.status === 401) {
    signOut('The console token was not accepted.');
    throw new Error('unauthorized');
  }
  return response.json();
}

/** Run a GraphQL request as the admin (authorization rules do not apply). */
async function adminGraphQL(query, variables = {}) {
  return api('graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
}

// ---------------------------------------------------------------- schema model

const NUMBER_TYPES = new Set(['Int', 'Float', 'AWSTimestamp']);

function modelFields(model) {
  // scalar, enum and custom-type fields; relations are loaded by their own queries
  return Object.values(model.fields).filter((f) => !(typeof f.type === 'object' && f.type.model));
}

function typeLabel(field) {
  const t = field.type;
  const name = typeof t === 'string' ? t : t.enum || t.nonModel || t.model;
  return `${field.isArray ? '[' : ''}${name}${field.isArray ? ']' : ''}${field.isRequired ? '!' : ''}`;
}

function selection(fields, depth = 0) {
  const parts = [];
  for (const f of fields) {
    if (typeof f.type === 'object' && f.type.nonModel) {
      const nonModel = state.mis.nonModels[f.type.nonModel];
      if (!nonModel || depth > 3) continue;
      const inner = selection(Object.values(nonModel.fields), depth + 1);
      if (inner) parts.push(`${f.name} { ${inner} }`);
    } else if (!(typeof f.type === 'object' && f.type.model)) {
      parts.push(f.name);
    }
  }
  return parts.join(' ');
}

function primaryKey(model) {
  const info = model.primaryKeyInfo || { primaryKeyFieldName: 'id', sortKeyFieldNames: [] };
  return [info.primaryKeyFieldName, ...(info.sortKeyFieldNames || [])];
}

function keyOf(model, record) {
  return JSON.stringify(primaryKey(model).map((k) => record[k]));
}

const ops = {
  list: (m) => `list${m.pluralName}`,
  create: (m) => `create${m.name}`,
  update: (m) => `update${m.name}`,
  delete: (m) => `delete${m.name}`,
};

// ---------------------------------------------------------------- sign in / out

function showView(name) {
  for (const view of ['login', 'data', 'explorer']) $(`${view}-view`).hidden = view !== name;
  for (const tab of document.querySelectorAll('.tab')) {
    if (tab.dataset.view === name) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  $('tabs').hidden = name === 'login';
  $('sign-out').hidden = name === 'login';
}

function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  stopLive();
  showView('login');
  $('login-error').textContent = message;
  $('token-input').focus();
}

async function signIn(token) {
  state.token = token;
  const meta = await api('meta');
  sessionStorage.setItem(TOKEN_KEY, token);
  state.meta = meta;
  state.mis = meta.modelIntrospection;
  $('login-error').textContent = '';
  renderModelList();
  setupExplorerAuth();
  showView('data');
  const first = Object.keys(state.mis.models)[0];
  if (first) await selectModel(first);
  else $('records-message').textContent = 'This schema has no models.';
}

// ---------------------------------------------------------------- models and records

function renderModelList() {
  const list = $('model-list');
  list.replaceChildren(
    ...Object.values(state.mis.models).map((m) =>
      el(
        'li',
        {},
        el('button', { type: 'button', class: 'model-link', 'data-model': m.name, onclick: () => selectModel(m.name) }, m.name),
      ),
    ),
  );
}

async function selectModel(name) {
  state.model = state.mis.models[name];
  state.filters = [];
  state.pageTokens = [null];
  state.page = 0;
  for (const b of document.querySelectorAll('.model-link')) {
    if (b.dataset.model === name) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
  $('model-title').textContent = name;
  $('records-caption').textContent = `${name} records`;
  $('activity-log').replaceChildren();
  renderFilterControls();
  await loadPage();
  startLive();
}

function filterVariable() {
  if (!state.filters.length) return undefined;
  const terms = state.filters.map((f) => ({ [f.field]: { [f.op]: f.value } }));
  return terms.length === 1 ? terms[0] : { and: terms };
}

async function loadPage() {
  const model = state.model;
  const fields = modelFields(model);
  const query =
    `query ($filter: Model${model.name}FilterInput, $limit: Int, $nextToken: String) {\n` +
    `  ${ops.list(model)}(filter: $filter, limit: $limit, nextToken: $nextToken) {\n` +
    `    items { ${selection(fields)} }\n    nextToken\n  }\n}`;
  const variables = { limit: Number($('page-size').value), nextToken: state.pageTokens[state.page] };
  const filter = filterVariable();
  if (filter) variables.filter = filter;
  $('records-message').textContent = 'Loading…';
  const result = await adminGraphQL(query, variables);
  const data = result.data && result.data[ops.list(model)];
  if (result.errors && !data) {
    $('records-message').textContent = `Could not load records: ${errorText(result.errors)}`;
    state.rows = [];
    state.nextToken = null;
  } else {
    state.rows = data.items.filter(Boolean);
    state.nextToken = data.nextToken;
    $('records-message').textContent = state.rows.length
      ? `${state.rows.length} record${state.rows.length === 1 ? '' : 's'} on this page`
      : 'No records match.';
  }
  renderTable();
}

function formatValue(value) {
  if (value === null || value === undefined) return el('span', { class: 'null' }, '—');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function cellTitle(value) {
  if (value === null || value === undefined) return null;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function renderTable() {
  const model = state.model;
  const fields = modelFields(model);
  const table = $('records-table');
  table.tHead.replaceChildren(
    el(
      'tr',
      {},
      el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')),
      fields.map((f) => el('th', { scope: 'col', title: typeLabel(f) }, f.name)),
    ),
  );
  table.tBodies[0].replaceChildren(...state.rows.map((row) => renderRow(row, fields)));
  $('prev-page').disabled = state.page === 0;
  $('next-page').disabled = !state.nextToken;
  $('page-label').textContent = `Page ${state.page + 1}`;
}

function renderRow(row, fields) {
  const model = state.model;
  const label = row[fields.find((f) => f.type === 'String' && f.name !== 'id')?.name] || row.id || 'record';
  return el(
    'tr',
    { 'data-key': keyOf(model, row) },
    el(
      'td',
      { class: 'row-actions' },
      el('button', { type: 'button', class: 'ghost small', 'aria-label': `Edit ${label}`, onclick: () => openRecordDialog(row) }, 'Edit'),
      el('button', { type: 'button', class: 'ghost small danger-text', 'aria-label': `Delete ${label}`, onclick: () => confirmDelete(row, label) }, 'Delete'),
    ),
    fields.map((f) => el('td', { 'data-field': f.name, title: cellTitle(row[f.name]) }, formatValue(row[f.name]))),
  );
}

// ---------------------------------------------------------------- filters

const STRING_OPS = ['eq', 'ne', 'contains', 'notContains', 'beginsWith', 'gt', 'ge', 'lt', 'le'];
const NUMBER_OPS = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];
const OP_LABELS = {
  eq: 'equals',
  ne: 'does not equal',
  contains: 'contains',
  notContains: 'does not contain',
  beginsWith: 'begins with',
  gt: '>',
  ge: '≥',
  lt: '<',
  le: '≤',
  attributeExists: 'is set (true/false)',
};

function filterableFields() {
  return modelFields(state.model).filter((f) => !f.isArray && !(typeof f.type === 'object' && f.type.nonModel));
}

function opsFor(field) {
  if (typeof field.type === 'object') return ['eq', 'ne', 'attributeExists'];
  if (field.type === 'Boolean') return ['eq', 'ne', 'attributeExists'];
  if (NUMBER_TYPES.has(field.type)) return [...NUMBER_OPS, 'attributeExists'];
  return [...STRING_OPS, 'attributeExists'];
}

function renderFilterControls() {
  const select = $('filter-field');
  select.replaceChildren(...filterableFields().map((f) => el('option', { value: f.name }, f.name)));
  renderOps();
  renderChips();
}

function renderOps() {
  const field = filterableFields().find((f) => f.name === $('filter-field').value);
  if (!field) return;
  $('filter-op').replaceChildren(...opsFor(field).map((op) => el('option', { value: op }, OP_LABELS[op])));
}

function parseFilterValue(field, op, raw) {
  const text = raw.trim();
  if (op === 'attributeExists' || field.type === 'Boolean') {
    if (text !== 'true' && text !== 'false') throw new Error('Enter true or false.');
    return text === 'true';
  }
  if (NUMBER_TYPES.has(field.type)) {
    const n = Number(text);
    if (text === '' || Number.isNaN(n)) throw new Error('Enter a number.');
    if (field.type !== 'Float' && !Number.isInteger(n)) throw new Error('Enter a whole number.');
    return n;
  }
  if (typeof field.type === 'object' && field.type.enum) {
    const values = state.mis.enums[field.type.enum]?.values || [];
    if (!values.includes(text)) throw new Error(`Enter one of ${values.join(', ')}.`);
  }
  return text;
}

function renderChips() {
  $('filter-chips').replaceChildren(
    ...state.filters.map((f, i) =>
      el(
        'li',
        { class: 'chip' },
        `${f.field} ${OP_LABELS[f.op]} ${JSON.stringify(f.value)}`,
        el('button', {
          type: 'button',
          class: 'chip-remove',
          'aria-label': `Remove filter ${f.field} ${OP_LABELS[f.op]} ${f.value}`,
          onclick: () => {
            state.filters.splice(i, 1);
            resetPaging();
          },
        }, '×'),
      ),
    ),
  );
}

function resetPaging() {
  state.pageTokens = [null];
  state.page = 0;
  renderChips();
  loadPage();
}

// ---------------------------------------------------------------- record form

function inputFor(field, value, isKey, editing) {
  const id = `field-${field.name}`;
  const t = field.type;
  const common = { id, name: field.name, 'aria-describedby': `${id}-error ${id}-hint` };
  let control;
  let hint = typeLabel(field);
  const complex = field.isArray || (typeof t === 'object' && t.nonModel) || t === 'AWSJSON';
  if (complex) {
    const text = value === undefined || value === null ? '' : typeof value === 'string' && t === 'AWSJSON' && !field.isArray ? value : JSON.stringify(value, null, 2);
    control = el('textarea', { ...common, rows: 3, spellcheck: 'false', placeholder: jsonPlaceholder(field) });
    control.value = text;
    hint += ' — JSON';
  } else if (typeof t === 'object' && t.enum) {
    const values = state.mis.enums[t.enum]?.values || [];
    control = el('select', common, el('option', { value: '' }, '(none)'), values.map((v) => el('option', { value: v }, v)));
    control.value = value ?? '';
  } else if (t === 'Boolean') {
    control = el('select', common, el('option', { value: '' }, '(none)'), el('option', { value: 'true' }, 'true'), el('option', { value: 'false' }, 'false'));
    control.value = value === null || value === undefined ? '' : String(value);
  } else {
    const type = { Int: 'number', Float: 'number', AWSTimestamp: 'number', AWSEmail: 'email', AWSURL: 'url', AWSDate: 'date' }[t] || 'text';
    control = el('input', { ...common, type, autocomplete: 'off', step: t === 'Float' ? 'any' : type === 'number' ? '1' : undefined });
    control.value = value ?? '';
    if (t === 'AWSDateTime') hint += ' — e.g. 2026-01-31T12:00:00.000Z';
    if (t === 'AWSTime') hint += ' — e.g. 12:00:00';
    if (field.name === 'id' && !editing) hint += ' — leave empty to generate one';
  }
  // a new record may leave its id to the server
  if (field.isRequired && !(field.name === 'id' && !editing)) control.required = true;
  if (isKey && editing) control.disabled = true;
  return el(
    'div',
    { class: 'form-field' },
    el('label', { for: id }, field.name, control.required ? el('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    control,
    el('p', { class: 'hint', id: `${id}-hint` }, hint),
    el('p', { class: 'field-error', id: `${id}-error` }),
  );
}

function jsonPlaceholder(field) {
  const t = field.type;
  const nonModel = typeof t === 'object' && t.nonModel ? state.mis.nonModels[t.nonModel] : null;
  const one = nonModel ? `{${Object.keys(nonModel.fields).map((k) => `"${k}": …`).join(', ')}}` : '…';
  return field.isArray ? `[${one}]` : one;
}

const PATTERNS = {
  AWSDateTime: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)$/,
  AWSDate: /^\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?$/,
  AWSTime: /^\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/,
  AWSEmail: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  AWSIPAddress: /^[0-9a-fA-F.:/]+$/,
};

/** The value of one form control, or throw an Error with a message for the user. */
function readField(field, control) {
  const raw = control.value;
  const t = field.type;
  if (raw.trim() === '') {
    if (field.isRequired) throw new Error(`${field.name} is required.`);
    return null;
  }
  if (field.isArray || (typeof t === 'object' && t.nonModel) || t === 'AWSJSON') {
    let parsed;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new Error('Enter valid JSON.');
    }
    if (field.isArray && !Array.isArray(parsed)) throw new Error('Enter a JSON array, e.g. ["a", "b"].');
    if (t === 'AWSJSON' && !field.isArray) return JSON.stringify(parsed);
    return parsed;
  }
  if (t === 'Boolean') return raw === 'true';
  if (t === 'Int' || t === 'AWSTimestamp') {
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new Error('Enter a whole number.');
    if (t === 'Int' && (n > 2147483647 || n < -2147483648)) throw new Error('Enter a 32-bit integer.');
    return n;
  }
  if (t === 'Float') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error('Enter a number.');
    return n;
  }
  if (t === 'AWSURL') {
    try {
      new URL(raw);
    } catch {
      throw new Error('Enter an absolute URL, e.g. https://example.com.');
    }
  }
  if (PATTERNS[t] && !PATTERNS[t].test(raw.trim())) throw new Error(`Enter a valid ${t} value.`);
  return t === 'String' || t === 'ID' ? raw : raw.trim();
}

let dialogRecord = null;

function openRecordDialog(record) {
  const model = state.model;
  dialogRecord = record;
  const editing = record !== null;
  const keys = new Set(primaryKey(model));
  $('record-dialog-title').textContent = editing ? `Edit ${model.name}` : `New ${model.name}`;
  $('record-error').textContent = '';
  const fields = modelFields(model).filter((f) => !f.isReadOnly);
  $('record-fields').replaceChildren(...fields.map((f) => inputFor(f, editing ? record[f.name] : undefined, keys.has(f.name), editing)));
  $('record-dialog').showModal();
  const firstEnabled = $('record-fields').querySelector('input:not(:disabled), select:not(:disabled), textarea:not(:disabled)');
  firstEnabled?.focus();
}

async function saveRecord(event) {
  event.preventDefault();
  const model = state.model;
  const editing = dialogRecord !== null;
  const keys = new Set(primaryKey(model));
  const input = {};
  let firstInvalid = null;
  for (const field of modelFields(model).filter((f) => !f.isReadOnly)) {
    const control = $(`field-${field.name}`);
    const error = $(`field-${field.name}-error`);
    error.textContent = '';
    control.removeAttribute('aria-invalid');
    if (editing && keys.has(field.name)) {
      input[field.name] = dialogRecord[field.name];
      continue;
    }
    try {
      const value = readField({ ...field, isRequired: control.required }, control);
      // on create leave empty fields out; on edit send null to clear them
      if (value !== null || editing) input[field.name] = value;
    } catch (problem) {
      error.textContent = problem.message;
      control.setAttribute('aria-invalid', 'true');
      firstInvalid ??= control;
    }
  }
  if (firstInvalid) {
    $('record-error').textContent = 'Fix the highlighted fields.';
    firstInvalid.focus();
    return;
  }
  const op = editing ? ops.update(model) : ops.create(model);
  const query = `mutation ($input: ${editing ? 'Update' : 'Create'}${model.name}Input!) {\n  ${op}(input: $input) { ${selection(modelFields(model))} }\n}`;
  $('record-save').disabled = true;
  try {
    const result = await adminGraphQL(query, { input });
    if (result.errors) {
      $('record-error').textContent = `The server rejected the record: ${errorText(result.errors)}`;
      return;
    }
    $('record-dialog').close();
    upsertRow(result.data[op]);
    announce(`${editing ? 'Saved' : 'Created'} ${model.name}`);
  } finally {
    $('record-save').disabled = false;
  }
}

function confirmDelete(record, label) {
  const dialog = $('confirm-dialog');
  $('confirm-text').textContent = `Delete ${state.model.name} “${label}”? This cannot be undone.`;
  dialog.returnValue = '';
  dialog.onclose = async () => {
    if (dialog.returnValue !== 'ok') return;
    const model = state.model;
    const input = Object.fromEntries(primaryKey(model).map((k) => [k, record[k]]));
    const query = `mutation ($input: Delete${model.name}Input!) {\n  ${ops.delete(model)}(input: $input) { ${primaryKey(model).join(' ')} }\n}`;
    const result = await adminGraphQL(query, { input });
    if (result.errors) {
      $('records-message').textContent = `Could not delete: ${errorText(result.errors)}`;
      return;
    }
    removeRow(record);
    announce(`Deleted ${model.name}`);
  };
  dialog.showModal();
  $('confirm-ok').focus();
}

function announce(text) {
  $('records-message').textContent = text;
}

function upsertRow(record, flash = false) {
  if (!record) return;
  const key = keyOf(state.model, record);
  const index = state.rows.findIndex((r) => keyOf(state.model, r) === key);
  if (index >= 0) state.rows[index] = { ...state.rows[index], ...record };
  else if (state.page === 0) state.rows.unshift(record);
  renderTable();
  if (flash) highlight(key);
}

function removeRow(record) {
  const key = keyOf(state.model, record);
  state.rows = state.rows.filter((r) => keyOf(state.model, r) !== key);
  renderTable();
}

function highlight(key) {
  for (const tr of $('records-table').tBodies[0].rows) {
    if (tr.dataset.key === key) tr.classList.add('flash');
  }
}

// ---------------------------------------------------------------- live changes (AppSync realtime)

function b64url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function realtimeAuth() {
  const host = location.host;
  const mode = $('gql-auth').value;
  const credential = $('gql-credential').value.trim();
  if (mode === 'token' && credential) return { Authorization: credential, host };
  const key = mode === 'apiKey' && credential ? credential : state.meta.apiKey;
  if (key) return { host, 'x-amz-date': new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, ''), 'x-api-key': key };
  return null;
}

function setLiveStatus(text, ok) {
  const node = $('live-status');
  node.textContent = text;
  node.classList.toggle('on', Boolean(ok));
}

function stopLive() {
  const live = state.live;
  state.live = null;
  if (live) {
    live.closed = true;
    try {
      live.socket.close(1000);
    } catch {
      /* already closed */
    }
  }
  setLiveStatus('', false);
}

function startLive() {
  stopLive();
  const model = state.model;
  const auth = realtimeAuth();
  if (!auth) {
    setLiveStatus('Live updates off (no API key or token)', false);
    return;
  }
  const url = `wss://${location.host}${state.meta.realtimePath}`;
  let socket;
  try {
    socket = new WebSocket(url, ['graphql-ws', `header-${b64url(JSON.stringify(auth))}`]);
  } catch {
    setLiveStatus('Live updates unavailable', false);
    return;
  }
  const live = { socket, model, closed: false, subs: new Map(), acked: 0 };
  state.live = live;
  setLiveStatus('Connecting…', false);
  const fields = selection(modelFields(model));
  socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init' }));
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'connection_ack') {
      for (const kind of ['Create', 'Update', 'Delete']) {
        const id = crypto.randomUUID();
        const field = `on${kind}${model.name}`;
        live.subs.set(id, { kind, field });
        const data = JSON.stringify({
          query: `subscription ($filter: ModelSubscription${model.name}FilterInput) {\n  ${field}(filter: $filter) { ${fields} }\n}`,
          variables: {},
        });
        socket.send(JSON.stringify({ id, payload: { data, extensions: { authorization: auth } }, type: 'start' }));
      }
    } else if (message.type === 'start_ack') {
      live.acked += 1;
      if (live.acked === live.subs.size) setLiveStatus('● Live', true);
    } else if (message.type === 'data') {
      const sub = live.subs.get(message.id);
      const record = sub && message.payload?.data?.[sub.field];
      if (record && state.live === live) applyLiveEvent(sub.kind, record);
    } else if (message.type === 'error' || message.type === 'connection_error') {
      const errors = message.payload?.errors || [];
      if (message.type === 'connection_error') {
        live.closed = true; // refused: do not retry until the credential changes
        socket.close(1000);
      }
      setLiveStatus(`Live updates unavailable: ${errorText(errors)}`, false);
    }
  };
  socket.onclose = () => {
    if (live.closed || state.live !== live) return;
    setLiveStatus('Live updates disconnected — reconnecting…', false);
    setTimeout(() => {
      if (state.live === live && !live.closed) startLive();
    }, 3000);
  };
}

function applyLiveEvent(kind, record) {
  const model = state.model;
  const label = record[modelFields(model).find((f) => f.type === 'String' && f.name !== 'id')?.name] ?? record.id;
  const time = new Date().toLocaleTimeString();
  $('activity-log').prepend(el('li', {}, el('time', {}, time), ` ${kind.toLowerCase()}d ${model.name} `, el('strong', {}, String(label))));
  while ($('activity-log').children.length > 50) $('activity-log').lastElementChild.remove();
  if (kind === 'Delete') removeRow(record);
  else if (kind === 'Update') upsertRow(record, true);
  else if (!state.filters.length) upsertRow(record, true);
}

// ---------------------------------------------------------------- GraphQL explorer

function setupExplorerAuth() {
  const modes = state.meta.authModes;
  for (const option of $('gql-auth').options) {
    if (option.value === 'apiKey') option.disabled = !modes.includes('apiKey');
    if (option.value === 'token') option.disabled = !modes.some((m) => ['userPool', 'oidc', 'lambda'].includes(m));
  }
  $('gql-credential').value = '';
  updateCredentialField();
  if (!$('gql-query').value) {
    const model = Object.values(state.mis.models)[0];
    $('gql-query').value = model
      ? `query {\n  ${ops.list(model)}(limit: 10) {\n    items { ${selection(modelFields(model))} }\n    nextToken\n  }\n}\n`
      : '{ __typename }\n';
  }
}

function updateCredentialField() {
  const mode = $('gql-auth').value;
  const input = $('gql-credential');
  input.disabled = mode === 'admin';
  $('gql-credential-label').textContent = mode === 'token' ? 'Token (JWT or Lambda token)' : mode === 'apiKey' ? 'API key' : 'Credential';
  if (mode === 'apiKey' && !input.value) input.value = state.meta?.apiKey || '';
}

async function runExplorer(event) {
  event.preventDefault();
  let variables;
  $('gql-variables-error').textContent = '';
  try {
    const raw = $('gql-variables').value.trim();
    variables = raw ? JSON.parse(raw) : {};
    if (typeof variables !== 'object' || Array.isArray(variables) || variables === null) throw new Error();
  } catch {
    $('gql-variables-error').textContent = 'Variables must be a JSON object.';
    $('gql-variables').focus();
    return;
  }
  const query = $('gql-query').value;
  const mode = $('gql-auth').value;
  const out = $('gql-result');
  out.textContent = 'Running…';
  let result;
  if (mode === 'admin') {
    result = await adminGraphQL(query, variables);
  } else {
    const headers = { 'content-type': 'application/json' };
    const credential = $('gql-credential').value.trim();
    if (mode === 'apiKey') headers['x-api-key'] = credential;
    else headers.authorization = credential;
    const response = await fetch(state.meta.graphqlPath, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    result = await response.json();
    if (response.status !== 200) result = { status: response.status, ...result };
  }
  out.textContent = JSON.stringify(result, null, 2);
}

function typeRefLabel(ref) {
  if (ref.kind === 'NON_NULL') return `${typeRefLabel(ref.ofType)}!`;
  if (ref.kind === 'LIST') return `[${typeRefLabel(ref.ofType)}]`;
  return ref.name;
}

function namedType(ref) {
  return ref.ofType ? namedType(ref.ofType) : ref.name;
}

function typeLink(ref) {
  return el('button', { type: 'button', class: 'type-link', onclick: () => showType(namedType(ref)) }, typeRefLabel(ref));
}

async function loadDocs() {
  if (state.schemaDocs) return;
  state.schemaDocs = await api('schema');
  $('sdl').textContent = state.schemaDocs.sdl;
  renderDocsIndex();
}

function renderDocsIndex() {
  const schema = state.schemaDocs.introspection.__schema;
  const term = $('docs-search').value.trim().toLowerCase();
  const roots = [schema.queryType, schema.mutationType, schema.subscriptionType].filter(Boolean).map((t) => t.name);
  const types = schema.types.filter((t) => !t.name.startsWith('__'));
  const body = [];
  for (const root of roots) {
    const type = types.find((t) => t.name === root);
    const fields = (type.fields || []).filter((f) => !term || f.name.toLowerCase().includes(term));
    if (!fields.length) continue;
    const operation = root === schema.queryType?.name ? 'query' : root === schema.mutationType?.name ? 'mutation' : null;
    body.push(el('h3', {}, root), el('ul', { class: 'doc-fields' }, fields.map((f) => fieldDoc(f, operation))));
  }
  const others = types.filter((t) => !roots.includes(t.name) && (!term || t.name.toLowerCase().includes(term)));
  if (others.length) {
    body.push(
      el('h3', {}, 'Types'),
      el('ul', { class: 'doc-types' }, others.map((t) => el('li', {}, el('button', { type: 'button', class: 'type-link', onclick: () => showType(t.name) }, t.name), el('span', { class: 'kind' }, ` ${t.kind.toLowerCase()}`)))),
    );
  }
  if (!body.length) body.push(el('p', {}, 'Nothing matches.'));
  $('docs-body').replaceChildren(...body);
}

function fieldDoc(field, operation = null) {
  const args = field.args || [];
  return el(
    'li',
    {},
    el('code', {}, field.name),
    args.length ? el('span', {}, '(', args.map((a, i) => [i ? ', ' : '', `${a.name}: `, typeLink(a.type)]), ')') : null,
    ': ',
    typeLink(field.type),
    operation
      ? el('button', { type: 'button', class: 'ghost small try', 'aria-label': `Try ${field.name}`, onclick: () => tryField(field, operation) }, 'Try')
      : null,
    field.description ? el('p', { class: 'description' }, field.description) : null,
  );
}

/** The scalar and enum fields of an object type, one level into object fields (connections). */
function defaultSelection(typeName, depth = 0) {
  const type = state.schemaDocs.introspection.__schema.types.find((t) => t.name === typeName);
  if (!type || !type.fields) return '';
  const parts = [];
  for (const f of type.fields) {
    if ((f.args || []).some((a) => a.type.kind === 'NON_NULL')) continue;
    const inner = state.schemaDocs.introspection.__schema.types.find((t) => t.name === namedType(f.type));
    if (!inner) continue;
    if (inner.kind === 'SCALAR' || inner.kind === 'ENUM') parts.push(f.name);
    else if (inner.kind === 'OBJECT' && depth < 1) {
      const nested = defaultSelection(inner.name, depth + 1);
      if (nested) parts.push(`${f.name} { ${nested} }`);
    }
  }
  return parts.join(' ');
}

/** Fill the editor with an operation calling one root field, its arguments as variables. */
function tryField(field, operation) {
  const args = field.args || [];
  const declared = args.map((a) => `$${a.name}: ${typeRefLabel(a.type)}`).join(', ');
  const passed = args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const selectionSet = defaultSelection(namedType(field.type));
  $('gql-query').value =
    `${operation}${declared ? ` (${declared})` : ''} {\n  ${field.name}${passed ? `(${passed})` : ''}` +
    `${selectionSet ? ` {\n    ${selectionSet}\n  }` : ''}\n}\n`;
  const required = Object.fromEntries(args.filter((a) => a.type.kind === 'NON_NULL').map((a) => [a.name, null]));
  $('gql-variables').value = JSON.stringify(required, null, 2);
  $('gql-query').focus();
}

function showType(name) {
  const type = state.schemaDocs.introspection.__schema.types.find((t) => t.name === name);
  if (!type) return;
  const members = type.fields || type.inputFields || [];
  const parts = [
    el('button', { type: 'button', class: 'ghost small', onclick: renderDocsIndex }, '← All types'),
    el('h3', { tabindex: '-1', id: 'doc-type-title' }, `${type.name} `, el('span', { class: 'kind' }, type.kind.toLowerCase())),
    type.description ? el('p', { class: 'description' }, type.description) : null,
    members.length ? el('ul', { class: 'doc-fields' }, members.map((f) => fieldDoc(f))) : null,
    type.enumValues ? el('ul', { class: 'doc-fields' }, type.enumValues.map((v) => el('li', {}, el('code', {}, v.name)))) : null,
  ];
  $('docs-body').replaceChildren(...parts.filter(Boolean));
  $('doc-type-title').focus();
}

// ---------------------------------------------------------------- wiring

function bind() {
  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await signIn($('token-input').value.trim());
    } catch (error) {
      if (error.message !== 'unauthorized') $('login-error').textContent = `Could not reach the server: ${error.message}`;
    }
  });
  $('sign-out').addEventListener('click', () => signOut());
  for (const tab of document.querySelectorAll('.tab')) {
    tab.addEventListener('click', async () => {
      showView(tab.dataset.view);
      if (tab.dataset.view === 'explorer') await loadDocs();
    });
  }
  $('filter-field').addEventListener('change', renderOps);
  $('filter-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const field = filterableFields().find((f) => f.name === $('filter-field').value);
    const op = $('filter-op').value;
    try {
      const value = parseFilterValue(field, op, $('filter-value').value);
      state.filters.push({ field: field.name, op, value });
      $('filter-value').value = '';
      $('filter-value').removeAttribute('aria-invalid');
      resetPaging();
    } catch (problem) {
      $('filter-value').setAttribute('aria-invalid', 'true');
      $('records-message').textContent = problem.message;
    }
  });
  $('clear-filters').addEventListener('click', () => {
    state.filters = [];
    resetPaging();
  });
  $('prev-page').addEventListener('click', () => {
    if (state.page === 0) return;
    state.page -= 1;
    loadPage();
  });
  $('next-page').addEventListener('click', () => {
    if (!state.nextToken) return;
    state.pageTokens[state.page + 1] = state.nextToken;
    state.page += 1;
    loadPage();
  });
  $('page-size').addEventListener('change', () => resetPaging());
  $('new-record').addEventListener('click', () => openRecordDialog(null));
  $('record-form').addEventListener('submit', saveRecord);
  $('record-cancel').addEventListener('click', () => $('record-dialog').close());
  $('gql-auth').addEventListener('change', () => {
    updateCredentialField();
  });
  $('gql-credential').addEventListener('change', () => {
    if (state.model) startLive();
  });
  $('explorer-form').addEventListener('submit', runExplorer);
  $('docs-search').addEventListener('input', renderDocsIndex);
}

/** A token in the URL fragment (`#token=...`), removed from the address bar once read. */
function tokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (token) history.replaceState(null, '', location.pathname + location.search);
  return token;
}

async function boot() {
  bind();
  window.addEventListener('hashchange', () => {
    const token = tokenFromFragment();
    if (token) signIn(token).catch(() => {});
  });
  const token = tokenFromFragment() || sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    signOut();
    return;
  }
  try {
    await signIn(token);
  } catch (error) {
    if (error.message !== 'unauthorized') signOut(`Could not reach the server: ${error.message}`);
  }
}

boot();
