// Users: the list (with status, admin capabilities and key count), a
// filter, and the form that creates a user. A user's keys are managed on
// its own page (user.js).
import { h, clear, field, checkbox, toast, toastError, errorText } from '../../ui.js';
import { adminJSON } from './common.js';
import { showNewKey } from './user.js';

// Users' documents are read a few at a time, and at most maxShown of
// them (the filter narrows the list first).
const workers = 4;
const maxShown = 200;

export function userHref(id) { return `#/admin/users/${encodeURIComponent(id)}`; }

// isAdminUser: root-like flags or a "users" capability, as adminapi
// decides.
export function isAdminUser(u) {
  return !!(u.admin || u.system || (u.caps || []).some((c) => c.type === 'users'));
}

export async function render(root) {
  const ctl = new AbortController();
  const filter = h('input', { type: 'search', id: 'user-filter', placeholder: 'tenant$user or prefix', spellcheck: 'false' });
  const list = h('div', { class: 'table-wrap', id: 'user-list' });
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  root.append(h('h1', {}, 'Users'), createForm(load), h('h2', { id: 'users-title' }, 'All users'),
    h('div', { class: 'row' }, field('Filter by user id', filter)), count, list);
  let ids = [];
  let timer = null;
  filter.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(show, 200); });

  async function load() {
    try {
      const doc = await adminJSON('GET', 'user', { list: '' });
      ids = (doc && doc.keys) || [];
    } catch (err) {
      clear(list).append(h('p', { class: 'error-text', role: 'alert' }, `Listing users failed: ${errorText(err)}`));
      return;
    }
    await show();
  }

  async function show() {
    const f = filter.value.trim().toLowerCase();
    const matching = ids.filter((id) => !f || id.toLowerCase().includes(f)).sort();
    const shown = matching.slice(0, maxShown);
    count.textContent = `${matching.length} user${matching.length === 1 ? '' : 's'}${matching.length > shown.length ? `, showing the first ${shown.length}` : ''}.`;
    const rows = new Map(shown.map((id) => [id, row(id)]));
    clear(list).append(h('table', { 'aria-labelledby': 'users-title' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'User'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Name'),
        h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col', class: 'num' }, 'Keys'))),
      h('tbody', {}, [...rows.values()].map((r) => r.tr))));
    const queue = shown.slice();
    const worker = async () => {
      while (queue.length && !ctl.signal.aborted) {
        const id = queue.shift();
        try {
          rows.get(id).fill(await adminJSON('GET', 'user', { uid: id }));
        } catch (err) { rows.get(id).fail(err); }
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
  }

  await load();
  return () => { ctl.abort(); clearTimeout(timer); };
}

function row(id) {
  const name = h('td', { class: 'hide-narrow' }, '');
  const status = h('td', {}, h('span', { class: 'muted' }, '…'));
  const keys = h('td', { class: 'num' }, '');
  const tr = h('tr', { 'data-user': id }, h('th', { scope: 'row', class: 'name' }, h('a', { href: userHref(id) }, id)), name, status, keys);
  return {
    tr,
    fill(u) {
      name.textContent = u.display_name || '';
      clear(status).append(h('span', { class: u.suspended ? 'tag tag-warn' : 'tag' }, u.suspended ? 'suspended' : 'active'),
        isAdminUser(u) ? h('span', { class: 'tag' }, 'admin') : '');
      keys.textContent = String((u.keys || []).length);
    },
    fail(err) { clear(status).append(h('span', { class: 'error-text' }, errorText(err))); },
  };
}

// createForm: user id (optionally tenant$user), display name, email,
// admin capabilities; the server generates the first key, shown once.
function createForm(onCreated) {
  const uidIn = h('input', { type: 'text', id: 'new-user-id', required: true, spellcheck: 'false', autocomplete: 'off' });
  const nameIn = h('input', { type: 'text', id: 'new-user-name', required: true, autocomplete: 'off' });
  const emailIn = h('input', { type: 'text', id: 'new-user-email', inputmode: 'email', autocomplete: 'off' });
  const adm = checkbox('Administrator (users, buckets and metadata capabilities)', { id: 'new-user-admin' });
  const out = h('div', { id: 'new-user-key' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'new-user-submit' }, 'Create user');
  const form = h('form', { class: 'card', 'aria-labelledby': 'new-user-title' },
    h('h2', { id: 'new-user-title' }, 'Create a user'),
    field('User id', uidIn, 'A name, or tenant$name for a user of a tenant.'),
    field('Display name', nameIn), field('Email (optional)', emailIn), adm.el,
    h('div', { class: 'row' }, submit), out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const id = uidIn.value.trim();
    const q = { uid: id, 'display-name': nameIn.value.trim() };
    if (emailIn.value.trim()) q.email = emailIn.value.trim();
    if (adm.input.checked) q['user-caps'] = 'users=*;buckets=*;metadata=*';
    submit.disabled = true;
    try {
      const u = await adminJSON('PUT', 'user', q);
      toast(`User ${id} created`);
      const k = (u.keys || [])[0];
      clear(out);
      if (k) showNewKey(out, id, k);
      uidIn.value = ''; nameIn.value = ''; emailIn.value = ''; adm.input.checked = false;
      onCreated();
    } catch (err) {
      toastError(`Creating ${id}`)(err);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

