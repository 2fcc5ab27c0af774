// Bucket settings: versioning, object lock, policy (JSON, validated),
// CORS and lifecycle (XML, or JSON as the AWS CLI writes it), and the
// bucket's notification configurations.
import { h, field, toast, toastError, errorText, routeHash, uid, root as xroot, kid, txt } from '../ui.js';
import * as s3 from '../s3.js';
import { jsonToXML, checkXML } from '../convert.js';
import { notificationsSection } from './notifications.js';

export async function render(root, params) {
  const bucket = params.bucket;
  root.append(h('h1', {}, `Settings of ${bucket}`),
    h('div', { class: 'row' }, h('a', { href: routeHash(`/buckets/${encodeURIComponent(bucket)}`) }, 'Objects'),
      h('a', { href: routeHash(`/buckets/${encodeURIComponent(bucket)}/events`) }, 'Live events')));
  root.append(await versioningSection(bucket), await lockSection(bucket));
  root.append(await docEditor(bucket, {
    id: 'policy', title: 'Bucket policy', sub: 'policy', missing: ['NoSuchBucketPolicy'], contentType: 'application/json',
    hint: 'An IAM policy document in JSON.',
    validate: (text) => { const v = JSON.parse(text); if (!v || typeof v !== 'object' || !v.Statement) throw new SyntaxError('a policy needs a "Statement"'); return text; },
  }));
  root.append(await docEditor(bucket, {
    id: 'cors', title: 'CORS', sub: 'cors', missing: ['NoSuchCORSConfiguration'], json: 'CORSConfiguration',
    hint: 'A CORSConfiguration document, or JSON such as {"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}.',
  }));
  root.append(await docEditor(bucket, {
    id: 'lifecycle', title: 'Lifecycle', sub: 'lifecycle', missing: ['NoSuchLifecycleConfiguration'], json: 'LifecycleConfiguration',
    hint: 'A LifecycleConfiguration document, or JSON such as {"Rules":[{"ID":"old","Status":"Enabled","Filter":{"Prefix":"logs/"},"Expiration":{"Days":30}}]}.',
  }));
  root.append(await notificationsSection(bucket, params.session));
}

async function versioningSection(bucket) {
  const state = h('strong', { id: 'versioning-state' });
  const sec = h('section', { class: 'card', 'aria-labelledby': 'versioning-title' }, h('h2', { id: 'versioning-title' }, 'Versioning'));
  const show = (s) => { state.textContent = s; };
  try { show(await s3.getVersioning(bucket)); } catch (err) { show(errorText(err)); }
  const set = (status) => async () => {
    try { await s3.putVersioning(bucket, status); show(status); toast(`Versioning ${status.toLowerCase()}`); } catch (err) { toastError('Versioning')(err); }
  };
  sec.append(h('p', {}, 'Status: ', state),
    h('div', { class: 'row' }, h('button', { type: 'button', id: 'versioning-enable', onclick: set('Enabled') }, 'Enable'),
      h('button', { type: 'button', id: 'versioning-suspend', onclick: set('Suspended') }, 'Suspend')));
  return sec;
}

async function lockSection(bucket) {
  const sec = h('section', { class: 'card', 'aria-labelledby': 'lock-title' }, h('h2', { id: 'lock-title' }, 'Object lock'));
  try {
    const r = xroot(await s3.call('GET', bucket, undefined, { query: { 'object-lock': '' } }));
    const ret = kid(kid(kid(r, 'Rule'), 'DefaultRetention'), 'Mode') ? kid(kid(r, 'Rule'), 'DefaultRetention') : null;
    sec.append(h('p', {}, `Enabled: ${txt(r, 'ObjectLockEnabled') || 'no'}.`,
      ret ? ` Default retention: ${txt(ret, 'Mode')} for ${txt(ret, 'Days') ? txt(ret, 'Days') + ' days' : txt(ret, 'Years') + ' years'}.` : ' No default retention.'));
  } catch (err) {
    sec.append(h('p', { class: 'muted' }, err.code === 'ObjectLockConfigurationNotFoundError'
      ? 'Object lock is off for this bucket (it can only be turned on when the bucket is created).' : errorText(err)));
  }
  return sec;
}

// docEditor edits one bucket sub-resource document.
async function docEditor(bucket, o) {
  const area = h('textarea', { id: `${o.id}-doc`, class: 'code', spellcheck: 'false', rows: '10' });
  const errId = uid('err');
  const err = h('p', { id: errId, class: 'error-text', 'aria-live': 'polite' });
  const fmt = o.json ? h('select', { id: `${o.id}-format` }, h('option', { value: 'xml' }, 'XML'), h('option', { value: 'json' }, 'JSON (AWS CLI)')) : null;
  const state = h('p', { class: 'muted' });
  const load = async () => {
    try {
      const text = await s3.getSub(bucket, o.sub, o.missing);
      area.value = text === null ? '' : text;
      state.textContent = text === null ? 'Not set.' : '';
      if (fmt) fmt.value = 'xml';
    } catch (e) { state.textContent = errorText(e); }
  };
  const save = async () => {
    err.textContent = '';
    area.removeAttribute('aria-invalid');
    let body;
    try {
      body = o.validate ? o.validate(area.value) : (fmt.value === 'json' ? jsonToXML(area.value, o.json) : area.value);
      if (!o.validate) checkXML(body);
    } catch (e) {
      err.textContent = `Not valid: ${e.message}`;
      area.setAttribute('aria-invalid', 'true');
      area.focus();
      return;
    }
    try {
      if (o.contentType) await s3.call('PUT', bucket, undefined, { query: { [o.sub]: '' }, body, headers: { 'Content-Type': o.contentType } });
      else await s3.sendXML('PUT', bucket, undefined, { [o.sub]: '' }, body);
      toast(`${o.title} saved`);
      await load();
    } catch (e) {
      err.textContent = `The server refused it: ${errorText(e)}`;
      area.setAttribute('aria-invalid', 'true');
    }
  };
  const remove = async () => {
    try { await s3.call('DELETE', bucket, undefined, { query: { [o.sub]: '' } }); toast(`${o.title} removed`); await load(); } catch (e) { toastError(o.title)(e); }
  };
  await load();
  const docField = field(`${o.title} document`, area, o.hint);
  area.setAttribute('aria-describedby', `${area.getAttribute('aria-describedby') || ''} ${errId}`.trim());
  return h('section', { class: 'card', 'aria-labelledby': `${o.id}-title` }, h('h2', { id: `${o.id}-title` }, o.title), state,
    fmt ? field('Format', fmt) : null, docField, err,
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', id: `${o.id}-save`, onclick: save }, 'Save'),
      h('button', { type: 'button', id: `${o.id}-delete`, onclick: remove }, 'Remove')));
}

