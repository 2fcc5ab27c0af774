// Uploads from the browser through the console's /api/s3/ forwarder, with
// per-file progress. Files above multipartThreshold go as multipart uploads
// whose parts are sent in parallel; each such upload is remembered in
// localStorage, so that after a page reload choosing the same file again
// (same name, size and modification time) lists the parts already stored
// and sends only the missing ones.
import { h, clear, toast, formatBytes, errorText, kids, txt, root, xmlEscape, header } from './ui.js';
import { call } from './s3.js';

export const multipartThreshold = 16 * 1024 * 1024;
const minPartSize = 8 * 1024 * 1024;
const maxParts = 10000;
const parallelParts = 4;
const partAttempts = 3;
const storeKey = 'cairn.uploads';

// The remembered multipart uploads: {bucket, key, uploadId, name, size,
// lastModified, partSize, started}.
export function pending(bucket) {
  return readStore().filter((r) => !bucket || r.bucket === bucket);
}
function readStore() {
  try { return JSON.parse(localStorage.getItem(storeKey) || '[]'); } catch { return []; }
}
function writeStore(list) { localStorage.setItem(storeKey, JSON.stringify(list)); }
function remember(rec) { writeStore([...readStore().filter((r) => r.uploadId !== rec.uploadId), rec]); }
export function forget(uploadId) { writeStore(readStore().filter((r) => r.uploadId !== uploadId)); }
function findRecord(bucket, key, file) {
  return readStore().find((r) => r.bucket === bucket && r.key === key && r.name === file.name &&
    r.size === file.size && r.lastModified === file.lastModified);
}

// partSizeFor keeps a file within S3's 10,000 parts.
export function partSizeFor(size) {
  return Math.max(minPartSize, Math.ceil(size / maxParts / (1024 * 1024)) * 1024 * 1024);
}

// abortRemembered aborts a remembered upload on the server and forgets it.
export async function abortRemembered(rec) {
  try {
    await call('DELETE', rec.bucket, rec.key, { query: { uploadId: rec.uploadId } });
  } catch (err) {
    if (err.code !== 'NoSuchUpload') throw err;
  }
  forget(rec.uploadId);
}

// Uploader owns the list of uploads shown on the page. It outlives views:
// an upload keeps going when the reader browses elsewhere.
class Uploader {
  constructor() {
    this.list = h('ul', { class: 'uploads', 'aria-label': 'Uploads', id: 'upload-list' });
    this.running = new Set();
    this.onDone = null;
  }

  // start uploads files into bucket under prefix.
  start(bucket, prefix, files) {
    for (const file of files) {
      const key = prefix + (file.webkitRelativePath || file.name);
      const item = new Item(bucket, key, file);
      this.list.prepend(item.el);
      this.running.add(item);
      item.run().then(() => {
        this.running.delete(item);
        if (item.ok && this.onDone) this.onDone(bucket, key);
      });
    }
  }
}

class Item {
  constructor(bucket, key, file) {
    Object.assign(this, { bucket, key, file, ok: false, ctl: new AbortController(), sent: 0, inflight: new Map() });
    this.bar = h('progress', { max: '100', value: '0', 'aria-label': `Upload progress of ${key}` });
    this.pct = h('span', { class: 'upct' }, '0 %');
    this.status = h('span', { class: 'ustatus', 'aria-live': 'polite' }, 'Waiting');
    this.cancel = h('button', { type: 'button', class: 'link', 'aria-label': `Cancel upload of ${key}` }, 'Cancel');
    this.cancel.addEventListener('click', () => this.ctl.abort());
    this.el = h('li', { 'data-key': key, 'data-bucket': bucket },
      h('span', { class: 'uname' }, key, ' ', h('span', { class: 'muted' }, `(${formatBytes(file.size)})`)),
      h('span', {}, this.pct, ' ', this.cancel), this.bar, this.status);
  }

  setStatus(s) { this.status.textContent = s; }

  progress() {
    let n = this.sent;
    for (const v of this.inflight.values()) n += v;
    const pct = this.file.size ? Math.min(100, Math.floor((n / this.file.size) * 100)) : 100;
    if (String(pct) !== this.bar.value) { this.bar.value = pct; this.pct.textContent = `${pct} %`; }
  }

  async run() {
    this.setStatus('Uploading');
    try {
      if (this.file.size <= multipartThreshold) await this.single();
      else await this.multipart();
      this.ok = true;
      this.bar.value = 100;
      this.pct.textContent = '100 %';
      this.setStatus('Done');
      this.el.dataset.state = 'done';
      this.cancel.remove();
      toast(`Uploaded ${this.key}`);
    } catch (err) {
      const msg = this.ctl.signal.aborted ? 'Cancelled' : `Failed: ${errorText(err)}`;
      this.setStatus(msg);
      this.el.dataset.state = this.ctl.signal.aborted ? 'cancelled' : 'failed';
      this.cancel.remove();
      if (!this.ctl.signal.aborted) toast(`Upload of ${this.key} failed: ${errorText(err)}`, { error: true });
    }
  }

  onProgress(slot) {
    return (a, b) => {
      const loaded = typeof a === 'object' && a !== null ? a.loaded : a;
      this.inflight.set(slot, Number(loaded) || 0);
      this.progress();
      return b;
    };
  }

  async single() {
    await call('PUT', this.bucket, this.key, {
      body: this.file, signal: this.ctl.signal,
      headers: { 'Content-Type': this.file.type || 'application/octet-stream' },
      onUploadProgress: this.onProgress(0),
    });
  }

  async multipart() {
    const { rec, done } = await this.resumeOrCreate();
    const parts = Math.ceil(this.file.size / rec.partSize);
    const etags = new Map(done);
    for (const [n] of done) this.sent += this.partLength(rec, n);
    // The data attributes let people's tools (and the browser tests) see
    // how far a multipart upload got and what a resume skipped.
    this.el.dataset.parts = String(parts);
    this.el.dataset.partsDone = String(done.size);
    this.el.dataset.resumedParts = String(done.size);
    if (done.size) this.setStatus(`Resuming: ${done.size} of ${parts} parts already stored`);
    this.progress();
    const todo = [];
    for (let n = 1; n <= parts; n += 1) if (!etags.has(n)) todo.push(n);
    const worker = async () => {
      while (todo.length) {
        const n = todo.shift();
        etags.set(n, await this.sendPart(rec, n));
        this.el.dataset.partsDone = String(etags.size);
      }
    };
    this.cancel.addEventListener('click', () => abortRemembered(rec).catch(() => {}), { once: true });
    await Promise.all(Array.from({ length: Math.min(parallelParts, todo.length) }, worker));
    this.setStatus('Completing');
    const body = '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      Array.from(etags.keys()).sort((a, b) => a - b)
        .map((n) => `<Part><PartNumber>${n}</PartNumber><ETag>${xmlEscape(etags.get(n))}</ETag></Part>`).join('') +
      '</CompleteMultipartUpload>';
    const res = await call('POST', this.bucket, this.key, {
      query: { uploadId: rec.uploadId }, body, headers: { 'Content-Type': 'application/xml' }, signal: this.ctl.signal,
    });
    const r = root(res);
    // CompleteMultipartUpload may answer 200 with an error document.
    if (r && r.localName === 'Error') throw Object.assign(new Error(txt(r, 'Message')), { code: txt(r, 'Code') });
    forget(rec.uploadId);
  }

  partLength(rec, n) {
    return Math.min(rec.partSize, this.file.size - (n - 1) * rec.partSize);
  }

  async sendPart(rec, n) {
    const start = (n - 1) * rec.partSize;
    const blob = this.file.slice(start, start + this.partLength(rec, n));
    for (let attempt = 1; ; attempt += 1) {
      try {
        const res = await call('PUT', this.bucket, this.key, {
          query: { partNumber: String(n), uploadId: rec.uploadId }, body: blob, signal: this.ctl.signal,
          onUploadProgress: this.onProgress(n),
        });
        this.inflight.delete(n);
        this.sent += blob.size;
        this.progress();
        return header(res, 'ETag');
      } catch (err) {
        this.inflight.delete(n);
        if (this.ctl.signal.aborted || attempt >= partAttempts || (err.status && err.status < 500 && err.status !== 408)) throw err;
      }
    }
  }

  // resumeOrCreate continues the remembered upload of this file if the
  // server still has it, else creates one.
  async resumeOrCreate() {
    const old = findRecord(this.bucket, this.key, this.file);
    if (old) {
      try {
        return { rec: old, done: await listDoneParts(old, this.file.size) };
      } catch (err) {
        if (err.code !== 'NoSuchUpload') throw err;
        forget(old.uploadId);
      }
    }
    const res = await call('POST', this.bucket, this.key, {
      query: { uploads: '' }, headers: { 'Content-Type': this.file.type || 'application/octet-stream' }, signal: this.ctl.signal,
    });
    const rec = {
      bucket: this.bucket, key: this.key, uploadId: txt(root(res), 'UploadId'), name: this.file.name,
      size: this.file.size, lastModified: this.file.lastModified, partSize: partSizeFor(this.file.size), started: Date.now(),
    };
    remember(rec);
    return { rec, done: new Map() };
  }
}

// listDoneParts reads every page of ListParts and keeps the parts whose
// size is the one this file's part has (a short part is sent again).
async function listDoneParts(rec, size) {
  const done = new Map();
  let marker = '';
  for (let page = 0; page < maxParts / 1000 + 1; page += 1) {
    const query = { uploadId: rec.uploadId, 'max-parts': '1000' };
    if (marker) query['part-number-marker'] = marker;
    const r = root(await call('GET', rec.bucket, rec.key, { query }));
    for (const p of kids(r, 'Part')) {
      const n = Number(txt(p, 'PartNumber'));
      const want = Math.min(rec.partSize, size - (n - 1) * rec.partSize);
      if (Number(txt(p, 'Size')) === want) done.set(n, txt(p, 'ETag'));
    }
    if (txt(r, 'IsTruncated') !== 'true') break;
    marker = txt(r, 'NextPartNumberMarker');
  }
  return done;
}

export const uploader = new Uploader();

// uploadPanel is the drop zone, file picker, remembered uploads and the
// upload list of a bucket's object browser.
export function uploadPanel(bucket, getPrefix, onDone) {
  uploader.onDone = onDone;
  const picker = h('input', { type: 'file', id: 'upload-files', multiple: true });
  picker.addEventListener('change', () => { uploader.start(bucket, getPrefix(), Array.from(picker.files)); picker.value = ''; });
  const zone = h('div', { class: 'dropzone', id: 'dropzone' },
    h('p', {}, 'Drop files here to upload them to this folder, or choose them:'),
    h('label', { for: 'upload-files' }, 'Files to upload'), ' ', picker);
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const files = Array.from(e.dataTransfer.files || []);
    if (files.length) uploader.start(bucket, getPrefix(), files);
  });
  const remembered = h('div', { id: 'resumable' });
  renderRemembered(remembered, bucket);
  return h('section', { 'aria-labelledby': 'upload-title', class: 'card' },
    h('h2', { id: 'upload-title' }, 'Upload'), zone, remembered, uploader.list);
}

function renderRemembered(box, bucket) {
  const recs = pending(bucket).filter((r) => ![...uploader.running].some((it) => it.key === r.key));
  clear(box);
  if (!recs.length) return;
  box.append(h('h3', {}, 'Unfinished uploads'),
    h('p', { class: 'muted' }, 'Choose the same file again to upload only its missing parts.'),
    h('ul', {}, recs.map((rec) => {
      const pick = h('input', { type: 'file', id: `resume-${rec.uploadId}` });
      pick.addEventListener('change', () => {
        const f = pick.files[0];
        if (!f) return;
        if (f.name !== rec.name || f.size !== rec.size || f.lastModified !== rec.lastModified) {
          toast(`That is not ${rec.name} (${formatBytes(rec.size)}) as it was when the upload started.`, { error: true });
          return;
        }
        const prefix = rec.key.slice(0, rec.key.length - (f.webkitRelativePath || f.name).length);
        uploader.start(bucket, prefix, [f]);
        renderRemembered(box, bucket);
      });
      const discard = h('button', { type: 'button', class: 'link', 'aria-label': `Discard unfinished upload of ${rec.key}` }, 'Discard');
      discard.addEventListener('click', () => abortRemembered(rec).then(() => renderRemembered(box, bucket), (err) => toast(errorText(err), { error: true })));
      return h('li', {}, `${rec.key} (${formatBytes(rec.size)}) `,
        h('label', { for: pick.id, class: 'btn' }, `Resume: choose ${rec.name}`), pick, ' ', discard);
    })));
}

