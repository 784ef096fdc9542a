// Browser scenarios for tests/e2e/test_web_apps.py: Debian Chromium driven by playwright-core.
//
//   node scenarios.mjs <scenario> '<JSON config>'
//
// The config names the app URL, the GraphQL URL and API key (for changes made "through the API"
// from Node), the SPKI pin of the server certificate and where to save screenshots. Each scenario
// prints one JSON line with what it observed; any failed wait throws and exits non-zero.
// NODE_EXTRA_CA_CERTS must name the server's CA (Node's own fetch to the API).
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const [scenario, rawConfig] = process.argv.slice(2);
const config = JSON.parse(rawConfig);
const TIMEOUT = 20_000;

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Trust exactly the ampbase server's key (its certificate comes from a throwaway local CA):
  // the browser still verifies every other certificate.
  `--ignore-certificate-errors-spki-list=${config.spki}`,
];

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const path = `${config.artifacts}/${scenario}-${String(shot).padStart(2, '0')}-${name}.png`;
  await page.screenshot({ path, fullPage: true });
}

/** Serious and critical WCAG 2 A/AA violations axe-core finds on the page as it is now. */
async function audit(page, where, sink) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  for (const v of violations) sink.push({ where, ...v });
}

async function api(query, variables = {}) {
  const response = await fetch(config.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': config.apiKey },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`API error: ${JSON.stringify(body.errors)}`);
  return body.data;
}

function watchErrors(page, sink) {
  page.on('pageerror', (error) => sink.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') sink.push(`console: ${message.text()}`);
  });
}

// ------------------------------------------------------------------ Vue TodoList, two pages

async function vueLive(browser) {
  const errors = [];
  const a11y = [];
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  for (const page of [a, b]) {
    watchErrors(page, errors);
    page.setDefaultTimeout(TIMEOUT);
    await page.goto(config.appUrl);
    await page.getByTestId('connection').getByText('live', { exact: true }).waitFor();
    await page.getByTestId('sync-status').getByText(/todos?$/).waitFor();
  }
  // A marker that a reload would erase: page B must never reload.
  await b.evaluate(() => {
    window.__noReload = true;
  });
  await screenshot(a, 'page-a-connected');

  const content = `Buy milk ${Date.now()}`;
  await a.getByLabel('New todo').fill(content);
  await a.getByRole('button', { name: 'Add new todo' }).click();
  await a.getByRole('listitem').filter({ hasText: content }).waitFor();
  await screenshot(a, 'page-a-created');
  await audit(a, 'todo list', a11y);
  await b.getByRole('listitem').filter({ hasText: content }).waitFor();
  await screenshot(b, 'page-b-received');

  // B ticks it off; A sees the update. Then A deletes it; B sees it go.
  await b.getByRole('checkbox', { name: content }).check();
  await a.getByRole('checkbox', { name: content, checked: true }).waitFor();
  await screenshot(a, 'page-a-sees-update');
  await a.getByRole('button', { name: `Delete ${content}` }).click();
  await b.getByRole('listitem').filter({ hasText: content }).waitFor({ state: 'detached' });
  await screenshot(b, 'page-b-sees-delete');

  return {
    content,
    noReload: await b.evaluate(() => window.__noReload === true),
    bItems: await b.getByRole('listitem').allTextContents(),
    errors,
    a11y,
  };
}

// ------------------------------------------------------------------ React optimistic UI

async function reactOptimistic(browser) {
  const errors = [];
  const a11y = [];
  const page = await (await browser.newContext()).newPage();
  watchErrors(page, errors);
  page.setDefaultTimeout(TIMEOUT);
  await page.goto(config.appUrl);
  await page.getByRole('list', { name: 'Properties' }).waitFor();
  await screenshot(page, 'loaded');

  // 1. A valid create: shown at once, then confirmed by the server.
  const good = `Villa Rosa ${Date.now()}`;
  await page.getByLabel('Name', { exact: true }).fill(good);
  await page.getByLabel('Address', { exact: true }).fill('1 Main St');
  await page.getByLabel('Contact email', { exact: true }).fill('agent@example.com');
  await page.getByRole('button', { name: 'Add RealEstateProperty' }).click();
  await page.getByText('Real Estate Property added!').waitFor();
  await page.getByRole('button', { name: good, disabled: false }).waitFor();
  await screenshot(page, 'created');

  // Detail view: update the address, back to the list.
  await page.getByRole('button', { name: good }).click();
  await page.getByTestId('detail-name').getByText(good).waitFor();
  await page.getByRole('button', { name: 'Update Address' }).click();
  await page.getByText('Real Estate Property updated!').waitFor();
  const updatedAddress = await page.getByTestId('detail-address').textContent();
  await screenshot(page, 'detail-updated');
  await audit(page, 'detail view', a11y);
  await page.getByRole('button', { name: 'Back' }).click();

  // A second one, deleted from its detail view.
  const doomed = `Shack ${Date.now()}`;
  await page.getByLabel('Name', { exact: true }).fill(doomed);
  await page.getByLabel('Contact email', { exact: true }).fill('');
  await page.getByRole('button', { name: 'Add RealEstateProperty' }).click();
  await page.getByRole('button', { name: doomed, disabled: false }).click();
  await page.getByTestId('detail-name').getByText(doomed).waitFor();
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('list', { name: 'Properties' }).waitFor();
  await page.getByRole('listitem').filter({ hasText: doomed }).waitFor({ state: 'detached' });
  await screenshot(page, 'deleted');

  // 2. A create the server rejects (contactEmail is not an AWSEmail). The request is held until
  //    the optimistic row has been seen, then let through: the server's error rolls it back.
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  let heldRequests = 0;
  await page.route('**/graphql', async (route) => {
    if ((route.request().postData() || '').includes('createRealEstateProperty')) {
      heldRequests += 1;
      await held;
    }
    await route.continue();
  });
  const bad = `Bad Email House ${Date.now()}`;
  await page.getByLabel('Name', { exact: true }).fill(bad);
  await page.getByLabel('Address', { exact: true }).fill('13 Nowhere Rd');
  await page.getByLabel('Contact email', { exact: true }).fill('not-an-email');
  await page.getByRole('button', { name: 'Add RealEstateProperty' }).click();
  const optimisticRow = page.getByRole('listitem').filter({ hasText: bad });
  await optimisticRow.getByText('Saving…').waitFor();
  const optimisticShown = await optimisticRow.isVisible();
  await screenshot(page, 'optimistic-pending');
  release();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  await optimisticRow.waitFor({ state: 'detached' });
  // the refetch after settling must not bring it back either
  await page.getByRole('progressbar', { name: 'Syncing' }).waitFor({ state: 'detached' });
  await screenshot(page, 'rolled-back');
  await audit(page, 'list with error', a11y);
  await page.unroute('**/graphql');

  return {
    good,
    bad,
    doomed,
    updatedAddress,
    heldRequests,
    optimisticShown,
    alert: await alert.textContent(),
    listAfter: await page.getByRole('list', { name: 'Properties' }).textContent(),
    errors: errors.filter((e) => !e.includes('Error saving record')),
    a11y,
  };
}

// ------------------------------------------------------------------ admin console

async function consoleScenario(browser) {
  const errors = [];
  const a11y = [];
  // bypassCSP only so that axe-core can be injected; the page's own code runs under its CSP
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const page = await context.newPage();
  watchErrors(page, errors);
  page.setDefaultTimeout(TIMEOUT);
  const table = page.getByRole('table', { name: 'RealEstateProperty records' });
  const rows = table.locator('tbody tr');

  // Signing in with a wrong token is refused.
  await page.goto(config.consoleUrl);
  await page.getByLabel('Console token', { exact: true }).fill('not-the-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The console token was not accepted.').waitFor();
  await screenshot(page, 'login-refused');
  await audit(page, 'login', a11y);

  await page.goto(`${config.consoleUrl}#token=${encodeURIComponent(config.consoleToken)}`);
  await page.getByRole('status').getByText('● Live').waitFor();
  await page.getByRole('button', { name: 'RealEstateProperty' }).waitFor();

  // Pagination: 10 rows per page.
  await page.getByLabel('Rows per page', { exact: true }).selectOption('10');
  await page.getByText('10 records on this page').waitFor();
  const firstPage = await rows.count();
  await screenshot(page, 'list-page-1');
  await audit(page, 'records', a11y);
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.getByText('Page 2').waitFor();
  await page.getByText('Loading…').waitFor({ state: 'detached' });
  const secondPage = await rows.count();
  await page.getByRole('button', { name: 'Previous page' }).click();
  await page.getByText('Page 1', { exact: true }).waitFor();

  // Filter: name begins with "Console Home 1" → 10, 11, 12.
  await page.getByLabel('Field', { exact: true }).selectOption('name');
  await page.getByLabel('Condition', { exact: true }).selectOption('beginsWith');
  await page.getByLabel('Value', { exact: true }).fill('Console Home 1');
  await page.getByRole('button', { name: 'Add filter' }).click();
  await page.getByText('3 records on this page').waitFor();
  const filtered = (await table.locator('tbody td[data-field="name"]').allTextContents()).sort();
  await screenshot(page, 'filtered');

  // Edit with a value the schema rejects: the form says so before anything is sent.
  await page.getByRole('button', { name: 'Edit Console Home 10' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit RealEstateProperty' });
  await dialog.getByLabel('contactEmail', { exact: true }).fill('not-an-email');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.getByText('Enter a valid AWSEmail value.').waitFor();
  const invalid = await dialog.getByLabel('contactEmail', { exact: true }).getAttribute('aria-invalid');
  await screenshot(page, 'edit-invalid');
  await audit(page, 'edit dialog', a11y);
  await dialog.getByLabel('contactEmail', { exact: true }).fill('agent@example.com');
  await dialog.getByLabel('address', { exact: true }).fill('10 Edited Ave');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await table.getByRole('cell', { name: '10 Edited Ave', exact: true }).waitFor();
  await screenshot(page, 'edited');

  // Required fields are enforced too (name is String!); the form works from the keyboard.
  await page.getByRole('button', { name: 'New record' }).focus();
  await page.keyboard.press('Enter');
  const create = page.getByRole('dialog', { name: 'New RealEstateProperty' });
  await create.waitFor();
  const focusedField = await page.evaluate(() => document.activeElement?.id);
  await create.getByRole('button', { name: 'Save' }).click();
  await create.getByText('name is required.').waitFor();
  await screenshot(page, 'create-required');
  await page.keyboard.press('Escape');
  await create.waitFor({ state: 'hidden' });

  // Delete, confirmed in a dialog.
  await page.getByRole('button', { name: 'Delete Console Home 11' }).click();
  await page.getByRole('dialog', { name: 'Delete record?' }).getByRole('button', { name: 'Delete' }).click();
  await table.getByRole('cell', { name: 'Console Home 11', exact: true }).waitFor({ state: 'detached' });
  await screenshot(page, 'deleted');

  // A change made through the API (Node's fetch with the API key) shows up live.
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.getByText('Loading…').waitFor({ state: 'detached' });
  const viaApi = `Created Through API ${Date.now()}`;
  const created = await api(
    'mutation ($input: CreateRealEstatePropertyInput!) { createRealEstateProperty(input: $input) { id name } }',
    { input: { name: viaApi, address: '99 Socket St' } },
  );
  await table.getByRole('cell', { name: viaApi, exact: true }).waitFor();
  await page.locator('#activity-log').getByText(viaApi).first().waitFor();
  await api(
    'mutation ($input: UpdateRealEstatePropertyInput!) { updateRealEstateProperty(input: $input) { id } }',
    { input: { id: created.createRealEstateProperty.id, address: '100 Socket St' } },
  );
  await table.getByRole('cell', { name: '100 Socket St', exact: true }).waitFor();
  await screenshot(page, 'api-change-live');

  // The explorer: documentation and a query run with the API key.
  await page.getByRole('button', { name: 'GraphQL explorer' }).click();
  await page.getByRole('button', { name: 'ModelRealEstatePropertyConnection' }).first().waitFor();
  await page.getByLabel('Authorization', { exact: true }).selectOption('apiKey');
  await page.getByLabel('Query', { exact: true }).fill('query { listRealEstateProperties(limit: 100) { items { name } } }');
  await page.getByRole('button', { name: 'Run' }).click();
  await page.locator('#gql-result').getByText('listRealEstateProperties').waitFor();
  const explorerResult = JSON.parse(await page.locator('#gql-result').textContent());
  // "Try" fills the editor with an operation for a root field; run it as the admin.
  await page.getByRole('button', { name: 'Try listRealEstateProperties' }).click();
  const generated = await page.getByLabel('Query', { exact: true }).inputValue();
  await page.getByLabel('Authorization', { exact: true }).selectOption('admin');
  await page.getByRole('button', { name: 'Run' }).click();
  await page.locator('#gql-result').getByText('nextToken').waitFor();
  const adminResult = JSON.parse(await page.locator('#gql-result').textContent());
  await page.getByRole('button', { name: 'ModelRealEstatePropertyConnection' }).first().click();
  await page.getByRole('heading', { name: /ModelRealEstatePropertyConnection/ }).waitFor();
  await screenshot(page, 'explorer');
  await audit(page, 'explorer', a11y);

  // the refused sign-in logs its 401 response; nothing else may fail
  const unexpected = errors.filter((e) => !e.includes('status of 401'));
  return {
    firstPage,
    secondPage,
    filtered,
    invalid,
    viaApi,
    explorerResult,
    generated,
    adminResult,
    focusedField,
    errors: unexpected,
    a11y,
  };
}

const scenarios = { 'vue-live': vueLive, 'react-optimistic': reactOptimistic, console: consoleScenario };

const browser = await chromium.launch({ executablePath: config.chromium, args: CHROMIUM_ARGS });
try {
  const result = await scenarios[scenario](browser);
  console.log(JSON.stringify({ scenario, result }));
} finally {
  await browser.close();
}
