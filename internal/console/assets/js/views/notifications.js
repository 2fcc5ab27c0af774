// A bucket's notification configurations (S3 TopicConfigurations): list,
// add, edit, delete, and a test event.
import * as api from '../api.js';
import { h, clear, field, checkbox, toast, toastError, errorText, confirmDialog, kids, kid, txt, root as xroot, xmlEscape } from '../ui.js';
import * as s3 from '../s3.js';
import { listTopics } from '../sns.js';

const eventNames = ['s3:ObjectCreated:*', 's3:ObjectRemoved:*', 's3:ObjectRemoved:DeleteMarkerCreated',
  's3:ObjectCreated:Put', 's3:ObjectCreated:CompleteMultipartUpload', 's3:ObjectCreated:Copy', 's3:ObjectRemoved:Delete'];

async function readConfigs(bucket) {
  const r = xroot(await s3.call('GET', bucket, undefined, { query: { notification: '' } }));
  return kids(r, 'TopicConfiguration').map((c) => {
    const rules = kids(kid(kid(c, 'Filter'), 'S3Key'), 'FilterRule');
    const rule = (n) => (rules.find((f) => txt(f, 'Name').toLowerCase() === n) || null);
    return {
      id: txt(c, 'Id'), topic: txt(c, 'Topic'), events: kids(c, 'Event').map((e) => e.textContent),
      prefix: rule('prefix') ? txt(rule('prefix'), 'Value') : '', suffix: rule('suffix') ? txt(rule('suffix'), 'Value') : '',
    };
  });
}

function writeConfigs(bucket, configs) {
  const body = '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' + configs.map((c) => {
    const rules = [['prefix', c.prefix], ['suffix', c.suffix]].filter(([, v]) => v)
      .map(([n, v]) => `<FilterRule><Name>${n}</Name><Value>${xmlEscape(v)}</Value></FilterRule>`).join('');
    return `<TopicConfiguration><Id>${xmlEscape(c.id)}</Id><Topic>${xmlEscape(c.topic)}</Topic>` +
      c.events.map((e) => `<Event>${xmlEscape(e)}</Event>`).join('') +
      (rules ? `<Filter><S3Key>${rules}</S3Key></Filter>` : '') + '</TopicConfiguration>';
  }).join('') + '</NotificationConfiguration>';
  return s3.sendXML('PUT', bucket, undefined, { notification: '' }, body);
}

export async function notificationsSection(bucket, session) {
  const sec = h('section', { class: 'card', 'aria-labelledby': 'notif-title' },
    h('h2', { id: 'notif-title' }, 'Event notifications'),
    h('p', {}, 'Each configuration sends this bucket\'s events to a topic. ', h('a', { href: '#/topics' }, 'Manage topics')));
  const list = h('div', { id: 'notif-list' });
  const editor = h('div', {});
  sec.append(list, editor);
  let topics = [];
  try { topics = await listTopics(); } catch (err) { sec.append(h('p', { class: 'muted' }, `Topics could not be listed: ${errorText(err)}`)); }
  const load = async () => {
    let configs;
    try { configs = await readConfigs(bucket); } catch (err) { clear(list).append(h('p', { class: 'error-text' }, errorText(err))); return; }
    const edit = (c) => clear(editor).append(configForm(c, topics, async (nc) => {
      await writeConfigs(bucket, [...configs.filter((x) => x.id !== (c ? c.id : nc.id)), nc]);
      toast(`Notification ${nc.id} saved`); clear(editor); await load();
    }));
    const del = async (c) => {
      if (!await confirmDialog(`Delete notification ${c.id}?`)) return;
      try { await writeConfigs(bucket, configs.filter((x) => x.id !== c.id)); toast(`Notification ${c.id} deleted`); await load(); } catch (err) { toastError('Deleting the notification')(err); }
    };
    clear(list).append(configs.length ? h('ul', {}, configs.map((c) => h('li', {},
      h('strong', {}, c.id), ` → ${c.topic.split(':').pop()} (${c.events.join(', ') || 'all events'})`,
      c.prefix || c.suffix ? ` filter ${c.prefix}…${c.suffix}` : '', ' ',
      h('button', { type: 'button', class: 'link', onclick: () => edit(c), 'aria-label': `Edit notification ${c.id}` }, 'Edit'),
      h('button', { type: 'button', class: 'link', onclick: () => del(c), 'aria-label': `Delete notification ${c.id}` }, 'Delete'),
      h('button', { type: 'button', class: 'link', onclick: () => testEvent(bucket, c, session), 'aria-label': `Send a test event for ${c.id}` }, 'Test event'))))
      : h('p', { class: 'muted' }, 'No notifications.'),
    h('button', { type: 'button', id: 'notif-add', onclick: () => edit(null) }, 'Add notification'));
  };
  await load();
  return sec;
}

function configForm(c, topics, save) {
  const id = h('input', { type: 'text', id: 'notif-id', required: true, value: c ? c.id : '', readonly: !!c });
  const topic = h('select', { id: 'notif-topic', required: true },
    topics.map((t) => h('option', { value: t.arn, selected: c && c.topic === t.arn }, t.name)));
  const checks = eventNames.map((e) => checkbox(e, { value: e, checked: c ? c.events.includes(e) : e === 's3:ObjectCreated:*' }));
  const prefix = h('input', { type: 'text', id: 'notif-prefix', value: c ? c.prefix : '' });
  const suffix = h('input', { type: 'text', id: 'notif-suffix', value: c ? c.suffix : '' });
  const err = h('p', { class: 'error-text', 'aria-live': 'polite' });
  const form = h('form', { 'aria-label': c ? `Edit notification ${c.id}` : 'New notification' },
    field('Id', id), topics.length ? field('Topic', topic) : h('p', {}, 'Create a topic first: ', h('a', { href: '#/topics' }, 'Topics')),
    h('fieldset', {}, h('legend', {}, 'Events'), checks.map((x) => x.el)),
    h('div', { class: 'row' }, field('Key prefix', prefix), field('Key suffix', suffix)), err,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'notif-save' }, 'Save notification')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      await save({ id: id.value.trim(), topic: topic.value, events: checks.filter((x) => x.input.checked).map((x) => x.input.value), prefix: prefix.value, suffix: suffix.value });
    } catch (ex) { err.textContent = errorText(ex); }
  });
  setTimeout(() => (c ? topic : id).focus(), 0);
  return form;
}

// testEvent: admins queue a test record on the topic (the admin API);
// others write a small object that matches the configuration's filter,
// which makes a real event.
async function testEvent(bucket, c, session) {
  try {
    if (session && session.admin) {
      const res = await api.admin('POST', '/topic', { query: { 'test-event': '', topic: c.topic.split(':').pop() } });
      toast(`Test event sent to ${c.topic.split(':').pop()}: ${res && res.text ? res.text : 'ok'}`);
      return;
    }
    const key = `${c.prefix}cairn-console-test-event${c.suffix}`;
    await s3.call('PUT', bucket, key, { body: 'test event from the Cairn console\n', headers: { 'Content-Type': 'text/plain' } });
    toast(`Wrote ${key}: its event goes to the topic`);
  } catch (err) { toastError('Test event')(err); }
}
