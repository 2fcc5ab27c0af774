// The in-page accessibility checker of the browser tests. It checks the
// page as rendered (computed styles, not source) and evaluates to a JSON
// array of {rule, element, detail}; empty means no problem found.
//
// Rules (a small, strict subset of WCAG 2.x AA):
//   document   <html lang>, a non-empty <title>
//   landmarks  exactly one visible main landmark; a banner or navigation
//   ids        no duplicate ids (labels and aria references rely on them)
//   label      every visible form control has an accessible name
//   name       every visible button, link and role=button has one
//   alt        every <img> has an alt attribute ("" for decoration)
//   aria-ref   aria-labelledby / aria-describedby / aria-controls point at ids that exist
//   contrast   visible text has a contrast ratio of at least 4.5:1 against
//              its background (disabled controls exempt, as in WCAG)
(() => {
  const problems = [];
  const add = (rule, el, detail) => problems.push({ rule, element: describe(el), detail });

  function describe(el) {
    if (!el || !el.tagName) return 'document';
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (typeof el.className === 'string' && el.className.trim()) s += '.' + el.className.trim().split(/\s+/).join('.');
    const text = (el.textContent || el.value || '').trim().replace(/\s+/g, ' ');
    if (text) s += ' "' + text.slice(0, 40) + '"';
    return s;
  }

  // visible: rendered, not hidden, not clipped away (visually-hidden text
  // is for screen readers: its names count, its contrast does not).
  function rendered(el) {
    if (el.closest('[hidden], [aria-hidden="true"]')) return false;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden') return false;
    return el.getClientRects().length > 0;
  }
  function visible(el) {
    if (!rendered(el)) return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  }

  function textOf(ids) {
    return ids.split(/\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' ').trim();
  }

  // accessibleName is a simplified accname computation.
  function accessibleName(el) {
    const by = el.getAttribute('aria-labelledby');
    if (by && textOf(by)) return textOf(by);
    const al = el.getAttribute('aria-label');
    if (al && al.trim()) return al.trim();
    if (el.labels && el.labels.length) {
      const t = [...el.labels].map((l) => l.textContent.trim()).join(' ').trim();
      if (t) return t;
    }
    const tag = el.tagName.toLowerCase();
    if (tag === 'input' && ['submit', 'reset', 'button'].includes(el.type) && el.value.trim()) return el.value.trim();
    if (tag === 'input' && el.type === 'image' && el.alt && el.alt.trim()) return el.alt.trim();
    if (tag === 'button' || tag === 'a' || el.getAttribute('role') === 'button' || tag === 'summary') {
      const t = (el.innerText || el.textContent || '').trim();
      if (t) return t;
      const img = el.querySelector('img[alt]:not([alt=""]), svg[aria-label], [role="img"][aria-label]');
      if (img) return img.getAttribute('alt') || img.getAttribute('aria-label');
    }
    if (el.title && el.title.trim()) return el.title.trim();
    if (el.placeholder && el.placeholder.trim() && tag !== 'input') return el.placeholder.trim();
    return '';
  }

  // document
  if (!document.documentElement.lang) add('document', document.documentElement, 'the html element has no lang');
  if (!document.title.trim()) add('document', null, 'the page has no title');

  // landmarks
  const mains = [...document.querySelectorAll('main, [role="main"]')].filter(rendered);
  if (mains.length !== 1) add('landmarks', null, `${mains.length} visible main landmarks, want 1`);
  if (![...document.querySelectorAll('header, [role="banner"], nav, [role="navigation"]')].some(rendered)) {
    add('landmarks', null, 'no visible banner (header) or navigation landmark');
  }

  // ids
  const seen = new Map();
  for (const el of document.querySelectorAll('[id]')) {
    if (seen.has(el.id)) add('ids', el, `duplicate id "${el.id}"`);
    seen.set(el.id, el);
  }
  for (const attr of ['aria-labelledby', 'aria-describedby', 'aria-controls']) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      for (const id of el.getAttribute(attr).split(/\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) add('aria-ref', el, `${attr} names "${id}", which does not exist`);
      }
    }
  }

  // label
  const controls = document.querySelectorAll('input, select, textarea, [role="textbox"], [role="combobox"], [role="checkbox"], [role="switch"]');
  for (const el of controls) {
    if (el.type === 'hidden' || !rendered(el)) continue;
    if (!accessibleName(el)) add('label', el, 'form control without a label (label for=, aria-label or aria-labelledby)');
  }

  // name
  for (const el of document.querySelectorAll('button, a[href], [role="button"], [role="link"], [role="tab"], [role="menuitem"], summary')) {
    if (!rendered(el)) continue;
    if (!accessibleName(el)) add('name', el, 'button or link without an accessible name');
  }

  // alt
  for (const el of document.querySelectorAll('img')) {
    if (!el.hasAttribute('alt')) add('alt', el, 'image without an alt attribute');
  }

  // contrast: every CSS color converted to sRGB through a canvas, so that
  // oklch(), color-mix() and named colors all work.
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const g = canvas.getContext('2d', { willReadFrequently: true });
  function rgba(css) {
    g.clearRect(0, 0, 1, 1);
    g.fillStyle = '#000';
    g.fillStyle = css;
    g.fillRect(0, 0, 1, 1);
    const d = g.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  }
  function over(top, bottom) { // alpha-composite top over an opaque bottom
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  }
  // background returns the opaque color behind el, or null when an image
  // or gradient is in the way (then contrast is not computable).
  function background(el) {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.backgroundImage && cs.backgroundImage !== 'none') return null;
      const c = rgba(cs.backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let bg = [255, 255, 255, 1]; // the canvas of a page without one
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  }
  function luminance([r, gr, b]) {
    const lin = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(gr) + 0.0722 * lin(b);
  }
  function ratio(a, b) {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  }
  const checked = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    if (!el || checked.has(el)) continue;
    checked.add(el);
    if (!visible(el) || el.closest('script, style, noscript, option')) continue;
    if (el.closest(':disabled, [aria-disabled="true"]')) continue;
    const bg = background(el);
    if (!bg) continue;
    const cs = getComputedStyle(el);
    const fg = over(rgba(cs.color), bg);
    const r = ratio(fg, bg);
    if (r < 4.5) add('contrast', el, `contrast ${r.toFixed(2)}:1 (text ${cs.color} on ${`rgb(${bg.slice(0, 3).map(Math.round).join(', ')})`}), want 4.5:1`);
  }
  // Placeholders are text too.
  for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (!visible(el) || !el.placeholder.trim() || el.value) continue;
    const bg = background(el);
    if (!bg) continue;
    const fg = over(rgba(getComputedStyle(el, '::placeholder').color), bg);
    const r = ratio(fg, bg);
    if (r < 4.5) add('contrast', el, `placeholder contrast ${r.toFixed(2)}:1, want 4.5:1`);
  }
  return JSON.stringify(problems);
})()
