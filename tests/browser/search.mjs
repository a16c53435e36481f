#!/usr/bin/env node
// Drives the imgtag search page in headless Debian Chromium, as a person
// using only the keyboard would, in one language, and checks each step:
//
//   node tests/browser/search.mjs --lang zh-CN|en --url http://127.0.0.1:PORT --key KEY \
//     --cat /abs/path/chelsea.png --screenshot /abs/out.png \
//     --document /abs/path/invoice.png --phrase 发票号码 \
//     --document-screenshot /abs/document.png
//
// The browser's locale is the language (`--lang`, else $IMGTAG_BROWSER_LANG,
// else en), so the page starts in it from navigator.languages; every step
// checks the page's words in that language.
//
// 1. open the page: in the language (<html lang>, labels, static text with
// nothing left in the other language), its message tables complete
// (`window.imgtagI18n.missing()` is empty); 1a. switch to the other
// language and back with the visible switch: everything changes in place,
// without a reload, the choice outlives a reload; 2. enter the key with the
// keyboard; 2a. the friendly-tag vocabulary (`/api/v1/tags`) names the cat
// in both languages, and the tag suggestions offer it in the page's;
// 3. search "coffee" (first hit coffee.png, its thumbnail loaded; the
// answer is in the language asked for; the card says why it matched);
// 4. upload the cat photo (first hit chelsea.png); 5. save a full-page
// screenshot; 6. open the first card with Enter (preview loaded, filename
// shown, the cat tag by its name in the language), close it with Escape;
// 6a. the tag filter takes the cat's Chinese name and sends `tag=cat`, the
// hits show their tags by their names in the language; the Chinese name
// searched as words finds the cat first, saying the tag matched; 7. search
// the text in the images for --phrase (only the --document shows it: first
// hit, with a "text" badge and the matching line as a snippet); 7a. switch
// language with those results shown: status, badges and cards change in
// place with no new search or fetch, then back; 8. open it: the document
// view outlines at least 10 lines over the preview (and keeps them on the
// image when the window resizes), lists the text with the phrase, and
// lights up a line and its outline together on focus, arrow keys and
// hover; 9. the text is selectable, and "Copy text" puts exactly the lines
// on the clipboard and says so; 10. save a screenshot of the document view,
// close it with Escape; 11. words and text together send `text` and
// `contains` in one search, and only the document comes back; 11a. the
// phrase searched as words finds the document first, its card saying the
// words were found in its text (in both languages); 11b. the document-type
// filter names the types in the language and sends `document_type=` (with
// words, and alone: then the images of that type), and the ID-papers box
// `include_id_papers=true`; 11c. the expiring-documents view: opened from
// the view switch, it asks `/api/v1/documents/expiring?within=30d` and
// shows the table or, with no documents (the test data has none), the
// empty state, in the language; the window (`within=7d`, `90d`), "include
// expired" and the customer each ask again; a language switch re-says it
// in place with no request; back to the search; 12. a wrong key shows an
// `api.unauthorized` error, said in the language.
//
// Fails (exit 1) on any broken step, on a console error, an uncaught page
// error or a Content-Security-Policy violation, on an API call without the
// key or without the page's language (`lang=zh|en`), and on any request for
// the `original` rendition. Prints one line per step and a JSON summary
// last. Needs scripts/browser-tools run first; it never downloads a browser
// (Debian's /usr/bin/chromium, or $CHROMIUM).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
const { chromium } = await import('playwright-core');

const OVERALL_TIMEOUT_MS = 180_000;
const STEP_TIMEOUT_MS = 15_000;

const USAGE =
  'usage: node tests/browser/search.mjs [--lang zh-CN|en] --url http://127.0.0.1:PORT --key KEY ' +
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
      lang: { type: 'string' },
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
const lang = args.lang || process.env.IMGTAG_BROWSER_LANG || 'en';

// What the page says in each language, written out here on their own (not
// read from the page), and what it sends the API.
const UI = {
  en: {
    locale: 'en-US',
    apiLang: 'en',
    title: 'imgtag · image search',
    apiKey: 'API key',
    useKey: 'Use key',
    search: 'Search',
    contains: 'Text in the image',
    resultsHeading: 'Results',
    filters: 'Filters',
    tags: 'Tags',
    start: 'Enter your API key',
    textQuery: (text) => `text: ${text}`,
    hits: /\d+ hits?/,
    textBadge: 'text',
    showDetails: 'Show details',
    whyVector: /^meaning -?\d\.\d\d$/,
    whyText: 'text: ',
    whyTag: 'tag: ',
    imageId: 'Image ID',
    docHeading: 'Text in this image',
    lineCount: (summary, n) => summary.includes(`${n} line`) || summary.includes(`${n} of`),
    copied: /Copied \d+ lines? to the clipboard/,
    unauthorized: 'The server refused this API key',
    viewSearch: 'Image search',
    viewExpiring: 'Expiring documents',
    docTypeLabel: 'Document type',
    docTypeAny: 'Any image',
    idPapers: 'Include ID papers',
    typeQuery: (type) => `type: ${type}`,
    expiringHeading: 'Expiring documents',
    expiringWindow: (days) => new RegExp(`within ${days} days`, 'i'),
    expiringCount: /\d+ documents?/,
    expiringNone: (days) => `No documents expire within ${days} days`,
    daysLeft: /^(\d+ days?|expires today|expired \d+ days? ago)$/,
  },
  'zh-CN': {
    locale: 'zh-CN',
    apiLang: 'zh',
    title: 'imgtag · 图片搜索',
    apiKey: 'API 密钥',
    useKey: '使用密钥',
    search: '搜索',
    contains: '图中文字',
    resultsHeading: '搜索结果',
    filters: '筛选',
    tags: '标签',
    start: '请输入 API 密钥',
    textQuery: (text) => `语义搜索：${text}`,
    hits: /\d+ 个结果/,
    textBadge: '文字',
    showDetails: '查看详情',
    whyVector: /^语义 -?\d\.\d\d$/,
    whyText: '文字：',
    whyTag: '标签：',
    imageId: '图片 ID',
    docHeading: '图中的文字',
    lineCount: (summary, n) => summary.includes(`${n} 行`),
    copied: /已将 \d+ 行文字复制到剪贴板/,
    unauthorized: '服务器拒绝了此 API 密钥',
    viewSearch: '图片搜索',
    viewExpiring: '即将到期的证件',
    docTypeLabel: '文件类型',
    docTypeAny: '所有图片',
    idPapers: '包含身份证件',
    typeQuery: (type) => `文件类型：${type}`,
    expiringHeading: '即将到期的证件',
    expiringWindow: (days) => new RegExp(`${days} 天内`),
    expiringCount: /\d+ 份证件/,
    expiringNone: (days) => `${days} 天内没有到期的证件`,
    daysLeft: /^(\d+ 天|今天到期|已过期 \d+ 天)$/,
  },
};
// The built-in document types by their names in each language.
const DOC_TYPE_NAMES = {
  en: {
    id_card: 'ID card',
    passport: 'Passport',
    driving_licence: 'Driving licence',
    business_licence: 'Business licence',
    invoice: 'Invoice',
    receipt: 'Receipt',
    bank_slip: 'Bank slip',
    form: 'Form',
    letter: 'Letter',
    screenshot: 'Screenshot',
    other_document: 'Other document',
  },
  'zh-CN': {
    id_card: '身份证',
    passport: '护照',
    driving_licence: '驾驶证',
    business_licence: '营业执照',
    invoice: '发票',
    receipt: '收据',
    bank_slip: '银行回单',
    form: '表格',
    letter: '信件',
    screenshot: '截图',
    other_document: '其他文件',
  },
};
if (!Object.hasOwn(UI, lang)) {
  console.error(`--lang ${lang}: expected one of ${Object.keys(UI).join(', ')}\n${USAGE}`);
  process.exit(1);
}
const otherLang = lang === 'en' ? 'zh-CN' : 'en';
const ui = UI[lang];
// The language the page should ask the API for; changes while step 1a and
// 7a show the other language.
const expected = { apiLang: ui.apiLang };

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath}: run scripts/browser-tools (or set CHROMIUM)`);
  process.exit(1);
}

setTimeout(() => {
  fail(`overall timeout: not done after ${OVERALL_TIMEOUT_MS / 1000} s`);
}, OVERALL_TIMEOUT_MS).unref();

// Records what must never happen on a page: console errors, uncaught
// errors, CSP violations, API calls without the key or the page's language,
// the original rendition. `requests`: the API paths asked for, in order.
function watch(page, { expectedKey, allowUnauthorized = false }) {
  const problems = [];
  const requests = [];
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
      requests.push(url.pathname);
      const sent = url.searchParams.getAll('lang');
      if (sent.length !== 1 || sent[0] !== expected.apiLang) {
        problems.push(`${url.pathname} sent lang=${sent.join(',') || '(none)'}, expected lang=${expected.apiLang}`);
      }
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
    requests,
    assertClean() {
      check(problems.length === 0, problems.join('; '));
    },
  };
}

// The page's message tables are complete: same keys in every language.
async function assertI18nComplete(page) {
  const missing = await page.evaluate(() => (window.imgtagI18n ? window.imgtagI18n.missing() : ['no window.imgtagI18n']));
  check(Array.isArray(missing) && missing.length === 0, `the message tables are incomplete: ${JSON.stringify(missing)}`);
}

// Every word of the page as it stands before any search (text, title,
// placeholders, tooltips, accessible names, alt texts), results and
// dialog content aside.
async function pageWords(page) {
  return page.evaluate(() => {
    const words = [document.title];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest('script, style, datalist, #results, #detail-meta, #detail-tags, #doc-lines, ' +
        '#paper-summary, #paper-fields, #expiring-rows')) continue;
      if (node.textContent.trim()) words.push(node.textContent.trim());
    }
    for (const node of document.querySelectorAll('[placeholder], [title], [aria-label], [alt]')) {
      if (node.closest('#results')) continue;
      for (const attribute of ['placeholder', 'title', 'aria-label', 'alt']) {
        const value = node.getAttribute(attribute);
        if (value && value.trim()) words.push(value.trim());
      }
    }
    return words;
  });
}

// Words in each language the other may show: names, codes, the switch's
// own labels and the Chinese example of a text search.
const ALLOWED = {
  'zh-CN': ['imgtag', 'Authorization', 'English', 'API', 'ID', 'UTC', 'Ctrl', 'EXIF'],
  en: ['中文', '发票号码'],
};

// Checks that the page is in `inLang`: <html lang>, the pressed switch
// button, a few key strings, and (`scan`, before any search shows names
// and text of the images) no text left in the other language.
async function assertPageIn(page, inLang, { scan = true } = {}) {
  const want = UI[inLang];
  const state = await page.evaluate(() => ({
    htmlLang: document.documentElement.lang,
    pageLang: window.imgtagI18n ? window.imgtagI18n.lang() : null,
    pressed: [...document.querySelectorAll('.lang-option[aria-pressed="true"]')].map((b) => b.dataset.lang),
    title: document.title,
    heading: document.querySelector('#results-heading').textContent,
    useKey: document.querySelector('#key-form button[type="submit"]').textContent,
    legend: document.querySelector('.filters legend').textContent,
    docHeading: document.querySelector('#doc-heading').textContent,
    views: Object.fromEntries([...document.querySelectorAll('.view-option')].map((b) => [b.dataset.view, b.textContent])),
    expiringHeading: document.querySelector('#expiring-heading').textContent,
  }));
  check(state.htmlLang === inLang, `<html lang> is ${JSON.stringify(state.htmlLang)}, expected ${inLang}`);
  check(state.pageLang === inLang, `the page says its language is ${state.pageLang}, expected ${inLang}`);
  check(state.pressed.length === 1 && state.pressed[0] === inLang,
    `the language switch shows ${JSON.stringify(state.pressed)} pressed, expected ${inLang}`);
  check(state.title === want.title, `the title is ${JSON.stringify(state.title)}, expected ${JSON.stringify(want.title)}`);
  check(state.heading === want.resultsHeading, `the results heading is ${JSON.stringify(state.heading)}`);
  check(state.useKey === want.useKey, `the key button says ${JSON.stringify(state.useKey)}`);
  check(state.legend.startsWith(want.filters), `the filters legend is ${JSON.stringify(state.legend)}`);
  check(state.docHeading === want.docHeading, `the document view's heading is ${JSON.stringify(state.docHeading)}`);
  check(state.views.search === want.viewSearch && state.views.expiring === want.viewExpiring,
    `the view switch says ${JSON.stringify(state.views)}`);
  check(state.expiringHeading === want.expiringHeading, `the expiring view's heading is ${JSON.stringify(state.expiringHeading)}`);
  check(await page.getByLabel(want.docTypeLabel, { exact: true }).count() === 1,
    `the document-type filter has no "${want.docTypeLabel}" label`);
  check(await page.getByLabel(want.idPapers, { exact: true }).count() === 1, `no "${want.idPapers}" box`);
  check(await page.getByLabel(want.apiKey, { exact: true }).count() === 1, `the key field has no "${want.apiKey}" label`);
  check(await page.getByLabel(want.search, { exact: true }).count() === 1, `the search field has no "${want.search}" label`);
  check(await page.getByLabel(want.contains, { exact: true }).count() === 1,
    `the text-in-image field has no "${want.contains}" label`);
  check(await page.getByLabel(want.tags, { exact: true }).count() === 1, `the tag field has no "${want.tags}" label`);
  if (!scan) return;
  const foreign = inLang === 'en' ? /[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]/ : /[A-Za-z]{2,}/;
  const strays = [];
  for (const text of await pageWords(page)) {
    let rest = text;
    for (const word of ALLOWED[inLang]) rest = rest.split(word).join(' ');
    if (foreign.test(rest)) strays.push(text);
  }
  check(strays.length === 0, `text not in ${inLang}: ${JSON.stringify(strays)}`);
}

// Presses the language switch's `to` button from the keyboard.
async function switchLanguage(page, to) {
  expected.apiLang = UI[to].apiLang;
  const button = page.locator(`.lang-option[data-lang="${to}"]`);
  await button.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((to) => document.documentElement.lang === to, to, { timeout: 5_000 })
    .catch(() => {
      throw new StepFailure(`pressing the ${to} button did not switch the page to ${to}`);
    });
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
      return !thumb.querySelector('.placeholder.is-loading');
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

// Sends the search form from the text field and waits for its answer to
// be shown (also an empty one): the parameters sent, and what the grid and
// the status line then say.
async function searchAndSettle(page) {
  const request = nextSearchRequest(page);
  const answer = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/v1/search',
    { timeout: STEP_TIMEOUT_MS });
  await page.locator('#text').press('Enter');
  const sent = await request;
  const response = await answer;
  check(response.ok(), `the search ${sent} answered ${response.status()}: ${await response.text().catch(() => '')}`);
  await page.waitForFunction(() => !document.querySelector('#results').hasAttribute('aria-busy'), null,
    { timeout: STEP_TIMEOUT_MS }).catch(() => {
    throw new StepFailure(`the answer to ${sent} was not shown`);
  });
  const shown = await page.evaluate(() => ({
    filenames: [...document.querySelectorAll('#results li[data-image-id]')].map((li) => li.dataset.filename),
    empty: document.querySelector('#results li.empty') ? document.querySelector('#results li.empty').textContent : null,
    status: document.querySelector('#status').textContent,
    error: document.querySelector('#error').hidden ? null : document.querySelector('#error').textContent,
  }));
  check(shown.error === null, `the search ${sent} showed an error: ${shown.error}`);
  return { sent, ...shown };
}

// The next request for the expiry list, as its parameters, and its answer.
function nextExpiring(page) {
  const isList = (url) => new URL(url).pathname === '/api/v1/documents/expiring';
  const request = page.waitForRequest((r) => isList(r.url()), { timeout: STEP_TIMEOUT_MS })
    .then((r) => new URL(r.url()).searchParams);
  const response = page.waitForResponse((r) => isList(r.url()), { timeout: STEP_TIMEOUT_MS });
  return {
    async settle(what) {
      const sent = await request;
      const answer = await response;
      const body = await answer.text().catch(() => '');
      check(answer.ok(), `${what}: GET /api/v1/documents/expiring?${sent} answered ${answer.status()}: ${body}`);
      let data;
      try {
        data = JSON.parse(body);
      } catch {
        throw new StepFailure(`${what}: the expiry list is not JSON: ${body.slice(0, 200)}`);
      }
      check(Array.isArray(data.documents), `${what}: the answer has no documents list: ${body.slice(0, 200)}`);
      return { sent, data };
    },
  };
}

// The expiring view once it shows the answer for a `days` window: its
// status line, rows (each cell's text) and empty state.
async function expiringShown(page, days) {
  await page.waitForFunction(
    (days) => {
      const view = document.querySelector('#expiring-view');
      return !view.hidden && !view.hasAttribute('aria-busy') && view.dataset.within === String(days) &&
        ['rows', 'empty', 'error'].includes(view.dataset.state);
    },
    days,
    { timeout: STEP_TIMEOUT_MS },
  ).catch(async () => {
    const status = await page.locator('#expiring-status').textContent().catch(() => '');
    throw new StepFailure(`the expiring view did not show the ${days}-day list (status: ${JSON.stringify(status)})`);
  });
  return page.evaluate(() => {
    const view = document.querySelector('#expiring-view');
    const error = document.querySelector('#expiring-error');
    const table = document.querySelector('#expiring-table');
    const empty = document.querySelector('#expiring-empty');
    return {
      state: view.dataset.state,
      status: document.querySelector('#expiring-status').textContent,
      error: error.hidden ? null : error.textContent,
      tableShown: !table.hidden,
      rows: [...document.querySelectorAll('#expiring-rows tr')].map((tr) => ({
        cells: [...tr.cells].map((td) => td.textContent.trim()),
        type: tr.querySelector('.expiring-type') ? tr.querySelector('.expiring-type').dataset.type || null : null,
      })),
      empty: empty.hidden ? null : empty.textContent,
      searchHidden: document.querySelector('#search-view').hidden,
      pressed: [...document.querySelectorAll('.view-option[aria-pressed="true"]')].map((b) => b.dataset.view),
      heading: document.querySelector('#expiring-heading').textContent,
    };
  });
}

// Checks the expiring view against the API's answer, in `inLang`.
function checkExpiring(shown, data, days, inLang, what) {
  const want = UI[inLang];
  check(shown.error === null, `${what}: the expiring view shows an error: ${shown.error}`);
  check(shown.heading === want.expiringHeading, `${what}: the expiring view's heading is ${JSON.stringify(shown.heading)}`);
  check(want.expiringWindow(days).test(shown.status) && want.expiringCount.test(shown.status),
    `${what}: the status line does not give the ${days}-day window and the count in ${inLang}: ${JSON.stringify(shown.status)}`);
  if (data.documents.length === 0) {
    check(shown.state === 'empty' && !shown.tableShown && shown.rows.length === 0,
      `${what}: no documents, yet the view is ${shown.state} with ${shown.rows.length} rows`);
    check(shown.empty !== null && shown.empty.includes(want.expiringNone(days)),
      `${what}: the empty state does not say "${want.expiringNone(days)}": ${JSON.stringify(shown.empty)}`);
    return;
  }
  check(shown.state === 'rows' && shown.tableShown && shown.empty === null,
    `${what}: ${data.documents.length} documents, yet the view is ${shown.state}`);
  check(shown.rows.length === data.documents.length,
    `${what}: ${shown.rows.length} rows for ${data.documents.length} documents`);
  shown.rows.forEach((row, index) => {
    check(row.cells.length === 6 && row.cells[0] && row.cells[0] !== '—', `${what}: row ${index} is ${JSON.stringify(row.cells)}`);
    check(want.daysLeft.test(row.cells[1]), `${what}: row ${index} gives the days left as ${JSON.stringify(row.cells[1])}`);
    const name = DOC_TYPE_NAMES[inLang][row.type];
    check(!name || row.cells[2] === name, `${what}: row ${index} names ${row.type} ${JSON.stringify(row.cells[2])}, expected ${name}`);
  });
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
  // The locale makes navigator.languages (and Accept-Language) the language.
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    locale: ui.locale,
  });
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
  check(await page.evaluate(() => navigator.languages[0]) === ui.locale, 'the browser\'s locale is not the test\'s language');
  await assertPageIn(page, lang);
  const greeting = await page.locator('#status').textContent();
  check(greeting.startsWith(ui.start), `the status line says ${JSON.stringify(greeting)}`);
  await assertI18nComplete(page);
  const i18nKeys = await page.evaluate(() => Object.fromEntries(
    window.imgtagI18n.languages().map((name) => [name, window.imgtagI18n.keys(name).length])));
  watcher.assertClean();
  await assertNoCspViolations(page);
  passed(1, `opened ${baseUrl}/ in ${lang} (${await page.title()}); message keys ${JSON.stringify(i18nKeys)}, none missing`);

  // 1a. The language switch: to the other language and back, in place;
  // the choice is kept (localStorage) and wins over the browser's locale.
  step('1a language switch');
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  await switchLanguage(page, otherLang);
  await assertPageIn(page, otherLang);
  check(await page.evaluate(() => window.__sameDocument === true), 'switching the language reloaded the page');
  check(await page.evaluate(() => localStorage.getItem('imgtag.lang')) === otherLang, 'the language chosen is not kept in localStorage');
  await page.reload({ waitUntil: 'load' });
  await page.locator('#key').waitFor({ state: 'visible' });
  check(await page.evaluate(() => document.documentElement.lang) === otherLang,
    `after a reload the page is not in the language chosen (${otherLang}) but in its locale's`);
  await switchLanguage(page, lang);
  await assertPageIn(page, lang);
  check(await page.evaluate(() => localStorage.getItem('imgtag.lang')) === lang, 'switching back is not kept in localStorage');
  await assertI18nComplete(page);
  watcher.assertClean();
  await assertNoCspViolations(page);
  passed('1a', `switched to ${otherLang} (in place, kept over a reload) and back to ${lang}`);

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

  // 2a. The friendly-tag vocabulary names the cat in both languages; the
  // suggestions offer it by its name in the page's language.
  step('2a tag vocabulary');
  const vocabulary = await fetch(`${baseUrl}/api/v1/tags?lang=${ui.apiLang}`, {
    headers: { Authorization: `Bearer ${args.key}` },
  }).then(async (response) => {
    check(response.ok, `GET /api/v1/tags answered ${response.status}`);
    return response.json();
  });
  check(vocabulary.lang === ui.apiLang, `GET /api/v1/tags?lang=${ui.apiLang} answered lang ${JSON.stringify(vocabulary.lang)}`);
  const catTag = (vocabulary.tags || []).find((tag) => tag.name === 'cat');
  check(catTag && catTag.en && catTag.zh && catTag.label, `the vocabulary has no cat with en, zh and label: ${JSON.stringify(catTag)}`);
  check(catTag.label === (lang === 'en' ? catTag.en : catTag.zh), `the cat's label ${JSON.stringify(catTag.label)} is not its ${lang} name`);
  check(/[\u3400-\u9fff]/.test(catTag.zh), `the cat's Chinese name is ${JSON.stringify(catTag.zh)}`);
  const catLabel = catTag.label;
  // Every friendly tag by its name in the page's language.
  const vocabularyLabels = Object.fromEntries((vocabulary.tags || []).map((tag) => [tag.name, tag.label]));
  await page.waitForFunction(
    (label) => [...document.querySelectorAll('#tag-suggestions option')]
      .some((option) => option.value === label && option.dataset.tag === 'cat'),
    catLabel,
    { timeout: STEP_TIMEOUT_MS },
  ).catch(() => {
    throw new StepFailure(`the tag suggestions do not offer the cat as ${JSON.stringify(catLabel)}`);
  });
  watcher.assertClean();
  passed('2a', `the vocabulary names the cat ${catTag.en} / ${catTag.zh}; suggested as ${catLabel}`);

  // 3. Search "coffee" with the keyboard.
  step('3 text search');
  await page.locator('#text').focus();
  check(await focusedIs(page, '#text'), 'could not focus the search field');
  await page.keyboard.type('coffee');
  const textAnswer = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/v1/search',
    { timeout: STEP_TIMEOUT_MS });
  await page.keyboard.press('Enter');
  const textBody = await (await textAnswer).json();
  check(textBody.lang === ui.apiLang, `the search answered in lang ${JSON.stringify(textBody.lang)}, expected ${ui.apiLang}`);
  const text = await waitForResults(page, 'text:');
  check(text.query === 'text: coffee', `query is ${JSON.stringify(text.query)}, expected "text: coffee"`);
  check(text.first === 'coffee.png', `first text hit is ${JSON.stringify(text.first)}, expected "coffee.png" (order: ${text.filenames.join(', ')})`);
  await waitForImage(page, '#results li:first-child .thumb img', 'the first thumbnail');
  check(text.status.includes(ui.textQuery('coffee')) && ui.hits.test(text.status),
    `the status line does not show the query and hit count: ${JSON.stringify(text.status)}`);
  const coffeeWhy = await page.locator('#results li:first-child .why-vector').allTextContents();
  check(coffeeWhy.length === 1 && ui.whyVector.test(coffeeWhy[0]),
    `the first card does not say its semantic similarity (${ui.whyVector}): ${JSON.stringify(coffeeWhy)}`);
  watcher.assertClean();
  passed(3, `searched "coffee": ${text.count} hits, first ${text.first}, thumbnail loaded, why: ${coffeeWhy[0]}`);

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
  await page.waitForFunction(
    (label) => {
      const cell = document.querySelector('#detail-tags tr[data-tag="cat"] td');
      return Boolean(cell && cell.textContent.startsWith(label));
    },
    catLabel,
    { timeout: 5_000 },
  ).catch(async () => {
    const cell = await page.locator('#detail-tags tr[data-tag="cat"] td').first().textContent().catch(() => null);
    throw new StepFailure(`the dialog's tag table does not name the cat ${JSON.stringify(catLabel)} (it says ${JSON.stringify(cell)})`);
  });
  const detail = await page.evaluate(() => ({
    title: document.querySelector('#detail-title').textContent,
    text: document.querySelector('#detail').innerText,
    focusInside: document.querySelector('#detail').contains(document.activeElement),
    modal: document.querySelector('#detail').matches(':modal'),
  }));
  check(detail.modal, 'the detail dialog is not modal (showModal)');
  check(detail.title.includes('chelsea.png'), `the dialog title is ${JSON.stringify(detail.title)}, expected chelsea.png`);
  check(detail.text.includes(similar.firstId), 'the dialog does not show the image id');
  check(detail.text.includes(ui.imageId), `the dialog does not say "${ui.imageId}"`);
  check(detail.focusInside, 'focus did not move into the dialog');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('#detail').open, null, { timeout: 5_000 })
    .catch(() => {
      throw new StepFailure('Escape did not close the detail dialog');
    });
  check(await focusedIs(page, firstCard), 'focus did not return to the card after closing the dialog');
  watcher.assertClean();
  await assertNoCspViolations(page);
  passed(6, `opened the first card with Enter (preview loaded, chelsea.png shown, tag ${catLabel}), closed it with Escape`);

  // 6a. The tag filter understands the tag's Chinese name (in either
  // language) and sends its name; words naming the tag find it and say so.
  step('6a tag filter');
  let request;
  let sent;
  await page.locator('#tag').focus();
  await page.keyboard.type(catTag.zh);
  const tagRequest = page.waitForRequest(
    (request) => new URL(request.url()).pathname === '/api/v1/search/image',
    { timeout: STEP_TIMEOUT_MS },
  ).then((request) => new URL(request.url()).searchParams);
  const tagAnswer = page.waitForResponse(
    (response) => new URL(response.url()).pathname === '/api/v1/search/image',
    { timeout: STEP_TIMEOUT_MS },
  );
  await page.locator('#image').setInputFiles(catPath);
  const tagSent = await tagRequest;
  check(tagSent.getAll('tag').join() === 'cat', `typing ${catTag.zh} in the tag filter sent ${tagSent}, expected tag=cat`);
  const tagBody = await (await tagAnswer).json();
  check(tagBody.lang === ui.apiLang, `the image search answered in lang ${JSON.stringify(tagBody.lang)}`);
  await page.waitForFunction(() => !document.querySelector('#results').hasAttribute('aria-busy') &&
    document.querySelector('#results li[data-image-id]'), null, { timeout: STEP_TIMEOUT_MS })
    .catch(() => {
      throw new StepFailure('no results for the cat photo with the cat tag');
    });
  const firstCardState = () => page.evaluate(() => {
    const li = document.querySelector('#results li:first-child');
    return {
      first: li.dataset.filename,
      count: document.querySelectorAll('#results li[data-image-id]').length,
      chips: [...li.querySelectorAll('.tag')].map((chip) => [chip.dataset.tag, chip.textContent]),
      why: [...li.querySelectorAll('.why-tag')].map((badge) => badge.textContent),
      label: li.querySelector('.card').getAttribute('aria-label') || '',
    };
  });
  const tagged = await firstCardState();
  check(tagged.first === 'chelsea.png', `the first hit with the cat tag is ${JSON.stringify(tagged.first)}`);
  const friendlyChips = tagged.chips.filter(([name]) => Object.hasOwn(vocabularyLabels, name));
  check(friendlyChips.length > 0, `the first card shows no friendly tag: ${JSON.stringify(tagged.chips)}`);
  check(friendlyChips.every(([name, shown]) => shown === vocabularyLabels[name]),
    `the first card does not show its tags by their ${lang} names: ${JSON.stringify(tagged.chips)}`);
  await clearField(page, '#tag');
  // Words naming the tag in Chinese: the cat first, saying the tag matched.
  await clearField(page, '#text');
  await page.keyboard.type(catTag.zh);
  request = nextSearchRequest(page);
  await page.keyboard.press('Enter');
  sent = await request;
  check(sent.get('text') === catTag.zh && !sent.has('tag'), `the search sent ${sent}, expected text=${catTag.zh}`);
  const named = await waitForResults(page, 'text:', similar.query);
  check(named.first === 'chelsea.png', `first hit for ${catTag.zh} is ${JSON.stringify(named.first)} (order: ${named.filenames.join(', ')})`);
  const byName = await firstCardState();
  check(byName.why.includes(`${ui.whyTag}${catLabel}`),
    `the first card does not say the tag matched (${ui.whyTag}${catLabel}): ${JSON.stringify(byName.why)}`);
  check(byName.label.includes(`${ui.whyTag}${catLabel}`), 'the card\'s accessible name does not say why it matched');
  watcher.assertClean();
  await assertNoCspViolations(page);
  passed('6a', `typed ${catTag.zh} in the tag filter: sent tag=cat, ${tagged.count} hits, first ${tagged.first}; ` +
    `searched the words ${catTag.zh}: first ${named.first}, badge ${JSON.stringify(byName.why)}`);

  // 7. Search the text in the images for the phrase only the document shows.
  step('7 contains search');
  await clearField(page, '#text');
  await page.locator('#contains').focus();
  check(await focusedIs(page, '#contains'), 'could not focus the text-in-image field');
  await page.keyboard.type(phrase);
  request = nextSearchRequest(page);
  await page.keyboard.press('Enter');
  sent = await request;
  check(sent.get('contains') === phrase && !sent.has('text'),
    `the search sent ${sent}, expected contains=${phrase} and no text`);
  const contains = await waitForResults(page, 'contains:', similar.query);
  check(ui.hits.test(contains.status), `the status line does not count the hits in ${lang}: ${JSON.stringify(contains.status)}`);
  check(contains.query === `contains: ${phrase}`, `query is ${JSON.stringify(contains.query)}, expected "contains: ${phrase}"`);
  check(contains.first === documentName,
    `first hit for "${phrase}" is ${JSON.stringify(contains.first)}, expected ${JSON.stringify(documentName)} (order: ${contains.filenames.join(', ')})`);
  check(contains.status.includes(phrase) && ui.hits.test(contains.status),
    `the status line does not show the text and hit count: ${JSON.stringify(contains.status)}`);
  const hitCard = await page.evaluate(() => {
    const li = document.querySelector('#results li:first-child');
    return {
      badge: Boolean(li.querySelector('.badge-text')),
      badgeText: li.querySelector('.badge-text') ? li.querySelector('.badge-text').textContent : '',
      snippet: li.querySelector('.snippet') ? li.querySelector('.snippet').textContent : '',
      marked: [...li.querySelectorAll('.snippet mark')].map((mark) => mark.textContent).join(''),
      label: li.querySelector('.card').getAttribute('aria-label') || '',
    };
  });
  check(hitCard.badge, 'the document\'s card has no "text" badge');
  check(hitCard.badgeText === ui.textBadge, `the "text" badge says ${JSON.stringify(hitCard.badgeText)}, expected ${ui.textBadge}`);
  check(hitCard.label.endsWith(ui.showDetails), `the card's accessible name is not in ${lang}: ${JSON.stringify(hitCard.label)}`);
  check(squash(hitCard.snippet).includes(squash(phrase)), `the card's snippet does not show the phrase: ${JSON.stringify(hitCard.snippet)}`);
  check(squash(hitCard.marked).includes(squash(phrase)), `the snippet does not mark the phrase (marked: ${JSON.stringify(hitCard.marked)})`);
  check(squash(hitCard.label).includes(squash(phrase)), 'the card\'s accessible name does not say the matching text');
  await waitForImage(page, '#results li:first-child .thumb img', 'the document\'s thumbnail');
  watcher.assertClean();
  passed(7, `searched the text in the images for "${phrase}": ${contains.count} hits, first ${contains.first}, snippet ${JSON.stringify(hitCard.snippet)}`);

  // 7a. Switching with results shown: the same results, said in the other
  // language, with no new search and no thumbnail fetched again; and back.
  step('7a switch with results');
  const cardState = () => page.evaluate(() => {
    const li = document.querySelector('#results li:first-child');
    return {
      filenames: [...document.querySelectorAll('#results li[data-image-id]')].map((item) => item.dataset.filename),
      status: document.querySelector('#status').textContent,
      badge: li.querySelector('.badge-text') ? li.querySelector('.badge-text').textContent : '',
      label: li.querySelector('.card').getAttribute('aria-label') || '',
      thumb: li.querySelector('.thumb img') ? li.querySelector('.thumb img').src : null,
    };
  });
  const before = await cardState();
  const asked = watcher.requests.length;
  for (const [to, back] of [[otherLang, false], [lang, true]]) {
    await switchLanguage(page, to);
    const now = await cardState();
    const want = UI[to];
    check(now.filenames.join() === before.filenames.join(), `switching to ${to} changed the results: ${now.filenames.join(', ')}`);
    check(now.status.includes(phrase) && want.hits.test(now.status), `in ${to} the status line says ${JSON.stringify(now.status)}`);
    check(now.badge === want.textBadge, `in ${to} the "text" badge says ${JSON.stringify(now.badge)}`);
    check(now.label.endsWith(want.showDetails) && squash(now.label).includes(squash(phrase)),
      `in ${to} the card's accessible name is ${JSON.stringify(now.label)}`);
    check(now.thumb && now.thumb.startsWith('blob:'), `in ${to} the first card lost its thumbnail`);
    if (back) check(now.status === before.status && now.label === before.label, 'switching back did not restore the same words');
  }
  const again = watcher.requests.slice(asked);
  check(again.length === 0, `switching the language sent requests: ${again.join(', ')}`);
  await assertPageIn(page, lang, { scan: false });
  await assertI18nComplete(page);
  watcher.assertClean();
  await assertNoCspViolations(page);
  passed('7a', `switched to ${otherLang} and back with the results shown: re-said in place, no request sent`);

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
    paper: document.querySelector('#paper').hidden ? null : {
      type: document.querySelector('#paper').dataset.type,
      name: document.querySelector('#paper-summary .paper-type').textContent,
    },
  }));
  check(view.title.includes(documentName), `the dialog title is ${JSON.stringify(view.title)}, expected ${documentName}`);
  check(view.docShown && view.heading === ui.docHeading, `the dialog shows no "${ui.docHeading}" section`);
  check(view.outlined >= 10, `only ${view.outlined} lines are outlined, expected at least 10`);
  check(squash(view.lines.join('')).includes(squash(phrase)), `the text beside the image does not contain "${phrase}"`);
  check(view.matching >= 1, `no line is marked as holding "${phrase}"`);
  check(ui.lineCount(view.summary, view.lines.length),
    `the summary does not give the line count: ${JSON.stringify(view.summary)}`);
  // When a document was recognised, its type is named in the language.
  if (view.paper && DOC_TYPE_NAMES[lang][view.paper.type]) {
    check(view.paper.name === DOC_TYPE_NAMES[lang][view.paper.type],
      `the dialog names the document type ${view.paper.type} ${JSON.stringify(view.paper.name)}`);
  }
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
    (source) => new RegExp(source).test(document.querySelector('#doc-copied').textContent),
    ui.copied.source,
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

  // 11a. The phrase as words: the document first, saying the words were
  // found in its text; the other language says so too.
  step('11a words found in the text');
  await clearField(page, '#contains');
  await clearField(page, '#text');
  await page.keyboard.type(phrase);
  request = nextSearchRequest(page);
  await page.keyboard.press('Enter');
  sent = await request;
  check(sent.get('text') === phrase && !sent.has('contains'), `the search sent ${sent}, expected text=${phrase} only`);
  const words = await waitForResults(page, `text: ${phrase}`, 'text: a printed page');
  check(words.first === documentName, `first hit for the words ${phrase} is ${JSON.stringify(words.first)} (order: ${words.filenames.join(', ')})`);
  const whyText = (want) => page.evaluate((prefix) => [...document.querySelectorAll('#results li:first-child .why-text')]
    .map((badge) => badge.textContent).filter((text) => text.startsWith(prefix)), want.whyText);
  const found = await whyText(ui);
  check(found.some((badge) => squash(badge).includes(squash(phrase))),
    `the document's card does not say "${ui.whyText}${phrase}": ${JSON.stringify(found)}`);
  await switchLanguage(page, otherLang);
  const foundOther = await whyText(UI[otherLang]);
  check(foundOther.some((badge) => squash(badge).includes(squash(phrase))),
    `in ${otherLang} the document's card does not say "${UI[otherLang].whyText}${phrase}": ${JSON.stringify(foundOther)}`);
  await switchLanguage(page, lang);
  watcher.assertClean();
  await assertNoCspViolations(page);
  passed('11a', `searched the words ${phrase}: first ${words.first}, why ${JSON.stringify(found)} (${otherLang}: ${JSON.stringify(foundOther)})`);

  // 11b. The document-type filter: the types by their names in the
  // language; with words it narrows the search, alone it lists the images
  // of that type; the ID-papers box sends include_id_papers.
  step('11b document type filter');
  const typeOptions = await page.evaluate(() => [...document.querySelectorAll('#document-type option')]
    .map((option) => [option.value, option.textContent]));
  check(typeOptions.length > 1 && typeOptions[0][0] === '' && typeOptions[0][1] === ui.docTypeAny,
    `the document-type filter does not start with "${ui.docTypeAny}": ${JSON.stringify(typeOptions)}`);
  for (const [type, name] of Object.entries(DOC_TYPE_NAMES[lang])) {
    check(typeOptions.some(([value, text]) => value === type && text === name),
      `the document-type filter does not offer ${type} as ${JSON.stringify(name)}: ${JSON.stringify(typeOptions)}`);
  }
  const invoiceName = DOC_TYPE_NAMES[lang].invoice;
  await page.locator('#document-type').selectOption('invoice');
  await clearField(page, '#contains');
  await clearField(page, '#text');
  await page.keyboard.type('a printed page');
  const typed = await searchAndSettle(page);
  check(typed.sent.getAll('document_type').join() === 'invoice' && typed.sent.get('text') === 'a printed page' &&
    !typed.sent.has('include_id_papers'),
  `words with the invoice type sent ${typed.sent}, expected text=a printed page&document_type=invoice`);
  await clearField(page, '#text');
  await page.locator('#include-id-papers').focus();
  await page.keyboard.press('Space');
  check(await page.locator('#include-id-papers').isChecked(), 'Space did not tick the ID-papers box');
  const byType = await searchAndSettle(page);
  check(byType.sent.getAll('document_type').join() === 'invoice' && byType.sent.get('include_id_papers') === 'true' &&
    !byType.sent.has('text') && !byType.sent.has('contains'),
  `the invoice type alone sent ${byType.sent}, expected document_type=invoice&include_id_papers=true only`);
  check(byType.status.includes(ui.typeQuery(invoiceName)) && ui.hits.test(byType.status),
    `the status line does not say the type and count: ${JSON.stringify(byType.status)}`);
  // The option names follow the language.
  await switchLanguage(page, otherLang);
  const otherName = await page.locator('#document-type option:checked').textContent();
  check(otherName === DOC_TYPE_NAMES[otherLang].invoice, `in ${otherLang} the chosen type reads ${JSON.stringify(otherName)}`);
  await switchLanguage(page, lang);
  await page.locator('#document-type').selectOption('');
  await page.locator('#include-id-papers').uncheck();
  watcher.assertClean();
  await assertNoCspViolations(page);
  passed('11b', `the type filter sent document_type=invoice with words (${typed.filenames.length} hits) and alone with ` +
    `include_id_papers=true (${byType.filenames.length} hits: ${byType.filenames.join(', ') || 'none'})`);

  // 11c. The expiring documents: the view, its window, "include
  // expired" and customer each ask again; said in the language.
  step('11c expiring documents');
  let listing = nextExpiring(page);
  await page.locator('.view-option[data-view="expiring"]').focus();
  await page.keyboard.press('Enter');
  let listed = await listing.settle('opening the view');
  check(listed.sent.get('within') === '30d' && !listed.sent.has('customer') && !listed.sent.has('include_expired'),
    `opening the view asked ${listed.sent}, expected within=30d`);
  check(listed.data.within_days === 30, `the answer is for ${listed.data.within_days} days, expected 30`);
  let expiringView = await expiringShown(page, 30);
  check(expiringView.searchHidden && expiringView.pressed.join() === 'expiring',
    `the expiring view did not replace the search (pressed: ${expiringView.pressed})`);
  checkExpiring(expiringView, listed.data, 30, lang, '30 days');
  const initialDocuments = listed.data.documents.length;
  // The window.
  listing = nextExpiring(page);
  await page.locator('#expiring-within').selectOption('7');
  listed = await listing.settle('the 7-day window');
  check(listed.sent.get('within') === '7d', `choosing 7 days asked ${listed.sent}, expected within=7d`);
  checkExpiring(await expiringShown(page, 7), listed.data, 7, lang, '7 days');
  // Expired ones too.
  listing = nextExpiring(page);
  await page.locator('#expiring-expired').focus();
  await page.keyboard.press('Space');
  listed = await listing.settle('including expired documents');
  check(listed.sent.get('within') === '7d' && listed.sent.get('include_expired') === 'true',
    `ticking "include expired" asked ${listed.sent}, expected within=7d&include_expired=true`);
  checkExpiring(await expiringShown(page, 7), listed.data, 7, lang, '7 days, expired too');
  // One customer, then the longest window.
  listing = nextExpiring(page);
  await page.locator('#expiring-customer').focus();
  await page.keyboard.type('c1');
  await page.keyboard.press('Enter');
  listed = await listing.settle('customer c1');
  check(listed.sent.get('customer') === 'c1' && listed.sent.get('within') === '7d' && listed.sent.get('include_expired') === 'true',
    `the customer c1 asked ${listed.sent}`);
  expiringView = await expiringShown(page, 7);
  checkExpiring(expiringView, listed.data, 7, lang, 'customer c1');
  if (listed.data.documents.length === 0) {
    check(expiringView.empty.includes('c1'), `the empty state does not name the customer: ${JSON.stringify(expiringView.empty)}`);
  }
  listing = nextExpiring(page);
  await page.locator('#expiring-within').selectOption('90');
  listed = await listing.settle('the 90-day window');
  check(listed.sent.get('within') === '90d' && listed.sent.get('customer') === 'c1',
    `choosing 90 days asked ${listed.sent}, expected within=90d&customer=c1`);
  expiringView = await expiringShown(page, 90);
  checkExpiring(expiringView, listed.data, 90, lang, '90 days');
  // The other language, in place: no new request; and back.
  const askedBefore = watcher.requests.length;
  await switchLanguage(page, otherLang);
  checkExpiring(await expiringShown(page, 90), listed.data, 90, otherLang, `90 days in ${otherLang}`);
  await switchLanguage(page, lang);
  checkExpiring(await expiringShown(page, 90), listed.data, 90, lang, '90 days, back');
  const expiringAgain = watcher.requests.slice(askedBefore);
  check(expiringAgain.length === 0, `switching the language sent requests: ${expiringAgain.join(', ')}`);
  await assertI18nComplete(page);
  // Back to the search, as it was.
  await page.locator('.view-option[data-view="search"]').focus();
  await page.keyboard.press('Enter');
  check(await page.locator('#text').isVisible() && !(await page.locator('#expiring-view').isVisible()),
    'the search view did not come back');
  check(watcher.requests.length === askedBefore, 'going back to the search sent a request');
  watcher.assertClean();
  await assertNoCspViolations(page);
  const expiringSaid = expiringView.state === 'empty' ? expiringView.empty : `${expiringView.rows.length} rows`;
  passed('11c', `the expiring view asked within=30d (${initialDocuments} documents), 7d, include_expired, customer=c1, ` +
    `90d; shows: ${expiringSaid}`);

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
  check(shown.includes(ui.unauthorized), `the error is not said in ${lang}: ${JSON.stringify(shown)}`);
  check(await other.evaluate(() => document.documentElement.lang) === lang, `the new tab is not in ${lang}`);
  check(await focusedIs(other, '#key'), 'after a 401 the key field is not focused');
  check(await other.locator('#results li[data-image-id]').count() === 0, 'a wrong key still shows results');
  otherWatcher.assertClean();
  await assertNoCspViolations(other);
  await assertI18nComplete(other);
  await assertI18nComplete(page);
  passed(12, `a wrong key shows: ${shown.trim()}`);

  await browser.close();
  finished = true;
  console.log(JSON.stringify({
    ok: true,
    lang,
    i18n_keys: i18nKeys,
    cat_label: catLabel,
    first_text_hit: text.first,
    first_similar_hit: similar.first,
    first_contains_hit: contains.first,
    contains_hits: contains.count,
    both_hits: both.filenames,
    first_words_hit: words.first,
    document_type_of_document: view.paper ? view.paper.type : null,
    invoice_type_hits: byType.filenames,
    expiring_documents: initialDocuments,
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
