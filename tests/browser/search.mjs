#!/usr/bin/env node
// Drives the imgtag search page in headless Debian Chromium, as a person
// using only the keyboard would, and checks each step:
//
//   node tests/browser/search.mjs --url http://127.0.0.1:PORT --key KEY \
//     --cat /abs/path/chelsea.png --screenshot /abs/out.png
//
// 1. open the page; 2. enter the key with the keyboard; 3. search "coffee"
// (first hit coffee.png, its thumbnail loaded); 4. upload the cat photo
// (first hit chelsea.png); 5. save a full-page screenshot; 6. open the
// first card with Enter (preview loaded, filename shown), close it with
// Escape; 7. a wrong key shows an `api.unauthorized` error.
//
// Fails (exit 1) on any broken step, on a console error, an uncaught page
// error or a Content-Security-Policy violation, on an API call without the
// key, and on any request for the `original` rendition. Prints one line per
// step and a JSON summary last. Needs scripts/browser-tools run first; it
// never downloads a browser (Debian's /usr/bin/chromium, or $CHROMIUM).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
const { chromium } = await import('playwright-core');

const OVERALL_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 15_000;

const USAGE =
  'usage: node tests/browser/search.mjs --url http://127.0.0.1:PORT --key KEY ' +
  '--cat /abs/path/chelsea.png --screenshot /abs/out.png';

class StepFailure extends Error {}

let browser = null;
let finished = false;
let currentStep = 'start';

async function fail(message) {
  if (finished) return;
  finished = true;
  console.error(`FAIL [${currentStep}] ${message}`);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}

function check(condition, message) {
  if (!condition) throw new StepFailure(message);
}

function step(name) {
  currentStep = name;
}

function passed(number, text) {
  console.log(`ok ${number} - ${text}`);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      cat: { type: 'string' },
      screenshot: { type: 'string' },
    },
    strict: true,
  }));
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(1);
}
for (const name of ['url', 'key', 'cat', 'screenshot']) {
  if (!args[name]) {
    console.error(`missing --${name}\n${USAGE}`);
    process.exit(1);
  }
}
const baseUrl = args.url.replace(/\/+$/, '');
const catPath = path.resolve(args.cat);
const screenshotPath = path.resolve(args.screenshot);
if (!existsSync(catPath)) {
  console.error(`--cat: no such file ${catPath}`);
  process.exit(1);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath}: run scripts/browser-tools (or set CHROMIUM)`);
  process.exit(1);
}

setTimeout(() => {
  fail(`overall timeout: not done after ${OVERALL_TIMEOUT_MS / 1000} s`);
}, OVERALL_TIMEOUT_MS).unref();

// Records what must never happen on a page: console errors, uncaught
// errors, CSP violations, API calls without the key, the original rendition.
function watch(page, { expectedKey, allowUnauthorized = false }) {
  const problems = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // A refused key makes Chromium log the 401 fetch; expected on that page.
    if (allowUnauthorized && /status of 401/.test(text)) return;
    problems.push(`console error: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/')) {
      const auth = request.headers().authorization || '';
      if (!auth.startsWith('Bearer ')) problems.push(`${url.pathname} sent without a Bearer key`);
      else if (expectedKey && auth !== `Bearer ${expectedKey}`) {
        problems.push(`${url.pathname} sent with a different key`);
      }
      if (expectedKey && url.href.includes(encodeURIComponent(expectedKey))) {
        problems.push(`the key appears in a URL: ${url.pathname}${url.search}`);
      }
    }
    if (/\/renditions\/original$/.test(url.pathname)) {
      problems.push(`requested the original rendition: ${url.pathname}`);
    }
  });
  return {
    assertClean() {
      check(problems.length === 0, problems.join('; '));
    },
  };
}

// CSP violations reach the page as events; collect them before any script.
const CSP_PROBE = () => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
  });
};

async function assertNoCspViolations(page) {
  const violations = await page.evaluate(() => window.__cspViolations || []);
  check(violations.length === 0, `CSP violations: ${violations.join('; ')}`);
}

// The first result's data attributes, once the grid shows a query matching
// `prefix` that differs from `previousQuery`.
async function waitForResults(page, prefix, previousQuery) {
  try {
    await page.waitForFunction(
      ([prefix, previous]) => {
        const list = document.querySelector('#results');
        const query = list && list.dataset.query;
        return Boolean(query && query.startsWith(prefix) && query !== previous &&
          list.querySelector('li[data-image-id]') && !list.hasAttribute('aria-busy'));
      },
      [prefix, previousQuery ?? null],
      { timeout: STEP_TIMEOUT_MS },
    );
  } catch {
    const error = await page.locator('#error').textContent().catch(() => '');
    const status = await page.locator('#status').textContent().catch(() => '');
    throw new StepFailure(
      `no results for a "${prefix}" query within ${STEP_TIMEOUT_MS / 1000} s ` +
      `(status: ${JSON.stringify(status)}, error: ${JSON.stringify(error)})`,
    );
  }
  return page.evaluate(() => {
    const list = document.querySelector('#results');
    const items = [...list.querySelectorAll('li[data-image-id]')];
    return {
      query: list.dataset.query,
      count: items.length,
      first: items[0].dataset.filename,
      firstId: items[0].dataset.imageId,
      filenames: items.map((li) => li.dataset.filename),
      status: document.querySelector('#status').textContent,
    };
  });
}

async function waitForImage(page, selector, what) {
  try {
    await page.waitForFunction(
      (selector) => {
        const img = document.querySelector(selector);
        return Boolean(img && !img.hidden && img.complete && img.naturalWidth > 0);
      },
      selector,
      { timeout: STEP_TIMEOUT_MS },
    );
  } catch {
    throw new StepFailure(`${what} (${selector}) did not load within ${STEP_TIMEOUT_MS / 1000} s`);
  }
  const info = await page.evaluate((selector) => {
    const img = document.querySelector(selector);
    return { width: img.naturalWidth, src: img.currentSrc || img.src, alt: img.alt };
  }, selector);
  check(info.width > 0, `${what} has naturalWidth 0`);
  check(info.src.startsWith('blob:'), `${what} is not shown from a blob URL (${info.src})`);
  check(info.alt.trim() !== '', `${what} has no alt text`);
  return info;
}

// Every card's thumbnail has settled: a loaded image or a placeholder.
async function waitForThumbnails(page) {
  await page.waitForFunction(
    () => [...document.querySelectorAll('#results .thumb')].every((thumb) => {
      const img = thumb.querySelector('img');
      if (img) return img.complete && img.naturalWidth > 0;
      return !/Loading/.test(thumb.textContent);
    }),
    null,
    { timeout: STEP_TIMEOUT_MS },
  ).catch(() => {
    throw new StepFailure('thumbnails did not all settle');
  });
}

async function focusedIs(page, selector) {
  return page.evaluate((selector) => document.activeElement === document.querySelector(selector), selector);
}

async function main() {
  step('launch');
  browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  await context.addInitScript(CSP_PROBE);
  const page = await context.newPage();
  const watcher = watch(page, { expectedKey: args.key });

  // 1. Open the page.
  step('1 open');
  const response = await page.goto(`${baseUrl}/`, { waitUntil: 'load' });
  check(response && response.ok(), `GET / answered ${response ? response.status() : 'nothing'}`);
  const csp = response.headers()['content-security-policy'] || '';
  check(csp.includes("script-src 'self'"), `GET / has no strict Content-Security-Policy (${csp || 'none'})`);
  await page.locator('#key').waitFor({ state: 'visible' });
  check(await page.locator('#text').isVisible(), 'no visible search field #text');
  check(await page.locator('#results').count() === 1, 'no #results list');
  check(await page.getByLabel('API key').count() === 1, 'the key field has no "API key" label');
  check(await page.getByLabel('Search', { exact: true }).count() === 1, 'the search field has no "Search" label');
  watcher.assertClean();
  await assertNoCspViolations(page);
  passed(1, `opened ${baseUrl}/ (${await page.title()})`);

  // 2. Enter the key with the keyboard.
  step('2 key');
  await page.locator('#key').focus();
  check(await focusedIs(page, '#key'), 'could not focus the key field');
  await page.keyboard.type(args.key);
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    (key) => sessionStorage.getItem('imgtag.key') === key,
    args.key,
    { timeout: STEP_TIMEOUT_MS },
  ).catch(() => {
    throw new StepFailure('the key was not stored in sessionStorage under imgtag.key');
  });
  passed(2, 'entered the key with the keyboard; stored in sessionStorage');

  // 3. Search "coffee" with the keyboard.
  step('3 text search');
  await page.locator('#text').focus();
  check(await focusedIs(page, '#text'), 'could not focus the search field');
  await page.keyboard.type('coffee');
  await page.keyboard.press('Enter');
  const text = await waitForResults(page, 'text:');
  check(text.query === 'text: coffee', `query is ${JSON.stringify(text.query)}, expected "text: coffee"`);
  check(text.first === 'coffee.png', `first text hit is ${JSON.stringify(text.first)}, expected "coffee.png" (order: ${text.filenames.join(', ')})`);
  await waitForImage(page, '#results li:first-child .thumb img', 'the first thumbnail');
  check(text.status.includes('text: coffee') && /\d+ hits?/.test(text.status),
    `the status line does not show the query and hit count: ${JSON.stringify(text.status)}`);
  watcher.assertClean();
  passed(3, `searched "coffee": ${text.count} hits, first ${text.first}, thumbnail loaded`);

  // 4. Find images like the cat photo.
  step('4 image search');
  await page.locator('#image').setInputFiles(catPath);
  const similar = await waitForResults(page, 'image:', text.query);
  check(similar.first === 'chelsea.png', `first similar hit is ${JSON.stringify(similar.first)}, expected "chelsea.png" (order: ${similar.filenames.join(', ')})`);
  await waitForImage(page, '#results li:first-child .thumb img', 'the first thumbnail');
  watcher.assertClean();
  passed(4, `uploaded ${path.basename(catPath)}: query ${JSON.stringify(similar.query)}, ${similar.count} hits, first ${similar.first}`);

  // 5. Screenshot with the image results showing.
  step('5 screenshot');
  await waitForThumbnails(page);
  await page.screenshot({ path: screenshotPath, fullPage: true });
  check(existsSync(screenshotPath), `no screenshot written to ${screenshotPath}`);
  passed(5, `saved a full-page screenshot to ${screenshotPath}`);

  // 6. Open the first card with the keyboard, then close it with Escape.
  step('6 detail');
  const firstCard = '#results li:first-child .card';
  await page.locator(firstCard).focus();
  check(await focusedIs(page, firstCard), 'could not focus the first card');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#detail').open, null, { timeout: STEP_TIMEOUT_MS })
    .catch(() => {
      throw new StepFailure('Enter on the first card did not open the detail dialog');
    });
  await waitForImage(page, '#detail-image', 'the preview');
  const detail = await page.evaluate(() => ({
    title: document.querySelector('#detail-title').textContent,
    text: document.querySelector('#detail').innerText,
    focusInside: document.querySelector('#detail').contains(document.activeElement),
    modal: document.querySelector('#detail').matches(':modal'),
  }));
  check(detail.modal, 'the detail dialog is not modal (showModal)');
  check(detail.title.includes('chelsea.png'), `the dialog title is ${JSON.stringify(detail.title)}, expected chelsea.png`);
  check(detail.text.includes(similar.firstId), 'the dialog does not show the image id');
  check(detail.focusInside, 'focus did not move into the dialog');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('#detail').open, null, { timeout: 5_000 })
    .catch(() => {
      throw new StepFailure('Escape did not close the detail dialog');
    });
  check(await focusedIs(page, firstCard), 'focus did not return to the card after closing the dialog');
  watcher.assertClean();
  await assertNoCspViolations(page);
  passed(6, 'opened the first card with Enter (preview loaded, chelsea.png shown), closed it with Escape');

  // 7. A wrong key shows the API's error, in a tab of its own.
  step('7 wrong key');
  const other = await context.newPage();
  const otherWatcher = watch(other, { expectedKey: null, allowUnauthorized: true });
  await other.goto(`${baseUrl}/`, { waitUntil: 'load' });
  await other.locator('#key').focus();
  await other.keyboard.type(`wrong-${args.key}`);
  await other.keyboard.press('Enter');
  await other.locator('#text').focus();
  await other.keyboard.type('coffee');
  await other.keyboard.press('Enter');
  await other.waitForFunction(
    () => {
      const error = document.querySelector('#error');
      return Boolean(error && !error.hidden && error.textContent.includes('api.unauthorized'));
    },
    null,
    { timeout: STEP_TIMEOUT_MS },
  ).catch(() => {
    throw new StepFailure('a wrong key showed no visible error containing api.unauthorized');
  });
  const shown = await other.locator('#error').innerText();
  check(await other.locator('#error').isVisible(), 'the error is not visible');
  check(await focusedIs(other, '#key'), 'after a 401 the key field is not focused');
  check(await other.locator('#results li[data-image-id]').count() === 0, 'a wrong key still shows results');
  otherWatcher.assertClean();
  await assertNoCspViolations(other);
  passed(7, `a wrong key shows: ${shown.trim()}`);

  await browser.close();
  finished = true;
  console.log(JSON.stringify({
    ok: true,
    first_text_hit: text.first,
    first_similar_hit: similar.first,
    screenshot: screenshotPath,
  }));
}

main().then(
  () => process.exit(0),
  (err) => {
    if (err instanceof StepFailure) return fail(err.message);
    // Playwright's messages carry a call log with terminal colours.
    const text = String((err && (process.env.DEBUG ? err.stack : err.message)) || err);
    return fail(text.replace(/\x1b\[[0-9;]*m/g, '').trim());
  },
);
