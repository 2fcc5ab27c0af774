// Share link: a presigned GET URL of an object (or one of its versions)
// with an expiry the reader picks, shown with a copy button.
import * as api from '../api.js';
import { h, uid, toast, errorText } from '../ui.js';

const expiries = [
  ['900', '15 minutes'], ['3600', '1 hour'], ['86400', '1 day'], ['604800', '7 days (the longest S3 allows)'],
];

export function shareDialog(bucket, key, versionId) {
  const back = document.activeElement;
  const title = uid('share');
  const sel = h('select', { id: 'share-expiry' }, expiries.map(([v, l]) => h('option', { value: v, selected: v === '3600' }, l)));
  const url = h('input', { type: 'text', id: 'share-url', readonly: true, value: '', size: '40' });
  const urlField = h('div', { class: 'field', hidden: true }, h('label', { for: 'share-url' }, 'Link'), url);
  const copy = h('button', { type: 'button', id: 'share-copy', disabled: true }, 'Copy link');
  const make = h('button', { type: 'button', class: 'primary', id: 'share-create' }, 'Create link');
  const close = h('button', { type: 'button' }, 'Close');
  const note = h('p', { class: 'muted', 'aria-live': 'polite' });
  const d = h('dialog', { 'aria-labelledby': title, id: 'share-dialog' },
    h('h2', { id: title }, `Share ${key}`),
    h('div', { class: 'field' }, h('label', { for: 'share-expiry' }, 'Link expires after'), sel),
    urlField, note, h('div', { class: 'row' }, make, copy, close));
  const done = () => { d.close(); d.remove(); if (back && back.focus) back.focus(); };
  close.addEventListener('click', done);
  d.addEventListener('cancel', (e) => { e.preventDefault(); done(); });
  make.addEventListener('click', async () => {
    try {
      const body = { method: 'GET', bucket, key, expiresSeconds: Number(sel.value) };
      if (versionId) body.versionId = versionId;
      const res = await api.presign(body);
      url.value = typeof res === 'string' ? res : res.url;
      urlField.hidden = false;
      copy.disabled = false;
      note.textContent = `Anyone with this link can download the object until ${new Date(Date.now() + Number(sel.value) * 1000).toLocaleString()}.`;
      url.focus();
      url.select();
    } catch (err) { note.textContent = `Could not create the link: ${errorText(err)}`; }
  });
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(url.value);
      toast('Link copied');
    } catch {
      url.select();
      note.textContent = 'Copying was refused by the browser; the link is selected, press Ctrl+C.';
    }
  });
  document.body.append(d);
  d.showModal();
  sel.focus();
}
