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
  const page = {
    id,
    self: !!(params.session && params.session.user === id),
    info: h('div', { id: 'user-info' }),
    keyBox: h('div', { id: 'user-new-key', 'aria-live': 'polite' }),
    keys: h('div', { class: 'table-wrap', id: 'user-keys' }),
    user: null,
  };
  page.load = () => load(page);
  root.append(h('p', { class: 'breadcrumbs' }, h('a', { href: '#/admin/users' }, 'Users'), ' / ', id),
    h('h1', {}, `User ${id}`), page.info, h('h2', { id: 'keys-title' }, 'Access keys'), page.keyBox, page.keys);
  await page.load();
}

// load reads the user and shows it; secrets are dropped at once.
async function load(page) {
  try {
    page.user = withoutSecrets(await adminJSON('GET', 'user', { uid: page.id }));
  } catch (err) {
    clear(page.info).append(h('p', { class: 'error-text', role: 'alert' }, `Reading ${page.id} failed: ${errorText(err)}`));
    clear(page.keys);
    return;
  }
  showInfo(page);
  showKeys(page);
}

function showInfo(page) {
  const { user } = page;
  const suspended = !!user.suspended;
  const toggle = h('button', { type: 'button', id: 'user-suspend' }, suspended ? 'Enable user' : 'Suspend user');
  const remove = h('button', { type: 'button', class: 'danger', id: 'user-delete' }, 'Delete user');
  toggle.addEventListener('click', () => setSuspended(page, !suspended));
  remove.addEventListener('click', () => removeUser(page));
  clear(page.info).append(h('dl', { class: 'kv card' },
    h('dt', {}, 'Display name'), h('dd', {}, user.display_name || '—'),
    h('dt', {}, 'Email'), h('dd', {}, user.email || '—'),
    h('dt', {}, 'Tenant'), h('dd', {}, user.tenant || '(default)'),
    h('dt', {}, 'Status'), h('dd', { id: 'user-status' }, suspended ? 'suspended' : 'active'),
    h('dt', {}, 'Capabilities'), h('dd', {}, (user.caps || []).map((c) => `${c.type}=${c.perm}`).join('; ') || 'none'),
    h('dt', {}, 'Created'), h('dd', {}, timeEl(user.create_date) || '—')),
  h('div', { class: 'row' }, toggle, remove));
}

function showKeys(page) {
  const ks = page.user.keys || [];
  const create = h('div', { class: 'row' }, h('button', { type: 'button', id: 'user-create-key', onclick: () => createKey(page) }, 'Create key'));
  if (!ks.length) {
    clear(page.keys).append(h('p', { class: 'muted' }, 'No keys: the user cannot sign requests.'), create);
    return;
  }
  clear(page.keys).append(h('table', { 'aria-labelledby': 'keys-title' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Access key'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    h('tbody', {}, ks.map((k) => h('tr', { 'data-key': k.access_key },
      h('th', { scope: 'row' }, h('code', {}, k.access_key)),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'link', 'aria-label': `Rotate key ${k.access_key}`, onclick: () => rotate(page, k.access_key) }, 'Rotate'),
        h('button', { type: 'button', class: 'link', 'aria-label': `Remove key ${k.access_key}`, onclick: () => removeKey(page, k.access_key) }, 'Remove')))))),
  create);
}

// newKey creates a generated key and returns it (the one not held before).
async function newKey(page) {
  const before = new Set((page.user.keys || []).map((k) => k.access_key));
  const all = await adminJSON('PUT', 'user', { key: '', uid: page.id, 'key-type': 's3', 'generate-key': 'true' });
  const made = (all || []).find((k) => !before.has(k.access_key));
  if (!made) throw new Error('the new key is not in the answer');
  return made;
}

async function createKey(page) {
  try {
    const k = await newKey(page);
    showNewKey(page.keyBox, page.id, k);
    toast(`Key ${k.access_key} created`);
    await page.load();
  } catch (err) { toastError('Creating a key')(err); }
}

// rotate makes a new key, shows its secret once, then removes the old.
async function rotate(page, old) {
  const msg = `Rotate key ${old}? A new key is made and ${old} is removed: clients using it stop working.` +
    (page.self ? ' If you signed in with it, sign in again with the new key.' : '');
  if (!await confirmDialog(msg, { ok: 'Rotate', danger: true })) return;
  let k;
  try {
    k = await newKey(page);
  } catch (err) { toastError('Rotating: creating the new key')(err); return; }
  showNewKey(page.keyBox, page.id, k);
  try {
    await adminJSON('DELETE', 'user', { key: '', uid: page.id, 'access-key': old });
    toast(`Key ${old} replaced by ${k.access_key}`);
  } catch (err) {
    toastError(`Rotating: the new key exists, removing ${old} failed`)(err);
  }
  await page.load();
}

async function removeKey(page, ak) {
  if (!await confirmDialog(`Remove key ${ak}? Clients using it stop working.`, { ok: 'Remove key' })) return;
  try {
    await adminJSON('DELETE', 'user', { key: '', uid: page.id, 'access-key': ak });
    toast(`Key ${ak} removed`);
    await page.load();
  } catch (err) { toastError(`Removing ${ak}`)(err); }
}

async function setSuspended(page, v) {
  try {
    await adminJSON('POST', 'user', { uid: page.id, suspended: String(v) });
    toast(`User ${page.id} ${v ? 'suspended' : 'enabled'}`);
    await page.load();
    document.getElementById('user-suspend')?.focus();
  } catch (err) { toastError(v ? 'Suspending' : 'Enabling')(err); }
}

async function removeUser(page) {
  if (!await confirmDialog(`Delete user ${page.id} and its keys? Its buckets stay.`, { ok: 'Delete user' })) return;
  try {
    await adminJSON('DELETE', 'user', { uid: page.id });
    toast(`User ${page.id} deleted`);
    location.hash = '#/admin/users';
  } catch (err) { toastError(`Deleting ${page.id}`)(err); }
}
