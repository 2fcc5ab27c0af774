// The console's API client: the only module that talks to the server.
//
// Every S3, SNS and admin call goes to the console's own origin, which signs
// it with the session's key on the server side (the secret never reaches the
// page) and hands it to the S3 listener. State-changing calls carry the
// session's CSRF token in X-Cairn-CSRF, added here.

const CSRF_HEADER = 'X-Cairn-CSRF';

// The CSRF token of the current session (set by session() and signIn()).
let csrfToken = '';

// S3Error is any failed call: S3's XML error, the admin API's JSON error or
// the console's own JSON error ({code, message}), with the HTTP status.
export class S3Error extends Error {
  constructor(code, message, status) {
    super(message || code);
    this.name = 'S3Error';
    this.code = code;
    this.status = status;
  }
}

// parseError builds an S3Error from a failed response's text.
function parseError(status, text, contentType) {
  let code = '', message = '';
  if (text && /json/.test(contentType || '')) {
    try {
      const j = JSON.parse(text);
      code = j.code || j.Code || '';
      message = j.message || j.Message || '';
    } catch (_) { /* not JSON after all */ }
  } else if (text && /xml/.test(contentType || '') || (text || '').trimStart().startsWith('<')) {
    const doc = new DOMParser().parseFromString(text, 'application/xml');
    code = doc.querySelector('Error > Code')?.textContent || '';
    message = doc.querySelector('Error > Message')?.textContent || '';
  }
  if (!code) {
    code = status === 401 ? 'NoSession' : status === 403 ? 'AccessDenied' : status === 404 ? 'NotFound' : 'HTTP' + status;
  }
  return new S3Error(code, message || (text || '').slice(0, 200) || code, status);
}

// result is what every call resolves to.
function result(status, headers, text) {
  const ct = headers.get('Content-Type') || '';
  let xml = null, json = null;
  if (text && /xml/.test(ct)) xml = new DOMParser().parseFromString(text, 'application/xml');
  if (text && /json/.test(ct)) { try { json = JSON.parse(text); } catch (_) { /* leave null */ } }
  return { status, headers, text, xml, json };
}

// pathWithQuery appends query (an object, URLSearchParams or string) to
// path. A query value of '' gives a bare key (?versioning).
function pathWithQuery(path, query) {
  if (!query) return path;
  let qs;
  if (typeof query === 'string') {
    qs = query.replace(/^\?/, '');
  } else {
    const entries = query instanceof URLSearchParams ? [...query.entries()] : Object.entries(query);
    qs = entries.filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => v === '' ? encodeURIComponent(k) : encodeURIComponent(k) + '=' + encodeURIComponent(v))
      .join('&');
  }
  return qs ? path + (path.includes('?') ? '&' : '?') + qs : path;
}

// encodeKey percent-encodes an object key for a path, keeping '/'.
export function encodeKey(key) {
  return key.split('/').map(encodeURIComponent).join('/')
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

// objectPath is the S3 path of a bucket, or of a key in it.
export function objectPath(bucket, key) {
  return '/' + encodeURIComponent(bucket) + (key === undefined ? '' : '/' + encodeKey(key));
}

// s3Url is the console URL of an S3 path (for <a href download> links and
// EventSource): GET needs no CSRF token, the cookie is enough.
export function s3Url(path, query) {
  return pathWithQuery('/api/s3' + path, query);
}

function withCSRF(method, headers) {
  const h = new Headers(headers || {});
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) h.set(CSRF_HEADER, csrfToken);
  return h;
}

// call sends one request to the console; with onUploadProgress it uses
// XMLHttpRequest (fetch reports no upload progress).
async function call(method, url, { headers, body, signal, onUploadProgress } = {}) {
  const h = withCSRF(method, headers);
  if (onUploadProgress) return xhrCall(method, url, h, body, signal, onUploadProgress);
  const resp = await fetch(url, { method, headers: h, body, signal, credentials: 'same-origin', cache: 'no-store' });
  const text = method === 'HEAD' ? '' : await resp.text();
  if (!resp.ok) throw parseError(resp.status, text, resp.headers.get('Content-Type'));
  return result(resp.status, resp.headers, text);
}

function xhrCall(method, url, headers, body, signal, onUploadProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    headers.forEach((v, k) => xhr.setRequestHeader(k, v));
    xhr.upload.onprogress = (e) => onUploadProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : undefined });
    xhr.onload = () => {
      const h = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
        const i = line.indexOf(':');
        if (i > 0) h.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      if (xhr.status < 200 || xhr.status >= 300) {
        reject(parseError(xhr.status, xhr.responseText, h.get('Content-Type')));
        return;
      }
      resolve(result(xhr.status, h, xhr.responseText));
    };
    xhr.onerror = () => reject(new S3Error('NetworkError', 'the request failed (network error)', 0));
    xhr.onabort = () => reject(new DOMException('the request was aborted', 'AbortError'));
    if (signal) {
      if (signal.aborted) { xhr.abort(); return; }
      signal.addEventListener('abort', () => xhr.abort(), { once: true });
    }
    xhr.send(body === undefined ? null : body);
  });
}

async function jsonCall(method, url, payload) {
  const r = await call(method, url, {
    headers: payload === undefined ? {} : { 'Content-Type': 'application/json' },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  return r.json;
}

// session returns the current session ({user, tenant, displayName, admin,
// csrfToken, expires, endpoint}) or null when signed out.
export async function session() {
  try {
    const s = await jsonCall('GET', '/api/session');
    csrfToken = s.csrfToken;
    return s;
  } catch (e) {
    if (e instanceof S3Error && e.status === 401) { csrfToken = ''; return null; }
    throw e;
  }
}

// signIn starts a session with an access key and secret key; it throws
// S3Error InvalidCredentials (401) when they do not verify.
export async function signIn(accessKey, secretKey) {
  const s = await jsonCall('POST', '/api/session', { accessKey, secretKey });
  csrfToken = s.csrfToken;
  return s;
}

// signOut ends the session on the server.
export async function signOut() {
  await call('DELETE', '/api/session');
  csrfToken = '';
}

// s3 calls the S3 (or SNS: POST '/' with a form body) API as the signed-in
// user. path is path-style and escaped (use objectPath); query an object
// ({versioning: ''}), URLSearchParams or string. Resolves to {status,
// headers, text, xml, json}; throws S3Error.
export function s3(method, path, { query, headers, body, signal, onUploadProgress } = {}) {
  return call(method, pathWithQuery('/api/s3' + path, query), { headers, body, signal, onUploadProgress });
}

// stream opens a streaming GET (the live events: objectPath(b) with
// {events: ''}) and returns the fetch Response, whose body is read as it
// arrives; throws S3Error if the server refuses.
export async function stream(path, { query, headers, signal } = {}) {
  const resp = await fetch(pathWithQuery('/api/s3' + path, query),
    { headers: withCSRF('GET', headers), signal, credentials: 'same-origin', cache: 'no-store' });
  if (!resp.ok) throw parseError(resp.status, await resp.text(), resp.headers.get('Content-Type'));
  return resp;
}

// admin calls the admin API (/admin/<path>) as the signed-in user; the
// admin API refuses non-admins.
export function admin(method, path, { query, headers, body, signal } = {}) {
  return call(method, pathWithQuery('/api/admin/' + path.replace(/^\/+/, ''), query), { headers, body, signal });
}

// presign returns a URL on the S3 endpoint signed with the session's key:
// {method: 'GET'|'PUT', bucket, key, versionId?, partNumber?, uploadId?,
// expiresSeconds (≤ 604800)}.
export async function presign(req) {
  const r = await jsonCall('POST', '/api/presign', req);
  return r.url;
}

// history returns the server's metrics of the last hour (admins only).
export function history() {
  return jsonCall('GET', '/api/metrics/history');
}
