// The object browser of a bucket: one page of a prefix at a time (so a
// bucket of thousands of keys stays fast), continuation-token paging,
// search by prefix, versions and delete markers, selection and bulk delete,
// the detail panel and uploads.
import { h, clear, field, checkbox, toast, toastError, errorText, confirmDialog, routeHash } from '../ui.js';
import * as s3 from '../s3.js';
import { uploadPanel } from '../upload.js';
import { folderRow, objectRow } from './objects-table.js';
import { showDetail } from './detail.js';
import { shareDialog } from './share.js';

const pageSizes = ['100', '200', '500', '1000'];

export async function render(root, params) {
  const bucket = params.bucket;
  const prefix = params.query.prefix || '';
  const versions = params.query.versions === '1';
  const state = { pages: [{}], page: 0, size: 200, search: params.query.q || '', sel: new Map() };
  const tbody = h('tbody', { id: 'object-rows' });
  const status = h('p', { class: 'muted', id: 'list-status', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', id: 'page-prev', disabled: true }, 'Previous page');
  const next = h('button', { type: 'button', id: 'page-next', disabled: true }, 'Next page');
  const refresh = h('button', { type: 'button', id: 'refresh' }, 'Refresh');
  const bulk = h('button', { type: 'button', class: 'danger', id: 'delete-selected', disabled: true }, 'Delete selected');
  const panel = h('aside', { class: 'panel', id: 'detail-panel', 'aria-label': 'Object details', hidden: true });
  const layout = h('div', { class: 'layout-split' });
  const base = prefix + state.search;
  const reload = () => load(state.page);

  root.append(h('h1', {}, bucket),
    h('div', { class: 'row' },
      h('a', { href: routeHash(`/buckets/${encodeURIComponent(bucket)}/settings`) }, 'Settings'),
      h('a', { href: routeHash(`/buckets/${encodeURIComponent(bucket)}/events`) }, 'Live events'),
      h('a', { href: '#/buckets' }, 'All buckets')),
    breadcrumbs(bucket, prefix, versions), toolbar(bucket, prefix, versions, state));
  const table = h('table', { 'aria-label': `Objects in ${bucket}/${prefix}` },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Selected')),
      h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col', class: 'num' }, 'Size'),
      h('th', { scope: 'col', class: 'hide-narrow' }, 'Last modified'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    tbody);
  layout.append(h('div', {}, h('div', { class: 'table-wrap' }, table), status,
    h('div', { class: 'row' }, prev, next, refresh, h('span', { class: 'spacer' }), bulk)), panel);
  root.append(layout, uploadPanel(bucket, () => prefix, () => reload()));

  const ops = {
    sel: state.sel,
    onOpen: (o) => { layout.classList.add('with-panel'); showDetail(panel, bucket, o.key, versions ? o.versionId : undefined, reload); },
    onShare: (o) => shareDialog(bucket, o.key, versions ? o.versionId : undefined),
    onDelete: async (o) => {
      const what = o.versionId ? `version ${o.versionId} of "${o.key}" (permanently)` : `"${o.key}"`;
      if (!await confirmDialog(`Delete ${what}?`)) return;
      try {
        await s3.call('DELETE', bucket, o.key, { query: o.versionId ? { versionId: o.versionId } : {} });
        toast(`Deleted ${o.key}`);
        reload();
      } catch (err) { toastError(`Deleting ${o.key}`)(err); }
    },
  };
  tbody.addEventListener('selection', () => {
    bulk.disabled = state.sel.size === 0;
    bulk.textContent = state.sel.size ? `Delete selected (${state.sel.size})` : 'Delete selected';
  });
  bulk.addEventListener('click', () => deleteSelected(bucket, state.sel, () => { state.sel.clear(); bulk.disabled = true; bulk.textContent = 'Delete selected'; reload(); }));
  prev.addEventListener('click', () => load(state.page - 1));
  refresh.addEventListener('click', reload);
  next.addEventListener('click', () => load(state.page + 1));
  root.addEventListener('pagesize', (e) => { state.size = e.detail; state.pages = [{}]; load(0); });

  async function load(page) {
    status.textContent = 'Loading…';
    try {
      const res = versions
        ? await s3.listVersions(bucket, { prefix: base, maxKeys: state.size, ...state.pages[page] })
        : await s3.listObjects(bucket, { prefix: base, maxKeys: state.size, ...state.pages[page] });
      state.page = page;
      if (res.truncated) state.pages[page + 1] = versions ? { keyMarker: res.nextKey, versionMarker: res.nextVersion } : { token: res.next };
      const items = versions ? res.entries : res.objects;
      clear(tbody).append(...res.prefixes.map((p) => folderRow(bucket, p, prefix, versions)),
        ...items.map((o) => objectRow(bucket, prefix, o, ops)));
      const n = res.prefixes.length + items.length;
      status.textContent = n ? `Page ${page + 1}: ${n} entr${n === 1 ? 'y' : 'ies'}${res.truncated ? ', more on the next page' : ''}.`
        : (base ? `Nothing under "${base}".` : 'This bucket is empty.');
      prev.disabled = page === 0;
      next.disabled = !res.truncated;
    } catch (err) {
      status.textContent = `Listing failed: ${errorText(err)}`;
    }
  }
  await load(0);
}

function breadcrumbs(bucket, prefix, versions) {
  const parts = prefix.split('/').filter(Boolean);
  const link = (label, p) => h('a', { href: routeHash(`/buckets/${encodeURIComponent(bucket)}`, { prefix: p, versions: versions ? '1' : '' }) }, label);
  const crumbs = [link(bucket, '')];
  let acc = '';
  for (const p of parts) { acc += p + '/'; crumbs.push(' / ', link(p, acc)); }
  return h('nav', { class: 'breadcrumbs', 'aria-label': 'Folder' }, crumbs);
}

function toolbar(bucket, prefix, versions, state) {
  const search = h('input', { type: 'search', id: 'prefix-search', value: state.search, spellcheck: 'false', autocomplete: 'off' });
  const form = h('form', { class: 'row', role: 'search' }, field('Search by prefix', search),
    h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = routeHash(`/buckets/${encodeURIComponent(bucket)}`, { prefix, q: search.value, versions: versions ? '1' : '' });
  });
  const vers = checkbox('Show versions and delete markers', { id: 'show-versions', checked: versions });
  vers.input.addEventListener('change', () => {
    location.hash = routeHash(`/buckets/${encodeURIComponent(bucket)}`, { prefix, q: state.search, versions: vers.input.checked ? '1' : '' });
  });
  const size = h('select', { id: 'page-size' }, pageSizes.map((s) => h('option', { value: s, selected: s === String(state.size) }, s)));
  size.addEventListener('change', () => size.dispatchEvent(new CustomEvent('pagesize', { bubbles: true, detail: Number(size.value) })));
  return h('div', { class: 'row' }, form, vers.el, field('Per page', size));
}

async function deleteSelected(bucket, sel, done) {
  const items = Array.from(sel.values());
  if (!items.length || !await confirmDialog(`Delete ${items.length} selected item${items.length === 1 ? '' : 's'}?`)) return;
  const failed = [];
  try {
    for (let i = 0; i < items.length; i += 1000) failed.push(...await s3.deleteMany(bucket, items.slice(i, i + 1000)));
  } catch (err) { toastError('Deleting')(err); return; }
  if (failed.length) toast(`${failed.length} could not be deleted, e.g. ${failed[0].key}: ${failed[0].code}`, { error: true });
  else toast(`Deleted ${items.length} item${items.length === 1 ? '' : 's'}`);
  done();
}
