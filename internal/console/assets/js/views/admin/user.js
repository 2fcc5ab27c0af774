// One user: its details, suspend/enable, delete, and its S3 keys (create,
// rotate = create a new key and remove the old one, remove). A new
// secret is shown once, right after it is made; no other secret is ever
// put on the page (the admin API's answers carry them; they are dropped).
import { h, clear, toast, toastError, confirmDialog, errorText, timeEl } from '../../ui.js';
import { adminJSON } from './common.js';

// showNewKey puts a freshly made key pair into box, with a copy button and
// a button that hides it for good.
export function showNewKey(box, id, key) {
  const secretId = 'new-secret-key';
  const copy = h('button', { type: 'button', id: 'copy-new-secret' }, 'Copy secret key');
  const done = h('button', { type: 'button', id: 'hide-new-secret' }, 'I have saved it');
  const card = h('section', { class: 'card new-key', 'aria-labelledby': 'new-key-title', role: 'region' },
    h('h3', { id: 'new-key-title' }, `New key of ${id}`),
    h('p', {}, 'The secret key is shown only now: copy it somewhere safe. It cannot be shown again.'),
    h('dl', { class: 'kv' },
      h('dt', {}, 'Access key'), h('dd', {}, h('code', { id: 'new-access-key' }, key.access_key)),
      h('dt', {}, 'Secret key'), h('dd', {}, h('code', { id: secretId }, key.secret_key))),
    h('div', { class: 'row' }, copy, done));
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(key.secret_key);
      toast('Secret key copied');
    } catch (err) { toastError('Copying')(err); }
  });
  done.addEventListener('click', () => { card.remove(); });
  clear(box).append(card);
  card.querySelector('h3').setAttribute('tabindex', '-1');
  card.querySelector('h3').focus();
}

// withoutSecrets keeps what the page shows of a user document.
function withoutSecrets(u) {
  return { ...u, keys: (u.keys || []).map((k) => ({ user: k.user, access_key: k.access_key })) };
}

export async function render(root, params) {
  const id = params.user;
  const heading = h('h1', {}, `User ${id}`);
  const info = h('div', { id: 'user-info' });
  const keyBox = h('div', { id: 'user-new-key', 'aria-live': 'polite' });
  const keys = h('div', { class: 'table-wrap', id: 'user-keys' });
  root.append(h('p', { class: 'breadcrumbs' }, h('a', { href: '#/admin/users' }, 'Users'), ' / ', id), heading, info,
    h('h2', { id: 'keys-title' }, 'Access keys'), keyBox, keys);
  let user = null;

  async function load() {
    try {
      user = withoutSecrets(await adminJSON('GET', 'user', { uid: id }));
    } catch (err) {
      clear(info).append(h('p', { class: 'error-text', role: 'alert' }, `Reading ${id} failed: ${errorText(err)}`));
      clear(keys);
      return;
    }
    showInfo();
    showKeys();
  }

  function showInfo() {
    const suspended = !!user.suspended;
    const toggle = h('button', { type: 'button', id: 'user-suspend' }, suspended ? 'Enable user' : 'Suspend user');
    const remove = h('button', { type: 'button', class: 'danger', id: 'user-delete' }, 'Delete user');
    toggle.addEventListener('click', () => setSuspended(!suspended));
    remove.addEventListener('click', removeUser);
    clear(info).append(h('dl', { class: 'kv card' },
      h('dt', {}, 'Display name'), h('dd', {}, user.display_name || '—'),
      h('dt', {}, 'Email'), h('dd', {}, user.email || '—'),
      h('dt', {}, 'Tenant'), h('dd', {}, user.tenant || '(default)'),
      h('dt', {}, 'Status'), h('dd', { id: 'user-status' }, suspended ? 'suspended' : 'active'),
      h('dt', {}, 'Capabilities'), h('dd', {}, (user.caps || []).map((c) => `${c.type}=${c.perm}`).join('; ') || 'none'),
      h('dt', {}, 'Created'), h('dd', {}, timeEl(user.create_date) || '—')),
    h('div', { class: 'row' }, toggle, remove));
  }

  function showKeys() {
    const ks = user.keys || [];
    if (!ks.length) {
      clear(keys).append(h('p', { class: 'muted' }, 'No keys: the user cannot sign requests.'), createKeyButton());
      return;
    }
    clear(keys).append(h('table', { 'aria-labelledby': 'keys-title' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Access key'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, ks.map((k) => h('tr', { 'data-key': k.access_key },
        h('th', { scope: 'row' }, h('code', {}, k.access_key)),
        h('td', { class: 'actions' },
          h('button', { type: 'button', class: 'link', 'aria-label': `Rotate key ${k.access_key}`, onclick: () => rotate(k.access_key) }, 'Rotate'),
          h('button', { type: 'button', class: 'link', 'aria-label': `Remove key ${k.access_key}`, onclick: () => removeKey(k.access_key) }, 'Remove')))))),
    createKeyButton());
  }

  function createKeyButton() {
    return h('div', { class: 'row' }, h('button', { type: 'button', id: 'user-create-key', onclick: createKey }, 'Create key'));
  }

  // newKey creates a generated key and returns it (the one not held before).
  async function newKey() {
    const before = new Set((user.keys || []).map((k) => k.access_key));
    const all = await adminJSON('PUT', 'user', { key: '', uid: id, 'key-type': 's3', 'generate-key': 'true' });
    const made = (all || []).find((k) => k.user === id && !before.has(k.access_key)) || (all || []).find((k) => !before.has(k.access_key));
    if (!made) throw new Error('the new key is not in the answer');
    return made;
  }

  async function createKey() {
    try {
      const k = await newKey();
      showNewKey(keyBox, id, k);
      toast(`Key ${k.access_key} created`);
      await load();
    } catch (err) { toastError('Creating a key')(err); }
  }

  // rotate makes a new key, shows its secret once, then removes the old.
  async function rotate(old) {
    const self = params.session && params.session.user === id;
    const msg = `Rotate key ${old}? A new key is made and ${old} is removed: clients using it stop working.` +
      (self ? ' If you signed in with it, sign in again with the new key.' : '');
    if (!await confirmDialog(msg, { ok: 'Rotate', danger: true })) return;
    let k;
    try {
      k = await newKey();
    } catch (err) { toastError('Rotating: creating the new key')(err); return; }
    showNewKey(keyBox, id, k);
    try {
      await adminJSON('DELETE', 'user', { key: '', uid: id, 'access-key': old });
      toast(`Key ${old} replaced by ${k.access_key}`);
    } catch (err) {
      toastError(`Rotating: the new key exists, removing ${old} failed`)(err);
    }
    await load();
  }

  async function removeKey(ak) {
    if (!await confirmDialog(`Remove key ${ak}? Clients using it stop working.`, { ok: 'Remove key' })) return;
    try {
      await adminJSON('DELETE', 'user', { key: '', uid: id, 'access-key': ak });
      toast(`Key ${ak} removed`);
      await load();
    } catch (err) { toastError(`Removing ${ak}`)(err); }
  }

  async function setSuspended(v) {
    try {
      await adminJSON('POST', 'user', { uid: id, suspended: String(v) });
      toast(`User ${id} ${v ? 'suspended' : 'enabled'}`);
      await load();
      document.getElementById('user-suspend')?.focus();
    } catch (err) { toastError(v ? 'Suspending' : 'Enabling')(err); }
  }

  async function removeUser() {
    if (!await confirmDialog(`Delete user ${id} and its keys? Its buckets stay.`, { ok: 'Delete user' })) return;
    try {
      await adminJSON('DELETE', 'user', { uid: id });
      toast(`User ${id} deleted`);
      location.hash = '#/admin/users';
    } catch (err) { toastError(`Deleting ${id}`)(err); }
  }

  await load();
}
