// Small DOM and format helpers shared by the console's views. Nothing here
// touches innerHTML with data: every text goes in as a text node, so a key
// or tag value can never become markup.

// h builds an element: h('button', {class: 'primary', onclick: f}, 'Save').
// Attributes starting with "on" become listeners; false/null skip.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'for') el.htmlFor = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'selected') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// clear empties an element and returns it.
export function clear(el) { el.replaceChildren(); return el; }

let idSeq = 0;
// uid returns a fresh element id for label/for pairs.
export function uid(prefix = 'f') { idSeq += 1; return `${prefix}-${idSeq}`; }

// field is a labelled control: field('Name', h('input', {...})).
export function field(label, control, hint) {
  if (!control.id) control.id = uid();
  const parts = [h('label', { for: control.id }, label), control];
  if (hint) {
    const hid = uid('hint');
    control.setAttribute('aria-describedby', hid);
    parts.push(h('span', { id: hid, class: 'muted' }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

// checkbox is a labelled check box.
export function checkbox(label, attrs = {}) {
  const input = h('input', { type: 'checkbox', id: uid('c'), ...attrs });
  return { input, el: h('label', { class: 'check', for: input.id }, input, label) };
}

const toastMillis = 6000;

// toast shows a short message in the aria-live region; errors stay until
// dismissed so that a screen reader user has time to read them.
export function toast(message, opts = {}) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const close = h('button', { type: 'button', 'aria-label': 'Dismiss message' }, '×');
  const t = h('div', { class: 'toast' + (opts.error ? ' error' : '') }, h('span', {}, message), close);
  close.addEventListener('click', () => t.remove());
  box.append(t);
  if (opts.error) {
    const alerts = document.getElementById('alerts');
    if (alerts) alerts.textContent = message;
  } else {
    setTimeout(() => t.remove(), opts.millis || toastMillis);
  }
}

// errorText renders an S3Error or any other error for a person.
export function errorText(err) {
  if (!err) return 'Unknown error';
  if (err.code && err.message) return `${err.code}: ${err.message}`;
  return err.code || err.message || String(err);
}

// toastError is the catch handler of most actions.
export function toastError(prefix) {
  return (err) => toast(`${prefix}: ${errorText(err)}`, { error: true });
}

// confirmDialog asks a yes/no question in a modal <dialog> and resolves
// true on confirmation. Focus returns to the element that opened it.
export function confirmDialog(message, { ok = 'Delete', danger = true } = {}) {
  return new Promise((resolve) => {
    const back = document.activeElement;
    const title = uid('dlg');
    const yes = h('button', { type: 'button', class: danger ? 'danger' : 'primary' }, ok);
    const no = h('button', { type: 'button' }, 'Cancel');
    const d = h('dialog', { 'aria-labelledby': title },
      h('p', { id: title }, message), h('div', { class: 'row' }, yes, no));
    const done = (v) => { d.close(); d.remove(); if (back && back.focus) back.focus(); resolve(v); };
    yes.addEventListener('click', () => done(true));
    no.addEventListener('click', () => done(false));
    d.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.append(d);
    d.showModal();
    no.focus();
  });
}

// formatBytes: 1536 → "1.5 KiB".
export function formatBytes(n) {
  n = Number(n);
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

// formatDate shows an ISO time in the reader's locale, machine-readable in
// a <time> element.
export function timeEl(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return h('time', { datetime: d.toISOString() }, d.toLocaleString());
}

// XML helpers for S3 answers (namespaced or not).
export function kids(node, name) {
  return node ? Array.from(node.children).filter((c) => c.localName === name) : [];
}
export function kid(node, name) { return kids(node, name)[0] || null; }
export function txt(node, name) {
  const k = kid(node, name);
  return k ? k.textContent : '';
}
export function root(res) { return res && res.xml ? res.xml.documentElement : null; }

// xmlEscape escapes text for an XML document we build.
export function xmlEscape(s) {
  return String(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' }[c]));
}

// header reads a response header whatever shape api.js gives it.
export function header(res, name) {
  const hs = res && res.headers;
  if (!hs) return null;
  if (typeof hs.get === 'function') return hs.get(name);
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(hs)) if (k.toLowerCase() === lower) return v;
  return null;
}

// headerEntries lists a response's headers as [name, value] pairs.
export function headerEntries(res) {
  const hs = res && res.headers;
  if (!hs) return [];
  if (typeof hs.entries === 'function' && typeof hs.get === 'function') return Array.from(hs.entries());
  return Object.entries(hs);
}

// downloadName is the last path segment of a key.
export function baseName(key) {
  const parts = key.split('/');
  return parts[parts.length - 1] || parts[parts.length - 2] || key;
}

// hashParams builds a route hash: route('/buckets/b', {prefix: 'x/'}).
export function routeHash(path, query) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== '') qs.set(k, v);
  const s = qs.toString();
  return '#' + path + (s ? '?' + s : '');
}
