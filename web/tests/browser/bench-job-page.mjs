// Figures of the web UI against a 10,000-device job (bench/web.sh starts fuotad and fills it):
// the time to first render of the job's page in headless Chromium, what reading every device
// (as the page did before it read the per-step summary) costs from the browser, and the delay
// from a job's state change to the page showing it. Env: WEB_URL, WEB_TOKEN, WEB_JOB, WEB_RUNS.
import { chromium } from 'playwright-core';

const URL_ = process.env.WEB_URL;
const TOKEN = process.env.WEB_TOKEN;
const JOB = process.env.WEB_JOB;
const RUNS = Number(process.env.WEB_RUNS || 5);
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]} ms, min ${s[0]} ms, max ${s[s.length - 1]} ms (${s.length} runs)`;
};
const action = async (a) => {
  const r = await fetch(`${URL_}/api/v1/jobs/${JOB}/${a}`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
  if (!r.ok) throw new Error(`${a}: HTTP ${r.status}`);
};

const browser = await chromium.launch({
  executablePath: process.env.WEB_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  await ctx.addInitScript((t) => sessionStorage.setItem('fuota.token', t), TOKEN);
  const page = await ctx.newPage();
  await page.goto(`${URL_}/jobs`); // warm the cache: the figures are of the page, not the bundle's download
  const render = [];
  for (let i = 0; i < RUNS; i++) {
    await page.goto(`${URL_}/jobs/${JOB}`);
    await page.getByTestId('device-range').filter({ hasText: /^1–50 of 10000$/ }).waitFor({ timeout: 30000 });
    await page.locator('table.job-devices tbody tr').nth(49).waitFor();
    render.push(Math.round(await page.evaluate(() => performance.now())));
  }
  console.log(`figure: the 10,000-device job's page (counts, the first 50 devices, the log) on screen: ${stats(render)}`);

  const all = [];
  for (let i = 0; i < RUNS; i++) {
    all.push(
      await page.evaluate(async ({ job, token }) => {
        const t0 = performance.now();
        for (let off = 0; off < 10000; off += 500) {
          const r = await fetch(`/api/v1/jobs/${job}/devices?limit=500&offset=${off}`, { headers: { Authorization: `Bearer ${token}` } });
          await r.json();
        }
        return Math.round(performance.now() - t0);
      }, { job: JOB, token: TOKEN }),
    );
  }
  console.log(`figure: reading all 10,000 devices (20 pages of 500; what the page did every second before): ${stats(all)}`);
  const t1 = performance.now();
  await page.evaluate(async ({ job, token }) => (await fetch(`/api/v1/jobs/${job}/summary`, { headers: { Authorization: `Bearer ${token}` } })).json(), { job: JOB, token: TOKEN });
  console.log(`figure: one summary read instead (from Node's clock, a single request): ${Math.round(performance.now() - t1)} ms`);

  await page.goto(`${URL_}/jobs/${JOB}`);
  await page.locator('[data-testid="live-mode"][data-transport="stream"]').waitFor();
  const delays = [];
  for (let i = 0; i < RUNS * 2; i++) {
    await page.waitForTimeout(700); // a quiet, parked stream: the worst case of a poll tick
    const paused = i % 2 === 0;
    const t0 = Date.now();
    await action(paused ? 'pause' : 'resume');
    await page.locator('[data-testid="job-state"]', { hasText: paused ? /^paused$/ : /^pending$/ }).waitFor({ timeout: 10000 });
    delays.push(Date.now() - t0);
  }
  console.log(`figure: a state change made through the API, on the 10,000-device job's page: ${stats(delays)}`);
} finally {
  await browser.close();
}
