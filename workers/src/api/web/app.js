// imgtag search page. Plain JavaScript, no build step; served with a strict
// Content-Security-Policy, so there are no inline scripts, styles or event
// attributes: everything is wired here and looks change through classes and
// the `hidden` attribute only.
//
// The API key lives in this tab's sessionStorage and goes out only as
// `Authorization: Bearer`, on every call, including rendition fetches: the
// bytes are turned into blob URLs, so no key ever appears in a URL.
'use strict';

(() => {
  const KEY_STORAGE = 'imgtag.key';
  const LIMIT = 24;
  const CARD_TAGS = 4;
  const TAG_SOURCES = new Set(['classifier', 'hierarchy']);

  const $ = (id) => document.getElementById(id);
  const el = {
    keyForm: $('key-form'),
    key: $('key'),
    keyState: $('key-state'),
    searchForm: $('search-form'),
    text: $('text'),
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
    detailImage: $('detail-image'),
    detailPlaceholder: $('detail-placeholder'),
    detailMeta: $('detail-meta'),
    detailTags: $('detail-tags'),
    detailSimilar: $('detail-similar'),
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

  // ---- searches --------------------------------------------------------

  // Runs one search: `request(signal)` returns the API's promise.
  async function runSearch(label, request) {
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
      showResults(data);
    } catch (err) {
      if (seq !== searchSeq || err.name === 'AbortError') return;
      setStatus('The search failed.');
      showError(err);
    } finally {
      if (seq === searchSeq) el.results.removeAttribute('aria-busy');
    }
  }

  function searchText(text) {
    const params = new URLSearchParams({ text });
    for (const [k, v] of filterParams()) params.append(k, v);
    return runSearch(`for “${text}”`, (signal) => api(`/api/v1/search?${params}`, { signal }));
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

  function showResults(data) {
    clearGrid();
    const hits = Array.isArray(data.hits) ? data.hits : [];
    const query = data.query || '';
    el.results.dataset.query = query;
    const count = `${hits.length} ${hits.length === 1 ? 'hit' : 'hits'}`;
    setStatus(query ? `${query} · ${count}` : count);
    if (hits.length === 0) {
      const empty = make('li', 'empty', 'No images match. Try other words or fewer filters.');
      el.results.append(empty);
      return;
    }
    hits.forEach((hit, index) => el.results.append(card(hit, index)));
  }

  function card(hit, index) {
    const record = hit.record || {};
    const filename = record.filename || record.image_id || 'image';
    const tags = topTags(record, CARD_TAGS);
    const score = formatScore(hit.score);

    const li = make('li', 'result');
    li.dataset.imageId = record.image_id || '';
    li.dataset.filename = record.filename || '';

    const button = make('button', 'card');
    button.type = 'button';
    button.setAttribute('aria-label',
      `${index + 1}. ${filename}, score ${score}${tags.length ? `, tags: ${tags.join(', ')}` : ''}. Show details`);

    const thumb = make('span', 'thumb');
    thumb.append(placeholder(record.renditions && record.renditions.thumb ? 'Loading…' : 'No thumbnail'));
    button.append(thumb);

    const body = make('span', 'card-body');
    const head = make('span', 'card-head');
    head.append(make('span', 'filename', filename));
    const scoreBadge = make('span', 'score');
    scoreBadge.append(make('span', 'score-label', 'score '), make('span', 'score-value', score));
    head.append(scoreBadge);
    body.append(head);
    const tagList = make('span', 'tags');
    for (const tag of tags) tagList.append(make('span', 'tag', tag));
    body.append(tagList);
    button.append(body);

    button.addEventListener('click', () => openDetail(record, button));
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

  function openDetail(record, opener) {
    detailRecord = record;
    detailOpener = opener;
    const filename = record.filename || record.image_id || 'image';
    el.detailTitle.textContent = filename;

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

    loadPreview(record, filename);
    if (!el.detail.open) el.detail.showModal();
    el.detailClose.focus();
  }

  function releasePreview() {
    if (previewAbort) previewAbort.abort();
    previewAbort = null;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    el.detailImage.hidden = true;
    el.detailImage.removeAttribute('src');
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
    const opener = detailOpener;
    detailOpener = null;
    if (opener && opener.isConnected && el.error.hidden) opener.focus();
  });
  el.detailClose.addEventListener('click', closeDetail);
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
    setStatus('Key set. Search by words or by an image.');
    loadTagSuggestions();
    el.text.focus();
  });

  el.searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = el.text.value.trim();
    if (!text) {
      showError(new ApiError(400, 'api.bad_request', 'Type some words to search for'));
      el.text.focus();
      return;
    }
    searchText(text);
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
