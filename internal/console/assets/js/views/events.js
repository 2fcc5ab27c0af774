// Live events of a bucket: GET /api/s3/<bucket>?events streamed with fetch
// and a ReadableStream (newline-delimited {"Records":[…]} messages, empty
// ones as keep-alives, "Err" for events the server had to drop). The view
// reconnects with a capped backoff and stops when the route changes.
import * as api from '../api.js';
import { h, clear, field, checkbox, formatBytes, routeHash, errorText } from '../ui.js';

const maxShown = 500;
const eventChoices = ['s3:ObjectCreated:*', 's3:ObjectRemoved:*', 's3:ObjectAccessed:*'];
const backoffMillis = [500, 1000, 2000, 5000, 10000];
const pingSeconds = 15;

export async function render(root, params) {
  const bucket = params.bucket;
  const q = params.query;
  const status = h('p', { id: 'events-status', role: 'status' }, 'Connecting…');
  const list = h('ol', { class: 'events', id: 'events-list', 'aria-label': `Events of ${bucket}` });
  const log = h('div', { role: 'log', 'aria-live': 'polite', 'aria-label': `Live events of ${bucket}` }, list);
  const count = h('span', { id: 'events-count' }, '0');
  const stop = new AbortController();
  let paused = false;
  const pause = h('button', { type: 'button', id: 'events-pause', 'aria-pressed': 'false' }, 'Pause');
  pause.addEventListener('click', () => { paused = !paused; pause.setAttribute('aria-pressed', String(paused)); });
  const clearBtn = h('button', { type: 'button', onclick: () => { clear(list); count.textContent = '0'; } }, 'Clear');
  root.append(h('h1', {}, `Live events of ${bucket}`),
    h('div', { class: 'row' }, h('a', { href: routeHash(`/buckets/${encodeURIComponent(bucket)}`) }, 'Objects'),
      h('a', { href: routeHash(`/buckets/${encodeURIComponent(bucket)}/settings`) }, 'Settings')),
    h('p', { class: 'muted' }, 'Changes appear here as they are committed. The stream is not durable: for events that must not be missed, use a subscription.'),
    filterForm(bucket, q), status, h('div', { class: 'row' }, pause, clearBtn, h('span', {}, 'Events shown: ', count)), log);

  const show = (rec) => {
    if (paused) return;
    list.prepend(eventItem(rec));
    while (list.children.length > maxShown) list.lastElementChild.remove();
    count.textContent = String(list.children.length);
  };
  stream(bucket, q, { signal: stop.signal, onRecord: show, onStatus: (s) => { status.textContent = s; status.dataset.state = s.split(/[ .:]/)[0].toLowerCase(); } });
  return () => stop.abort();
}

function eventItem(rec) {
  const s3 = rec.s3 || {};
  const obj = s3.object || {};
  const when = rec.eventTime ? new Date(rec.eventTime) : new Date();
  return h('li', { 'data-key': obj.key || '', 'data-event': rec.eventName || '' },
    h('time', { datetime: when.toISOString() }, when.toLocaleTimeString()),
    h('strong', {}, rec.eventName || ''),
    h('span', { class: 'name' }, obj.key || ''),
    obj.size !== undefined ? h('span', {}, formatBytes(obj.size)) : null,
    obj.eTag ? h('code', {}, obj.eTag) : null,
    obj.versionId ? h('span', { class: 'muted' }, `version ${obj.versionId}`) : null);
}

function filterForm(bucket, q) {
  const prefix = h('input', { type: 'text', id: 'events-prefix', value: q.prefix || '' });
  const suffix = h('input', { type: 'text', id: 'events-suffix', value: q.suffix || '' });
  const chosen = (q.events || '').split(',').filter(Boolean);
  const checks = eventChoices.map((e) => checkbox(e, { value: e, checked: chosen.includes(e) }));
  const form = h('form', { class: 'card', 'aria-label': 'Event filter' },
    h('div', { class: 'row' }, field('Key prefix', prefix), field('Key suffix', suffix)),
    h('fieldset', {}, h('legend', {}, 'Events (none checked: every change, no reads)'), checks.map((c) => c.el)),
    h('button', { type: 'submit' }, 'Apply filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = routeHash(`/buckets/${encodeURIComponent(bucket)}/events`, {
      prefix: prefix.value, suffix: suffix.value, events: checks.filter((c) => c.input.checked).map((c) => c.input.value).join(','),
    });
  });
  return form;
}

// stream reads the live stream until signal aborts, reconnecting.
async function stream(bucket, q, { signal, onRecord, onStatus }) {
  const query = { events: q.events || '', ping: String(pingSeconds) };
  if (q.prefix) query.prefix = q.prefix;
  if (q.suffix) query.suffix = q.suffix;
  for (let attempt = 0; !signal.aborted; attempt += 1) {
    try {
      const res = await api.stream(api.objectPath(bucket), { query, signal });
      await readLines(res.body, signal, (line) => {
        const msg = JSON.parse(line);
        attempt = 0;
        onStatus('Connected: waiting for events.');
        if (msg.Err) onStatus(`Connected. ${msg.Err.Code}: ${msg.Err.Dropped || ''} events were dropped (too slow).`);
        for (const r of msg.Records || []) onRecord(r);
      });
      if (!signal.aborted) onStatus('Disconnected: reconnecting…');
    } catch (err) {
      if (signal.aborted) return;
      if (err.status === 401) { window.dispatchEvent(new Event('cairn:unauthorized')); return; }
      onStatus(`Disconnected: ${errorText(err)}. Reconnecting…`);
    }
    await sleep(backoffMillis[Math.min(attempt, backoffMillis.length - 1)], signal);
  }
}

async function readLines(body, signal, onLine) {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  signal.addEventListener('abort', () => reader.cancel().catch(() => {}), { once: true });
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) onLine(line);
    }
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
