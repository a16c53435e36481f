#!/usr/bin/env node
// Drives the imgtag search page in headless Debian Chromium, as a person
// using only the keyboard would, and checks each step:
//
//   node tests/browser/search.mjs --url http://127.0.0.1:PORT --key KEY \
//     --cat /abs/path/chelsea.png --screenshot /abs/out.png \
//     --document /abs/path/invoice.png --phrase 发票号码 \
//     --document-screenshot /abs/document.png
//
// 1. open the page; 2. enter the key with the keyboard; 3. search "coffee"
// (first hit coffee.png, its thumbnail loaded); 4. upload the cat photo
// (first hit chelsea.png); 5. save a full-page screenshot; 6. open the
// first card with Enter (preview loaded, filename shown), close it with
// Escape; 7. search the text in the images for --phrase (only the
// --document shows it: first hit, with a "text" badge and the matching
// line as a snippet); 8. open it: the document view outlines at least 10
// lines over the preview (and keeps them on the image when the window
// resizes), lists the text with the phrase, and lights up a line and its
// outline together on focus, arrow keys and hover; 9. the text is
// selectable, and "Copy text" puts exactly the lines on the clipboard and
// says so; 10. save a screenshot of the document view, close it with
// Escape; 11. words and text together send `text` and `contains` in one
// search, and only the document comes back; 12. a wrong key shows an
// `api.unauthorized` error.
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

const OVERALL_TIMEOUT_MS = 120_000;
const STEP_TIMEOUT_MS = 15_000;

const USAGE =
  'usage: node tests/browser/search.mjs --url http://127.0.0.1:PORT --key KEY ' +
  '--cat /abs/path/chelsea.png --screenshot /abs/out.png ' +
  '--document /abs/path/invoice.png --phrase TEXT --document-screenshot /abs/document.png';

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
      document: { type: 'string' },
      phrase: { type: 'string' },
      'document-screenshot': { type: 'string' },
    },
    strict: true,
  }));
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(1);
}
for (const name of ['url', 'key', 'cat', 'screenshot', 'document', 'phrase', 'document-screenshot']) {
  if (!args[name]) {
    console.error(`missing --${name}\n${USAGE}`);
    process.exit(1);
  }
}
const baseUrl = args.url.replace(/\/+$/, '');
const catPath = path.resolve(args.cat);
const screenshotPath = path.resolve(args.screenshot);
const documentPath = path.resolve(args.document);
const documentName = path.basename(documentPath);
const documentShotPath = path.resolve(args['document-screenshot']);
const phrase = args.phrase.trim();
for (const [flag, file] of [['--cat', catPath], ['--document', documentPath]]) {
  if (!existsSync(file)) {
    console.error(`${flag}: no such file ${file}`);
    process.exit(1);
  }
}
if (!phrase) {
  console.error(`--phrase is empty\n${USAGE}`);
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

// Text compared as the search compares it: NFKC, no spaces, lower case.
function squash(text) {
  return String(text).normalize('NFKC').replace(/\s+/g, '').toLowerCase();
}

// Clears a field as a keyboard user would.
async function clearField(page, selector) {
  await page.locator(selector).focus();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  check(await page.locator(selector).inputValue() === '', `could not clear ${selector}`);
}

// The search request the next Enter sends, as its parameters.
function nextSearchRequest(page) {
  return page.waitForRequest(
    (request) => new URL(request.url()).pathname === '/api/v1/search',
    { timeout: STEP_TIMEOUT_MS },
  ).then((request) => new URL(request.url()).searchParams);
}

// Where the outlines' SVG and the preview are on screen, and whether every
// outline lies on the image.
async function outlineGeometry(page) {
  return page.evaluate(() => {
    const img = document.querySelector('#detail-image').getBoundingClientRect();
    const svg = document.querySelector('#detail-outlines');
    const box = svg.getBoundingClientRect();
    const polygons = [...svg.querySelectorAll('polygon')];
    const off = polygons.filter((p) => {
      const r = p.getBoundingClientRect();
      return r.width <= 0 || r.height <= 0 || r.left < img.left - 4 || r.top < img.top - 4 ||
        r.right > img.right + 4 || r.bottom > img.bottom + 4;
    }).length;
    return {
      img: [img.left, img.top, img.width, img.height],
      svg: [box.left, box.top, box.width, box.height],
      shown: !svg.hasAttribute('hidden') && box.width > 0,
      polygons: polygons.length,
      off,
    };
  });
}

function checkOnImage(geometry, when) {
  check(geometry.shown, `the outlines are not shown ${when}`);
  const apart = geometry.img.map((v, i) => Math.abs(v - geometry.svg[i]));
  check(apart.every((d) => d <= 1.5),
    `the outlines do not cover the preview ${when}: image ${geometry.img.join(',')}, outlines ${geometry.svg.join(',')}`);
  check(geometry.img[2] > 50 && geometry.img[3] > 50, `the preview is ${geometry.img[2]}x${geometry.img[3]} px ${when}`);
  check(geometry.off === 0, `${geometry.off} of ${geometry.polygons} outlines lie off the image ${when}`);
}

// The highlighted line in the text and on the image.
async function activeLines(page) {
  return page.evaluate(() => ({
    text: [...document.querySelectorAll('#doc-lines .doc-line.is-active')].map((li) => Number(li.dataset.line)),
    outline: [...document.querySelectorAll('#detail-outlines polygon.is-active')].map((p) => Number(p.dataset.line)),
    focused: document.activeElement && document.activeElement.matches('#doc-lines .doc-line')
      ? Number(document.activeElement.dataset.line)
      : null,
  }));
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
  // "Copy text" writes with the Clipboard API; step 9 reads it back.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(baseUrl).origin });
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
  check(await page.getByLabel('Text in the image', { exact: true }).count() === 1,
    'the text-in-image field has no "Text in the image" label');
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

  // 7. Search the text in the images for the phrase only the document shows.
  step('7 contains search');
  await clearField(page, '#text');
  await page.locator('#contains').focus();
  check(await focusedIs(page, '#contains'), 'could not focus the text-in-image field');
  await page.keyboard.type(phrase);
  let request = nextSearchRequest(page);
  await page.keyboard.press('Enter');
  let sent = await request;
  check(sent.get('contains') === phrase && !sent.has('text'),
    `the search sent ${sent}, expected contains=${phrase} and no text`);
  const contains = await waitForResults(page, 'contains:', similar.query);
  check(contains.query === `contains: ${phrase}`, `query is ${JSON.stringify(contains.query)}, expected "contains: ${phrase}"`);
  check(contains.first === documentName,
    `first hit for "${phrase}" is ${JSON.stringify(contains.first)}, expected ${JSON.stringify(documentName)} (order: ${contains.filenames.join(', ')})`);
  check(contains.status.includes(phrase) && /\d+ hits?/.test(contains.status),
    `the status line does not show the text and hit count: ${JSON.stringify(contains.status)}`);
  const hitCard = await page.evaluate(() => {
    const li = document.querySelector('#results li:first-child');
    return {
      badge: Boolean(li.querySelector('.badge-text')),
      snippet: li.querySelector('.snippet') ? li.querySelector('.snippet').textContent : '',
      marked: [...li.querySelectorAll('.snippet mark')].map((mark) => mark.textContent).join(''),
      label: li.querySelector('.card').getAttribute('aria-label') || '',
    };
  });
  check(hitCard.badge, 'the document\'s card has no "text" badge');
  check(squash(hitCard.snippet).includes(squash(phrase)), `the card's snippet does not show the phrase: ${JSON.stringify(hitCard.snippet)}`);
  check(squash(hitCard.marked).includes(squash(phrase)), `the snippet does not mark the phrase (marked: ${JSON.stringify(hitCard.marked)})`);
  check(squash(hitCard.label).includes(squash(phrase)), 'the card\'s accessible name does not say the matching text');
  await waitForImage(page, '#results li:first-child .thumb img', 'the document\'s thumbnail');
  watcher.assertClean();
  passed(7, `searched the text in the images for "${phrase}": ${contains.count} hits, first ${contains.first}, snippet ${JSON.stringify(hitCard.snippet)}`);

  // 8. The document view: outlines over the preview, the text beside it.
  step('8 document view');
  await page.locator(firstCard).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#detail').open, null, { timeout: STEP_TIMEOUT_MS })
    .catch(() => {
      throw new StepFailure('Enter on the document\'s card did not open the detail dialog');
    });
  await waitForImage(page, '#detail-image', 'the document\'s preview');
  await page.waitForFunction(
    () => {
      const svg = document.querySelector('#detail-outlines');
      return Boolean(svg && !svg.hasAttribute('hidden') && svg.querySelector('polygon'));
    },
    null,
    { timeout: STEP_TIMEOUT_MS },
  ).catch(async () => {
    const note = await page.locator('#doc-note').textContent().catch(() => '');
    throw new StepFailure(`no outlines over the document's preview (note: ${JSON.stringify(note)})`);
  });
  const view = await page.evaluate(() => ({
    title: document.querySelector('#detail-title').textContent,
    heading: document.querySelector('#doc-heading').textContent,
    docShown: !document.querySelector('#doc').hidden,
    lines: [...document.querySelectorAll('#doc-lines .doc-line')].map((li) => li.textContent),
    matching: document.querySelectorAll('#doc-lines .doc-line.is-match').length,
    summary: document.querySelector('#doc-summary').textContent,
    outlined: document.querySelectorAll('#detail-outlines polygon').length,
  }));
  check(view.title.includes(documentName), `the dialog title is ${JSON.stringify(view.title)}, expected ${documentName}`);
  check(view.docShown && view.heading === 'Text in this image', 'the dialog shows no "Text in this image" section');
  check(view.outlined >= 10, `only ${view.outlined} lines are outlined, expected at least 10`);
  check(squash(view.lines.join('')).includes(squash(phrase)), `the text beside the image does not contain "${phrase}"`);
  check(view.matching >= 1, `no line is marked as holding "${phrase}"`);
  check(view.summary.includes(`${view.lines.length} line`) || view.summary.includes(`${view.lines.length} of`),
    `the summary does not give the line count: ${JSON.stringify(view.summary)}`);
  checkOnImage(await outlineGeometry(page), 'at 1280x900');
  for (const size of [{ width: 900, height: 700 }, { width: 700, height: 900 }]) {
    await page.setViewportSize(size);
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    checkOnImage(await outlineGeometry(page), `after resizing to ${size.width}x${size.height}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  checkOnImage(await outlineGeometry(page), 'back at 1280x900');
  // Focus and arrow keys light up a line and its outline together...
  const rover = page.locator('#doc-lines .doc-line[tabindex="0"]');
  check(await rover.count() === 1, 'the line list has no single tab stop');
  await rover.focus();
  let active = await activeLines(page);
  const start = active.focused;
  check(start !== null && active.text.join() === String(start) && active.outline.join() === String(start),
    `focusing line ${start} lit up text ${active.text} and outline ${active.outline}`);
  const arrow = start + 1 < view.lines.length ? 'ArrowDown' : 'ArrowUp';
  const next = arrow === 'ArrowDown' ? start + 1 : start - 1;
  await page.keyboard.press(arrow);
  active = await activeLines(page);
  check(active.focused === next && active.text.join() === String(next) && active.outline.join() === String(next),
    `${arrow} from line ${start}: focus ${active.focused}, lit text ${active.text}, outline ${active.outline}; expected ${next}`);
  // ... and so does the pointer over an outline (a later one than focused).
  const hovered = await page.evaluate(() => {
    const polygons = [...document.querySelectorAll('#detail-outlines polygon')];
    const big = polygons.filter((p) => {
      const r = p.getBoundingClientRect();
      return r.width > 30 && r.height > 8;
    });
    const pick = big[Math.floor(big.length / 2)] || polygons[polygons.length - 1];
    return Number(pick.dataset.line);
  });
  await page.locator(`#detail-outlines polygon[data-line="${hovered}"]`).hover();
  active = await activeLines(page);
  check(active.text.join() === String(hovered) && active.outline.join() === String(hovered),
    `hovering outline ${hovered} lit up text ${active.text} and outline ${active.outline}`);
  const litVisible = await page.evaluate((index) => {
    const list = document.querySelector('#doc-lines');
    const li = list.children[index];
    const a = list.getBoundingClientRect();
    const b = li.getBoundingClientRect();
    return b.top >= a.top - 1 && b.bottom <= a.bottom + 1;
  }, hovered);
  check(litVisible, `hovering outline ${hovered} did not scroll its line into view`);
  watcher.assertClean();
  await assertNoCspViolations(page);
  passed(8, `opened ${documentName}: ${view.outlined} outlined lines over the preview (kept on it at 3 window sizes), ` +
    `${view.lines.length} lines of text, ${view.matching} with the phrase; focus, ↓ and hover light up line and outline together`);

  // 9. The text is selectable, and "Copy text" copies exactly the lines.
  step('9 select and copy');
  const selected = await page.evaluate(() => {
    const list = document.querySelector('#doc-lines');
    const range = document.createRange();
    range.selectNodeContents(list);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    const text = selection.toString();
    const userSelect = getComputedStyle(list.querySelector('.doc-line')).userSelect;
    selection.removeAllRanges();
    return { text, userSelect };
  });
  check(selected.userSelect !== 'none', 'the lines cannot be selected (user-select: none)');
  check(squash(selected.text).includes(squash(phrase)), `the selected text does not contain "${phrase}"`);
  await page.locator('#doc-copy').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    () => /Copied/.test(document.querySelector('#doc-copied').textContent),
    null,
    { timeout: 5_000 },
  ).catch(async () => {
    const said = await page.locator('#doc-copied').textContent().catch(() => '');
    throw new StepFailure(`"Copy text" showed no confirmation (it says ${JSON.stringify(said)})`);
  });
  const confirmation = (await page.locator('#doc-copied').innerText()).trim();
  check(await page.locator('#doc-copied').isVisible(), 'the copy confirmation is not visible');
  check(await page.locator('#doc-copied').getAttribute('role') === 'status', 'the copy confirmation is not a status (aria-live) region');
  const clipboard = await page.evaluate(() => navigator.clipboard.readText());
  check(clipboard === view.lines.join('\n'),
    `the clipboard holds ${clipboard.length} characters that are not the ${view.lines.length} lines shown (starts ${JSON.stringify(clipboard.slice(0, 40))})`);
  watcher.assertClean();
  passed(9, `selected ${selected.text.length} characters of text; "Copy text" copied ${clipboard.length} characters and said: ${confirmation}`);

  // 10. Screenshot of the document view (the phrase's line lit up), then
  // close it with Escape.
  step('10 document screenshot');
  await page.locator('#doc-lines .doc-line.is-match').first().focus();
  await page.mouse.move(0, 0);
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.screenshot({ path: documentShotPath });
  check(existsSync(documentShotPath), `no screenshot written to ${documentShotPath}`);
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('#detail').open, null, { timeout: 5_000 })
    .catch(() => {
      throw new StepFailure('Escape did not close the document view');
    });
  check(await focusedIs(page, firstCard), 'focus did not return to the document\'s card');
  // (The dialog's close event, which clears the view, comes as a task of its own.)
  await page.waitForFunction(() => !document.querySelector('#detail-outlines polygon'), null, { timeout: 5_000 })
    .catch(() => {
      throw new StepFailure('the outlines stay after closing');
    });
  passed(10, `saved a screenshot of the document view to ${documentShotPath}, closed it with Escape`);

  // 11. Words and text together: one search with both; only the document.
  step('11 words and text');
  await page.locator('#text').focus();
  await page.keyboard.type('a printed page');
  request = nextSearchRequest(page);
  await page.keyboard.press('Enter');
  sent = await request;
  check(sent.get('text') === 'a printed page' && sent.get('contains') === phrase,
    `the search sent ${sent}, expected text=a printed page and contains=${phrase}`);
  await page.waitForFunction(
    (phrase) => {
      const list = document.querySelector('#results');
      return list.dataset.query === 'text: a printed page' && list.dataset.contains === phrase &&
        !list.hasAttribute('aria-busy');
    },
    phrase,
    { timeout: STEP_TIMEOUT_MS },
  ).catch(async () => {
    const status = await page.locator('#status').textContent().catch(() => '');
    throw new StepFailure(`no results for words and text together (status: ${JSON.stringify(status)})`);
  });
  const both = await page.evaluate(() => ({
    filenames: [...document.querySelectorAll('#results li[data-image-id]')].map((li) => li.dataset.filename),
    status: document.querySelector('#status').textContent,
  }));
  check(both.filenames.length >= 1 && both.filenames.every((name) => name === documentName),
    `words and text together found ${JSON.stringify(both.filenames)}, expected only ${documentName}`);
  check(both.status.includes('a printed page') && both.status.includes(phrase),
    `the status line does not show both the words and the text: ${JSON.stringify(both.status)}`);
  watcher.assertClean();
  await assertNoCspViolations(page);
  passed(11, `words and text together sent text= and contains=: ${both.filenames.join(', ')}`);

  // 12. A wrong key shows the API's error, in a tab of its own.
  step('12 wrong key');
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
  passed(12, `a wrong key shows: ${shown.trim()}`);

  await browser.close();
  finished = true;
  console.log(JSON.stringify({
    ok: true,
    first_text_hit: text.first,
    first_similar_hit: similar.first,
    first_contains_hit: contains.first,
    contains_hits: contains.count,
    both_hits: both.filenames,
    outlined_lines: view.outlined,
    text_lines: view.lines.length,
    copied_chars: clipboard.length,
    screenshot: screenshotPath,
    document_screenshot: documentShotPath,
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
