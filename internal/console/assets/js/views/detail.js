// The object detail panel: metadata, ETag, checksum, tags (editable),
// object lock state and legal hold of one object or version.
import { h, clear, field, toast, toastError, errorText, formatBytes, timeEl, header, headerEntries, kids, kid, txt, root, xmlEscape, confirmDialog } from '../ui.js';
import * as s3 from '../s3.js';
import { shareDialog } from './share.js';
import { downloadLink } from './objects-table.js';

// showDetail fills panel with the object's details; onChange is called
// after a change that alters the listing (delete).
export async function showDetail(panel, bucket, key, versionId, onChange) {
  const q = versionId ? { versionId } : {};
  clear(panel).append(h('h2', { id: 'detail-title', tabindex: '-1' }, 'Details'), h('p', { class: 'muted' }, 'Loading…'));
  panel.hidden = false;
  let head;
  try {
    head = await s3.call('HEAD', bucket, key, { query: q, headers: { 'x-amz-checksum-mode': 'ENABLED' } });
  } catch (err) {
    clear(panel).append(h('h2', { id: 'detail-title', tabindex: '-1' }, 'Details'), h('p', { class: 'error-text' }, errorText(err)));
    return;
  }
  const get = (n) => header(head, n);
  const rows = [
    ['Key', key], ['Version', get('x-amz-version-id') || '—'], ['Size', formatBytes(get('content-length'))],
    ['Last modified', timeEl(get('last-modified'))], ['ETag', h('code', { id: 'detail-etag' }, get('etag') || '')],
    ['Content type', get('content-type') || ''], ['Storage class', get('x-amz-storage-class') || 'STANDARD'],
  ];
  for (const [name, value] of headerEntries(head)) {
    const n = name.toLowerCase();
    if (n.startsWith('x-amz-checksum-') && n !== 'x-amz-checksum-type') rows.push([`Checksum ${n.slice(15).toUpperCase()}`, h('code', {}, value)]);
    else if (n.startsWith('x-amz-meta-')) rows.push([`Metadata ${n.slice(11)}`, value]);
    else if (['content-encoding', 'content-disposition', 'x-amz-server-side-encryption'].includes(n)) rows.push([n, value]);
  }
  rows.push(['Lock mode', get('x-amz-object-lock-mode') || 'none'],
    ['Retain until', get('x-amz-object-lock-retain-until-date') ? timeEl(get('x-amz-object-lock-retain-until-date')) : '—'],
    ['Legal hold', get('x-amz-object-lock-legal-hold') || 'OFF']);
  const actions = h('div', { class: 'row' },
    downloadLink(bucket, key, versionId, 'Download'),
    h('button', { type: 'button', onclick: () => shareDialog(bucket, key, versionId) }, 'Share link…'),
    h('button', { type: 'button', class: 'danger', onclick: () => removeOne(bucket, key, versionId, onChange) }, versionId ? 'Delete this version' : 'Delete'));
  clear(panel).append(h('h2', { id: 'detail-title', tabindex: '-1' }, 'Details'),
    h('dl', { class: 'kv', id: 'detail-kv' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])), actions,
    ...[legalHoldControl(bucket, key, versionId, get('x-amz-object-lock-legal-hold')), await tagsEditor(bucket, key, q)].filter(Boolean));
  panel.querySelector('#detail-title').focus();
}

async function removeOne(bucket, key, versionId, onChange) {
  const what = versionId ? `version ${versionId} of "${key}" (permanently)` : `"${key}"`;
  if (!await confirmDialog(`Delete ${what}?`)) return;
  try {
    await s3.call('DELETE', bucket, key, { query: versionId ? { versionId } : {} });
    toast(`Deleted ${key}`);
    onChange();
  } catch (err) { toastError(`Deleting ${key}`)(err); }
}

function legalHoldControl(bucket, key, versionId, status) {
  if (!status) return null; // only objects of object-lock buckets have one
  const on = status === 'ON';
  const btn = h('button', { type: 'button', 'aria-pressed': String(on) }, on ? 'Release legal hold' : 'Place legal hold');
  btn.addEventListener('click', async () => {
    const body = `<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>${on ? 'OFF' : 'ON'}</Status></LegalHold>`;
    const query = { 'legal-hold': '' };
    if (versionId) query.versionId = versionId;
    try {
      await s3.sendXML('PUT', bucket, key, query, body);
      toast(`Legal hold ${on ? 'released' : 'placed'}`);
      btn.textContent = on ? 'Place legal hold' : 'Release legal hold';
    } catch (err) { toastError('Legal hold')(err); }
  });
  return h('div', { class: 'row' }, btn);
}

async function tagsEditor(bucket, key, q) {
  const area = h('textarea', { id: 'detail-tags', class: 'code', rows: '4', spellcheck: 'false' });
  try {
    const r = root(await s3.call('GET', bucket, key, { query: { ...q, tagging: '' } }));
    area.value = kids(kid(r, 'TagSet'), 'Tag').map((t) => `${txt(t, 'Key')}=${txt(t, 'Value')}`).join('\n');
  } catch (err) {
    area.value = '';
    area.placeholder = `Tags could not be read: ${errorText(err)}`;
  }
  const save = h('button', { type: 'button' }, 'Save tags');
  save.addEventListener('click', async () => {
    const tags = area.value.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      const i = l.indexOf('=');
      return i < 0 ? [l, ''] : [l.slice(0, i).trim(), l.slice(i + 1).trim()];
    });
    const body = '<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>' +
      tags.map(([k, v]) => `<Tag><Key>${xmlEscape(k)}</Key><Value>${xmlEscape(v)}</Value></Tag>`).join('') + '</TagSet></Tagging>';
    try {
      if (tags.length) await s3.sendXML('PUT', bucket, key, { ...q, tagging: '' }, body);
      else await s3.call('DELETE', bucket, key, { query: { ...q, tagging: '' } });
      toast('Tags saved');
    } catch (err) { toastError('Saving tags')(err); }
  });
  return h('section', { 'aria-labelledby': 'detail-tags-title' }, h('h3', { id: 'detail-tags-title' }, 'Tags'),
    field('Tags, one key=value a line', area), save);
}
