// Pull subscriptions (the PubSub API, served with --pubsub): the caller's
// topics with their subscriptions, each subscription's settings, and a
// peek at its pending events (a pull without ack).
import { h, clear, field, toast, toastError, errorText, confirmDialog, timeEl } from '../ui.js';
import { call } from '../s3.js';

const peekEntries = 10;

async function json(method, path, query) {
  const res = await call(method, path.split('/')[0], path.split('/').slice(1).join('/') || undefined, { query });
  return res.text ? JSON.parse(res.text) : {};
}

export async function render(root) {
  const list = h('div', { id: 'subscription-list' });
  const lookup = h('input', { type: 'text', id: 'sub-lookup', spellcheck: 'false' });
  const form = h('form', { class: 'row', role: 'search' }, field('Subscription name', lookup), h('button', { type: 'submit' }, 'Show'));
  const detail = h('div', { id: 'subscription-detail' });
  form.addEventListener('submit', (e) => { e.preventDefault(); if (lookup.value.trim()) showSub(detail, lookup.value.trim()); });
  root.append(h('h1', {}, 'Subscriptions'),
    h('p', { class: 'muted' }, 'Pull subscriptions keep a topic\'s events until they are acknowledged (a bucket notification makes one named by its Id).'),
    form, detail, h('h2', {}, 'Your topics and their subscriptions'), list);
  let doc;
  try {
    doc = await json('GET', 'topics');
  } catch (err) {
    list.append(h('p', { class: err.status === 404 || err.code === 'NotImplemented' || err.code === 'MethodNotAllowed' ? 'muted' : 'error-text' },
      `Subscriptions are not available: ${errorText(err)} (the server serves them with --pubsub).`));
    return;
  }
  const topics = doc.topics || [];
  if (!topics.length) { list.append(h('p', { class: 'muted' }, 'No topics.')); return; }
  list.append(h('ul', {}, topics.map((t) => h('li', {}, h('strong', {}, t.topic.name),
    t.topic.dest && t.topic.dest.push_endpoint ? ` → ${t.topic.dest.push_endpoint}` : '',
    (t.subs || []).length ? h('ul', {}, t.subs.map((s) => h('li', {},
      h('button', { type: 'button', class: 'link', onclick: () => showSub(detail, s) }, s))))
      : h('span', { class: 'muted' }, ' (no subscriptions)')))));
}

async function showSub(box, name) {
  clear(box).append(h('p', { class: 'muted' }, 'Loading…'));
  let sub;
  try { sub = await json('GET', `subscriptions/${name}`); } catch (err) { clear(box).append(h('p', { class: 'error-text' }, errorText(err))); return; }
  const pending = h('div', { 'aria-live': 'polite' });
  const peek = async () => {
    try {
      const page = await json('GET', `subscriptions/${name}`, { events: '', 'max-entries': String(peekEntries) });
      const evs = page.events || page.Records || [];
      clear(pending).append(h('div', {}, h('p', {}, evs.length ? `${evs.length}${page.is_truncated === 'true' || page.is_truncated === true ? '+' : ''} pending event(s):` : 'No pending events.'),
        evs.length ? h('ul', {}, evs.map((e) => h('li', {}, timeEl(e.eventTime || (e.info && e.info.timestamp) || ''), ' ', e.eventName || e.event || '', ' ',
          h('span', { class: 'name' }, (e.s3 && e.s3.object && e.s3.object.key) || (e.info && e.info.key && e.info.key.name) || e.id || '')))) : null));
    } catch (err) { clear(pending).append(h('p', { class: 'error-text' }, errorText(err))); }
  };
  const remove = async () => {
    if (!await confirmDialog(`Delete subscription ${name}? Its stored events are dropped.`)) return;
    try { await call('DELETE', 'subscriptions', name); toast(`Subscription ${name} deleted`); clear(box); } catch (err) { toastError('Deleting the subscription')(err); }
  };
  const d = sub.dest || {};
  clear(box).append(h('section', { class: 'card', 'aria-labelledby': 'sub-title' }, h('h3', { id: 'sub-title' }, `Subscription ${sub.name || name}`),
    h('dl', { class: 'kv' }, [['Topic', sub.topic], ['Bucket notification', sub.s3_id || '—'], ['Push endpoint', d.push_endpoint || '(pull only)'],
      ['Persistent', d.persistent], ['Visibility timeout', sub.visibility_timeout ? `${sub.visibility_timeout} s` : 'none']]
      .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v || '')])),
    h('p', { class: 'muted' }, 'Peeking pulls without acknowledging; with a visibility timeout the peeked events stay hidden from other readers until it passes.'),
    h('div', { class: 'row' }, h('button', { type: 'button', id: 'sub-peek', onclick: peek }, 'Peek at pending events'),
      h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete subscription')), pending));
}
