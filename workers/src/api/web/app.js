// imgtag search page. Plain JavaScript, no build step; served with a strict
// Content-Security-Policy, so there are no inline scripts, styles or event
// attributes: everything is wired here and looks change through classes and
// the `hidden` attribute only.
//
// The API key lives in this tab's sessionStorage and goes out only as
// `Authorization: Bearer`, on every call, including rendition fetches: the
// bytes are turned into blob URLs, so no key ever appears in a URL.
//
// The page speaks Simplified Chinese and English (the tables below), asks
// the API for answers in the same language (`lang=zh|en` on every call) and
// shows tags by the names the API gives in that language.
//
// Two views share the page: the image search, and the documents expiring
// soon (`/api/v1/documents/expiring`: a window of 7, 30 or 90 days, a
// customer, expired ones or not). Search hits and the image dialog show
// the document an image was read as (type, key fields and their checks)
// and how many faces it shows; personal fields arrive masked from the API
// unless the key may see them, and are shown as they come.
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
  // "Why it matched" badges of each kind shown on a card.
  const WHY_BADGES = 3;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  // How long "Copied" stays up.
  const COPIED_MS = 5000;
  // The built-in document types, in the order the filter offers them (a
  // tenant's own types, learnt from the `document_type` facet, follow).
  const DOC_TYPES = [
    'id_card', 'passport', 'driving_licence', 'business_licence', 'invoice', 'receipt',
    'bank_slip', 'form', 'letter', 'screenshot', 'other_document',
  ];
  // The reading of an image that is not a document.
  const NOT_A_DOCUMENT = 'none';
  // The page's views (`data-view` of the switch's buttons).
  const VIEWS = ['search', 'expiring'];
  // Expiring-documents rows at or below this many days left stand out.
  const SOON_DAYS = 7;
  // A field too long for a row of the expiry list (shown in the dialog).
  const LONG_FIELDS = new Set(['mrz']);

  const $ = (id) => document.getElementById(id);
  const el = {
    langButtons: [...document.querySelectorAll('.lang-option')],
    viewButtons: [...document.querySelectorAll('.view-option')],
    searchView: $('search-view'),
    expiringView: $('expiring-view'),
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
    docType: $('document-type'),
    idPapers: $('include-id-papers'),
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
    paper: $('paper'),
    paperSummary: $('paper-summary'),
    paperTable: $('paper-table'),
    paperFields: $('paper-fields'),
    paperNote: $('paper-note'),
    expiringForm: $('expiring-form'),
    expiringWithin: $('expiring-within'),
    expiringCustomer: $('expiring-customer'),
    expiringExpired: $('expiring-expired'),
    expiringStatus: $('expiring-status'),
    expiringError: $('expiring-error'),
    expiringTable: $('expiring-table'),
    expiringRows: $('expiring-rows'),
    expiringEmpty: $('expiring-empty'),
  };

  // ---- languages -------------------------------------------------------
  //
  // Every word the page shows, in each language it speaks: one table per
  // language with exactly the same keys (`window.imgtagI18n.missing()` lists
  // any difference; the browser test asserts it is empty). Static text in
  // index.html names its key in `data-i18n` (text), `data-i18n-placeholder`,
  // `data-i18n-title` or `data-i18n-aria-label`; everything else goes through
  // `t(key, params)` or `tn(key, count, params)` (plural forms `.one` and
  // `.other`). `{name}` in a message is replaced by `params.name`.
  //
  // The language: the one the user picked (localStorage), else the first of
  // `navigator.languages` that is Chinese (any `zh*`: Simplified Chinese) or
  // English, else English. Switching re-renders the page in place.
  const LANG_STORAGE = 'imgtag.lang';
  const LANGS = ['zh-CN', 'en'];
  // The API's name of each page language (`lang=`, and the answers' `lang`).
  const API_LANG = { 'zh-CN': 'zh', en: 'en' };

  const MESSAGES = {
    en: {
      'page.title': 'imgtag · image search',
      'skip': 'Skip to results',
      'brand.tagline': 'Search your tagged images by words, by the text they show, or by example',
      'lang.label': 'Language',
      'lang.zh-CN': '中文',
      'lang.en': 'English',
      'lang.title.zh-CN': 'Show this page in Chinese',
      'lang.title.en': 'Show this page in English',

      'key.label': 'API key',
      'key.use': 'Use key',
      'key.unset': 'No key set. Kept only in this tab.',
      'key.set': 'Key set for this tab.',
      'key.refused': 'The server refused this key.',

      'search.heading': 'Search and filters',
      'search.words.label': 'Search',
      'search.words.placeholder': 'e.g. coffee on a wooden table',
      'search.words.hint': 'Describe what is in the picture, in plain words',
      'search.contains.label': 'Text in the image',
      'search.contains.placeholder': 'e.g. 发票号码 or 12345678',
      'search.contains.hint': 'Words, numbers or Chinese printed in it; combines with Search',
      'search.submit': 'Search',

      'upload.title': 'Find similar',
      'upload.choose': 'Choose an image',
      'upload.drop': 'or drop one here',
      'upload.hint': 'Shows the stored images that look most like it',
      'upload.queryAlt': 'Query image: {name}',
      'upload.unnamed': 'the upload',

      'filters.legend': 'Filters',
      'filters.legendHint': '(apply to every search)',
      'filters.tags.label': 'Tags',
      'filters.tags.placeholder': 'coffee, cup',
      'filters.tags.hint': 'Comma-separated, in English or Chinese; all must match',
      'filters.tags.separator': ', ',
      'filters.tags.images.one': '{count} image',
      'filters.tags.images.other': '{count} images',
      'filters.since.label': 'Captured since',
      'filters.since.hint': 'On or after this day',
      'filters.until.label': 'Captured until',
      'filters.until.hint': 'Before this day',
      'filters.sensitive': 'Include sensitive images',

      'results.heading': 'Results',
      'footer.before': 'imgtag · the key is sent only as an ',
      'footer.after': ' header and kept in this tab’s session storage.',
      'status.start': 'Enter your API key, then search by words, by text in the image, or by an image.',
      'status.keySet': 'Key set. Search by words, by text in the image, or by an image.',
      'status.searching.text': 'Searching for “{text}”…',
      'status.searching.both': 'Searching for “{text}” among images showing “{contains}”…',
      'status.searching.contains': 'Searching for images showing “{contains}”…',
      'status.searching.image': 'Searching for images like {name}…',
      'status.searching.type': 'Searching for images of the type {type}…',
      'status.failed': 'The search failed.',
      'status.results': '{query} · {count}',
      'query.text': 'text: {text}',
      'query.contains': 'contains: {text}',
      'query.image': 'image: {name}',
      'query.like': 'like: {name}',
      'query.type': 'type: {type}',
      'query.separator': ' · ',
      'results.hits.one': '{count} hit',
      'results.hits.other': '{count} hits',
      'results.none': 'No images match. Try other words or fewer filters.',
      'results.noneContains': 'No images show “{contains}”. Check the spelling, look for fewer words or characters, or loosen the filters.',

      'card.label': '{index}. {filename}, {details}. Show details',
      'card.score': 'score {score}',
      'card.scoreLabel': 'score',
      'card.tags': 'tags: {tags}',
      'card.shows': 'shows: {text}',
      'card.hasText': 'has text',
      'card.document': 'document: {type}',
      'card.faces.one': '{count} face',
      'card.faces.other': '{count} faces',
      'card.why': 'matched by {why}',
      'card.textBadge': 'text',
      'card.textBadgeTitle.one': '{count} line of text read',
      'card.textBadgeTitle.other': '{count} lines of text read',
      'card.moreLines.one': '+{count} more line',
      'card.moreLines.other': '+{count} more lines',
      'card.loading': 'Loading…',
      'card.noThumb': 'No thumbnail',
      'card.thumbFailed': 'Thumbnail unavailable',
      'card.untitled': 'image',
      'list.separator': ', ',
      'list.items': ', ',
      'why.label': 'Why it matched',
      'why.vector': 'meaning {score}',
      'why.text': 'text: {text}',
      'why.tag': 'tag: {tag}',
      'why.more': '+{count}',

      'detail.title': 'Image',
      'detail.close': 'Close',
      'detail.similar': 'More like this',
      'detail.preview.loading': 'Loading preview…',
      'detail.preview.none': 'No preview',
      'detail.preview.failed': 'Preview unavailable',
      'detail.preview.alt': 'Preview of {filename}',
      'detail.tags': 'Tags',
      'detail.tags.tag': 'Tag',
      'detail.tags.score': 'Score',
      'detail.tags.source': 'Source',
      'detail.tags.none': 'No tags',
      'meta.filename': 'Filename',
      'meta.id': 'Image ID',
      'meta.format': 'Format',
      'meta.size': 'Size',
      'meta.sizeValue': '{width} × {height} px',
      'meta.captured': 'Captured',
      'meta.camera': 'Camera',
      'meta.customer': 'Customer',
      'meta.project': 'Project',
      'meta.nsfw': 'NSFW score',
      'meta.nsfwFlagged': '{score} (flagged sensitive)',
      'meta.flags': 'Quality flags',
      'meta.flagsNone': 'none',
      'meta.sharpness': 'Sharpness',
      'meta.ingested': 'Ingested',
      'meta.faces': 'Faces',
      'date.utc': '{date} UTC',
      'quality.too_small': 'too small',
      'quality.blurry': 'blurry',
      'quality.underexposed': 'underexposed',
      'quality.overexposed': 'overexposed',
      'source.classifier': 'classifier',
      'source.hierarchy': 'hierarchy',
      'source.zero-shot': 'zero-shot',
      'source.exif': 'exif',
      'source.check': 'check',
      'source.ocr': 'ocr',

      'doc.heading': 'Text in this image',
      'doc.copy': 'Copy text',
      'doc.linesLabel': 'Lines of text, in reading order',
      'doc.keys': 'Hover or focus a line to see its outline on the image; in the list, ↑ and ↓ move between lines.',
      'doc.lines.one': '{count} line',
      'doc.lines.other': '{count} lines',
      'doc.linesOf': '{shown} of {total} lines',
      'doc.matching.one': '{count} line with “{text}”',
      'doc.matching.other': '{count} lines with “{text}”',
      'doc.chinese': 'includes Chinese',
      'doc.rotated': 'page turned {degrees}° (read upright)',
      'doc.truncated': 'cut at the storage limit',
      'doc.confidence': 'Confidence {value}',
      'doc.noText': 'No text was found in this image.',
      'doc.notRead': 'The text in this image was not read.',
      'doc.notReadGate': 'The text was not read: a quick look found too little text in this image.',
      'doc.noOutlines': 'The outlines are not shown: the preview’s proportions differ from the image’s.',
      'doc.copied.one': 'Copied {count} line to the clipboard.',
      'doc.copied.other': 'Copied {count} lines to the clipboard.',
      'doc.copyFailed': 'The browser did not allow copying. The text is selected: press Ctrl+C (⌘C) to copy it.',

      'views.label': 'Views',
      'views.search': 'Image search',
      'views.expiring': 'Expiring documents',

      'filters.docType.label': 'Document type',
      'filters.docType.any': 'Any image',
      'filters.docType.hint': 'With no words, lists every image of that type',
      'filters.idPapers': 'Include ID papers',
      'filters.idPapers.hint': 'ID cards, passports and driving licences are left out of searches unless this is ticked',

      'doctype.id_card': 'ID card',
      'doctype.passport': 'Passport',
      'doctype.driving_licence': 'Driving licence',
      'doctype.business_licence': 'Business licence',
      'doctype.invoice': 'Invoice',
      'doctype.receipt': 'Receipt',
      'doctype.bank_slip': 'Bank slip',
      'doctype.form': 'Form',
      'doctype.letter': 'Letter',
      'doctype.screenshot': 'Screenshot',
      'doctype.other_document': 'Other document',

      'field.pair': '{name}: {value}',
      'field.id_number': 'ID number',
      'field.name': 'Name',
      'field.sex': 'Sex',
      'field.birth_date': 'Date of birth',
      'field.nationality': 'Nationality',
      'field.document_number': 'Document number',
      'field.mrz': 'Machine-readable zone',
      'field.issuing_state': 'Issuing state',
      'field.issue_date': 'Issue date',
      'field.expiry_date': 'Expiry date',
      'field.credit_code': 'Unified social credit code',
      'field.company_name': 'Company name',
      'field.invoice_code': 'Invoice code',
      'field.invoice_number': 'Invoice number',
      'field.total_amount': 'Total amount',
      'field.seller': 'Seller',
      'field.buyer': 'Buyer',
      'check.valid': 'check passed',
      'check.invalid': 'check failed',
      'check.none': 'no check',

      'paper.heading': 'Recognised document',
      'paper.col.field': 'Field',
      'paper.col.value': 'Value',
      'paper.col.check': 'Check',
      'paper.confidence': 'confidence {value}',
      'paper.side.front': 'front',
      'paper.side.back': 'back',
      'paper.identity': 'ID paper',
      'paper.expires': 'expires {date}',
      'paper.noFields': 'No key fields were read.',
      'paper.masked': 'Stars (*) hide personal details this key may not see.',

      'expiring.heading': 'Expiring documents',
      'expiring.within.label': 'Expiring within',
      'expiring.within.7': '7 days',
      'expiring.within.30': '30 days',
      'expiring.within.90': '90 days',
      'expiring.customer.label': 'Customer',
      'expiring.customer.placeholder': 'All customers',
      'expiring.customer.hint': 'A customer ID; empty for all',
      'expiring.includeExpired': 'Include expired documents',
      'expiring.show': 'Show',
      'expiring.col.expires': 'Expires on',
      'expiring.col.days': 'Days left',
      'expiring.col.type': 'Document',
      'expiring.col.customer': 'Customer',
      'expiring.col.file': 'File',
      'expiring.col.fields': 'Key fields',
      'expiring.loading': 'Looking for documents expiring within {days} days…',
      'expiring.summary': 'Within {days} days of {today}: {count}',
      'expiring.summaryExpired': 'Expired, or expiring within {days} days of {today}: {count}',
      'expiring.count.one': '{count} document',
      'expiring.count.other': '{count} documents',
      'expiring.none': 'No documents expire within {days} days.',
      'expiring.noneExpired': 'No documents expire within {days} days, and none have expired.',
      'expiring.forCustomer': 'Customer {customer}: {text}',
      'expiring.failed': 'The expiring documents could not be listed.',
      'expiring.failedWith': 'The expiring documents could not be listed: {error}',
      'expiring.daysLeft.one': '{count} day',
      'expiring.daysLeft.other': '{count} days',
      'expiring.today': 'expires today',
      'expiring.expiredAgo.one': 'expired {count} day ago',
      'expiring.expiredAgo.other': 'expired {count} days ago',
      'expiring.open': 'Show the image {filename}',

      'error.withCode': '{message} ({code})',
      'error.unexpected': 'Something went wrong: {detail}',
      'error.requestFailed': 'The request failed (HTTP {status})',
      'error.network': 'The server could not be reached ({detail})',
      'error.keyFirst': 'Enter your API key first',
      'error.keyEmpty': 'Enter your API key',
      'error.emptySearch': 'Type some words to search for or the text to find in the images, or pick a document type',
      'error.punctuationOnly': 'Type letters, digits or characters to find in the images: punctuation alone is not searched',
      'error.notAnImage': '{name} is not an image',
      'error.code.api.unauthorized': 'The server refused this API key',
      'error.code.api.unavailable': 'The server is shutting down; try again in a moment',
      'error.code.index.unavailable': 'The search index is not available right now; try again in a moment',
      'error.code.index.not_found': 'The image was not found',
      'error.code.http.408': 'The server took too long to answer; try again',
      'error.code.api.too_large': 'The upload is too large',
      'error.code.image.too_large': 'The image is too large to be searched with',
      'error.code.image.unsupported_format': 'This image format is not supported',
      'error.code.image.corrupt': 'The image file is damaged',
      'error.code.image.truncated': 'The image file is incomplete',
      'error.code.image.empty': 'The image file is empty',
    },
    'zh-CN': {
      'page.title': 'imgtag · 图片搜索',
      'skip': '跳到搜索结果',
      'brand.tagline': '按描述、图中文字或示例图片搜索已打标签的图片',
      'lang.label': '语言',
      'lang.zh-CN': '中文',
      'lang.en': 'English',
      'lang.title.zh-CN': '以中文显示此页面',
      'lang.title.en': '以英文显示此页面',

      'key.label': 'API 密钥',
      'key.use': '使用密钥',
      'key.unset': '尚未设置密钥。密钥只保存在此标签页中。',
      'key.set': '已为此标签页设置密钥。',
      'key.refused': '服务器拒绝了此密钥。',

      'search.heading': '搜索和筛选',
      'search.words.label': '搜索',
      'search.words.placeholder': '例如：木桌上的一杯咖啡',
      'search.words.hint': '用平常的话描述图片里的内容',
      'search.contains.label': '图中文字',
      'search.contains.placeholder': '例如：发票号码 或 12345678',
      'search.contains.hint': '图中印着的文字、数字或中文；可与“搜索”同时使用',
      'search.submit': '搜索',

      'upload.title': '查找相似图片',
      'upload.choose': '选择图片',
      'upload.drop': '或拖放到这里',
      'upload.hint': '显示库中与它最相似的图片',
      'upload.queryAlt': '查询图片：{name}',
      'upload.unnamed': '上传的图片',

      'filters.legend': '筛选',
      'filters.legendHint': '（适用于所有搜索）',
      'filters.tags.label': '标签',
      'filters.tags.placeholder': '咖啡，杯子',
      'filters.tags.hint': '用逗号分隔，中英文均可；须全部符合',
      'filters.tags.separator': '，',
      'filters.tags.images.one': '{count} 张图片',
      'filters.tags.images.other': '{count} 张图片',
      'filters.since.label': '拍摄日期起',
      'filters.since.hint': '含当天及之后',
      'filters.until.label': '拍摄日期止',
      'filters.until.hint': '此日期之前（不含当天）',
      'filters.sensitive': '包含敏感图片',

      'results.heading': '搜索结果',
      'footer.before': 'imgtag · 密钥只通过 ',
      'footer.after': ' 请求头发送，并只保存在此标签页的会话存储中。',
      'status.start': '请输入 API 密钥，然后按描述、图中文字或图片搜索。',
      'status.keySet': '密钥已设置。现在可以按描述、图中文字或图片搜索。',
      'status.searching.text': '正在搜索“{text}”…',
      'status.searching.both': '正在含有“{contains}”的图片中搜索“{text}”…',
      'status.searching.contains': '正在查找含有“{contains}”的图片…',
      'status.searching.image': '正在查找与 {name} 相似的图片…',
      'status.searching.type': '正在查找类型为“{type}”的图片…',
      'status.failed': '搜索失败。',
      'status.results': '{query} · {count}',
      'query.text': '语义搜索：{text}',
      'query.contains': '图中文字：{text}',
      'query.image': '以图搜图：{name}',
      'query.like': '相似图片：{name}',
      'query.type': '文件类型：{type}',
      'query.separator': ' · ',
      'results.hits.one': '{count} 个结果',
      'results.hits.other': '{count} 个结果',
      'results.none': '没有符合条件的图片。请换个说法，或减少筛选条件。',
      'results.noneContains': '没有图片含有“{contains}”。请检查输入是否有误，减少字词，或放宽筛选条件。',

      'card.label': '{index}. {filename}，{details}。查看详情',
      'card.score': '得分 {score}',
      'card.scoreLabel': '得分',
      'card.tags': '标签：{tags}',
      'card.shows': '图中文字：{text}',
      'card.hasText': '含文字',
      'card.document': '文件：{type}',
      'card.faces.one': '{count} 张人脸',
      'card.faces.other': '{count} 张人脸',
      'card.why': '匹配依据：{why}',
      'card.textBadge': '文字',
      'card.textBadgeTitle.one': '已识别 {count} 行文字',
      'card.textBadgeTitle.other': '已识别 {count} 行文字',
      'card.moreLines.one': '另有 {count} 行',
      'card.moreLines.other': '另有 {count} 行',
      'card.loading': '加载中…',
      'card.noThumb': '无缩略图',
      'card.thumbFailed': '缩略图无法显示',
      'card.untitled': '图片',
      'list.separator': '，',
      'list.items': '、',
      'why.label': '匹配原因',
      'why.vector': '语义 {score}',
      'why.text': '文字：{text}',
      'why.tag': '标签：{tag}',
      'why.more': '+{count}',

      'detail.title': '图片',
      'detail.close': '关闭',
      'detail.similar': '查找相似图片',
      'detail.preview.loading': '正在加载预览…',
      'detail.preview.none': '无预览',
      'detail.preview.failed': '预览无法显示',
      'detail.preview.alt': '{filename} 的预览',
      'detail.tags': '标签',
      'detail.tags.tag': '标签',
      'detail.tags.score': '得分',
      'detail.tags.source': '来源',
      'detail.tags.none': '无标签',
      'meta.filename': '文件名',
      'meta.id': '图片 ID',
      'meta.format': '格式',
      'meta.size': '尺寸',
      'meta.sizeValue': '{width} × {height} 像素',
      'meta.captured': '拍摄时间',
      'meta.camera': '相机',
      'meta.customer': '客户',
      'meta.project': '项目',
      'meta.nsfw': '敏感内容得分',
      'meta.nsfwFlagged': '{score}（已标记为敏感）',
      'meta.flags': '质量问题',
      'meta.flagsNone': '无',
      'meta.sharpness': '清晰度',
      'meta.ingested': '入库时间',
      'meta.faces': '人脸',
      'date.utc': '{date}（UTC）',
      'quality.too_small': '尺寸过小',
      'quality.blurry': '模糊',
      'quality.underexposed': '曝光不足',
      'quality.overexposed': '曝光过度',
      'source.classifier': '分类模型',
      'source.hierarchy': '类别归纳',
      'source.zero-shot': '自定义词表',
      'source.exif': 'EXIF 信息',
      'source.check': '质量检查',
      'source.ocr': '文字识别',

      'doc.heading': '图中的文字',
      'doc.copy': '复制文字',
      'doc.linesLabel': '文字行（按阅读顺序）',
      'doc.keys': '将指针移到某一行上或选中该行，即可在图上看到它的轮廓；在列表中可用 ↑ 和 ↓ 切换行。',
      'doc.lines.one': '{count} 行',
      'doc.lines.other': '{count} 行',
      'doc.linesOf': '共 {total} 行，显示 {shown} 行',
      'doc.matching.one': '{count} 行含“{text}”',
      'doc.matching.other': '{count} 行含“{text}”',
      'doc.chinese': '含中文',
      'doc.rotated': '页面旋转了 {degrees}°（已摆正识别）',
      'doc.truncated': '超出存储上限，已截断',
      'doc.confidence': '置信度 {value}',
      'doc.noText': '此图中没有找到文字。',
      'doc.notRead': '未识别此图中的文字。',
      'doc.notReadGate': '未识别文字：快速检查发现此图中的文字太少。',
      'doc.noOutlines': '未显示文字轮廓：预览图的长宽比与原图不同。',
      'doc.copied.one': '已将 {count} 行文字复制到剪贴板。',
      'doc.copied.other': '已将 {count} 行文字复制到剪贴板。',
      'doc.copyFailed': '浏览器不允许复制。文字已选中，请按 Ctrl+C（⌘C）复制。',

      'views.label': '视图',
      'views.search': '图片搜索',
      'views.expiring': '即将到期的证件',

      'filters.docType.label': '文件类型',
      'filters.docType.any': '所有图片',
      'filters.docType.hint': '不填搜索词时，列出该类型的全部图片',
      'filters.idPapers': '包含身份证件',
      'filters.idPapers.hint': '不勾选此项时，搜索结果不含身份证、护照和驾驶证',

      'doctype.id_card': '身份证',
      'doctype.passport': '护照',
      'doctype.driving_licence': '驾驶证',
      'doctype.business_licence': '营业执照',
      'doctype.invoice': '发票',
      'doctype.receipt': '收据',
      'doctype.bank_slip': '银行回单',
      'doctype.form': '表格',
      'doctype.letter': '信件',
      'doctype.screenshot': '截图',
      'doctype.other_document': '其他文件',

      'field.pair': '{name}：{value}',
      'field.id_number': '身份证号码',
      'field.name': '姓名',
      'field.sex': '性别',
      'field.birth_date': '出生日期',
      'field.nationality': '国籍',
      'field.document_number': '证件号码',
      'field.mrz': '机读区',
      'field.issuing_state': '签发国',
      'field.issue_date': '签发日期',
      'field.expiry_date': '有效期至',
      'field.credit_code': '统一社会信用代码',
      'field.company_name': '企业名称',
      'field.invoice_code': '发票代码',
      'field.invoice_number': '发票号码',
      'field.total_amount': '价税合计',
      'field.seller': '销售方',
      'field.buyer': '购买方',
      'check.valid': '校验通过',
      'check.invalid': '校验未通过',
      'check.none': '无校验',

      'paper.heading': '识别出的文件',
      'paper.col.field': '字段',
      'paper.col.value': '内容',
      'paper.col.check': '校验',
      'paper.confidence': '置信度 {value}',
      'paper.side.front': '正面',
      'paper.side.back': '背面',
      'paper.identity': '身份证件',
      'paper.expires': '有效期至 {date}',
      'paper.noFields': '未读取到关键字段。',
      'paper.masked': '此密钥无权查看完整的个人信息，星号（*）处已隐去。',

      'expiring.heading': '即将到期的证件',
      'expiring.within.label': '到期时间',
      'expiring.within.7': '7 天内',
      'expiring.within.30': '30 天内',
      'expiring.within.90': '90 天内',
      'expiring.customer.label': '客户',
      'expiring.customer.placeholder': '全部客户',
      'expiring.customer.hint': '客户 ID；留空则列出全部客户',
      'expiring.includeExpired': '包含已过期的证件',
      'expiring.show': '查看',
      'expiring.col.expires': '到期日期',
      'expiring.col.days': '剩余天数',
      'expiring.col.type': '证件类型',
      'expiring.col.customer': '客户',
      'expiring.col.file': '文件',
      'expiring.col.fields': '关键信息',
      'expiring.loading': '正在查找 {days} 天内到期的证件…',
      'expiring.summary': '自 {today} 起 {days} 天内：{count}',
      'expiring.summaryExpired': '已过期或自 {today} 起 {days} 天内到期：{count}',
      'expiring.count.one': '{count} 份证件',
      'expiring.count.other': '{count} 份证件',
      'expiring.none': '{days} 天内没有到期的证件。',
      'expiring.noneExpired': '{days} 天内没有到期的证件，也没有已过期的证件。',
      'expiring.forCustomer': '客户 {customer}：{text}',
      'expiring.failed': '无法列出即将到期的证件。',
      'expiring.failedWith': '无法列出即将到期的证件：{error}',
      'expiring.daysLeft.one': '{count} 天',
      'expiring.daysLeft.other': '{count} 天',
      'expiring.today': '今天到期',
      'expiring.expiredAgo.one': '已过期 {count} 天',
      'expiring.expiredAgo.other': '已过期 {count} 天',
      'expiring.open': '查看图片 {filename}',

      'error.withCode': '{message}（{code}）',
      'error.unexpected': '出错了：{detail}',
      'error.requestFailed': '请求失败（HTTP {status}）',
      'error.network': '无法连接服务器（{detail}）',
      'error.keyFirst': '请先输入 API 密钥',
      'error.keyEmpty': '请输入 API 密钥',
      'error.emptySearch': '请输入要搜索的描述或要在图中查找的文字，或选择文件类型',
      'error.punctuationOnly': '请输入要在图中查找的字母、数字或汉字：只有标点符号无法搜索',
      'error.notAnImage': '{name} 不是图片',
      'error.code.api.unauthorized': '服务器拒绝了此 API 密钥',
      'error.code.api.unavailable': '服务器正在关闭，请稍后再试',
      'error.code.index.unavailable': '搜索索引暂时不可用，请稍后再试',
      'error.code.index.not_found': '找不到这张图片',
      'error.code.http.408': '服务器响应超时，请重试',
      'error.code.api.too_large': '上传的文件太大',
      'error.code.image.too_large': '图片太大，无法用来搜索',
      'error.code.image.unsupported_format': '不支持这种图片格式',
      'error.code.image.corrupt': '图片文件已损坏',
      'error.code.image.truncated': '图片文件不完整',
      'error.code.image.empty': '图片文件是空的',
    },
  };

  const I18N_ATTRIBUTES = [
    ['data-i18n-placeholder', 'placeholder'],
    ['data-i18n-title', 'title'],
    ['data-i18n-aria-label', 'aria-label'],
  ];
  const I18N_SELECTOR = ['[data-i18n]', ...I18N_ATTRIBUTES.map(([data]) => `[${data}]`)].join(',');

  function initialLang() {
    try {
      const chosen = localStorage.getItem(LANG_STORAGE);
      if (LANGS.includes(chosen)) return chosen;
    } catch {
      // Storage may be disabled: fall back on the browser's languages.
    }
    const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
    for (const tag of wanted) {
      const code = String(tag || '').toLowerCase();
      if (code === 'zh' || code.startsWith('zh-')) return 'zh-CN';
      if (code === 'en' || code.startsWith('en-')) return 'en';
    }
    return 'en';
  }

  let lang = initialLang();
  // Keys asked for that no table has (a bug: `missing()` reports them).
  const unknownKeys = new Set();
  let pluralRules = new Intl.PluralRules(lang);

  function hasMessage(key) {
    return Object.hasOwn(MESSAGES[lang], key);
  }

  // The message `key` in the page's language, `{name}` replaced by params.
  function t(key, params = {}) {
    let text = MESSAGES[lang][key];
    if (typeof text !== 'string') {
      unknownKeys.add(key);
      text = MESSAGES.en[key] ?? key;
    }
    return text.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
  }

  // A message with a count: `key.one` or `key.other`, as the language's
  // plural rules say; `{count}` is the count, formatted.
  function tn(key, count, params = {}) {
    const form = `${key}.${pluralRules.select(count)}`;
    return t(hasMessage(form) ? form : `${key}.other`, { ...params, count: formatCount(count) });
  }

  function placeholders(text) {
    return [...String(text).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
  }

  // What is wrong with the tables: a key one language lacks, an empty
  // message, placeholders that differ between languages, a key the page
  // names (data-i18n*) or asked for that no table has. [] when complete.
  function missing() {
    const problems = [];
    for (const a of LANGS) {
      for (const [key, text] of Object.entries(MESSAGES[a])) {
        if (typeof text !== 'string' || !text.trim()) problems.push(`${a}: ${key} is empty`);
        for (const b of LANGS) {
          if (b === a) continue;
          if (!Object.hasOwn(MESSAGES[b], key)) problems.push(`${b}: no ${key}`);
          else if (a < b && placeholders(text) !== placeholders(MESSAGES[b][key])) {
            problems.push(`${key}: placeholders differ between ${a} and ${b}`);
          }
        }
      }
    }
    for (const node of document.querySelectorAll(I18N_SELECTOR)) {
      for (const attribute of ['data-i18n', ...I18N_ATTRIBUTES.map(([data]) => data)]) {
        const key = node.getAttribute(attribute);
        if (key === null) continue;
        for (const l of LANGS) {
          if (!Object.hasOwn(MESSAGES[l], key)) problems.push(`${l}: no ${key} (page, ${attribute})`);
        }
      }
    }
    for (const key of unknownKeys) problems.push(`asked for unknown key ${key}`);
    return problems;
  }

  const numberFormats = new Map();
  function numberFormat(digits) {
    const id = `${lang}/${digits}`;
    if (!numberFormats.has(id)) {
      numberFormats.set(id, new Intl.NumberFormat(lang, digits === null
        ? { maximumFractionDigits: 0 }
        : { minimumFractionDigits: digits, maximumFractionDigits: digits }));
    }
    return numberFormats.get(id);
  }

  function formatCount(count) {
    return numberFormat(null).format(count);
  }

  function formatDecimal(value, digits) {
    return numberFormat(digits).format(value);
  }

  // Puts the static text of index.html in the page's language.
  function applyStatic() {
    document.documentElement.lang = lang;
    for (const node of document.querySelectorAll('[data-i18n]')) {
      node.textContent = t(node.dataset.i18n);
    }
    for (const [data, attribute] of I18N_ATTRIBUTES) {
      for (const node of document.querySelectorAll(`[${data}]`)) {
        node.setAttribute(attribute, t(node.getAttribute(data)));
      }
    }
    for (const button of document.querySelectorAll('.lang-option')) {
      button.setAttribute('aria-pressed', String(button.dataset.lang === lang));
    }
  }

  // Tag display names by language, learnt from the API: each answer's
  // `tag_labels` (in the language it answered in) and the friendly-tag
  // vocabulary (`/api/v1/tags`, which names every tag in both languages).
  const tagLabels = { en: new Map(), 'zh-CN': new Map() };
  // The vocabulary: [{name, en, zh}].
  let vocabulary = [];

  // The page language of an API language (`zh`, `en`), or null.
  function pageLangOf(apiLang) {
    const code = String(apiLang || '').toLowerCase();
    if (code === 'zh' || code.startsWith('zh-')) return 'zh-CN';
    if (code === 'en' || code.startsWith('en-')) return 'en';
    return null;
  }

  function learnLabels(labels, forLang) {
    if (!forLang || !labels || typeof labels !== 'object' || Array.isArray(labels)) return;
    for (const [name, label] of Object.entries(labels)) {
      if (typeof label === 'string' && label.trim()) tagLabels[forLang].set(name, label.trim());
    }
  }

  // Learns the tag labels an API answer carries; `sent`: the language asked.
  function learnAnswer(data, sent) {
    if (!data || typeof data !== 'object') return;
    const forLang = pageLangOf(data.lang) || sent;
    learnLabels(data.tag_labels, forLang);
    if (Array.isArray(data.hits)) {
      for (const hit of data.hits) {
        learnLabels(hit && hit.tag_labels, forLang);
        learnLabels(hit && hit.record && hit.record.tag_labels, forLang);
      }
    }
  }

  function learnVocabulary(data) {
    const tags = data && Array.isArray(data.tags) ? data.tags : [];
    vocabulary = tags.filter((tag) => tag && typeof tag.name === 'string' && tag.name).map((tag) => ({
      name: tag.name,
      en: typeof tag.en === 'string' && tag.en.trim() ? tag.en.trim() : tag.name,
      zh: typeof tag.zh === 'string' && tag.zh.trim() ? tag.zh.trim() : null,
    }));
    for (const tag of vocabulary) {
      tagLabels.en.set(tag.name, tag.en);
      if (tag.zh) tagLabels['zh-CN'].set(tag.name, tag.zh);
    }
    const forLang = pageLangOf(data && data.lang);
    if (forLang) {
      for (const tag of tags) {
        if (tag && typeof tag.name === 'string' && typeof tag.label === 'string' && tag.label.trim()) {
          tagLabels[forLang].set(tag.name, tag.label.trim());
        }
      }
    }
  }

  // A tag as the page shows it: its name in the page's language when the
  // API gave one, else the tag itself.
  function tagLabel(name, inLang = lang) {
    return tagLabels[inLang].get(name) || name;
  }

  // The tag a user typed (its name, or its name in either language), as
  // the API names it: a friendly tag, else a tag in use, else a tag whose
  // label the API gave; unknown words go as typed.
  function tagNameOf(typed) {
    const wanted = typed.normalize('NFKC').trim().toLowerCase();
    if (!wanted) return '';
    const same = (text) => typeof text === 'string' && text.normalize('NFKC').trim().toLowerCase() === wanted;
    for (const tag of vocabulary) {
      if (same(tag.name) || same(tag.en) || same(tag.zh)) return tag.name;
    }
    for (const { value } of tagCounts) {
      if (same(value)) return value;
    }
    for (const l of LANGS) {
      for (const [name, label] of tagLabels[l]) {
        if (same(name) || same(label)) return name;
      }
    }
    return typed.trim();
  }

  // The tags typed in the filter (commas of either language, or 、).
  function typedTags() {
    return el.tag.value.split(/[,，、;；]/).map((tag) => tag.trim()).filter(Boolean);
  }

  // What the page shows, kept so that a language switch can show it again:
  // the key's state, the status line and the error (each a message key and
  // its parameters, or an error), the last results and what they were for.
  let keyStatus = 'unset';
  let status = { key: 'status.start', params: {} };
  let shownError = null;
  let shownResults = null;
  let queryImageName = null;
  // The open dialog: what the preview placeholder says, the `contains`
  // search that opened it, what "Copy text" said.
  let previewState = 'loading';
  let detailContains = '';
  let copiedState = null;

  // The grid's thumbnails: per image id, the promise of its blob URL and,
  // once painted, the URL; every URL made (revoked when the grid is
  // replaced). A re-render in another language reuses them. Also the blob
  // URLs of the open preview and of the uploaded query image.
  let grid = { thumbs: new Map(), ready: new Map(), urls: [] };
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
  // The `tag` facet: [{value, count}], for the tag suggestions.
  let tagCounts = [];
  // The document types in use (the `document_type` facet's values), for
  // the tenant's own types in the filter.
  let docTypesInUse = [];
  // The view shown: `search` or `expiring`.
  let view = 'search';
  // The expiring-documents view: what was asked ({days, customer,
  // includeExpired}), the answer shown (with what it answered), the error,
  // whether a request is under way; each request gets a number.
  const expiring = { seq: 0, abort: null, asked: null, shown: null, error: null, loading: false };

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
    keyStatus = currentKey ? 'set' : 'unset';
    renderKeyState();
  }

  function renderKeyState() {
    el.keyState.textContent = t(`key.${keyStatus}`);
    el.keyState.classList.toggle('is-set', keyStatus === 'set');
    el.keyState.classList.toggle('is-refused', keyStatus === 'refused');
  }

  // ---- API -------------------------------------------------------------

  // An error to show: the API's code and message, or (`key`, `params`) a
  // message of the page's own.
  class ApiError extends Error {
    constructor(status, code, message, key = null, params = {}) {
      super(message || key || code);
      this.status = status;
      this.code = code;
      this.key = key;
      this.params = params;
    }
  }

  // `path` with the page's language for the API (`lang=zh|en`).
  function withLang(path, apiLang) {
    const url = new URL(path, location.origin);
    url.searchParams.set('lang', apiLang);
    return `${url.pathname}${url.search}`;
  }

  async function api(path, { method = 'GET', body, signal, as = 'json' } = {}) {
    if (!currentKey) {
      throw new ApiError(401, 'api.unauthorized', '', 'error.keyFirst');
    }
    const sent = lang;
    let response;
    try {
      response = await fetch(withLang(path, API_LANG[sent]), {
        method,
        body,
        signal,
        headers: {
          Authorization: `Bearer ${currentKey}`,
          Accept: as === 'json' ? 'application/json' : '*/*',
          'Accept-Language': sent,
        },
        credentials: 'omit',
        // Renditions carry an ETag and a private max-age (varying on the
        // key); search answers are always asked afresh.
        cache: as === 'blob' ? 'default' : 'no-cache',
      });
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new ApiError(0, 'network', err.message, 'error.network', { detail: err.message });
    }
    if (!response.ok) {
      let code = `http.${response.status}`;
      let message = '';
      try {
        const data = await response.json();
        if (data && data.error) {
          code = data.error.code || code;
          message = data.error.message || message;
        }
      } catch {
        // Not a JSON error body: keep the HTTP status.
      }
      throw message
        ? new ApiError(response.status, code, message)
        : new ApiError(response.status, code, '', 'error.requestFailed', { status: response.status });
    }
    if (as === 'blob') return response.blob();
    const data = await response.json();
    learnAnswer(data, sent);
    return data;
  }

  // ---- status and errors ----------------------------------------------

  // The status line: a message and its parameters; a parameter given as a
  // function is worked out each time the line is said (in the page's
  // language then).
  function setStatus(key, params = {}) {
    status = { key, params };
    renderStatus();
  }

  function renderStatus() {
    const params = Object.fromEntries(Object.entries(status.params)
      .map(([name, value]) => [name, typeof value === 'function' ? value() : value]));
    el.status.textContent = t(status.key, params);
  }

  function clearError() {
    shownError = null;
    el.error.hidden = true;
    el.error.textContent = '';
  }

  // An error as the page says it: the page's own message, or a known API
  // code's, or the API's message; then the code.
  function errorText(err) {
    if (!(err instanceof ApiError)) {
      return t('error.unexpected', { detail: err && err.message ? err.message : String(err) });
    }
    const known = `error.code.${err.code}`;
    const message = err.key ? t(err.key, err.params) : hasMessage(known) ? t(known) : err.message;
    return t('error.withCode', { message, code: err.code });
  }

  function renderError() {
    if (!shownError) return;
    el.error.textContent = errorText(shownError);
    el.error.hidden = false;
  }

  function showError(err) {
    shownError = err;
    renderError();
    noteRefused(err);
  }

  // A refused key (401): the key field says so and takes the focus.
  function noteRefused(err) {
    if (!(err instanceof ApiError) || err.status !== 401) return;
    if (currentKey) {
      keyStatus = 'refused';
      renderKeyState();
    }
    el.key.focus();
    el.key.select();
  }

  // ---- filters ---------------------------------------------------------

  function filterParams() {
    const params = new URLSearchParams();
    for (const typed of typedTags()) {
      const name = tagNameOf(typed);
      if (name) params.append('tag', name);
    }
    if (el.since.value) params.set('since', el.since.value);
    if (el.until.value) params.set('until', el.until.value);
    if (el.sensitive.checked) params.set('include_sensitive', 'true');
    if (el.docType.value) params.append('document_type', el.docType.value);
    if (el.idPapers.checked) params.set('include_id_papers', 'true');
    params.set('limit', String(LIMIT));
    return params;
  }

  // A document type as the page shows it: its name in the page's language,
  // a tenant's own type as its id.
  function docTypeName(type) {
    return named('doctype', type);
  }

  // The document-type filter: any, each built-in type, then the tenant's
  // own types in use; the choice kept across a re-render.
  function renderDocTypeOptions() {
    const chosen = el.docType.value;
    const types = [...DOC_TYPES];
    for (const type of docTypesInUse) {
      if (!types.includes(type)) types.push(type);
    }
    if (chosen && !types.includes(chosen)) types.push(chosen);
    const any = make('option', '', t('filters.docType.any'));
    any.value = '';
    any.dataset.i18n = 'filters.docType.any';
    el.docType.replaceChildren(any, ...types.map((type) => {
      const option = make('option', '', docTypeName(type));
      option.value = type;
      return option;
    }));
    el.docType.value = chosen;
  }

  // The tags in use (the `tag` facet, with counts) and the friendly-tag
  // vocabulary, for suggestions and to understand tags typed in either
  // language.
  async function loadTagSuggestions() {
    if (!currentKey) return;
    const [facet, tags, types] = await Promise.allSettled([
      api('/api/v1/facets/tag?limit=100'),
      api('/api/v1/tags'),
      api('/api/v1/facets/document_type?include_id_papers=true&limit=100'),
    ]);
    if (facet.status === 'fulfilled') {
      tagCounts = (facet.value.counts || []).filter((c) => c && typeof c.value === 'string');
    }
    if (tags.status === 'fulfilled') learnVocabulary(tags.value);
    if (types.status === 'fulfilled') {
      docTypesInUse = (types.value.counts || [])
        .map((c) => c && c.value)
        .filter((value) => typeof value === 'string' && value && value !== NOT_A_DOCUMENT);
    }
    renderTagSuggestions();
    renderDocTypeOptions();
    // Suggestions are a nicety; only a refused key is worth saying.
    const refused = [facet, tags, types].find((r) => r.status === 'rejected' &&
      r.reason instanceof ApiError && r.reason.status === 401);
    if (refused) showError(refused.reason);
  }

  // One option per tag: the tag in the page's language (what goes in the
  // field), described by its name in the other language and its count.
  function renderTagSuggestions() {
    const other = lang === 'en' ? 'zh-CN' : 'en';
    const counts = new Map(tagCounts.map(({ value, count }) => [value, count]));
    const names = [...counts.keys()];
    for (const tag of vocabulary) {
      if (!counts.has(tag.name)) names.push(tag.name);
    }
    const seen = new Set();
    const options = [];
    for (const name of names) {
      const value = tagLabel(name);
      if (seen.has(value)) continue;
      seen.add(value);
      const option = document.createElement('option');
      option.value = value;
      const alias = tagLabel(name, other);
      const parts = [];
      if (alias !== value) parts.push(alias);
      else if (name !== value) parts.push(name);
      if (counts.has(name)) parts.push(tn('filters.tags.images', counts.get(name)));
      if (parts.length) option.label = parts.join(' · ');
      option.dataset.tag = name;
      options.push(option);
    }
    el.tagSuggestions.replaceChildren(...options);
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
  // says what the search is for: `kind` (text, contains, both, image,
  // like, type), `text`, `contains` (the text searched for in the images),
  // `name` (the example image), `type` (the document type filtered on).
  async function runSearch(context, request) {
    const seq = ++searchSeq;
    if (searchAbort) searchAbort.abort();
    searchAbort = new AbortController();
    const { signal } = searchAbort;
    clearError();
    setStatus(`status.searching.${context.kind === 'like' ? 'image' : context.kind}`, {
      text: context.text,
      contains: context.contains,
      name: () => context.name || t('upload.unnamed'),
      type: () => docTypeName(context.type || ''),
    });
    el.results.setAttribute('aria-busy', 'true');
    try {
      const data = await request(signal);
      if (seq !== searchSeq) return;
      showResults(data, context);
    } catch (err) {
      if (seq !== searchSeq || err.name === 'AbortError') return;
      setStatus('status.failed');
      showError(err);
    } finally {
      if (seq === searchSeq) el.results.removeAttribute('aria-busy');
    }
  }

  // Words (`text`), text in the image (`contains`), or both: then the words
  // rank only the images showing the text. Neither: the images of the
  // document type chosen in the filters.
  function searchWords(text, contains) {
    const params = new URLSearchParams();
    if (text) params.set('text', text);
    if (contains) params.set('contains', contains);
    for (const [k, v] of filterParams()) params.append(k, v);
    const type = el.docType.value;
    const kind = text && contains ? 'both' : text ? 'text' : contains ? 'contains' : 'type';
    return runSearch({ kind, text, contains, type }, (signal) => api(`/api/v1/search?${params}`, { signal }));
  }

  function searchImage(file) {
    if (file.type && !file.type.startsWith('image/')) {
      showError(new ApiError(0, 'upload.not_an_image', '', 'error.notAnImage', { name: file.name }));
      return Promise.resolve();
    }
    showQueryImage(file);
    const form = new FormData();
    form.append('image', file, file.name || 'upload');
    return runSearch({ kind: 'image', name: file.name || '' }, (signal) =>
      api(`/api/v1/search/image?${filterParams()}`, { method: 'POST', body: form, signal }));
  }

  function searchSimilar(record) {
    const id = encodeURIComponent(record.image_id);
    return runSearch({ kind: 'like', name: record.filename || record.image_id }, (signal) =>
      api(`/api/v1/images/${id}/similar?${filterParams()}`, { signal }));
  }

  function showQueryImage(file) {
    if (queryImageUrl) URL.revokeObjectURL(queryImageUrl);
    queryImageUrl = URL.createObjectURL(file);
    queryImageName = file.name || '';
    el.queryImage.src = queryImageUrl;
    renderQueryImage();
    el.queryImage.hidden = false;
  }

  function renderQueryImage() {
    if (queryImageName === null) return;
    el.queryImage.alt = t('upload.queryAlt', { name: queryImageName || t('upload.unnamed') });
  }

  // What a search was for, as the status line says it.
  function describeSearch(context) {
    const name = context.name || t('upload.unnamed');
    switch (context.kind) {
      case 'text':
        return t('query.text', { text: context.text });
      case 'contains':
        return t('query.contains', { text: context.contains });
      case 'both':
        return [t('query.text', { text: context.text }), t('query.contains', { text: context.contains })]
          .join(t('query.separator'));
      case 'image':
        return t('query.image', { name });
      case 'like':
        return t('query.like', { name });
      case 'type':
        return t('query.type', { type: docTypeName(context.type || '') });
      default:
        return '';
    }
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
    return typeof score === 'number' && Number.isFinite(score) ? formatDecimal(score, 3) : '–';
  }

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The document a record shows (`record.document`), or null for none.
  function paperOf(record) {
    const doc = record && record.document;
    if (!doc || typeof doc !== 'object' || typeof doc.type !== 'string') return null;
    return doc.type && doc.type !== NOT_A_DOCUMENT ? doc : null;
  }

  // How many faces were found (`record.faces`), or null when not looked for.
  function faceCount(record) {
    const faces = record && record.faces;
    if (!faces || typeof faces !== 'object') return null;
    if (Number.isInteger(faces.count) && faces.count >= 0) return faces.count;
    return Array.isArray(faces.faces) ? faces.faces.length : null;
  }

  function strings(value) {
    return Array.isArray(value) ? value.filter((v) => typeof v === 'string' && v.trim()) : [];
  }

  // Why a hit matched (the API's `why`, when it gives one): its semantic
  // similarity, the words found in its text, the tags that matched.
  function whyBadges(hit) {
    const why = hit && hit.why && typeof hit.why === 'object' ? hit.why : null;
    if (!why) return [];
    const badges = [];
    if (typeof why.vector === 'number' && Number.isFinite(why.vector)) {
      badges.push({ kind: 'vector', text: t('why.vector', { score: formatDecimal(why.vector, 2) }) });
    }
    const add = (kind, values, say) => {
      for (const value of values.slice(0, WHY_BADGES)) badges.push({ kind, value, text: say(value) });
      if (values.length > WHY_BADGES) {
        badges.push({ kind, text: t('why.more', { count: formatCount(values.length - WHY_BADGES) }) });
      }
    };
    add('text', strings(why.text), (word) => t('why.text', { text: word }));
    add('tag', strings(why.tags), (tag) => t('why.tag', { tag: tagLabel(tag) }));
    return badges;
  }

  function clearGrid() {
    for (const url of grid.urls) URL.revokeObjectURL(url);
    grid = { thumbs: new Map(), ready: new Map(), urls: [] };
    el.results.replaceChildren();
  }

  function showResults(data, context = {}) {
    clearGrid();
    shownResults = { data: data || {}, context };
    renderResults();
  }

  // The grid for the last answer, in the page's language (again after a
  // switch: the thumbnails already fetched are reused).
  function renderResults() {
    const { data, context } = shownResults;
    el.results.replaceChildren();
    const hits = Array.isArray(data.hits) ? data.hits : [];
    const contains = context.contains || '';
    // The API's own description of the query (`text: …`, `contains: …`).
    el.results.dataset.query = typeof data.query === 'string' ? data.query : '';
    if (contains) el.results.dataset.contains = contains;
    else delete el.results.dataset.contains;
    setStatus('status.results', {
      query: () => describeSearch(context),
      count: () => tn('results.hits', hits.length),
    });
    if (hits.length === 0) {
      const empty = make('li', 'empty', contains
        ? t('results.noneContains', { contains })
        : t('results.none'));
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
      box.append(make('span', 'snippet-more', tn('card.moreLines', matches.size - shown)));
    }
    return { box, texts };
  }

  function card(hit, index, contains) {
    const record = hit.record || {};
    const filename = record.filename || record.image_id || t('card.untitled');
    const tags = topTags(record, CARD_TAGS);
    const score = formatScore(hit.score);
    const lines = ocrLines(record.ocr);
    const found = contains && lines.length ? snippet(lines, contains) : null;
    const why = whyBadges(hit);
    const items = t('list.items');
    const paper = paperOf(record);
    const faces = faceCount(record);

    const li = make('li', 'result');
    li.dataset.imageId = record.image_id || '';
    li.dataset.filename = record.filename || '';

    const button = make('button', 'card');
    button.type = 'button';
    const details = [t('card.score', { score })];
    if (tags.length) details.push(t('card.tags', { tags: tags.map((tag) => tagLabel(tag)).join(items) }));
    if (found) details.push(t('card.shows', { text: found.texts.join(' / ') }));
    else if (lines.length) details.push(t('card.hasText'));
    if (paper) details.push(t('card.document', { type: docTypeName(paper.type) }));
    if (faces) details.push(tn('card.faces', faces));
    if (why.length) details.push(t('card.why', { why: why.map((badge) => badge.text).join(items) }));
    button.setAttribute('aria-label', t('card.label', {
      index: formatCount(index + 1),
      filename,
      details: details.join(t('list.separator')),
    }));

    const thumb = make('span', 'thumb');
    const hasThumb = Boolean(record.renditions && record.renditions.thumb && record.image_id);
    const painted = hasThumb ? grid.ready.get(record.image_id) : null;
    if (painted) thumb.append(thumbImage(painted, filename));
    else thumb.append(hasThumb ? placeholder(t('card.loading'), 'is-loading') : placeholder(t('card.noThumb')));
    button.append(thumb);
    if (lines.length) {
      const badge = make('span', 'badge-text', t('card.textBadge'));
      badge.title = tn('card.textBadgeTitle', lines.length);
      button.append(badge);
      li.dataset.lines = String(lines.length);
    }

    const body = make('span', 'card-body');
    const head = make('span', 'card-head');
    head.append(make('span', 'filename', filename));
    const scoreBadge = make('span', 'score');
    scoreBadge.append(make('span', 'score-label', `${t('card.scoreLabel')} `), make('span', 'score-value', score));
    head.append(scoreBadge);
    body.append(head);
    if (paper || faces) {
      const facts = make('span', 'card-facts');
      if (paper) {
        const chip = make('span', 'card-doc', docTypeName(paper.type));
        chip.dataset.type = paper.type;
        facts.append(chip);
      }
      if (faces) facts.append(make('span', 'card-faces', tn('card.faces', faces)));
      body.append(facts);
    }
    if (why.length) {
      const box = make('span', 'why');
      box.title = t('why.label');
      for (const badge of why) {
        const node = make('span', `why-badge why-${badge.kind}`, badge.text);
        if (badge.value !== undefined) node.dataset.value = badge.value;
        box.append(node);
      }
      body.append(box);
    }
    if (found) body.append(found.box);
    const tagList = make('span', 'tags');
    for (const tag of tags) {
      const chip = make('span', 'tag', tagLabel(tag));
      chip.dataset.tag = tag;
      tagList.append(chip);
    }
    body.append(tagList);
    button.append(body);

    button.addEventListener('click', () => openDetail(record, button, contains));
    li.append(button);

    if (hasThumb && !painted) loadThumb(record, filename, thumb);
    return li;
  }

  function placeholder(text, state) {
    const node = make('span', 'placeholder', text);
    if (state) node.classList.add(state);
    return node;
  }

  function renditionPath(record, name) {
    return `/api/v1/images/${encodeURIComponent(record.image_id)}/renditions/${name}`;
  }

  // The blob URL of a record's thumbnail, fetched once per grid.
  function thumbUrl(record) {
    const current = grid;
    let promise = current.thumbs.get(record.image_id);
    if (!promise) {
      promise = api(renditionPath(record, 'thumb'), { as: 'blob' }).then((blob) => {
        const url = URL.createObjectURL(blob);
        current.urls.push(url);
        // The grid was replaced meanwhile (its URLs already revoked).
        if (grid !== current) URL.revokeObjectURL(url);
        return url;
      });
      current.thumbs.set(record.image_id, promise);
    }
    return promise;
  }

  function thumbImage(url, filename) {
    const img = document.createElement('img');
    img.alt = filename;
    img.src = url;
    return img;
  }

  async function loadThumb(record, filename, container) {
    const current = grid;
    const stale = () => grid !== current || !container.isConnected;
    try {
      const url = await thumbUrl(record);
      if (stale()) return;
      const img = thumbImage(url, filename);
      // Swap the placeholder out only once the picture can be painted.
      try {
        await img.decode();
      } catch {
        if (!stale()) container.replaceChildren(placeholder(t('card.thumbFailed')));
        return;
      }
      if (grid === current) current.ready.set(record.image_id, url);
      if (stale()) return;
      container.replaceChildren(img);
    } catch (err) {
      if (stale()) return;
      container.replaceChildren(placeholder(t('card.thumbFailed')));
      // Said once, not again by each card or re-render sharing the failure.
      if (err instanceof ApiError && err.status === 401 && !err.shown) {
        err.shown = true;
        showError(err);
      }
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
    const text = new Intl.DateTimeFormat(lang, {
      dateStyle: 'medium',
      timeStyle: 'medium',
      timeZone: 'UTC',
      hourCycle: 'h23',
    }).format(date);
    return t('date.utc', { date: text });
  }

  // A day (`YYYY-MM-DD`, or the day of an RFC 3339 time) in the page's
  // language; what the API said when it is no date.
  function formatDay(value) {
    const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value || ''));
    if (!day) return value ? String(value) : null;
    const date = new Date(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])));
    if (Number.isNaN(date.getTime())) return String(value);
    return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
  }

  // A closed set's value (quality flag, tag source) in the page's
  // language, or as the API says it.
  function named(prefix, value) {
    return hasMessage(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value;
  }

  // `contains`: the text the opening search looked for (its lines are
  // marked in the document view).
  function openDetail(record, opener, contains = '') {
    detailRecord = record;
    detailOpener = opener;
    detailContains = contains;
    showRecord(record);
    showDocument(record, contains);
    loadPreview(record);
    loadRecord(record, contains);
    if (!el.detail.open) el.detail.showModal();
    el.detailClose.focus();
    revealFirstMatch();
  }

  // The stored record, afresh: a search hit may carry less than the record
  // (and the record may have changed since the search); after a language
  // switch, its tags' names in the new language.
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
      // Opened from a row of the expiry list, which names no renditions.
      if (!record.renditions && full.renditions) loadPreview(full);
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
    el.detailTitle.textContent = record.filename || record.image_id || t('card.untitled');

    const meta = record.metadata || {};
    const nsfw = record.nsfw || {};
    const quality = record.quality || {};
    const items = t('list.items');
    const flags = Array.isArray(quality.flags) && quality.flags.length
      ? quality.flags.map((flag) => named('quality', flag)).join(items)
      : t('meta.flagsNone');
    const nsfwText = typeof nsfw.score === 'number'
      ? nsfw.flagged ? t('meta.nsfwFlagged', { score: formatScore(nsfw.score) }) : formatScore(nsfw.score)
      : null;
    const idCode = make('code', '', record.image_id || '');
    el.detailMeta.replaceChildren(
      metaRow(t('meta.filename'), record.filename),
      metaRow(t('meta.id'), idCode),
      metaRow(t('meta.format'), meta.format),
      metaRow(t('meta.size'), meta.width && meta.height
        ? t('meta.sizeValue', { width: meta.width, height: meta.height })
        : null),
      metaRow(t('meta.captured'), formatDate(meta.captured_at)),
      metaRow(t('meta.camera'), meta.camera),
      metaRow(t('meta.customer'), record.customer_id),
      metaRow(t('meta.project'), record.project_id),
      metaRow(t('meta.nsfw'), nsfwText),
      metaRow(t('meta.flags'), flags),
      metaRow(t('meta.sharpness'), typeof quality.sharpness === 'number' ? formatDecimal(quality.sharpness, 1) : null),
      metaRow(t('meta.ingested'), formatDate(record.ingested_at)),
    );
    const faces = faceCount(record);
    if (faces !== null) el.detailMeta.append(metaRow(t('meta.faces'), formatCount(faces)));
    showPaper(record);

    const scores = record.tag_scores || {};
    const rows = Object.entries(scores)
      .sort((a, b) => ((b[1] && b[1].score) ?? 0) - ((a[1] && a[1].score) ?? 0));
    for (const tag of record.tags || []) {
      if (!(tag in scores)) rows.push([tag, null]);
    }
    el.detailTags.replaceChildren(...rows.map(([tag, s]) => {
      const tr = document.createElement('tr');
      tr.dataset.tag = tag;
      const label = tagLabel(tag);
      const name = make('td', '', label);
      // The tag as stored, beside a translated name.
      if (label !== tag) name.append(' ', make('span', 'tag-name', tag));
      tr.append(
        name,
        make('td', 'num', s ? formatScore(s.score) : '–'),
        make('td', '', s && s.source ? named('source', s.source) : '–'),
      );
      return tr;
    }));
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = make('td', '', t('detail.tags.none'));
      td.colSpan = 3;
      tr.append(td);
      el.detailTags.append(tr);
    }
  }

  // ---- recognised document: type and key fields -------------------------

  // The fields of a document reading: [{name, value, valid}] (value with
  // its unit; `valid` true, false or null when the field has no check).
  function paperFields(doc) {
    const fields = doc && Array.isArray(doc.fields) ? doc.fields : [];
    return fields
      .filter((field) => field && typeof field.name === 'string' && typeof field.value === 'string')
      .map((field) => ({
        name: field.name,
        value: typeof field.unit === 'string' && field.unit ? `${field.value} ${field.unit}` : field.value,
        valid: typeof field.valid === 'boolean' ? field.valid : null,
      }));
  }

  // A field's check as a mark (✓ passed, ✗ failed), said in words to
  // assistive technology; null when the field has no check.
  function checkMark(valid) {
    if (valid === null) return null;
    const words = t(valid ? 'check.valid' : 'check.invalid');
    const mark = make('span', valid ? 'check is-valid' : 'check is-invalid');
    mark.title = words;
    mark.append(make('span', '', valid ? '✓' : '✗'), make('span', 'visually-hidden', words));
    mark.firstChild.setAttribute('aria-hidden', 'true');
    return mark;
  }

  // Masked values carry stars (the API hides personal details the key may
  // not see).
  function isMasked(fields) {
    return fields.some((field) => field.value.includes('*'));
  }

  // The dialog's section on the document the image shows: type,
  // confidence, side, expiry, then each key field with its check.
  function showPaper(record) {
    const doc = paperOf(record);
    el.paper.hidden = !doc;
    el.paperSummary.replaceChildren();
    el.paperFields.replaceChildren();
    el.paperNote.textContent = '';
    el.paperNote.hidden = true;
    if (!doc) return;
    el.paper.dataset.type = doc.type;
    const parts = [];
    if (typeof doc.confidence === 'number' && Number.isFinite(doc.confidence)) {
      parts.push(t('paper.confidence', { value: formatDecimal(doc.confidence, 2) }));
    }
    if (doc.side === 'front' || doc.side === 'back') parts.push(t(`paper.side.${doc.side}`));
    if (doc.identity === true) parts.push(t('paper.identity'));
    if (doc.expires_on) parts.push(t('paper.expires', { date: formatDay(doc.expires_on) }));
    el.paperSummary.append(make('strong', 'paper-type', docTypeName(doc.type)));
    if (parts.length) el.paperSummary.append(` · ${parts.join(' · ')}`);

    const fields = paperFields(doc);
    el.paperTable.hidden = fields.length === 0;
    el.paperFields.replaceChildren(...fields.map((field) => {
      const tr = document.createElement('tr');
      tr.dataset.field = field.name;
      const value = make('td', 'paper-value', field.value);
      const check = make('td', 'paper-check');
      const mark = checkMark(field.valid);
      if (mark) check.append(mark);
      else check.textContent = '–';
      if (field.valid === null) check.title = t('check.none');
      tr.append(make('td', '', named('field', field.name)), value, check);
      return tr;
    }));
    const note = fields.length === 0 ? t('paper.noFields') : isMasked(fields) ? t('paper.masked') : '';
    el.paperNote.textContent = note;
    el.paperNote.hidden = !note;
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
    showCopied(null);
    el.doc.hidden = true;
    el.detailBody.classList.remove('is-document');
  }

  function notReadNote(ocr) {
    return t(ocr.gate === 'probe_found_little' ? 'doc.notReadGate' : 'doc.notRead');
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
      el.docNote.textContent = ocr.read ? t('doc.noText') : notReadNote(ocr);
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
        li.title = t('doc.confidence', { value: formatDecimal(line.confidence, 2) });
        if (line.confidence < 0.6) li.classList.add('is-doubtful');
      }
      return li;
    }));

    const total = Number.isInteger(ocr.line_count) && ocr.line_count > lines.length ? ocr.line_count : null;
    const parts = [total
      ? t('doc.linesOf', { shown: formatCount(lines.length), total: formatCount(total) })
      : tn('doc.lines', lines.length)];
    if (matches.size) parts.push(tn('doc.matching', matches.size, { text: contains }));
    if (ocr.has_cjk) parts.push(t('doc.chinese'));
    if ([90, 180, 270].includes(ocr.rotation)) parts.push(t('doc.rotated', { degrees: ocr.rotation }));
    if (ocr.truncated && !total) parts.push(t('doc.truncated'));
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
        el.docNote.textContent = t('doc.noOutlines');
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

  // What "Copy text" said: null, or {count} copied, or {failed: true}.
  function showCopied(state) {
    if (copiedTimer) clearTimeout(copiedTimer);
    copiedTimer = null;
    copiedState = state;
    renderCopied();
    if (state && !state.failed) {
      copiedTimer = setTimeout(() => {
        copiedState = null;
        renderCopied();
        copiedTimer = null;
      }, COPIED_MS);
    }
  }

  function renderCopied() {
    const state = copiedState;
    el.docCopied.textContent = !state ? '' : state.failed ? t('doc.copyFailed') : tn('doc.copied', state.count);
    el.docCopied.classList.toggle('is-failed', Boolean(state && state.failed));
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
    showCopied(copied ? { count } : { failed: true });
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

  // The preview's placeholder (loading, none, failed) and alt text.
  function renderPreviewState() {
    el.detailPlaceholder.textContent = t(`detail.preview.${previewState}`);
    if (detailRecord) {
      el.detailImage.alt = t('detail.preview.alt', {
        filename: detailRecord.filename || detailRecord.image_id || t('card.untitled'),
      });
    }
  }

  async function loadPreview(record) {
    releasePreview();
    const renditions = record.renditions || {};
    // Fall back to the thumbnail when there is no preview; never the original.
    const name = renditions.preview ? 'preview' : renditions.thumb ? 'thumb' : null;
    el.detailPlaceholder.hidden = false;
    previewState = !name || !record.image_id ? 'none' : 'loading';
    renderPreviewState();
    if (previewState === 'none') return;
    previewAbort = new AbortController();
    const controller = previewAbort;
    try {
      const blob = await api(renditionPath(record, name), { as: 'blob', signal: controller.signal });
      if (controller.signal.aborted) return;
      previewUrl = URL.createObjectURL(blob);
      el.detailImage.src = previewUrl;
      el.detailImage.hidden = false;
      el.detailPlaceholder.hidden = true;
    } catch (err) {
      if (err.name === 'AbortError') return;
      previewState = 'failed';
      renderPreviewState();
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
    showView('search');
    await searchSimilar(record);
    const first = el.results.querySelector('.card');
    (first || el.resultsHeading).focus();
  });

  // ---- views -----------------------------------------------------------

  // Shows one view (the search, or the expiring documents) and hides the
  // other; the expiry list is asked afresh each time it is shown.
  function showView(next) {
    if (!VIEWS.includes(next)) return;
    view = next;
    el.searchView.hidden = next !== 'search';
    el.expiringView.hidden = next !== 'expiring';
    for (const button of el.viewButtons) {
      button.setAttribute('aria-pressed', String(button.dataset.view === next));
    }
    if (next === 'expiring') loadExpiring();
  }

  // ---- expiring documents ----------------------------------------------

  // What the expiry list's controls ask for.
  function expiringAsked() {
    const days = Number(el.expiringWithin.value);
    return {
      days: Number.isInteger(days) && days > 0 ? days : 30,
      customer: el.expiringCustomer.value.trim(),
      includeExpired: el.expiringExpired.checked,
    };
  }

  // Asks for the documents expiring within the window chosen (older
  // answers are dropped) and shows them.
  async function loadExpiring() {
    const asked = expiringAsked();
    const params = new URLSearchParams({ within: `${asked.days}d` });
    if (asked.customer) params.set('customer', asked.customer);
    if (asked.includeExpired) params.set('include_expired', 'true');
    const seq = ++expiring.seq;
    if (expiring.abort) expiring.abort.abort();
    const controller = new AbortController();
    expiring.abort = controller;
    expiring.asked = asked;
    expiring.loading = true;
    renderExpiring();
    try {
      const data = await api(`/api/v1/documents/expiring?${params}`, { signal: controller.signal });
      if (seq !== expiring.seq) return;
      expiring.shown = { data: data || {}, asked };
      expiring.error = null;
    } catch (err) {
      if (seq !== expiring.seq || err.name === 'AbortError') return;
      expiring.shown = null;
      expiring.error = err;
      noteRefused(err);
    } finally {
      if (seq === expiring.seq) {
        expiring.loading = false;
        expiring.abort = null;
        renderExpiring();
      }
    }
  }

  // Days left as the list says them: N days, today, or expired N days ago.
  function daysLeftText(days) {
    if (days > 0) return tn('expiring.daysLeft', days);
    if (days === 0) return t('expiring.today');
    return tn('expiring.expiredAgo', -days);
  }

  function expiringRow(doc) {
    const tr = document.createElement('tr');
    tr.dataset.imageId = doc.image_id || '';
    const days = Number.isInteger(doc.days_left) ? doc.days_left : null;
    const expired = doc.status === 'expired' || (days !== null && days < 0);
    tr.classList.toggle('is-expired', expired);
    tr.classList.toggle('is-soon', !expired && days !== null && days <= SOON_DAYS);

    const when = document.createElement('time');
    when.dateTime = doc.expires_on || '';
    when.textContent = formatDay(doc.expires_on) || '—';
    const dateCell = make('td', 'expiring-date');
    dateCell.append(when);

    const daysCell = make('td', 'expiring-days', days === null ? '—' : daysLeftText(days));
    if (days !== null) daysCell.dataset.days = String(days);

    const record = doc.document && typeof doc.document === 'object' ? doc.document : {};
    const type = typeof doc.document_type === 'string' && doc.document_type ? doc.document_type : record.type;
    const typeCell = make('td', 'expiring-type', type ? docTypeName(type) : '—');
    if (type) typeCell.dataset.type = type;

    const customerCell = make('td', '', doc.customer_id || '—');

    const fileCell = make('td', 'expiring-file');
    const name = doc.filename || doc.image_id || t('card.untitled');
    if (doc.image_id) {
      const open = make('button', 'link-button', name);
      open.type = 'button';
      open.title = t('expiring.open', { filename: name });
      open.addEventListener('click', () => openDetail({
        image_id: doc.image_id,
        filename: doc.filename,
        customer_id: doc.customer_id,
        project_id: doc.project_id,
        document: doc.document,
      }, open));
      fileCell.append(open);
    } else {
      fileCell.textContent = name;
    }

    const fieldsCell = make('td', 'expiring-fields');
    const fields = paperFields(record).filter((field) => !LONG_FIELDS.has(field.name));
    if (fields.length) {
      const list = make('ul', 'field-list');
      for (const field of fields) {
        const li = make('li', '', t('field.pair', { name: named('field', field.name), value: field.value }));
        li.dataset.field = field.name;
        const mark = checkMark(field.valid);
        if (mark) li.append(' ', mark);
        list.append(li);
      }
      fieldsCell.append(list);
    } else {
      fieldsCell.textContent = '—';
    }

    tr.append(dateCell, daysCell, typeCell, customerCell, fileCell, fieldsCell);
    return tr;
  }

  // The expiry list in the page's language (again after a switch, with
  // no new request): status line, table or empty state, error.
  function renderExpiring() {
    const { shown, error, loading } = expiring;
    if (loading) el.expiringView.setAttribute('aria-busy', 'true');
    else el.expiringView.removeAttribute('aria-busy');
    const documents = shown && Array.isArray(shown.data.documents) ? shown.data.documents : [];
    let state = 'idle';
    let status = '';
    if (loading) {
      state = 'loading';
      status = t('expiring.loading', { days: formatCount(expiring.asked.days) });
    } else if (error) {
      state = 'error';
      status = t('expiring.failed');
    } else if (shown) {
      state = documents.length ? 'rows' : 'empty';
      const days = Number.isInteger(shown.data.within_days) ? shown.data.within_days : shown.asked.days;
      status = t(shown.asked.includeExpired ? 'expiring.summaryExpired' : 'expiring.summary', {
        days: formatCount(days),
        today: formatDay(shown.data.today) || '—',
        count: tn('expiring.count', documents.length),
      });
    }
    el.expiringView.dataset.state = state;
    // The window the list (or its error) is for.
    const answered = loading ? null : shown ? shown.asked : error ? expiring.asked : null;
    if (answered) el.expiringView.dataset.within = String(answered.days);
    el.expiringStatus.textContent = status;

    el.expiringError.hidden = !error;
    el.expiringError.textContent = error ? t('expiring.failedWith', { error: errorText(error) }) : '';

    el.expiringRows.replaceChildren(...documents.map((doc) => expiringRow(doc)));
    el.expiringTable.hidden = documents.length === 0;
    let empty = '';
    if (shown && documents.length === 0) {
      const days = formatCount(shown.asked.days);
      empty = t(shown.asked.includeExpired ? 'expiring.noneExpired' : 'expiring.none', { days });
      if (shown.asked.customer) empty = t('expiring.forCustomer', { customer: shown.asked.customer, text: empty });
    }
    el.expiringEmpty.textContent = empty;
    el.expiringEmpty.hidden = !empty;
  }

  // ---- wiring ----------------------------------------------------------

  el.keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = el.key.value.trim();
    storeKey(key);
    showKeyState();
    clearError();
    if (!key) {
      showError(new ApiError(401, 'api.unauthorized', '', 'error.keyEmpty'));
      return;
    }
    setStatus('status.keySet');
    loadTagSuggestions();
    if (view === 'expiring') loadExpiring();
    else el.text.focus();
  });

  el.searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = el.text.value.trim();
    const contains = el.contains.value.trim();
    if (!text && !contains && !el.docType.value) {
      showError(new ApiError(400, 'api.bad_request', '', 'error.emptySearch'));
      el.text.focus();
      return;
    }
    if (contains && !hasTerms(contains)) {
      showError(new ApiError(400, 'api.bad_request', '', 'error.punctuationOnly'));
      el.contains.focus();
      return;
    }
    searchWords(text, contains);
  });

  for (const button of el.viewButtons) {
    button.addEventListener('click', () => showView(button.dataset.view));
  }
  // The window and "include expired" ask again at once; the customer
  // when the form is sent (Enter or "Show").
  el.expiringWithin.addEventListener('change', loadExpiring);
  el.expiringExpired.addEventListener('change', loadExpiring);
  el.expiringForm.addEventListener('submit', (event) => {
    event.preventDefault();
    loadExpiring();
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

  // ---- language switch -------------------------------------------------

  // Shows the page in `next` (the user's choice, kept in localStorage):
  // everything on it is said again in place, results and dialog included.
  function setLanguage(next) {
    if (!LANGS.includes(next)) return;
    try {
      localStorage.setItem(LANG_STORAGE, next);
    } catch {
      // Storage may be disabled; the choice then lasts until the page reloads.
    }
    if (next === lang) return;
    // The tags typed in the filter are read in the old language first.
    const typed = typedTags().map((tag) => tagNameOf(tag));
    lang = next;
    pluralRules = new Intl.PluralRules(lang);
    renderAll(typed);
  }

  function renderAll(typedTagNames = []) {
    applyStatic();
    if (typedTagNames.length) {
      el.tag.value = typedTagNames.map((name) => tagLabel(name)).join(t('filters.tags.separator'));
    }
    renderKeyState();
    renderStatus();
    renderError();
    if (shownResults) renderResults();
    renderDocTypeOptions();
    renderExpiring();
    renderTagSuggestions();
    renderQueryImage();
    renderPreviewState();
    if (el.detail.open && detailRecord) {
      const copied = copiedState;
      showRecord(detailRecord);
      showDocument(detailRecord, detailContains);
      placeOutlines();
      if (copied) showCopied(copied);
      // Its tags' names in the new language.
      loadRecord(detailRecord, detailContains);
    } else {
      el.detailTitle.textContent = t('detail.title');
    }
  }

  for (const button of el.langButtons) {
    button.addEventListener('click', () => setLanguage(button.dataset.lang));
  }

  // For tests and the curious: `missing()` lists what the message tables
  // lack ([] when every key is in every language).
  window.imgtagI18n = Object.freeze({
    missing,
    lang: () => lang,
    languages: () => [...LANGS],
    keys: (name) => Object.keys(MESSAGES[name] || {}),
  });

  renderAll();
  if (currentKey) {
    el.key.value = currentKey;
    loadTagSuggestions();
  }
  showKeyState();
})();
