// Buckets: list with usage, create (versioning / object lock), delete.
import { h, clear, field, checkbox, toast, toastError, confirmDialog, formatBytes, timeEl, routeHash, errorText } from '../ui.js';
import * as s3 from '../s3.js';

// Usage is summed by listing, a few buckets at a time.
const usageWorkers = 2;

export async function render(root) {
  const ctl = new AbortController();
  const list = h('div', { class: 'table-wrap' });
  root.append(h('h1', {}, 'Buckets'), createForm(() => load()), h('h2', { id: 'bucket-list-title' }, 'Your buckets'), list);

  async function load() {
    let buckets;
    try {
      buckets = await s3.listBuckets();
    } catch (err) {
      clear(list).append(h('p', { class: 'error-text', role: 'alert' }, `Listing buckets failed: ${errorText(err)}`));
      return;
    }
    if (!buckets.length) {
      clear(list).append(h('p', { class: 'muted' }, 'No buckets yet. Create one above.'));
      return;
    }
    const usageCells = new Map();
    const rows = buckets.map((b) => {
      const cell = h('td', { class: 'num' }, h('span', { class: 'muted' }, '…'));
      usageCells.set(b.name, cell);
      return h('tr', {},
        h('th', { scope: 'row', class: 'name' }, h('a', { href: routeHash(`/buckets/${encodeURIComponent(b.name)}`) }, b.name)),
        h('td', { class: 'hide-narrow' }, timeEl(b.created)), cell,
        h('td', { class: 'actions' },
          h('a', { class: 'btn link', href: routeHash(`/buckets/${encodeURIComponent(b.name)}/settings`), 'aria-label': `Settings of ${b.name}` }, 'Settings'),
          h('a', { class: 'btn link', href: routeHash(`/buckets/${encodeURIComponent(b.name)}/events`), 'aria-label': `Live events of ${b.name}` }, 'Events'),
          h('button', { type: 'button', class: 'link', 'aria-label': `Delete bucket ${b.name}`, onclick: () => remove(b.name) }, 'Delete')));
    });
    clear(list).append(h('table', { 'aria-labelledby': 'bucket-list-title' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Created'),
        h('th', { scope: 'col', class: 'num' }, 'Usage'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, rows)));
    fillUsage(buckets.map((b) => b.name), usageCells, ctl.signal);
  }

  async function remove(name) {
    if (!await confirmDialog(`Delete bucket "${name}"? It must be empty.`)) return;
    try {
      await s3.call('DELETE', name);
      toast(`Bucket ${name} deleted`);
      load();
    } catch (err) { toastError(`Deleting ${name}`)(err); }
  }

  await load();
  return () => ctl.abort();
}

async function fillUsage(names, cells, signal) {
  const queue = names.slice();
  const worker = async () => {
    while (queue.length && !signal.aborted) {
      const name = queue.shift();
      const cell = cells.get(name);
      try {
        const u = await s3.usage(name, { signal });
        clear(cell).append(`${u.partial ? '≥ ' : ''}${formatBytes(u.bytes)}`, h('br'),
          h('span', { class: 'muted' }, `${u.partial ? '≥ ' : ''}${u.count} object${u.count === 1 ? '' : 's'}`));
      } catch (err) {
        if (!signal.aborted) clear(cell).append(h('span', { class: 'muted' }, err.code || 'n/a'));
      }
    }
  };
  await Promise.all(Array.from({ length: usageWorkers }, worker));
}

function createForm(onCreated) {
  const name = h('input', { type: 'text', id: 'new-bucket-name', required: true, minlength: '3', maxlength: '63',
    pattern: '[a-z0-9][a-z0-9.\\-]{1,61}[a-z0-9]', spellcheck: 'false', autocomplete: 'off' });
  const versioning = checkbox('Versioning', { id: 'new-bucket-versioning' });
  const lock = checkbox('Object lock (turns versioning on; cannot be turned off)', { id: 'new-bucket-lock' });
  lock.input.addEventListener('change', () => {
    if (lock.input.checked) versioning.input.checked = true;
    versioning.input.disabled = lock.input.checked;
  });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'new-bucket-submit' }, 'Create bucket');
  const form = h('form', { class: 'card', 'aria-labelledby': 'new-bucket-title' },
    h('h2', { id: 'new-bucket-title' }, 'Create a bucket'),
    field('Bucket name', name, '3–63 lower-case letters, digits, dots and hyphens'),
    h('div', { class: 'row' }, versioning.el, lock.el), h('div', { class: 'row' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      await s3.createBucket(name.value.trim(), { versioning: versioning.input.checked, objectLock: lock.input.checked });
      toast(`Bucket ${name.value.trim()} created`);
      name.value = '';
      onCreated();
    } catch (err) {
      toastError('Creating the bucket')(err);
    } finally { submit.disabled = false; }
  });
  return form;
}
