// Topics (the SNS API): list, create, edit (CreateTopic replaces the
// attributes), delete, and for admins a test event.
import * as api from '../api.js';
import { h, clear, field, checkbox, toast, toastError, errorText, confirmDialog } from '../ui.js';
import { listTopics, createTopic, deleteTopic } from '../sns.js';

export async function render(root, params) {
  const list = h('div', { class: 'table-wrap', id: 'topic-list' });
  const editor = h('div', {});
  root.append(h('h1', {}, 'Topics'),
    h('p', { class: 'muted' }, 'Topics receive bucket events (see a bucket\'s settings) and push them to an endpoint, or keep them for pull subscriptions.'),
    h('button', { type: 'button', id: 'topic-new', onclick: () => edit(null) }, 'New topic'), editor, list);

  function edit(t) { clear(editor).append(topicForm(t, async () => { clear(editor); await load(); })); }

  async function load() {
    let topics;
    try { topics = await listTopics(); } catch (err) { clear(list).append(h('p', { class: 'error-text' }, errorText(err))); return; }
    if (!topics.length) { clear(list).append(h('p', { class: 'muted' }, 'No topics.')); return; }
    clear(list).append(h('table', { 'aria-label': 'Topics' },
      h('thead', {}, h('tr', {}, ['Name', 'Endpoint', 'Persistent', 'ARN'].map((c) => h('th', { scope: 'col', class: c === 'ARN' ? 'hide-narrow' : '' }, c)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, topics.map((t) => h('tr', {},
        h('th', { scope: 'row', class: 'name' }, t.name), h('td', { class: 'name' }, t.endpoint || '(pull only)'),
        h('td', {}, t.persistent ? 'yes' : 'no'), h('td', { class: 'name hide-narrow' }, h('code', {}, t.arn)),
        h('td', { class: 'actions' },
          h('button', { type: 'button', class: 'link', onclick: () => edit(t), 'aria-label': `Edit topic ${t.name}` }, 'Edit'),
          params.session && params.session.admin ? h('button', { type: 'button', class: 'link', onclick: () => test(t), 'aria-label': `Send a test event to ${t.name}` }, 'Test event') : null,
          h('button', { type: 'button', class: 'link', onclick: () => remove(t), 'aria-label': `Delete topic ${t.name}` }, 'Delete')))))));
  }

  async function remove(t) {
    if (!await confirmDialog(`Delete topic ${t.name}? Notifications that use it stop.`)) return;
    try { await deleteTopic(t.arn); toast(`Topic ${t.name} deleted`); await load(); } catch (err) { toastError('Deleting the topic')(err); }
  }

  async function test(t) {
    try {
      const res = await api.admin('POST', '/topic', { query: { 'test-event': '', topic: t.name } });
      toast(`Test event for ${t.name}: ${res && res.text ? res.text : 'sent'}`);
    } catch (err) { toastError('Test event')(err); }
  }

  await load();
}

// The endpoint arguments the form has fields for; others go in "More".
const known = ['push-endpoint', 'persistent', 'OpaqueData'];

function topicForm(t, done) {
  const args = new URLSearchParams(t ? t.args : '');
  const name = h('input', { type: 'text', id: 'topic-name', required: true, value: t ? t.name : '', readonly: !!t });
  const endpoint = h('input', { type: 'text', id: 'topic-endpoint', value: t ? t.endpoint : '', placeholder: 'http://host:port/path, amqp://…, kafka://…' });
  const persistent = checkbox('Persistent (queued in the same commit as the change, retried until acked)', { id: 'topic-persistent', checked: t ? t.persistent : false });
  const opaque = h('input', { type: 'text', id: 'topic-opaque', value: t ? t.opaque : '' });
  const more = h('input', { type: 'text', id: 'topic-args', spellcheck: 'false',
    value: Array.from(args.entries()).filter(([k]) => !known.includes(k) && k !== 'Action' && k !== 'Name').map(([k, v]) => `${k}=${v}`).join('&') });
  const err = h('p', { class: 'error-text', 'aria-live': 'polite' });
  const form = h('form', { class: 'card', 'aria-label': t ? `Edit topic ${t.name}` : 'New topic' },
    h('h2', {}, t ? `Edit ${t.name}` : 'New topic'), field('Name', name), field('Push endpoint (empty: pull only)', endpoint),
    persistent.el, field('Opaque data', opaque),
    field('More endpoint arguments', more, 'key=value pairs joined by &, e.g. verify-ssl=false&max-retries=5&overflow-policy=drop-oldest'),
    err, h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'topic-save' }, 'Save topic'),
      h('button', { type: 'button', onclick: () => done() }, 'Cancel')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const attrs = { 'push-endpoint': endpoint.value.trim(), persistent: persistent.input.checked ? 'true' : '', OpaqueData: opaque.value };
    for (const [k, v] of new URLSearchParams(more.value.trim())) attrs[k] = v;
    try { await createTopic(name.value.trim(), attrs); toast(`Topic ${name.value.trim()} saved`); await done(); } catch (ex) { err.textContent = errorText(ex); }
  });
  setTimeout(() => (t ? endpoint : name).focus(), 0);
  return form;
}
