// Drives the web console (/ui/) in Debian's Chromium through npm playwright-core:
// signs in with a token (the first page sends it to /ui/login), opens every page,
// checks that its charts drew points, screenshots it, and acts on the rollout with
// the page's buttons. Driven by tests/integration/console_test.cc and
// bench/console_bench.sh. Prints one line per finding:
//   login ok | page NAME load_ms MS | chart NAME/CHART POINTS | compare runs/CHART SERIES |
//   topic_predictions N |
//   csrf_missing STATUS | clicked promote|rollback ID | outside_requests N |
//   csp_violations N | page_errors N
// Usage: node console_pages.js BASE_URL TOKEN SCREENSHOT_DIR [pages|promote|rollback] [ROUNDS]
const {chromium} = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const PAGES = [['overview', '/ui/'], ['models', '/ui/models'], ['runs', '/ui/runs'],
               ['drift', '/ui/drift'], ['feedback', '/ui/feedback'], ['rollouts', '/ui/rollouts']];

async function main() {
  const [base, token, shots, mode = 'pages', rounds = '1'] = process.argv.slice(2);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'closedloop-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: {width: 1360, height: 900},
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
           '--no-first-run'],
  });
  const outside = [];
  let violations = 0;
  let errors = 0;
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('request', (r) => { if (!r.url().startsWith(base)) outside.push(r.url()); });
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations++; });
    page.on('pageerror', (e) => { errors++; console.log('pageerror ' + e.message); });

    // Signed out: the page's first API call answers 401 and sends it to the login page.
    await page.goto(`${base}/ui/`);
    await page.waitForURL(/\/ui\/login/);
    await page.fill('#token', token);
    await page.press('#token', 'Enter');
    await page.waitForURL((u) => !u.pathname.startsWith('/ui/login'));
    await page.waitForSelector('body[data-ready="1"]');
    console.log('login ok');

    if (mode === 'pages') {
      for (let round = 0; round < Number(rounds); ++round) {
        for (const [name, url] of PAGES) {
          await page.goto(base + url);
          await page.waitForSelector('body[data-ready="1"]');
          const ms = await page.evaluate(() => Number(document.body.dataset.loadMs));
          console.log(`page ${name} load_ms ${ms}`);
          if (round > 0) continue;
          // uPlot draws on the next animation frame: wait for every chart with data.
          await page.waitForFunction(() => [...document.querySelectorAll('.chart')]
              .every((c) => c.dataset.points === '0' || c.querySelector('canvas')));
          for (const c of await page.$$('[data-chart]')) {
            const chartName = await c.getAttribute('data-chart');
            const points = await c.$eval('.chart', (e) => e.dataset.points);
            const canvas = await c.$('canvas');
            console.log(`chart ${name}/${chartName} ${canvas ? points : 0}`);
          }
          if (name === 'runs') {
            // Compare two runs side by side: one curve per run in each chart.
            const boxes = await page.$$('input[data-run]');
            if (boxes.length >= 2) {
              for (const b of boxes.slice(0, 2)) await b.check();
              await page.click('#compare');
              await page.waitForURL(/[?&]runs=/);
              await page.waitForSelector('body[data-ready="1"]');
              const series = await page.$eval('[data-chart="metric:train_loss"] .chart',
                                               (e) => e.dataset.series);
              console.log(`compare runs/metric:train_loss ${series}`);
              await page.screenshot({path: path.join(shots, 'console-runs-compare.png'), fullPage: true});
            }
          }
          if (name === 'feedback') {
            const button = await page.$('[data-topic-predictions]');
            if (button) {
              await button.click();
              await page.waitForSelector('table.predictions');
              console.log(`topic_predictions ${(await page.$$('table.predictions tbody tr')).length}`);
            }
          }
          await page.screenshot({path: path.join(shots, `console-${name}.png`), fullPage: true});
        }
      }
      // A state-changing call from the session without the CSRF header is refused.
      const status = await page.evaluate(async () =>
        (await fetch('/v1/rollouts/none/rollback', {method: 'POST', credentials: 'same-origin'})).status);
      console.log(`csrf_missing ${status}`);
    } else {
      await page.goto(`${base}/ui/rollouts`);
      await page.waitForSelector('body[data-ready="1"]');
      const button = await page.waitForSelector('#' + mode);
      const id = await button.getAttribute('data-rollout');
      page.once('dialog', (d) => d.accept());
      await button.click();
      await page.waitForSelector('.status.ok');
      await page.screenshot({path: path.join(shots, `console-rollouts-${mode}.png`), fullPage: true});
      console.log(`clicked ${mode} ${id}`);
    }
    console.log(`outside_requests ${outside.length}`);
    console.log(`csp_violations ${violations}`);
    console.log(`page_errors ${errors}`);
  } finally {
    await context.close();
    fs.rmSync(profile, {recursive: true, force: true});
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
