// imgtag search page. Plain JavaScript, no build step; served with a strict
// Content-Security-Policy, so there are no inline scripts, styles or event
// attributes: everything is wired here and looks change through classes and
// the `hidden` attribute only.
//
// The API key lives in this tab's sessionStorage and goes out only as
// `Authorization: Bearer`, on every call, including rendition fetches: the
// bytes are turned into blob URLs, so no key ever appears in a URL.
//
// Text read in the images (OCR) is untrusted: it only ever reaches the page
// as textContent or SVG attributes, never as markup.
'use strict';

(() => {
  const KEY_STORAGE = 'imgtag.key';
  const LIMIT = 24;
  const CARD_TAGS = 4;
  const TAG_SOURCES = new Set(['classifier', 'hierarchy']);
  // Matching lines shown on a card of a `contains` search.
  const SNIPPET_LINES = 2;
  // Characters kept either side of the match in a long snippet line.
  const SNIPPET_CONTEXT = 24;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  // How long "Copied" stays up.
  const COPIED_MS = 5000;

  const $ = (id) => document.getElementById(id);
  const el = {
    keyForm: $('key-form'),
    key: $('key'),
    keyState: $('key-state'),
    searchForm: $('search-form'),
    text: $('text'),
    contains: $('contains'),
    image: $('image'),
    dropzone: $('dropzone'),
    queryImage: $('query-image'),
    tag: $('tag'),
    tagSuggestions: $('tag-suggestions'),
    since: $('since'),
    until: $('until'),
    sensitive: $('include-sensitive'),
    status: $('status'),
    error: $('error'),
    results: $('results'),
    resultsHeading: $('results-heading'),
    detail: $('detail'),
    detailTitle: $('detail-title'),
    detailClose: $('detail-close'),
    detailBody: $('detail-body'),
    detailImage: $('detail-image'),
    outlines: $('detail-outlines'),
    detailPlaceholder: $('detail-placeholder'),
    detailMeta: $('detail-meta'),
    detailTags: $('detail-tags'),
    detailSimilar: $('detail-similar'),
    doc: $('doc'),
    docCopy: $('doc-copy'),
    docSummary: $('doc-summary'),
    docCopied: $('doc-copied'),
    docLines: $('doc-lines'),
    docKeys: $('doc-keys'),
    docNote: $('doc-note'),
  };

  // Blob URLs of the grid's thumbnails (revoked when the grid is replaced),
  // of the open preview, and of the uploaded query image.
  let gridUrls = [];
  let previewUrl = null;
  let queryImageUrl = null;
  // Each search gets a number; answers of older searches are dropped.
  let searchSeq = 0;
  let searchAbort = null;
  let previewAbort = null;
  // The record shown in the dialog and the card that opened it.
  let detailRecord = null;
  let detailOpener = null;
  let recordAbort = null;
  // The document view: the lines shown, the one highlighted, the timer that
  // clears "Copied".
  let docLines = [];
  let activeLine = null;
  let copiedTimer = null;

  // ---- key -------------------------------------------------------------

  function storedKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE) || '';
    } catch {
      return '';
    }
  }

  function storeKey(key) {
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      // Storage may be disabled; the key then lasts until the page reloads.
    }
    currentKey = key;
  }

  let currentKey = storedKey();

  function showKeyState() {
    el.keyState.textContent = currentKey
      ? 'Key set for this tab.'
      : 'No key set. Kept only in this tab.';
    el.keyState.classList.toggle('is-set', Boolean(currentKey));
    el.keyState.classList.remove('is-refused');
  }

  // ---- API -------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, { method = 'GET', body, signal, as = 'json' } = {}) {
    if (!currentKey) {
      throw new ApiError(401, 'api.unauthorized', 'Enter your API key first');
    }
    let response;
    try {
      response = await fetch(path, {
        method,
        body,
        signal,
        headers: { Authorization: `Bearer ${currentKey}`, Accept: as === 'json' ? 'application/json' : '*/*' },
        credentials: 'omit',
        // Renditions carry an ETag and a private max-age (varying on the
        // key); search answers are always asked afresh.
        cache: as === 'blob' ? 'default' : 'no-cache',
      });
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new ApiError(0, 'network', `The server could not be reached (${err.message})`);
    }
    if (!response.ok) {
      let code = `http.${response.status}`;
      let message = response.statusText || 'Request failed';
      try {
        const data = await response.json();
        if (data && data.error) {
          code = data.error.code || code;
          message = data.error.message || message;
        }
      } catch {
        // Not a JSON error body: keep the HTTP status.
      }
      throw new ApiError(response.status, code, message);
    }
    return as === 'blob' ? response.blob() : response.json();
  }

  // ---- status and errors ----------------------------------------------

  function setStatus(text) {
    el.status.textContent = text;
  }

  function clearError() {
    el.error.hidden = true;
    el.error.textContent = '';
  }

  function showError(err) {
    const text = err instanceof ApiError
      ? `${err.message} (${err.code})`
      : `Something went wrong: ${err && err.message ? err.message : err}`;
    el.error.textContent = text;
    el.error.hidden = false;
    if (err instanceof ApiError && err.status === 401) {
      if (currentKey) {
        el.keyState.textContent = 'The server refused this key.';
        el.keyState.classList.remove('is-set');
        el.keyState.classList.add('is-refused');
      }
      el.key.focus();
      el.key.select();
    }
  }

  // ---- filters ---------------------------------------------------------

  function filterParams() {
    const params = new URLSearchParams();
    for (const tag of el.tag.value.split(',')) {
      const trimmed = tag.trim();
      if (trimmed) params.append('tag', trimmed);
    }
    if (el.since.value) params.set('since', el.since.value);
    if (el.until.value) params.set('until', el.until.value);
    if (el.sensitive.checked) params.set('include_sensitive', 'true');
    params.set('limit', String(LIMIT));
    return params;
  }

  async function loadTagSuggestions() {
    if (!currentKey) return;
    try {
      const data = await api('/api/v1/facets/tag?limit=100');
      el.tagSuggestions.replaceChildren(
        ...(data.counts || []).map(({ value, count }) => {
          const option = document.createElement('option');
          option.value = value;
          option.label = `${value} (${count})`;
          return option;
        }),
      );
    } catch (err) {
      // Suggestions are a nicety; only a refused key is worth saying.
      if (err instanceof ApiError && err.status === 401) showError(err);
    }
  }

  // ---- text read in images ---------------------------------------------

  // The server's `contains` rule (workers/src/index/text.rs), to find the
  // matching lines for snippets: NFKC and lower case; every CJK character
  // is a term of its own, every other run of letters or digits is one term;
  // a query matches where its terms follow each other, across lines too.
  const CJK = /[\u3040-\u30FF\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\u{20000}-\u{3134F}]/u;
  const WORD = /[\p{Alphabetic}\p{N}]/u;

  // The terms of `text`, each with where it stands in `text` (UTF-16
  // offsets, so the match can be marked in the original).
  function termsOf(text) {
    const terms = [];
    let word = null;
    const flush = () => {
      if (word) terms.push(word);
      word = null;
    };
    let index = 0;
    for (const ch of String(text)) {
      const start = index;
      index += ch.length;
      for (const c of ch.normalize('NFKC').toLowerCase()) {
        if (CJK.test(c)) {
          flush();
          terms.push({ term: c, start, end: index });
        } else if (WORD.test(c)) {
          if (word) {
            word.term += c;
            word.end = index;
          } else {
            word = { term: c, start, end: index };
          }
        } else {
          flush();
        }
      }
    }
    flush();
    return terms;
  }

  function hasTerms(query) {
    return termsOf(query).length > 0;
  }

  // Where `query` occurs in `lines` ([{text}]): a Map from line index to
  // the [start, end) ranges to mark in that line, lines in order.
  function findMatches(lines, query) {
    const wanted = termsOf(query).map((t) => t.term);
    const found = new Map();
    if (wanted.length === 0) return found;
    const all = [];
    lines.forEach((line, index) => {
      for (const term of termsOf(line.text)) all.push({ ...term, line: index });
    });
    for (let i = 0; i + wanted.length <= all.length; i += 1) {
      let same = true;
      for (let j = 0; j < wanted.length && same; j += 1) same = all[i + j].term === wanted[j];
      if (!same) continue;
      // One range per line the occurrence touches, first to last term.
      for (let j = 0; j < wanted.length; j += 1) {
        const term = all[i + j];
        const ranges = found.get(term.line) || [];
        const last = ranges[ranges.length - 1];
        if (last && last.occurrence === i) last.end = term.end;
        else ranges.push({ start: term.start, end: term.end, occurrence: i });
        found.set(term.line, ranges);
      }
    }
    const merged = new Map();
    for (const index of [...found.keys()].sort((a, b) => a - b)) {
      const ranges = found.get(index).sort((a, b) => a.start - b.start);
      const out = [];
      for (const { start, end } of ranges) {
        const last = out[out.length - 1];
        if (last && start <= last[1]) last[1] = Math.max(last[1], end);
        else out.push([start, end]);
      }
      merged.set(index, out);
    }
    return merged;
  }

  // `text` with `ranges` wrapped in <mark>, as nodes (never markup).
  function markedText(text, ranges) {
    const fragment = document.createDocumentFragment();
    let at = 0;
    for (const [start, end] of ranges || []) {
      if (start > at) fragment.append(text.slice(at, start));
      fragment.append(make('mark', '', text.slice(start, end)));
      at = end;
    }
    if (at < text.length) fragment.append(text.slice(at));
    return fragment;
  }

  // A long line cut around its first match, with the ranges moved along.
  function around(text, ranges) {
    if (text.length <= 2 * SNIPPET_CONTEXT + 20 || !ranges.length) return { text, ranges };
    let start = Math.max(0, ranges[0][0] - SNIPPET_CONTEXT);
    // Never cut a character written as two UTF-16 units in half.
    if (start > 0 && /[\uDC00-\uDFFF]/.test(text[start])) start -= 1;
    const cut = start > 0 ? `…${text.slice(start)}` : text;
    const shift = start > 0 ? 1 - start : 0;
    return { text: cut, ranges: ranges.map(([a, b]) => [a + shift, b + shift]) };
  }

  function isPoint(point) {
    return Array.isArray(point) && point.length === 2 &&
      point.every((v) => typeof v === 'number' && Number.isFinite(v));
  }

  // The lines of a record's OCR, each {text, confidence, quad|null}; the
  // text's own lines when the record holds no line list.
  function ocrLines(ocr) {
    if (!ocr || !ocr.read) return [];
    if (Array.isArray(ocr.lines) && ocr.lines.length) {
      return ocr.lines
        .filter((line) => line && typeof line.text === 'string')
        .map((line) => ({
          text: line.text,
          confidence: typeof line.confidence === 'number' ? line.confidence : null,
          quad: Array.isArray(line.quad) && line.quad.length === 4 && line.quad.every(isPoint)
            ? line.quad
            : null,
        }));
    }
    if (typeof ocr.text === 'string' && ocr.text.trim()) {
      return ocr.text.split('\n').filter((t) => t.trim()).map((text) => ({ text, confidence: null, quad: null }));
    }
    return [];
  }

  // ---- searches --------------------------------------------------------

  // Runs one search: `request(signal)` returns the API's promise; `context`
  // says what the results are shown for (`contains`: the text searched for).
  async function runSearch(label, request, context = {}) {
    const seq = ++searchSeq;
    if (searchAbort) searchAbort.abort();
    searchAbort = new AbortController();
    const { signal } = searchAbort;
    clearError();
    setStatus(`Searching ${label}…`);
    el.results.setAttribute('aria-busy', 'true');
    try {
      const data = await request(signal);
      if (seq !== searchSeq) return;
      showResults(data, context);
    } catch (err) {
      if (seq !== searchSeq || err.name === 'AbortError') return;
      setStatus('The search failed.');
      showError(err);
    } finally {
      if (seq === searchSeq) el.results.removeAttribute('aria-busy');
    }
  }

  // Words (`text`), text in the image (`contains`), or both: then the words
  // rank only the images showing the text.
  function searchWords(text, contains) {
    const params = new URLSearchParams();
    if (text) params.set('text', text);
    if (contains) params.set('contains', contains);
    for (const [k, v] of filterParams()) params.append(k, v);
    const label = text && contains
      ? `for “${text}” among images showing “${contains}”`
      : text ? `for “${text}”` : `for images showing “${contains}”`;
    return runSearch(label, (signal) => api(`/api/v1/search?${params}`, { signal }), { contains });
  }

  function searchImage(file) {
    if (file.type && !file.type.startsWith('image/')) {
      showError(new ApiError(0, 'upload.not_an_image', `${file.name} is not an image`));
      return Promise.resolve();
    }
    showQueryImage(file);
    const form = new FormData();
    form.append('image', file, file.name || 'upload');
    return runSearch(`for images like ${file.name || 'the upload'}`, (signal) =>
      api(`/api/v1/search/image?${filterParams()}`, { method: 'POST', body: form, signal }));
  }

  function searchSimilar(record) {
    const id = encodeURIComponent(record.image_id);
    return runSearch(`for images like ${record.filename || record.image_id}`, (signal) =>
      api(`/api/v1/images/${id}/similar?${filterParams()}`, { signal }));
  }

  function showQueryImage(file) {
    if (queryImageUrl) URL.revokeObjectURL(queryImageUrl);
    queryImageUrl = URL.createObjectURL(file);
    el.queryImage.src = queryImageUrl;
    el.queryImage.alt = `Query image: ${file.name || 'upload'}`;
    el.queryImage.hidden = false;
  }

  // ---- result grid -----------------------------------------------------

  // Classifier and hierarchy tags, best first (the `check` ones such as
  // orientation are left to the detail view).
  function topTags(record, count) {
    const scores = record.tag_scores || {};
    const ranked = Object.entries(scores)
      .filter(([, s]) => s && TAG_SOURCES.has(s.source))
      .sort((a, b) => (b[1].score ?? 0) - (a[1].score ?? 0))
      .map(([tag]) => tag);
    if (ranked.length === 0) return (record.tags || []).slice(0, count);
    return ranked.slice(0, count);
  }

  function formatScore(score) {
    return typeof score === 'number' && Number.isFinite(score) ? score.toFixed(3) : '–';
  }

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clearGrid() {
    for (const url of gridUrls) URL.revokeObjectURL(url);
    gridUrls = [];
    el.results.replaceChildren();
  }

  function showResults(data, context = {}) {
    clearGrid();
    const hits = Array.isArray(data.hits) ? data.hits : [];
    const query = data.query || '';
    const contains = context.contains || '';
    el.results.dataset.query = query;
    if (contains) el.results.dataset.contains = contains;
    else delete el.results.dataset.contains;
    const count = `${hits.length} ${hits.length === 1 ? 'hit' : 'hits'}`;
    // A words search restricted to the text: the answer names the words only.
    const shown = contains && !query.startsWith('contains:') ? `${query} · contains: ${contains}` : query;
    setStatus(shown ? `${shown} · ${count}` : count);
    if (hits.length === 0) {
      const empty = make('li', 'empty', contains
        ? `No images show “${contains}”. Check the spelling, look for fewer words or characters, or loosen the filters.`
        : 'No images match. Try other words or fewer filters.');
      el.results.append(empty);
      return;
    }
    hits.forEach((hit, index) => el.results.append(card(hit, index, contains)));
  }

  // The card's lines of text matching `contains`, marked.
  function snippet(lines, contains) {
    const matches = findMatches(lines, contains);
    if (matches.size === 0) return null;
    const box = make('span', 'snippet');
    const texts = [];
    let shown = 0;
    for (const [index, ranges] of matches) {
      if (shown === SNIPPET_LINES) break;
      const cut = around(lines[index].text, ranges);
      const line = make('span', 'snippet-line');
      line.append(markedText(cut.text, cut.ranges));
      box.append(line);
      texts.push(lines[index].text);
      shown += 1;
    }
    if (matches.size > shown) {
      const more = matches.size - shown;
      box.append(make('span', 'snippet-more', `+${more} more ${more === 1 ? 'line' : 'lines'}`));
    }
    return { box, texts };
  }

  function card(hit, index, contains) {
    const record = hit.record || {};
    const filename = record.filename || record.image_id || 'image';
    const tags = topTags(record, CARD_TAGS);
    const score = formatScore(hit.score);
    const lines = ocrLines(record.ocr);
    const found = contains && lines.length ? snippet(lines, contains) : null;

    const li = make('li', 'result');
    li.dataset.imageId = record.image_id || '';
    li.dataset.filename = record.filename || '';

    const button = make('button', 'card');
    button.type = 'button';
    const says = found ? `, shows: ${found.texts.join(' / ')}` : lines.length ? ', has text' : '';
    button.setAttribute('aria-label',
      `${index + 1}. ${filename}, score ${score}${tags.length ? `, tags: ${tags.join(', ')}` : ''}${says}. Show details`);

    const thumb = make('span', 'thumb');
    thumb.append(placeholder(record.renditions && record.renditions.thumb ? 'Loading…' : 'No thumbnail'));
    button.append(thumb);
    if (lines.length) {
      const badge = make('span', 'badge-text', 'text');
      badge.title = `${lines.length} ${lines.length === 1 ? 'line' : 'lines'} of text read`;
      button.append(badge);
      li.dataset.lines = String(lines.length);
    }

    const body = make('span', 'card-body');
    const head = make('span', 'card-head');
    head.append(make('span', 'filename', filename));
    const scoreBadge = make('span', 'score');
    scoreBadge.append(make('span', 'score-label', 'score '), make('span', 'score-value', score));
    head.append(scoreBadge);
    body.append(head);
    if (found) body.append(found.box);
    const tagList = make('span', 'tags');
    for (const tag of tags) tagList.append(make('span', 'tag', tag));
    body.append(tagList);
    button.append(body);

    button.addEventListener('click', () => openDetail(record, button, contains));
    li.append(button);

    if (record.renditions && record.renditions.thumb && record.image_id) {
      loadThumb(record, filename, tags, thumb);
    }
    return li;
  }

  function placeholder(text) {
    return make('span', 'placeholder', text);
  }

  function renditionPath(record, name) {
    return `/api/v1/images/${encodeURIComponent(record.image_id)}/renditions/${name}`;
  }

  async function loadThumb(record, filename, tags, container) {
    const seq = searchSeq;
    try {
      const blob = await api(renditionPath(record, 'thumb'), { as: 'blob' });
      if (seq !== searchSeq) return;
      const url = URL.createObjectURL(blob);
      gridUrls.push(url);
      const img = document.createElement('img');
      img.alt = filename || tags[0] || 'image';
      img.src = url;
      // Swap the placeholder out only once the picture can be painted.
      try {
        await img.decode();
      } catch {
        if (seq === searchSeq) container.replaceChildren(placeholder('Thumbnail unavailable'));
        return;
      }
      if (seq !== searchSeq) return;
      container.replaceChildren(img);
    } catch (err) {
      if (seq !== searchSeq) return;
      container.replaceChildren(placeholder('Thumbnail unavailable'));
      if (err instanceof ApiError && err.status === 401) showError(err);
    }
  }

  // ---- detail dialog ---------------------------------------------------

  function metaRow(term, value) {
    const wrap = make('div', 'meta-row');
    wrap.append(make('dt', '', term));
    const dd = make('dd', '');
    if (value instanceof Node) dd.append(value);
    else dd.textContent = value === null || value === undefined || value === '' ? '—' : String(value);
    wrap.append(dd);
    return wrap;
  }

  function formatDate(value) {
    if (!value) return null;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return value;
    return `${date.toISOString().replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} UTC`;
  }

  // `contains`: the text the opening search looked for (its lines are
  // marked in the document view).
  function openDetail(record, opener, contains = '') {
    detailRecord = record;
    detailOpener = opener;
    const filename = record.filename || record.image_id || 'image';
    showRecord(record);
    showDocument(record, contains);
    loadPreview(record, filename);
    loadRecord(record, contains);
    if (!el.detail.open) el.detail.showModal();
    el.detailClose.focus();
    revealFirstMatch();
  }

  // The stored record, afresh: a search hit may carry less than the record
  // (and the record may have changed since the search).
  async function loadRecord(record, contains) {
    if (recordAbort) recordAbort.abort();
    if (!record.image_id) return;
    recordAbort = new AbortController();
    const controller = recordAbort;
    try {
      const full = await api(`/api/v1/images/${encodeURIComponent(record.image_id)}`, { signal: controller.signal });
      if (controller.signal.aborted || detailRecord !== record || !full || full.image_id !== record.image_id) return;
      detailRecord = full;
      showRecord(full);
      if (JSON.stringify(full.ocr ?? null) !== JSON.stringify(record.ocr ?? null)) {
        showDocument(full, contains);
        placeOutlines();
        revealFirstMatch();
      }
    } catch {
      // The hit's record stays (a refused key shows when the preview fails).
    }
  }

  function showRecord(record) {
    el.detailTitle.textContent = record.filename || record.image_id || 'image';

    const meta = record.metadata || {};
    const nsfw = record.nsfw || {};
    const quality = record.quality || {};
    const flags = Array.isArray(quality.flags) && quality.flags.length ? quality.flags.join(', ') : 'none';
    const nsfwText = typeof nsfw.score === 'number'
      ? `${formatScore(nsfw.score)}${nsfw.flagged ? ' (flagged sensitive)' : ''}`
      : null;
    const idCode = make('code', '', record.image_id || '');
    el.detailMeta.replaceChildren(
      metaRow('Filename', record.filename),
      metaRow('Image ID', idCode),
      metaRow('Format', meta.format),
      metaRow('Size', meta.width && meta.height ? `${meta.width} × ${meta.height} px` : null),
      metaRow('Captured', formatDate(meta.captured_at)),
      metaRow('Camera', meta.camera),
      metaRow('Customer', record.customer_id),
      metaRow('Project', record.project_id),
      metaRow('NSFW score', nsfwText),
      metaRow('Quality flags', flags),
      metaRow('Sharpness', typeof quality.sharpness === 'number' ? quality.sharpness.toFixed(1) : null),
      metaRow('Ingested', formatDate(record.ingested_at)),
    );

    const scores = record.tag_scores || {};
    const rows = Object.entries(scores)
      .sort((a, b) => ((b[1] && b[1].score) ?? 0) - ((a[1] && a[1].score) ?? 0));
    for (const tag of record.tags || []) {
      if (!(tag in scores)) rows.push([tag, null]);
    }
    el.detailTags.replaceChildren(...rows.map(([tag, s]) => {
      const tr = document.createElement('tr');
      tr.append(
        make('td', '', tag),
        make('td', 'num', s ? formatScore(s.score) : '–'),
        make('td', '', s && s.source ? s.source : '–'),
      );
      return tr;
    }));
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = make('td', '', 'No tags');
      td.colSpan = 3;
      tr.append(td);
      el.detailTags.append(tr);
    }
  }

  // ---- document view: the text read in the image -----------------------

  // Outline polygons by line index (null for a line without outline), and
  // the size of the image their coordinates refer to.
  let outlineNodes = [];
  let outlineSize = null;

  function clearDocument() {
    docLines = [];
    outlineNodes = [];
    outlineSize = null;
    activeLine = null;
    el.docLines.replaceChildren();
    el.outlines.replaceChildren();
    el.outlines.setAttribute('hidden', '');
    el.outlines.removeAttribute('viewBox');
    el.docSummary.textContent = '';
    el.docNote.textContent = '';
    el.docNote.hidden = true;
    showCopied('');
    el.doc.hidden = true;
    el.detailBody.classList.remove('is-document');
  }

  function plural(count, one, many) {
    return `${count} ${count === 1 ? one : many}`;
  }

  function notReadNote(ocr) {
    if (ocr.gate === 'probe_found_little') {
      return 'The text was not read: a quick look found too little text in this image.';
    }
    return 'The text in this image was not read.';
  }

  function showDocument(record, contains) {
    clearDocument();
    const ocr = record.ocr;
    if (!ocr || typeof ocr !== 'object') return;
    el.doc.hidden = false;
    const lines = ocrLines(ocr);
    const hasLines = lines.length > 0;
    for (const node of [el.docCopy, el.docSummary, el.docLines, el.docKeys]) node.hidden = !hasLines;
    if (!hasLines) {
      el.docNote.textContent = ocr.read ? 'No text was found in this image.' : notReadNote(ocr);
      el.docNote.hidden = false;
      return;
    }
    docLines = lines;
    el.detailBody.classList.add('is-document');
    const matches = contains ? findMatches(lines, contains) : new Map();
    const first = matches.size ? matches.keys().next().value : 0;

    el.docLines.replaceChildren(...lines.map((line, index) => {
      const li = make('li', 'doc-line');
      li.dataset.line = String(index);
      li.tabIndex = index === first ? 0 : -1;
      const ranges = matches.get(index);
      if (ranges) {
        li.classList.add('is-match');
        li.append(markedText(line.text, ranges));
      } else {
        li.textContent = line.text;
      }
      if (line.confidence !== null) {
        li.title = `Confidence ${line.confidence.toFixed(2)}`;
        if (line.confidence < 0.6) li.classList.add('is-doubtful');
      }
      return li;
    }));

    const total = Number.isInteger(ocr.line_count) && ocr.line_count > lines.length ? ocr.line_count : null;
    const parts = [total ? `${lines.length} of ${total} lines` : plural(lines.length, 'line', 'lines')];
    if (matches.size) parts.push(`${plural(matches.size, 'line', 'lines')} with “${contains}”`);
    if (ocr.has_cjk) parts.push('includes Chinese');
    if ([90, 180, 270].includes(ocr.rotation)) parts.push(`page turned ${ocr.rotation}° (read upright)`);
    if (ocr.truncated && !total) parts.push('cut at the storage limit');
    el.docSummary.textContent = parts.join(' · ');

    const meta = record.metadata || {};
    outlineSize = meta.width > 0 && meta.height > 0 ? { width: meta.width, height: meta.height } : null;
    outlineNodes = lines.map((line, index) => {
      if (!line.quad) return null;
      const polygon = document.createElementNS(SVG_NS, 'polygon');
      polygon.setAttribute('points', line.quad.map(([x, y]) => `${+x.toFixed(1)},${+y.toFixed(1)}`).join(' '));
      polygon.setAttribute('class', matches.has(index) ? 'outline is-match' : 'outline');
      polygon.dataset.line = String(index);
      el.outlines.append(polygon);
      return polygon;
    });
    placeOutlines();
  }

  // Shows the outlines over the preview once it is painted. The SVG covers
  // exactly the image and its viewBox is the original's size, so the
  // quads (original pixels) scale to whatever size the image is shown at,
  // also when the dialog resizes. A picture whose proportions differ from
  // the original's gets no outlines rather than misplaced ones.
  function placeOutlines() {
    const img = el.detailImage;
    let show = false;
    if (outlineNodes.some(Boolean) && !img.hidden && img.complete && img.naturalWidth > 0) {
      const size = outlineSize || { width: img.naturalWidth, height: img.naturalHeight };
      const drift = Math.abs((img.naturalWidth / img.naturalHeight) / (size.width / size.height) - 1);
      show = drift < 0.03;
      if (show) el.outlines.setAttribute('viewBox', `0 0 ${size.width} ${size.height}`);
      else {
        el.docNote.textContent = 'The outlines are not shown: the preview’s proportions differ from the image’s.';
        el.docNote.hidden = false;
      }
    }
    el.outlines.toggleAttribute('hidden', !show);
  }

  // Scrolls the line list (only the list) so that `li` shows.
  function revealLine(li) {
    const list = el.docLines;
    if (!li || list.hidden) return;
    const top = li.offsetTop;
    const bottom = top + li.offsetHeight;
    if (top < list.scrollTop) list.scrollTop = Math.max(0, top - 8);
    else if (bottom > list.scrollTop + list.clientHeight) list.scrollTop = bottom - list.clientHeight + 8;
  }

  // On opening, the first matching line a third of the way down the list.
  function revealFirstMatch() {
    const li = el.docLines.querySelector('.doc-line[tabindex="0"]');
    if (!li || !li.classList.contains('is-match')) return;
    requestAnimationFrame(() => {
      el.docLines.scrollTop = Math.max(0, li.offsetTop - el.docLines.clientHeight / 3);
    });
  }

  function lineIndex(node) {
    const target = node && node.closest ? node.closest('[data-line]') : null;
    if (!target) return null;
    const index = Number(target.dataset.line);
    return Number.isInteger(index) && index >= 0 && index < docLines.length ? index : null;
  }

  // Highlights one line, in the text and on the image.
  function setActiveLine(index, { reveal = false } = {}) {
    if (index === activeLine) return;
    if (activeLine !== null) {
      el.docLines.children[activeLine]?.classList.remove('is-active');
      outlineNodes[activeLine]?.classList.remove('is-active');
    }
    activeLine = index;
    if (index === null) return;
    const li = el.docLines.children[index];
    li?.classList.add('is-active');
    outlineNodes[index]?.classList.add('is-active');
    if (reveal) revealLine(li);
  }

  // The line that keeps the highlight when the pointer leaves: the focused one.
  function focusedLine() {
    return el.docLines.contains(document.activeElement) ? lineIndex(document.activeElement) : null;
  }

  function focusLine(index) {
    const li = el.docLines.children[index];
    if (!li) return;
    for (const other of el.docLines.querySelectorAll('.doc-line[tabindex="0"]')) other.tabIndex = -1;
    li.tabIndex = 0;
    li.focus({ preventScroll: true });
    revealLine(li);
  }

  function showCopied(message, failed = false) {
    if (copiedTimer) clearTimeout(copiedTimer);
    copiedTimer = null;
    el.docCopied.textContent = message;
    el.docCopied.classList.toggle('is-failed', failed);
    if (message && !failed) {
      copiedTimer = setTimeout(() => {
        el.docCopied.textContent = '';
        copiedTimer = null;
      }, COPIED_MS);
    }
  }

  function selectDocumentText() {
    const selection = window.getSelection();
    const range = document.createRange();
    range.selectNodeContents(el.docLines);
    selection.removeAllRanges();
    selection.addRange(range);
    return selection;
  }

  // Copies the lines, one per line; the Clipboard API where the page may
  // use it (a secure context), else the selection and the copy command.
  async function copyDocumentText() {
    const record = detailRecord;
    const count = docLines.length;
    const text = docLines.map((line) => line.text).join('\n');
    let copied = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        copied = true;
      } catch {
        // Refused (no permission, page not focused): try the selection.
      }
    }
    if (record !== detailRecord || !el.detail.open) return;
    if (!copied) {
      const selection = selectDocumentText();
      try {
        copied = document.execCommand('copy');
      } catch {
        copied = false;
      }
      if (copied) selection.removeAllRanges();
    }
    showCopied(copied
      ? `Copied ${plural(count, 'line', 'lines')} to the clipboard.`
      : 'The browser did not allow copying. The text is selected: press Ctrl+C (⌘C) to copy it.', !copied);
  }

  function releasePreview() {
    if (previewAbort) previewAbort.abort();
    previewAbort = null;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    el.detailImage.hidden = true;
    el.detailImage.removeAttribute('src');
    placeOutlines();
  }

  async function loadPreview(record, filename) {
    releasePreview();
    const renditions = record.renditions || {};
    // Fall back to the thumbnail when there is no preview; never the original.
    const name = renditions.preview ? 'preview' : renditions.thumb ? 'thumb' : null;
    el.detailPlaceholder.hidden = false;
    if (!name || !record.image_id) {
      el.detailPlaceholder.textContent = 'No preview';
      return;
    }
    el.detailPlaceholder.textContent = 'Loading preview…';
    previewAbort = new AbortController();
    const controller = previewAbort;
    try {
      const blob = await api(renditionPath(record, name), { as: 'blob', signal: controller.signal });
      if (controller.signal.aborted) return;
      previewUrl = URL.createObjectURL(blob);
      el.detailImage.alt = `Preview of ${filename}`;
      el.detailImage.src = previewUrl;
      el.detailImage.hidden = false;
      el.detailPlaceholder.hidden = true;
    } catch (err) {
      if (err.name === 'AbortError') return;
      el.detailPlaceholder.textContent = 'Preview unavailable';
      if (err instanceof ApiError && err.status === 401) {
        el.detail.close();
        showError(err);
      }
    }
  }

  function closeDetail() {
    if (el.detail.open) el.detail.close();
  }

  el.detail.addEventListener('close', () => {
    releasePreview();
    if (recordAbort) recordAbort.abort();
    recordAbort = null;
    clearDocument();
    const opener = detailOpener;
    detailOpener = null;
    if (opener && opener.isConnected && el.error.hidden) opener.focus();
  });
  el.detailClose.addEventListener('click', closeDetail);
  el.detailImage.addEventListener('load', placeOutlines);

  // A line and its outline light up together: hover or focus either.
  el.docLines.addEventListener('mouseover', (event) => setActiveLine(lineIndex(event.target)));
  el.docLines.addEventListener('mouseleave', () => setActiveLine(focusedLine()));
  el.docLines.addEventListener('focusin', (event) => {
    const index = lineIndex(event.target);
    if (index === null) return;
    for (const other of el.docLines.querySelectorAll('.doc-line[tabindex="0"]')) {
      if (other !== event.target) other.tabIndex = -1;
    }
    event.target.tabIndex = 0;
    setActiveLine(index);
  });
  el.docLines.addEventListener('focusout', (event) => {
    if (!el.docLines.contains(event.relatedTarget)) setActiveLine(null);
  });
  el.docLines.addEventListener('keydown', (event) => {
    const index = lineIndex(event.target);
    if (index === null || event.altKey || event.ctrlKey || event.metaKey) return;
    const last = docLines.length - 1;
    const next = {
      ArrowDown: index + 1,
      ArrowUp: index - 1,
      PageDown: index + 10,
      PageUp: index - 10,
      Home: 0,
      End: last,
    }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    focusLine(Math.max(0, Math.min(last, next)));
  });
  el.outlines.addEventListener('mouseover', (event) => setActiveLine(lineIndex(event.target), { reveal: true }));
  el.outlines.addEventListener('mouseleave', () => setActiveLine(focusedLine()));
  el.outlines.addEventListener('click', (event) => {
    const index = lineIndex(event.target);
    if (index !== null) focusLine(index);
  });
  el.docCopy.addEventListener('click', copyDocumentText);
  // A click on the backdrop (the dialog element itself, outside its box).
  el.detail.addEventListener('click', (event) => {
    if (event.target !== el.detail) return;
    const box = el.detail.getBoundingClientRect();
    const inside = event.clientX >= box.left && event.clientX <= box.right &&
      event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) closeDetail();
  });
  el.detailSimilar.addEventListener('click', async () => {
    const record = detailRecord;
    detailOpener = null;
    closeDetail();
    if (!record) return;
    await searchSimilar(record);
    const first = el.results.querySelector('.card');
    (first || el.resultsHeading).focus();
  });

  // ---- wiring ----------------------------------------------------------

  el.keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = el.key.value.trim();
    storeKey(key);
    showKeyState();
    clearError();
    if (!key) {
      showError(new ApiError(401, 'api.unauthorized', 'Enter your API key'));
      return;
    }
    setStatus('Key set. Search by words, by text in the image, or by an image.');
    loadTagSuggestions();
    el.text.focus();
  });

  el.searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = el.text.value.trim();
    const contains = el.contains.value.trim();
    if (!text && !contains) {
      showError(new ApiError(400, 'api.bad_request',
        'Type some words to search for, or the text to find in the images'));
      el.text.focus();
      return;
    }
    if (contains && !hasTerms(contains)) {
      showError(new ApiError(400, 'api.bad_request',
        'Type letters, digits or characters to find in the images: punctuation alone is not searched'));
      el.contains.focus();
      return;
    }
    searchWords(text, contains);
  });

  el.image.addEventListener('change', () => {
    const file = el.image.files && el.image.files[0];
    if (!file) return;
    searchImage(file);
    // Let the same file be chosen again.
    el.image.value = '';
  });

  let dragDepth = 0;
  const dragHasFiles = (event) =>
    event.dataTransfer && Array.from(event.dataTransfer.types || []).includes('Files');
  el.dropzone.addEventListener('dragenter', (event) => {
    if (!dragHasFiles(event)) return;
    event.preventDefault();
    dragDepth += 1;
    el.dropzone.classList.add('is-dragging');
  });
  el.dropzone.addEventListener('dragover', (event) => {
    if (!dragHasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  });
  el.dropzone.addEventListener('dragleave', () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) el.dropzone.classList.remove('is-dragging');
  });
  el.dropzone.addEventListener('drop', (event) => {
    event.preventDefault();
    dragDepth = 0;
    el.dropzone.classList.remove('is-dragging');
    const file = event.dataTransfer && event.dataTransfer.files && event.dataTransfer.files[0];
    if (file) searchImage(file);
  });
  // A file dropped beside the zone must not replace the page.
  for (const type of ['dragover', 'drop']) {
    window.addEventListener(type, (event) => {
      if (!el.dropzone.contains(event.target) && dragHasFiles(event)) event.preventDefault();
    });
  }

  if (currentKey) {
    el.key.value = currentKey;
    loadTagSuggestions();
  }
  showKeyState();
})();
