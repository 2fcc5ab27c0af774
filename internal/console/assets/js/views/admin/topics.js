// Topics of every tenant with their persistent queues: depth, oldest
// pending age, delivered/failed counts and dead letters, which can be
// listed and replayed (one or all) from here.
import { h, clear, toast, toastError, confirmDialog, errorText, timeEl } from '../../ui.js';
import { adminJSON, tenantOf } from './common.js';

const workers = 4;
const maxDeadLetters = 100;

function topicQuery(t, extra) {
  const q = { ...extra, topic: t.name };
  const tenant = tenantOf(t.owner || '');
  if (tenant) q.tenant = tenant;
  return q;
}

// age renders seconds as "42 s", "3 min", "2 h 5 min".
export function age(s) {
  if (!(s > 0)) return '—';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export async function render(root) {
  const page = { ctl: new AbortController(), list: h('div', { class: 'table-wrap', id: 'topic-list' }), dlq: h('div', { id: 'dead-letters' }) };
  page.load = () => load(page);
  const refresh = h('button', { type: 'button', id: 'topics-refresh', onclick: () => page.load() }, 'Refresh');
  root.append(h('h1', {}, 'Topics and queues'),
    h('p', { class: 'muted' }, 'The topics of every tenant that has users. Persistent topics queue their events; events that ran out of retries become dead letters, which can be replayed.'),
    h('div', { class: 'row' }, refresh), page.list, page.dlq);
  await page.load();
  return () => page.ctl.abort();
}

// load lists the topics, then reads the queue statistics of the
// persistent ones a few at a time.
async function load(page) {
  let topics;
  try {
    topics = await allTopics(page.ctl.signal);
  } catch (err) {
    clear(page.list).append(h('p', { class: 'error-text', role: 'alert' }, `Listing topics failed: ${errorText(err)}`));
    return;
  }
  if (!topics.length) {
    clear(page.list).append(h('p', { class: 'muted' }, 'No topics yet.'));
    return;
  }
  topics.sort((a, b) => (a.owner || '').localeCompare(b.owner || '') || a.name.localeCompare(b.name));
  const rows = topics.map((t) => row(t, () => showDeadLetters(page, t)));
  clear(page.list).append(h('table', { 'aria-labelledby': 'topics-caption' },
    h('caption', { id: 'topics-caption', class: 'visually-hidden' }, 'Topics with their queues'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Topic'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Owner'),
      h('th', { scope: 'col', class: 'num' }, 'Queued'), h('th', { scope: 'col', class: 'num' }, 'Oldest pending'),
      h('th', { scope: 'col', class: 'num hide-narrow' }, 'Delivered'), h('th', { scope: 'col', class: 'num hide-narrow' }, 'Failed'),
      h('th', { scope: 'col', class: 'num' }, 'Dead letters'))),
    h('tbody', {}, rows.map((r) => r.tr))));
  const queue = rows.slice();
  const worker = async () => {
    while (queue.length && !page.ctl.signal.aborted) {
      const r = queue.shift();
      if (!r.topic.dest || !r.topic.dest.persistent) { r.notPersistent(); continue; }
      try {
        r.fill(await adminJSON('GET', 'topic', topicQuery(r.topic, { stats: '' })));
      } catch (err) { r.fail(err); }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
}

// allTopics lists the topics of every tenant: the admin API lists one
// tenant's at a time, and the tenants are those of the users.
async function allTopics(signal) {
  const ids = ((await adminJSON('GET', 'user', { list: '' })) || {}).keys || [];
  const tenants = [...new Set(['', ...ids.map(tenantOf)])].sort();
  const out = [];
  const worker = async () => {
    while (tenants.length && !signal.aborted) {
      const tenant = tenants.shift();
      const doc = await adminJSON('GET', 'topic', tenant ? { tenant } : {});
      out.push(...((doc && doc.topics) || []));
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return out;
}

async function showDeadLetters(page, t) {
  const title = () => h('h2', { id: 'dlq-title', tabindex: '-1' }, `Dead letters of ${t.name}`);
  clear(page.dlq).append(title(), h('p', { class: 'muted' }, 'Loading…'));
  page.dlq.querySelector('h2').focus();
  let doc;
  try {
    doc = await adminJSON('GET', 'topic', topicQuery(t, { dlq: '', 'max-entries': String(maxDeadLetters) }));
  } catch (err) {
    clear(page.dlq).append(title(), h('p', { class: 'error-text', role: 'alert' }, errorText(err)));
    return;
  }
  const letters = (doc && doc.dead_letters) || [];
  const replayAll = h('button', { type: 'button', class: 'primary', id: 'dlq-replay-all', disabled: !letters.length,
    onclick: () => replay(page, t) }, 'Replay all');
  clear(page.dlq).append(title(), h('div', { class: 'row' }, replayAll),
    letters.length ? deadLetterTable(page, t, letters) : h('p', { class: 'muted' }, 'No dead letters.'),
    letters.length >= maxDeadLetters ? h('p', { class: 'muted' }, `Showing the first ${maxDeadLetters}; "Replay all" replays every one.`) : '');
}

function deadLetterTable(page, t, letters) {
  return h('div', { class: 'table-wrap' }, h('table', { 'aria-labelledby': 'dlq-title' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Object'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Queued'),
      h('th', { scope: 'col', class: 'num' }, 'Attempts'), h('th', { scope: 'col' }, 'Last error'),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    h('tbody', {}, letters.map((d) => h('tr', {},
      h('th', { scope: 'row', class: 'name' }, d.key || d.event_id), h('td', { class: 'hide-narrow' }, timeEl(d.enqueued)),
      h('td', { class: 'num' }, String(d.attempts)), h('td', { class: 'name' }, d.last_error || ''),
      h('td', { class: 'actions' }, h('button', { type: 'button', class: 'link', 'aria-label': `Replay event ${d.event_id}`,
        onclick: () => replay(page, t, d.event_id) }, 'Replay')))))));
}

// replay queues one dead letter (or all of the topic's) again.
async function replay(page, t, eventId) {
  const what = eventId ? `event ${eventId}` : `every dead letter of ${t.name}`;
  if (!await confirmDialog(`Replay ${what}? It is queued again for delivery.`, { ok: 'Replay', danger: false })) return;
  try {
    const q = topicQuery(t, { replay: '' });
    if (eventId) q['event-id'] = eventId;
    const res = await adminJSON('POST', 'topic', q);
    toast(`${(res && res.replayed) || 0} event(s) of ${t.name} queued again`);
    await page.load();
    await showDeadLetters(page, t);
  } catch (err) { toastError('Replaying')(err); }
}

function row(t, onDeadLetters) {
  const cells = { depth: h('td', { class: 'num' }, '…'), age: h('td', { class: 'num' }, ''),
    delivered: h('td', { class: 'num hide-narrow' }, ''), failed: h('td', { class: 'num hide-narrow' }, ''), dead: h('td', { class: 'num' }, '') };
  const tr = h('tr', { 'data-topic': `${t.owner}/${t.name}` },
    h('th', { scope: 'row', class: 'name' }, t.name, t.dest && t.dest.persistent ? null : h('span', { class: 'tag' }, 'not persistent')),
    h('td', { class: 'hide-narrow name' }, t.owner || ''), cells.depth, cells.age, cells.delivered, cells.failed, cells.dead);
  return {
    topic: t,
    tr,
    fill(st) {
      const q = (st && st.queue) || {};
      cells.depth.textContent = String(q.depth || 0);
      cells.age.textContent = age(q.oldest_pending_age_seconds);
      cells.delivered.textContent = String(q.delivered || 0);
      cells.failed.textContent = String(q.failed || 0);
      clear(cells.dead).append(h('button', { type: 'button', class: 'link', 'aria-label': `Dead letters of ${t.name}: ${q.dead_letter_depth || 0}`,
        onclick: onDeadLetters }, String(q.dead_letter_depth || 0)));
    },
    notPersistent() { for (const c of Object.values(cells)) c.textContent = '—'; },
    fail(err) { cells.depth.textContent = ''; cells.dead.textContent = errorText(err); },
  };
}
