// Drives the labeling page (/ui/label) in Debian's Chromium through npm
// playwright-core, as a person would: signs in with a token on /ui/login (the page
// sends it there after the API answered 401), then labels tasks with the keyboard
// only. Driven by tests/integration/labeling_test.cc, which checks the answers
// through the API. Prints one line per step:
//   login ok | labeled TASK_ID LABEL | skipped TASK_ID | progress ANSWERED |
//   load_ms MS | csp_violations N
// Usage: node label_page.js BASE_URL TOKEN MODEL SCREENSHOT_DIR
const {chromium} = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

async function main() {
  const [base, token, model, shots] = process.argv.slice(2);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'closedloop-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
           '--no-first-run'],
  });
  const outside = [];
  let violations = 0;
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('request', (r) => { if (!r.url().startsWith(base)) outside.push(r.url()); });
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations++; });
    page.on('pageerror', (e) => { console.log('pageerror ' + e.message); });

    await page.goto(`${base}/ui/label?model=${encodeURIComponent(model)}`);
    await page.waitForURL(/\/ui\/login/);
    await page.fill('#token', token);
    await page.press('#token', 'Enter');
    await page.waitForURL(/\/ui\/label/);
    console.log('login ok');
    const textOf = async () => (await page.textContent('#task-text')).trim();
    const taskId = async () => (await page.textContent('#task-meta')).replace('Task ', '').trim();
    await page.waitForSelector('#suggestions li');
    await page.screenshot({path: path.join(shots, 'label-page.png'), fullPage: true});

    // 1. The first suggestion, by its key.
    let id = await taskId();
    const first = await page.getAttribute('#suggestions li:nth-child(1)', 'data-label');
    await page.keyboard.press('1');
    await page.waitForFunction((old) => !document.querySelector('#task-meta').textContent.includes(old), id);
    console.log(`labeled ${id} ${first}`);

    // 2. Search every label: "/" then type, Enter picks the first match.
    id = await taskId();
    await page.keyboard.press('/');
    await page.keyboard.type('card arr');
    await page.waitForSelector('#results li.highlight');
    const found = await page.getAttribute('#results li.highlight', 'data-label');
    await page.screenshot({path: path.join(shots, 'label-search.png'), fullPage: true});
    await page.keyboard.press('Enter');
    await page.waitForFunction((old) => !document.querySelector('#task-meta').textContent.includes(old), id);
    console.log(`labeled ${id} ${found}`);

    // 3. Skip with "s".
    id = await taskId();
    await page.keyboard.press('s');
    await page.waitForFunction((old) => !document.querySelector('#task-meta').textContent.includes(old), id);
    console.log(`skipped ${id}`);

    // The progress panel counts the two answers (after a reload of the queue).
    const t0 = Date.now();
    await page.reload();
    await page.waitForSelector('#suggestions li');
    console.log(`load_ms ${Date.now() - t0}`);
    console.log(`progress ${(await page.textContent('#answered')).trim()}`);
    if ((await textOf()).length === 0) throw new Error('no task text after reload');
    console.log(`outside_requests ${outside.length}`);
    console.log(`csp_violations ${violations}`);
  } finally {
    await context.close();
    fs.rmSync(profile, {recursive: true, force: true});
  }
}

main().catch((e) => { console.log('error ' + e.message); process.exit(1); });
