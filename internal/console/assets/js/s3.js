// S3 operations the user views need, on top of api.js's s3() (which goes
// through the console's /api/s3/ forwarder with the session's identity).
// Answers are parsed from S3's XML into plain objects here, so that views
// deal with data, not documents.
import * as api from './api.js';
import { kids, kid, txt, root, xmlEscape, header } from './ui.js';
import { contentMD5, checksumCRC32 } from './md5.js';

// call is api.s3 with a bucket and optional key.
export function call(method, bucket, key, opts = {}) {
  const path = bucket === undefined ? '/' : api.objectPath(bucket, key);
  return api.s3(method, path, opts);
}

// sendXML sends a small XML document with its Content-MD5 and CRC-32
// (S3 requires one for some of them; they are harmless for the others).
export function sendXML(method, bucket, key, query, body) {
  return call(method, bucket, key, {
    query, body, headers: { 'Content-Type': 'application/xml', 'Content-MD5': contentMD5(body), 'x-amz-checksum-crc32': checksumCRC32(body) },
  });
}

export async function listBuckets() {
  const r = root(await call('GET'));
  return kids(kid(r, 'Buckets'), 'Bucket').map((b) => ({ name: txt(b, 'Name'), created: txt(b, 'CreationDate') }));
}

// listObjects is one ListObjectsV2 page (a "folder" view with delimiter).
export async function listObjects(bucket, { prefix = '', token = '', delimiter = '/', maxKeys = 200, startAfter = '' } = {}) {
  const query = { 'list-type': '2', prefix, 'max-keys': String(maxKeys) };
  if (delimiter) query.delimiter = delimiter;
  if (token) query['continuation-token'] = token;
  if (startAfter) query['start-after'] = startAfter;
  const r = root(await call('GET', bucket, undefined, { query }));
  return {
    prefixes: kids(r, 'CommonPrefixes').map((p) => txt(p, 'Prefix')),
    objects: kids(r, 'Contents').map((c) => ({
      key: txt(c, 'Key'), size: Number(txt(c, 'Size')), etag: txt(c, 'ETag'),
      modified: txt(c, 'LastModified'), storageClass: txt(c, 'StorageClass'),
    })),
    truncated: txt(r, 'IsTruncated') === 'true',
    next: txt(r, 'NextContinuationToken'),
  };
}

// listVersions is one ListObjectVersions page.
export async function listVersions(bucket, { prefix = '', keyMarker = '', versionMarker = '', delimiter = '/', maxKeys = 200 } = {}) {
  const query = { versions: '', prefix, 'max-keys': String(maxKeys) };
  if (delimiter) query.delimiter = delimiter;
  if (keyMarker) query['key-marker'] = keyMarker;
  if (versionMarker) query['version-id-marker'] = versionMarker;
  const r = root(await call('GET', bucket, undefined, { query }));
  const entries = [];
  for (const el of Array.from(r.children)) {
    if (el.localName !== 'Version' && el.localName !== 'DeleteMarker') continue;
    entries.push({
      deleteMarker: el.localName === 'DeleteMarker', key: txt(el, 'Key'), versionId: txt(el, 'VersionId'),
      latest: txt(el, 'IsLatest') === 'true', modified: txt(el, 'LastModified'),
      size: Number(txt(el, 'Size') || 0), etag: txt(el, 'ETag'),
    });
  }
  return {
    prefixes: kids(r, 'CommonPrefixes').map((p) => txt(p, 'Prefix')), entries,
    truncated: txt(r, 'IsTruncated') === 'true',
    nextKey: txt(r, 'NextKeyMarker'), nextVersion: txt(r, 'NextVersionIdMarker'),
  };
}

// usage sums a bucket's objects by listing at most maxPages pages (S3 has
// no usage call for users); partial is true when it stopped early.
export async function usage(bucket, { maxPages = 10, signal } = {}) {
  let token = ''; let bytes = 0; let count = 0;
  for (let page = 0; page < maxPages; page += 1) {
    const query = { 'list-type': '2', 'max-keys': '1000' };
    if (token) query['continuation-token'] = token;
    const r = root(await call('GET', bucket, undefined, { query, signal }));
    for (const c of kids(r, 'Contents')) { bytes += Number(txt(c, 'Size')); count += 1; }
    if (txt(r, 'IsTruncated') !== 'true') return { bytes, count, partial: false };
    token = txt(r, 'NextContinuationToken');
  }
  return { bytes, count, partial: true };
}

export async function createBucket(name, { versioning = false, objectLock = false } = {}) {
  const headers = {};
  if (objectLock) headers['x-amz-bucket-object-lock-enabled'] = 'true';
  await call('PUT', name, undefined, { headers });
  if (versioning && !objectLock) await putVersioning(name, 'Enabled');
}

export async function getVersioning(bucket) {
  const r = root(await call('GET', bucket, undefined, { query: { versioning: '' } }));
  return txt(r, 'Status') || 'Unversioned';
}

export function putVersioning(bucket, status) {
  return sendXML('PUT', bucket, undefined, { versioning: '' },
    `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>${xmlEscape(status)}</Status></VersioningConfiguration>`);
}

// deleteMany removes up to 1000 keys (or key versions) in one
// DeleteObjects; it returns the per-key errors.
export async function deleteMany(bucket, items) {
  const objs = items.map((it) => `<Object><Key>${xmlEscape(it.key)}</Key>${it.versionId ? `<VersionId>${xmlEscape(it.versionId)}</VersionId>` : ''}</Object>`).join('');
  const body = `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>${objs}</Delete>`;
  const r = root(await sendXML('POST', bucket, undefined, { delete: '' }, body));
  return kids(r, 'Error').map((e) => ({ key: txt(e, 'Key'), code: txt(e, 'Code'), message: txt(e, 'Message') }));
}

// getText reads a bucket sub-resource as text; a missing configuration
// (the code given) is null.
export async function getSub(bucket, sub, missingCodes) {
  try {
    const res = await call('GET', bucket, undefined, { query: { [sub]: '' } });
    return res.text;
  } catch (err) {
    if (missingCodes.includes(err.code)) return null;
    throw err;
  }
}

export { header };
