// The web UI in a real browser (Debian's chromium driven by playwright-core) against a real
// fuotad, PostgreSQL, mosquitto and fuota-sim started by tests/e2e/web-ui.sh, which passes:
//   WEB_URL       fuotad's address
//   WEB_TOKEN     a tenant's API token (the operator signing in)
//   WEB_TENANT    that tenant's name (the header names it once signed in)
//   WEB_ADMIN_TOKEN an admin token (the admin views)
//   WEB_OTHER_JOB a job of another tenant (its page must say not found)
//   WEB_OTHER_DEVICE a device of another tenant (its page too)
//   WEB_FIRMWARE  an image file to upload
//   WEB_DEVICES   the number of the tenant's devices (fuota-sim's fleet; the last one silent)
//   WEB_SILENT    the DevEUI of the silent device
//   WEB_SHOTS     where the screenshots go
// Steps: sign in (the header names the token's tenant); upload the image (another uploaded and deleted); see and search the devices, add
// one by hand (a refused DevEUI beside its field first); fill the job form, first with a frequency
// the API refuses (its error must be beside the field), then the plan, then the job; import devices
// from a CSV file (a report of the refused rows); watch the job page (pause, resume) until the job
// has succeeded, a failed device's reason; the page kept up by the job's event stream (a pause made
// through the API shows within a second, and the page never polls), and a second tab whose stream
// is refused falls back to polling; the job chart's devices done (again after a reload) and the
// devices' missing fragments; a device's Firmware tab (its step and result in the job) and its
// Create Firmware Update Job button (the form's devices from a CSV file); the gateways page with a
// gateway's modem and its update; a job made with a file uploaded from the form, cancelled; one
// job across regions from the form (a row per region), its page listing its regions' jobs; every
// page at 360 px; another tenant's job and device are not found; the admin signs in, creates a
// tenant (the list's second page) and a token for it (shown once, copied), revokes it; a tenant
// token sees no Admin link and the API's refusal on /admin. Each page is screenshot and checked by
// axe-core (no serious or critical violation).
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const URL_ = env('WEB_URL');
const TOKEN = env('WEB_TOKEN');
const TENANT = env('WEB_TENANT');
const ADMIN_TOKEN = env('WEB_ADMIN_TOKEN');
const OTHER_JOB = env('WEB_OTHER_JOB');
const OTHER_DEVICE = env('WEB_OTHER_DEVICE');
const FIRMWARE = env('WEB_FIRMWARE');
const DEVICES = Number(env('WEB_DEVICES'));
const SHOTS = env('WEB_SHOTS');
const SILENT = env('WEB_SILENT');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const t0 = Date.now();
const say = (msg) => console.log(`web-ui: ${((Date.now() - t0) / 1000).toFixed(1)} s: ${msg}`);
mkdirSync(SHOTS, { recursive: true });

/** Waits until locator matches n elements (the table is read from the server, not filtered). */
async function waitCount(page, locator, n, what) {
  const end = Date.now() + 10000;
  let c = -1;
  while (Date.now() < end && (c = await locator.count()) !== n) await page.waitForTimeout(50);
  assert(c === n, `${what} (${c} row(s))`);
}

/** The job's action through the API, as another operator or a script would make it. */
async function apiAction(jobId, action) {
  const r = await fetch(`${URL_}/api/v1/jobs/${jobId}/${action}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  if (!r.ok) throw new Error(`${action}: HTTP ${r.status}`);
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
  say(`ok: ${msg}`);
}

const axeFindings = [];
async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }).then((x) =>
      x.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help })),
    ),
  );
  const bad = r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) {
    axeFindings.push({ page: name, ...v });
    say(`axe: ${name}: ${v.impact} ${v.id} (${v.nodes} element(s)): ${v.help}`);
  }
  say(`screenshot ${name}.png, axe: ${r.length} violation(s), ${bad.length} serious or critical`);
}

async function signInAs(page, token) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/signin/);
  await page.getByLabel('API token').fill(token);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/jobs$/);
  await page.getByRole('heading', { name: 'Firmware update jobs' }).waitFor();
}

/**
 * One job across regions from the form: a US915 device beside the EU868 fleet, a row per region
 * (the second region's own data rates), the request carrying regions, the plan per region, the
 * job's page listing its regions' jobs (each linked, the child linking back), the list showing
 * the parent only; cancelled.
 */
async function regionsFlow(page) {
  const US_DEV = 'fe000000000000a9';
  const r = await fetch(`${URL_}/api/v1/devices`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ dev_eui: US_DEV, application_id: 'us', lorawan_version: '1.0.3', gen_app_key: '000102030405060708090a0b0c0d0e0f', class: 'C', region: 'US915' }),
  });
  if (r.status !== 201) throw new Error(`US915 device: HTTP ${r.status}`);
  await page.goto(`${URL_}/jobs/new`);
  await page.getByLabel('Name', { exact: true }).fill('across regions');
  await page.getByLabel('Uploaded image').selectOption({ index: 1 });
  await page.getByLabel('One job across regions').check();
  const rows = page.getByTestId('region-row');
  await waitCount(page, rows, 2, 'one job across regions starts with two region rows');
  const row1 = page.getByRole('group', { name: 'Region 1' });
  const row2 = page.getByRole('group', { name: 'Region 2' });
  assert((await row1.getByLabel('Region', { exact: true }).inputValue()) === 'EU868', 'the first row is the region chosen so far');
  await row2.getByLabel('Region', { exact: true }).selectOption('US915');
  assert(/^DR8 · SF12 500 kHz/.test(await row2.getByLabel('Data rate').locator('option').first().innerText()), "the second row offers US915's DRs");
  assert((await row2.getByLabel('Frequency (Hz)').inputValue()) === '923300000', 'and its frequency');
  await page.getByRole('button', { name: 'Add a region' }).click();
  await waitCount(page, rows, 3, 'a row added');
  await page.getByRole('button', { name: 'Remove region 3' }).click();
  await waitCount(page, rows, 2, 'and removed');
  await page.getByLabel('Search the devices').fill(SILENT);
  await page.getByRole('button', { name: 'Choose all 1 shown' }).click();
  await page.getByLabel('Search the devices').fill(US_DEV);
  await page.getByRole('button', { name: 'Choose all 1 shown' }).click();
  await page.getByRole('button', { name: 'Show the plan' }).click();
  const planRows = page.locator('[data-plan="regions"] tbody tr');
  await waitCount(page, planRows, 2, 'the plan has a row per region');
  assert(/^US915\s+1\b/.test(await planRows.nth(1).innerText()), "the US915 row counts its one device");
  await shot(page, '08f-job-regions-plan');
  const posted = page.waitForRequest((q) => q.method() === 'POST' && new URL(q.url()).pathname === '/api/v1/jobs');
  await page.getByRole('button', { name: 'Create the job for 2 device(s)' }).click();
  const body = (await posted).postDataJSON();
  assert(
    JSON.stringify(body.regions) === JSON.stringify([{ region: 'EU868', data_rate: 5, frequency_hz: 869525000 }, { region: 'US915', data_rate: 8, frequency_hz: 923300000 }]) && body.region === undefined,
    'the form posts regions (and no region of its own)',
  );
  await page.waitForURL(/\/jobs\/\d+$/);
  const parentUrl = page.url();
  const parentId = parentUrl.split('/').pop();
  const regionRows = page.locator('[data-testid="job-regions"] tbody tr');
  await waitCount(page, regionRows, 2, "the job's page lists its two regions");
  assert((await regionRows.nth(0).getAttribute('data-region')) === 'EU868' && (await regionRows.nth(1).getAttribute('data-region')) === 'US915', 'EU868 and US915');
  assert(/of 1\b/.test(await regionRows.nth(1).innerText()), "each with its devices' progress");
  const devRows = page.locator('table.job-devices tbody tr');
  await waitCount(page, devRows, 2, "the job's devices are its regions'");
  assert((await page.locator('table.job-devices tbody tr', { hasText: US_DEV }).locator('td.region').innerText()) === 'US915', 'each with its region');
  await shot(page, '08g-job-regions');
  const childLink = regionRows.nth(1).getByRole('link');
  const childId = (await childLink.innerText()).replace(/\D/g, '');
  await childLink.click();
  await page.waitForURL(new RegExp(`/jobs/${childId}$`));
  await page.getByTestId('parent-job').waitFor();
  assert((await page.getByTestId('parent-job').getByRole('link').getAttribute('href')) === `/jobs/${parentId}`, "the region's job links to the job across regions");
  await page.goto(`${URL_}/jobs`);
  const parentRow = page.locator('tbody tr', { hasText: 'across regions' });
  await parentRow.first().waitFor();
  assert((await parentRow.count()) === 1 && /2 regions: EU868, US915/.test(await parentRow.innerText()), 'the jobs list shows the job once, with its regions');
  assert((await page.locator(`tbody a[href="/jobs/${childId}"]`).count()) === 0, "and not its regions' jobs");
  await fetch(`${URL_}/api/v1/jobs/${parentId}/cancel`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
}

/** The admin: a tenant, a token for it (shown once, copied), revoked; a tenant sees no Admin. */
async function adminFlow(page) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert((await nav.getByRole('link', { name: 'Admin' }).count()) === 0, 'a tenant token sees no Admin link');
  await page.goto(`${URL_}/admin`);
  await page.getByText('The API refused this page').waitFor();
  assert(true, "a tenant token opening /admin gets the API's refusal");
  await shot(page, '13-admin-refused');
  // More tenants than one page holds (50): the admin's list pages like the others.
  for (let i = 1; i <= 50; i++) {
    const r = await fetch(`${URL_}/api/v1/tenants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: `paged tenant ${i}` }),
    });
    if (r.status !== 201) throw new Error(`tenant ${i}: HTTP ${r.status}`);
  }
  await signInAs(page, ADMIN_TOKEN);
  await nav.getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('heading', { name: 'Admin', exact: true }).waitFor();
  const tenantsTable = page.getByRole('region', { name: 'Tenants' });
  await tenantsTable.locator('tbody tr').first().waitFor();
  assert((await tenantsTable.locator('tbody tr').count()) === 50, 'the tenants list shows one page of 50');
  await page.getByRole('button', { name: 'Create the tenant' }).click();
  await page.getByText('Give a name.').waitFor();
  await page.getByLabel("New tenant's name").fill('browser tenant');
  await page.keyboard.press('Enter');
  await page.getByTestId('tenant-created').filter({ hasText: /browser tenant/ }).waitFor();
  const tenantPages = page.getByRole('navigation', { name: 'Tenant pages' });
  await tenantPages.getByRole('button', { name: 'Next page' }).click();
  const tenantRow = tenantsTable.locator('tr', { hasText: 'browser tenant' });
  await tenantRow.waitFor();
  assert(await tenantPages.getByRole('button', { name: 'Previous page' }).isVisible(), 'its next page lists the new tenant, with a way back');
  assert(true, 'the admin created a tenant, listed');
  const tenantId = (await tenantRow.locator('td').first().innerText()).trim();
  await page.getByLabel('Tenant of the new token').selectOption(tenantId);
  await page.getByLabel("New token's name").fill('browser token');
  await page.getByRole('button', { name: 'Create the token' }).click();
  const secret = (await page.getByTestId('new-token').innerText()).trim();
  assert(secret.length >= 16, 'the new token is shown');
  await page.getByRole('button', { name: 'Copy the token' }).click();
  await page.getByText('Copied to the clipboard.').waitFor();
  assert((await page.evaluate(() => navigator.clipboard.readText())) === secret, 'the copy button copies the token');
  await shot(page, '14-admin-token-created');
  await page.getByRole('button', { name: 'Done, hide it' }).click();
  assert(!(await page.content()).includes(secret), 'the token is not shown again');
  const tokRow = page.getByRole('region', { name: 'API tokens' }).locator('tr', { hasText: 'browser token' });
  assert((await tokRow.innerText()).includes('browser tenant'), "the token is listed with its tenant");
  const r = await fetch(`${URL_}/api/v1/jobs?limit=1`, { headers: { Authorization: `Bearer ${secret}` } });
  assert(r.status === 200, 'the new token works');
  page.once('dialog', (d) => d.accept());
  await tokRow.getByRole('button', { name: /^Revoke/ }).click();
  await tokRow.getByText(/^revoked/).waitFor();
  const r2 = await fetch(`${URL_}/api/v1/jobs?limit=1`, { headers: { Authorization: `Bearer ${secret}` } });
  assert(r2.status === 401, 'revoked after the confirmation: the API refuses it');
  await shot(page, '15-admin');
  await page.setViewportSize({ width: 360, height: 740 });
  await page.waitForTimeout(300);
  const adminWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(adminWidth <= 360, `the admin page fits 360 px (document ${adminWidth} px wide)`);
  await page.screenshot({ path: join(SHOTS, '16-admin-360px.png'), fullPage: true });
  await page.setViewportSize({ width: 1200, height: 900 });
  await signInAs(page, TOKEN);
  assert((await nav.getByRole('link', { name: 'Admin' }).count()) === 0, 'signed in again as a tenant: no Admin link');
  assert(
    (await page.getByTestId('tenant-name').innerText()).startsWith(`${TENANT} (#`),
    "signed in again as a tenant: the header names the tenant, not the admin's",
  );
}

const browser = await chromium.launch({
  executablePath: process.env.WEB_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
let failed = false;
try {
  // bypassCSP: axe-core is injected as an inline script, which fuotad's CSP forbids the UI.
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 }, bypassCSP: true });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: URL_ });
  const page = await ctx.newPage();
  page.setDefaultTimeout(20000);
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  // What the job page asks the API: a page kept up by its stream reads the event list and the
  // device list rarely, a polling one every second.
  const asked = { eventLists: 0, devicePages: 0, bigDevicePages: 0, streams: 0 };
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (/\/jobs\/\d+\/events$/.test(u.pathname)) asked.eventLists++;
    if (/\/jobs\/\d+\/events\/stream$/.test(u.pathname)) asked.streams++;
    if (/\/jobs\/\d+\/devices$/.test(u.pathname)) {
      asked.devicePages++;
      if (Number(u.searchParams.get('limit')) > 50) asked.bigDevicePages++;
    }
  });

  // Sign in: an unknown path of the UI is the router's, and without a token it asks for one.
  await page.goto(`${URL_}/jobs`);
  await page.waitForURL(/\/signin/);
  await shot(page, '01-signin');
  await page.getByLabel('API token').fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('This token is not valid').waitFor();
  assert(true, 'a wrong token is refused on the sign-in page');
  // By keyboard: type the token, Enter submits.
  await page.getByLabel('API token').fill('');
  await page.getByLabel('API token').pressSequentially(TOKEN);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/jobs$/);
  await page.getByText('No job yet').waitFor();
  assert(
    (await page.evaluate(() => localStorage.length)) === 0,
    'signed in; the token is in sessionStorage only',
  );
  const tenantShown = (await page.getByTestId('tenant-name').innerText()).trim();
  assert(tenantShown.startsWith(`${TENANT} (#`), `the header names the token's tenant (${tenantShown})`);
  assert(!(await page.content()).includes(TOKEN), 'the page never shows the token');
  await shot(page, '02-jobs-empty');

  // Firmware: upload with progress, then listed with its size and SHA-256.
  await page.getByRole('link', { name: 'Firmware' }).click();
  await page.getByLabel('Image file').setInputFiles(FIRMWARE);
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByRole('status').filter({ hasText: 'Uploaded' }).waitFor();
  const fwRow = page.locator('tbody tr').filter({ hasText: basename(FIRMWARE) });
  await fwRow.first().waitFor(); /* the list reloads after the upload */
  assert((await fwRow.count()) === 1, 'the uploaded image is listed');
  assert(/[0-9a-f]{64}/.test(await fwRow.locator('code.hash').innerText()), 'with its SHA-256');
  await shot(page, '03-firmware');
  // Another image, deleted again after a confirmation.
  const spare = join(SHOTS, '..', 'delete-me.bin');
  writeFileSync(spare, Buffer.alloc(100, 1));
  await page.getByLabel('Image file').setInputFiles(spare);
  await page.getByRole('button', { name: 'Upload' }).click();
  const spareRow = page.locator('tbody tr').filter({ hasText: 'delete-me.bin' });
  await spareRow.waitFor();
  page.once('dialog', (d) => d.accept());
  await spareRow.getByRole('button', { name: 'Delete delete-me.bin' }).click();
  await spareRow.waitFor({ state: 'detached' });
  assert((await fwRow.count()) === 1, 'an image is deleted from the list after a confirmation, the other kept');

  // Devices: the fleet registered by the test.
  await page.getByRole('link', { name: 'Devices' }).click();
  await page.locator('tbody tr').first().waitFor();
  assert((await page.locator('tbody tr').count()) === DEVICES, `the ${DEVICES} devices are listed`);
  // The search is the server's (any page): a part of a DevEUI, in capitals.
  await page.getByLabel('Search', { exact: true }).fill(SILENT.slice(-6).toUpperCase());
  await waitCount(page, page.locator('tbody tr'), 1, 'the search finds the one device by a part of its DevEUI');
  await page.getByLabel('Search', { exact: true }).fill('');
  await waitCount(page, page.locator('tbody tr'), DEVICES, 'and every device again once emptied');
  await shot(page, '04-devices');

  // One device added by hand: a refused DevEUI named beside its field first; the key is
  // write-only (a password field, emptied once the device is added).
  await page.getByText('Add a device').click();
  await page.getByLabel('DevEUI', { exact: true }).fill('fe0000000000000z');
  await page.getByLabel('Application', { exact: true }).fill('by hand');
  await page.getByLabel('GenAppKey').fill('000102030405060708090a0b0c0d0e0f');
  await page.getByRole('button', { name: 'Add the device' }).click();
  await page.locator('[data-field-error="dev-devEui"]').waitFor();
  assert((await page.evaluate(() => document.activeElement?.id)) === 'dev-devEui', 'a refused DevEUI is named beside its field, which has the focus');
  assert((await page.getByLabel('GenAppKey').getAttribute('type')) === 'password', 'the key field does not show the key');
  await page.getByLabel('DevEUI', { exact: true }).fill('fe00000000000002');
  await page.getByRole('button', { name: 'Add the device' }).click();
  await page.getByText('Device fe00000000000002 added.').waitFor();
  await page.locator('tbody tr', { hasText: 'fe00000000000002' }).waitFor();
  assert((await page.getByLabel('GenAppKey').inputValue()) === '', 'a device added by hand is listed; its key is gone from the form');
  await shot(page, '04a-device-added');
  const delHand = await fetch(`${URL_}/api/v1/devices/fe00000000000002`, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
  assert(delHand.status === 204, 'the device added by hand is deleted again (through the API)');
  await page.reload();
  await waitCount(page, page.locator('tbody tr'), DEVICES, 'the fleet alone again');

  // CSV import: one new device, one already registered (the API refuses it), one bad DevEUI
  // (refused by the page itself); the report names the two refused lines and why.
  const csv = join(SHOTS, '..', 'devices.csv');
  writeFileSync(
    csv,
    'dev_eui,application_id,lorawan_version,class,region,gen_app_key\n' +
      'fe00000000000001,imported,1.0.3,C,EU868,000102030405060708090a0b0c0d0e0f\n' +
      `${SILENT},imported,1.0.3,C,EU868,000102030405060708090a0b0c0d0e0f\n` +
      'nothex,imported,1.0.3,C,EU868,000102030405060708090a0b0c0d0e0f\n',
  );
  await page.getByText('Import devices from a CSV file').click();
  await page.getByLabel('CSV file').setInputFiles(csv);
  await page.getByRole('button', { name: 'Import' }).click();
  const report = page.getByTestId('import-report');
  await report.waitFor();
  assert(/1 device\(s\) added, 2 row\(s\) refused/.test(await report.innerText()), 'the CSV import reports 1 added, 2 refused');
  assert(/registered already/.test(await report.locator('tr[data-line="3"] td.reason').innerText()), 'line 3 refused by the API: registered already');
  assert(/16 hexadecimal/.test(await report.locator('tr[data-line="4"] td.reason').innerText()), 'line 4 refused by the page: not a DevEUI');
  await shot(page, '04b-devices-imported');
  // The imported device is not one of fuota-sim's: out of the fleet again before the job.
  const del = await fetch(`${URL_}/api/v1/devices/fe00000000000001`, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
  assert(del.status === 204, 'the imported device is deleted again (through the API)');

  // The job form: a frequency the API refuses first.
  await page.getByRole('link', { name: 'Jobs' }).click();
  await page.getByRole('link', { name: 'New job' }).click();
  await page.waitForURL(/\/jobs\/new$/);
  await page.getByLabel('Name', { exact: true }).fill('browser test');
  await page.getByLabel('Uploaded image').selectOption({ index: 1 });
  await page.getByLabel('a number of frames').check();
  await page.getByLabel('Redundant frames').fill('2');
  await page.getByLabel('Unicast timeout (s)').fill('4');
  await page.getByLabel('Unicast attempts').fill('2');
  // The region's own data rates and frequencies, from the server's tables.
  await page.getByLabel('Region', { exact: true }).selectOption('US915');
  const drs = page.getByLabel('Data rate').locator('option');
  assert(/^DR8 · SF12 500 kHz/.test(await drs.first().innerText()), 'US915 offers its downlink DRs only (DR8 first)');
  assert((await page.getByLabel('Frequency (Hz)').inputValue()) === '923300000', 'and moves the frequency onto its grid');
  await page.getByLabel('Region', { exact: true }).selectOption('EU868');
  assert((await drs.count()) === 8 && /^DR7 · FSK/.test(await drs.last().innerText()), 'EU868 offers DR0..DR7, DR7 FSK');
  assert((await page.getByLabel('Frequency (Hz)').inputValue()) === '869525000', 'and its class C frequency');
  await page.getByLabel('Data rate').selectOption('5');
  await page.getByLabel('Frequency (Hz)').fill('100000000');
  await page.getByRole('button', { name: /Choose all \d+ shown/ }).click();
  await page.getByRole('button', { name: 'Show the plan' }).click();
  const freqError = page.locator('[data-field-error="job-frequency-hz"]');
  await freqError.waitFor();
  say(`the refusal: "${await freqError.innerText()}"`);
  assert(
    (await page.getByLabel('Frequency (Hz)').getAttribute('aria-invalid')) === 'true',
    'the refused frequency is named beside its field (and marked invalid)',
  );
  assert(
    (await page.evaluate(() => document.activeElement?.id)) === 'job-frequency-hz',
    'the refused field has the focus',
  );
  await shot(page, '05-job-form-refused');

  // The plan before the job.
  await page.getByLabel('Frequency (Hz)').fill('869525000');
  await page.getByRole('button', { name: 'Show the plan' }).click();
  await page.locator('#plan').waitFor();
  const fragments = await page.locator('[data-plan="fragments"]').innerText();
  assert(/^\d+ × \d+ B$/.test(fragments), `the plan shows the fragments (${fragments})`);
  assert((await page.locator('[data-plan="parity"]').innerText()) === '2', 'and the parity');
  assert((await page.locator('[data-plan="estimate"]').innerText()).length > 0, 'and the estimate');
  await shot(page, '06-job-plan');
  await page.getByRole('button', { name: /Create the job for \d+ device/ }).click();
  await page.waitForURL(/\/jobs\/\d+$/);
  const jobUrl = page.url();
  say(`job created: ${jobUrl}`);

  // The job's page, kept up by the job's event stream, until the job is over.
  const state = page.locator('[data-testid="job-state"]');
  await state.waitFor({ state: 'attached' });
  await shot(page, '07-job-running');

  // Pause and resume from the page.
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.locator('[data-testid="job-state"]', { hasText: /^paused$/ }).waitFor();
  assert(await page.getByRole('button', { name: 'Resume' }).isVisible(), 'paused: the page offers Resume');
  await shot(page, '07b-job-paused');
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.locator('[data-testid="job-state"]', { hasText: /^(pending|running|succeeded)$/ }).waitFor();
  assert(true, 'resumed from the page');

  // Live: kept up by the event stream. A pause made elsewhere (the API) is on the page within a
  // second; a second tab whose stream is refused (too many streams) polls and shows it too.
  const jobId = Number(jobUrl.split('/').pop());
  await page.locator('[data-testid="live-mode"][data-transport="stream"]').waitFor();
  assert(true, 'the job page follows the job\'s event stream');
  const tab2 = await ctx.newPage();
  await tab2.route('**/events/stream*', (r) =>
    r.fulfill({
      status: 429,
      contentType: 'application/json',
      body: '{"error":{"code":"too_many_streams","message":"too many live streams are open"}}',
    }),
  );
  await tab2.goto(`${URL_}/signin`);
  await tab2.evaluate((t) => sessionStorage.setItem('fuota.token', t), TOKEN);
  await tab2.goto(jobUrl);
  await tab2.locator('[data-testid="live-mode"][data-transport="polling"]').waitFor();
  assert(true, 'a tab whose stream is refused falls back to polling');
  await page.waitForTimeout(1500); /* the stream is quiet and parked */
  const paused = page.locator('[data-testid="job-state"]', { hasText: /^paused$/ });
  const t1 = Date.now();
  await apiAction(jobId, 'pause');
  await paused.waitFor({ timeout: 5000 });
  const pushedMs = Date.now() - t1;
  await tab2.locator('[data-testid="job-state"]', { hasText: /^paused$/ }).waitFor({ timeout: 5000 });
  const polledMs = Date.now() - t1;
  say(`figure: a pause through the API was on the page ${pushedMs} ms later (stream); ${polledMs} ms on the polling tab`);
  assert(pushedMs < 1000, `the stream brought the pause within a second (${pushedMs} ms)`);
  await tab2.close();
  await apiAction(jobId, 'resume');
  await page.locator('[data-testid="job-state"]', { hasText: /^(pending|running|succeeded)$/ }).waitFor();
  const seen = new Set();
  const framesSeen = [];
  const deadline = Date.now() + 240000; // about 80 s here; a loaded machine is slower
  let s = '';
  while (Date.now() < deadline) {
    s = (await state.textContent()) ?? '';
    seen.add(s);
    const phase = await page.locator('[data-testid="job-phase"]').textContent().catch(() => null);
    if (phase) seen.add(`phase:${phase}`);
    const frames = page.getByTestId('frames');
    if (await frames.count()) framesSeen.push((await frames.textContent()) ?? '');
    if (['succeeded', 'failed', 'cancelled'].includes(s)) break;
    await page.waitForTimeout(500);
  }
  say(`states and phases seen on the page: ${[...seen].join(', ')}`);
  assert(s === 'succeeded', `the page shows the job succeeded (it shows "${s}")`);
  assert([...seen].some((x) => x.startsWith('phase:')), 'the page showed the job phases as they went');
  const lastFrames = framesSeen.filter((t) => /^[1-9]\d* frame\(s\) sent for \d+ fragment/.test(t));
  say(`frame counter readings: ${[...new Set(framesSeen)].length} distinct, last "${lastFrames[lastFrames.length - 1] ?? ''}"`);
  assert(new Set(lastFrames).size >= 2, 'the frames sent went up on the page during the transmission (stream + 2 s ticks)');
  const bar = page.getByRole('progressbar', { name: 'Devices finished' });
  assert((await bar.getAttribute('aria-valuenow')) === '100', 'the progress bar is full');
  const rows = page.locator('table.job-devices tbody tr');
  await waitCount(page, page.locator('table.job-devices tbody tr[data-step="done"]'), DEVICES - 1,
    'every device but the silent one is done');
  assert((await rows.count()) === DEVICES, 'every device is in the table');
  say(`the job page asked for ${asked.eventLists} event list(s), ${asked.devicePages} device page(s), ${asked.streams} stream(s)`);
  assert(asked.eventLists <= 6, `the page did not poll the event log (${asked.eventLists} reads in the whole job)`);
  assert(asked.bigDevicePages === 0, 'nor read every device: one page of the table at a time');
  // The job chart: devices done over the job from its event log, also on a page opened after.
  const finishedRe = new RegExp(`^${DEVICES - 1} device\\(s\\) done and 1 failed`);
  await page.getByTestId('finished-over-time').filter({ hasText: finishedRe }).waitFor({ timeout: 5000 });
  const finishedText = await page.getByTestId('finished-over-time').innerText();
  assert(finishedRe.test(finishedText), `the job chart counts the devices done over time ("${finishedText}")`);
  assert((await page.locator('figure.chart .u-legend').innerText()).includes('devices done'), 'the chart draws frames sent and devices done');
  await page.reload();
  await page.locator('[data-testid="job-state"]', { hasText: /^succeeded$/ }).waitFor({ state: 'attached' });
  await page.getByTestId('finished-over-time').filter({ hasText: finishedRe }).waitFor();
  assert(true, 'a page opened after the job draws its devices done from the event log');
  assert((await page.getByRole('columnheader', { name: 'Missing fragments' }).count()) === 1, 'the device table has a missing fragments column');
  const missing = await page.locator('table.job-devices tbody tr[data-step="done"] td.missing').allInnerTexts();
  assert(missing.length === DEVICES - 1 && missing.every((t) => /^0 \(\d+ received\)$/.test(t)), `the done devices miss no fragment (${missing.join('; ')})`);
  // The failed device and its reason, through the step filter (read from the server).
  await page.getByLabel('Step', { exact: true }).selectOption('failed');
  const failedRows = page.locator('table.job-devices tbody tr');
  await waitCount(page, failedRows, 1, 'the step filter shows the one failed device');
  assert((await page.getByTestId('device-range').innerText()) === '1–1 of 1', 'the pager counts the step\'s devices');
  const reason = await failedRows.first().locator('td.reason').innerText();
  assert(/no answer/.test(reason), `with its failure reason ("${reason}")`);
  await shot(page, '08b-job-failed-device');
  await page.getByLabel('Step', { exact: true }).selectOption('');
  assert((await page.locator('ol.events li').count()) > 0, 'the event log is shown');
  await shot(page, '08-job-done');

  // The silent device's page: its Firmware tab has the job, its step and its failure reason;
  // its button opens the job form for it.
  await page.locator('table.job-devices a', { hasText: SILENT }).click();
  await page.waitForURL(new RegExp(`/devices/${SILENT}$`));
  const devJob = page.locator('table.device-jobs tbody tr').filter({ hasText: 'browser test' });
  await devJob.waitFor();
  assert((await devJob.getAttribute('data-step')) === 'failed', 'the device page lists the job with the device failed in it');
  assert(/no answer/.test(await devJob.locator('td.reason').innerText()), 'and the reason');
  assert((await page.getByRole('tab', { name: 'Firmware' }).getAttribute('aria-selected')) === 'true', 'on the Firmware tab');
  await shot(page, '08d-device-firmware-tab');
  await page.getByRole('tab', { name: 'Firmware' }).focus();
  await page.keyboard.press('ArrowRight');
  assert((await page.getByRole('tab', { name: 'Details' }).getAttribute('aria-selected')) === 'true', 'the tabs work with the arrow keys');
  await page.getByRole('link', { name: 'Create Firmware Update Job' }).click();
  await page.waitForURL(/\/jobs\/new\?device=/);
  await page.getByText('Devices (1 chosen)').waitFor();
  assert(true, 'Create Firmware Update Job opens the form with the device chosen');
  // The job's devices from a CSV file: its dev_eui column, a bad row reported.
  await page.getByRole('button', { name: 'Clear the choice' }).click();
  await page.getByText('Devices (0 chosen)').waitFor();
  const jobCsv = join(SHOTS, '..', 'job-devices.csv');
  writeFileSync(jobCsv, `application_id,dev_eui\nx,${SILENT.toUpperCase()}\nx,nothex\n`);
  await page.getByLabel('Or a CSV file of DevEUIs').setInputFiles(jobCsv);
  await page.getByText('Devices (1 chosen)').waitFor();
  await page.locator('[data-field-error="job-devices"]', { hasText: 'job-devices.csv: not a DevEUI: nothex' }).waitFor();
  assert(true, "a CSV file chooses the job's devices by its dev_eui column, its bad row named beside the field");

  // An image forced into parts by a device that takes only 2 fragments (its max_frags): the plan
  // says how many parts and the parity a part. The device is not the simulator's: deleted again.
  const SMALL = 'fd00000000000001';
  const mk = await fetch(`${URL_}/api/v1/devices`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ dev_eui: SMALL, application_id: 'small', lorawan_version: '1.0.3', class: 'C', region: 'EU868', stack: 'ts004', max_frags: 2, gen_app_key: '000102030405060708090a0b0c0d0e0f' }),
  });
  assert(mk.status === 201, `a device taking 2 fragments is added (through the API: ${mk.status})`);
  await page.goto(`${URL_}/jobs/new?device=${SMALL}&region=EU868`);
  await page.getByLabel('Name', { exact: true }).fill('in parts');
  await page.getByLabel('Uploaded image').selectOption({ index: 1 });
  await page.getByLabel('Target firmware version').fill('0x010203');
  await page.getByLabel('at a time').check();
  await page.getByLabel('Reboot at').fill('2020-01-31T03:00');
  await page.getByRole('button', { name: 'Show the plan' }).click();
  await page.locator('[data-field-error="job-reboot-at"]', { hasText: 'past' }).waitFor();
  assert((await page.evaluate(() => document.activeElement?.id)) === 'job-reboot-at', 'a reboot time gone past is refused beside its field');
  await page.getByLabel('no reboot ordered').check();
  await page.getByRole('button', { name: 'Show the plan' }).click();
  await page.locator('#plan').waitFor();
  const partsText = await page.locator('[data-plan="parts"]').innerText();
  assert(/^in \d+ parts of 2 fragments/.test(partsText), `the plan of an image in parts says so (${partsText})`);
  assert(/ per part.*in all$/.test(await page.locator('[data-plan="parity"]').innerText()), 'with the parity a part');
  await shot(page, '08d2-job-plan-parts');
  const rm = await fetch(`${URL_}/api/v1/devices/${SMALL}`, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
  assert(rm.status === 204, 'the small device is deleted again');

  // The gateways that heard the fleet.
  await page.getByRole('link', { name: 'Gateways' }).click();
  await page.locator('table.gateways tbody tr').first().waitFor();
  assert((await page.locator('table.gateways tbody tr').count()) >= 1, 'the gateways page lists the gateways that heard the fleet');
  const modem = page.locator('table.gateways tbody tr').first();
  assert(/03\.15/.test(await modem.locator('td.modem').innerText()), "with the modem's version");
  assert(/home, -71 dBm/.test(await modem.locator('td.modem').innerText()), 'its registration and signal');
  assert(/downloading 40\s% \(http\)/.test(await modem.locator('td.modem-update').innerText()), 'and its update under way');
  await shot(page, '08e-gateways');

  // A second job with the image uploaded from the form itself, for the silent device found by
  // search, cancelled from its page.
  await page.goto(`${URL_}/jobs/new`);
  await page.getByLabel('Name', { exact: true }).fill('cancel me');
  await page.getByLabel('Firmware file').setInputFiles(FIRMWARE);
  await page.getByLabel('Search the devices').fill(SILENT);
  await page.getByRole('button', { name: 'Choose all 1 shown' }).click();
  await page.getByRole('button', { name: 'Show the plan' }).click();
  await page.locator('#plan').waitFor();
  assert(/^\d+ × \d+ B$/.test(await page.locator('[data-plan="fragments"]').innerText()), 'a file not uploaded yet is planned by its size');
  await page.getByRole('button', { name: 'Create the job for 1 device(s)' }).click();
  await page.waitForURL(/\/jobs\/\d+$/);
  assert(page.url() !== jobUrl, 'the image was uploaded and the job created from the form');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('[data-testid="job-state"]', { hasText: /^cancelled$/ }).waitFor();
  assert(await page.getByRole('button', { name: 'Cancel' }).isHidden(), 'cancelled from its page; no action is offered any more');
  await shot(page, '08c-job-cancelled');

  await regionsFlow(page);

  // Readable at 360 px: nothing wider than the screen but the tables' own scrolling boxes.
  await page.setViewportSize({ width: 360, height: 740 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(overflow <= 360, `the job page fits 360 px (document ${overflow} px wide)`);
  await page.screenshot({ path: join(SHOTS, '09-job-360px.png'), fullPage: true });
  await page.goto(`${URL_}/jobs/new`);
  await page.getByLabel('Name', { exact: true }).waitFor();
  const formWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(formWidth <= 360, `the job form fits 360 px (document ${formWidth} px wide)`);
  await page.screenshot({ path: join(SHOTS, '10-job-form-360px.png'), fullPage: true });
  for (const [name, path] of [['jobs', '/jobs'], ['firmware', '/firmware'], ['devices', '/devices'], ['device', `/devices/${SILENT}`], ['gateways', '/gateways']]) {
    await page.goto(`${URL_}${path}`);
    await page.locator('main h1').waitFor();
    await page.waitForTimeout(300);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(w <= 360, `the ${name} page fits 360 px (document ${w} px wide)`);
    await page.screenshot({ path: join(SHOTS, `10-${name}-360px.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1200, height: 900 });

  // The jobs list has it; another tenant's job is not found.
  await page.goto(`${URL_}/jobs`);
  await page.locator('tbody tr').first().waitFor();
  const rendered = await page.evaluate(() => Math.round(performance.now()));
  say(`figure: the jobs list was on screen ${rendered} ms after the navigation started`);
  assert((await page.locator('tbody tr').filter({ hasText: 'browser test' }).count()) === 1, 'the jobs list shows the job');
  await shot(page, '11-jobs');
  await page.goto(`${URL_}/jobs/${OTHER_JOB}`);
  await page.getByRole('heading', { name: 'Not found' }).waitFor();
  assert(true, `another tenant's job (#${OTHER_JOB}) shows not found`);
  await shot(page, '12-other-tenant-job');
  await page.goto(`${URL_}/devices/${OTHER_DEVICE}`);
  await page.getByRole('heading', { name: 'Not found' }).waitFor();
  assert(true, "another tenant's device shows not found");
  await shot(page, '12b-other-tenant-device');
  await adminFlow(page);

  assert(consoleErrors.length === 0, `no script error in the page (${consoleErrors.join('; ')})`);
  if (axeFindings.length) {
    for (const f of axeFindings) console.log(`axe: ${f.page}: ${f.impact} ${f.id} (${f.nodes}): ${f.help}`);
  }
  assert(axeFindings.length === 0, 'axe-core finds no serious or critical violation');
} catch (e) {
  failed = true;
  console.error(`web-ui: FAILED: ${e.stack || e}`);
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages[0]) await pages[0].screenshot({ path: join(SHOTS, 'failure.png'), fullPage: true });
  } catch {}
} finally {
  await browser.close();
}
say(failed ? 'FAILED' : 'every step passed');
process.exit(failed ? 1 : 0);
