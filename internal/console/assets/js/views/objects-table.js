// Rows of the object browser: folders, objects and versions.
import { s3Url, objectPath } from '../api.js';
import { h, formatBytes, timeEl, baseName, routeHash } from '../ui.js';

// downloadLink is a same-origin link through the forwarder: the browser
// streams the body to disk itself, however big the object.
export function downloadLink(bucket, key, versionId, label) {
  const href = s3Url(objectPath(bucket, key), versionId ? { versionId } : undefined);
  return h('a', { class: 'btn link', href, download: baseName(key), 'aria-label': `${label} ${key}${versionId ? ` version ${versionId}` : ''}` }, label);
}

// folderRow links to a common prefix.
export function folderRow(bucket, prefix, base, versions) {
  return h('tr', { 'data-prefix': prefix },
    h('td', {}, ''),
    h('th', { scope: 'row', class: 'name' }, h('a', {
      href: routeHash(`/buckets/${encodeURIComponent(bucket)}`, { prefix, versions: versions ? '1' : '' }),
    }, '📁 ', prefix.slice(base.length))),
    h('td', { class: 'num' }, ''), h('td', { class: 'hide-narrow' }, ''), h('td', {}, ''));
}

// objectRow is one object (or version). sel tracks the selected rows.
export function objectRow(bucket, base, o, { onOpen, onShare, onDelete, sel }) {
  const id = o.versionId ? `${o.key}\u0000${o.versionId}` : o.key;
  const label = o.key.slice(base.length) || o.key;
  const check = h('input', { type: 'checkbox', 'aria-label': `Select ${o.key}${o.versionId ? ` version ${o.versionId}` : ''}`, checked: sel.has(id) });
  const tr = h('tr', { 'data-key': o.key, class: sel.has(id) ? 'selected' : '' });
  check.addEventListener('change', () => {
    if (check.checked) sel.set(id, { key: o.key, versionId: o.versionId });
    else sel.delete(id);
    tr.classList.toggle('selected', check.checked);
    tr.dispatchEvent(new CustomEvent('selection', { bubbles: true }));
  });
  const badges = [];
  if (o.versionId !== undefined) {
    if (o.latest) badges.push(h('span', { class: 'tag' }, 'latest'));
    if (o.deleteMarker) badges.push(h('span', { class: 'tag' }, 'delete marker'));
    badges.push(h('span', { class: 'muted' }, ` ${o.versionId}`));
  }
  const nameCell = o.deleteMarker ? h('span', {}, label)
    : h('button', { type: 'button', class: 'link', onclick: () => onOpen(o), 'aria-label': `Details of ${o.key}` }, label);
  tr.append(h('td', {}, check), h('th', { scope: 'row', class: 'name' }, nameCell, ' ', badges),
    h('td', { class: 'num' }, o.deleteMarker ? '' : formatBytes(o.size)),
    h('td', { class: 'hide-narrow' }, timeEl(o.modified)),
    h('td', { class: 'actions' },
      o.deleteMarker ? null : downloadLink(bucket, o.key, o.versionId, 'Download'), ' ',
      o.deleteMarker ? null : h('button', { type: 'button', class: 'link', onclick: () => onShare(o), 'aria-label': `Share ${o.key}` }, 'Share'), ' ',
      h('button', { type: 'button', class: 'link', onclick: () => onDelete(o), 'aria-label': `Delete ${o.key}${o.versionId ? ` version ${o.versionId}` : ''}` }, 'Delete')));
  return tr;
}
