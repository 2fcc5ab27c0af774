// The console's shell: session check and sign-in page, hash router, nav,
// theme and toasts. Views are ES modules under js/views/ loaded on first
// use; each exports render(root, params) and may return a cleanup function
// (called when the route changes), e.g. to stop a live stream.
import * as api from './api.js';
import { h, clear, toast, errorText } from './ui.js';
import * as admin from './views/admin/index.js';

export { toast } from './ui.js';

const routes = [];
let current = { cleanup: null, seq: 0 };
let session = null;

// route registers a view: pattern is a path such as '/buckets/:bucket';
// load returns the view module (a dynamic import) or render is the function.
export function route(pattern, render, opts = {}) {
  const names = [];
  const re = new RegExp('^' + pattern.replace(/:([a-zA-Z]+)/g, (_, n) => { names.push(n); return '([^/]+)'; }) + '/?$');
  routes.push({ pattern, re, names, render, ...opts });
}

// navigate changes the hash (which renders the route).
export function navigate(hash) {
  if (location.hash === hash) renderRoute();
  else location.hash = hash;
}

// currentSession is the signed-in session's JSON (user, tenant, admin …).
export function currentSession() { return session; }

const lazy = (name) => async (root, params) => (await import(`./views/${name}.js`)).render(root, params);

route('/buckets', lazy('buckets'), { title: 'Buckets', nav: true });
route('/buckets/:bucket', lazy('objects'), { title: 'Objects' });
route('/buckets/:bucket/settings', lazy('settings'), { title: 'Bucket settings' });
route('/buckets/:bucket/events', lazy('events'), { title: 'Live events' });
route('/topics', lazy('topics'), { title: 'Topics', nav: true });
route('/subscriptions', lazy('subscriptions'), { title: 'Subscriptions', nav: true });
for (const r of admin.routes || []) {
  const path = r.path || r.pattern;
  if (!path || typeof r.render !== 'function') continue;
  route(path, r.render, { title: r.title || r.label || path, nav: r.nav !== false && !path.includes(':'), admin: true });
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/buckets';
  const [path, qs] = raw.split('?');
  return { path: path || '/buckets', query: Object.fromEntries(new URLSearchParams(qs || '')) };
}

function renderNav(active) {
  const nav = document.getElementById('nav');
  const items = routes.filter((r) => r.nav && (!r.admin || (session && session.admin)));
  clear(nav).append(...items.map((r) => h('a', {
    href: '#' + r.pattern, 'aria-current': active && active.pattern === r.pattern ? 'page' : false,
  }, r.title)));
  nav.hidden = false;
}

async function renderRoute() {
  const main = document.getElementById('main');
  if (!session) return;
  const { path, query } = parseHash();
  let match = null; let params = {};
  for (const r of routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    match = r;
    r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
    break;
  }
  if (current.cleanup) { try { current.cleanup(); } catch { /* view already gone */ } }
  current = { cleanup: null, seq: current.seq + 1 };
  const seq = current.seq;
  const navMatch = match && match.nav ? match : routes.find((r) => r.nav && path.startsWith(r.pattern));
  renderNav(navMatch);
  clear(main);
  if (match && match.admin && !session.admin) {
    // The admin API refuses them anyway; say so rather than "not found".
    main.append(h('h1', { tabindex: '-1' }, 'Access denied'),
      h('p', { class: 'error-text', id: 'admin-denied' }, 'This page is for administrators: your user has no admin capabilities.'),
      h('p', {}, h('a', { href: '#/buckets' }, 'Back to buckets')));
    focusHeading(main);
    return;
  }
  if (!match) {
    main.append(h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, h('a', { href: '#/buckets' }, 'Back to buckets')));
    focusHeading(main);
    return;
  }
  document.title = `${match.title} – Cairn console`;
  params = { ...params, query, session };
  try {
    // Each route renders into a container of its own: a view still
    // loading when the route changes appends to a detached node, not
    // below the next page.
    const view = h('div', { class: 'view' });
    main.append(view);
    const cleanup = await match.render(view, params);
    if (seq === current.seq) current.cleanup = typeof cleanup === 'function' ? cleanup : null;
    else if (typeof cleanup === 'function') cleanup();
  } catch (err) {
    if (err && err.status === 401) { session = null; showSignIn(); return; }
    main.append(h('p', { class: 'error-text', role: 'alert' }, errorText(err)));
  }
  if (seq === current.seq) focusHeading(main);
}

// focusHeading moves focus to the new page's heading, so that keyboard and
// screen reader users start at the content after a route change.
function focusHeading(main) {
  // A reader who already moved into the view while it loaded keeps focus.
  const active = document.activeElement;
  if (active && active !== main && main.contains(active) && active.tagName !== 'H1') return;
  const h1 = main.querySelector('h1');
  if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus({ preventScroll: false }); } else main.focus();
}

function showSignIn(message) {
  const main = document.getElementById('main');
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('whoami').textContent = '';
  document.title = 'Sign in – Cairn console';
  const ak = h('input', { type: 'text', id: 'signin-access', name: 'accessKey', autocomplete: 'username', required: true, spellcheck: 'false' });
  const sk = h('input', { type: 'password', id: 'signin-secret', name: 'secretKey', autocomplete: 'current-password', required: true });
  const err = h('p', { class: 'error-text', id: 'signin-error', role: 'alert' }, message || '');
  const submit = h('button', { type: 'submit', class: 'primary', id: 'signin-submit' }, 'Sign in');
  const form = h('form', { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to Cairn'),
    h('div', { class: 'field' }, h('label', { for: 'signin-access' }, 'Access key'), ak),
    h('div', { class: 'field' }, h('label', { for: 'signin-secret' }, 'Secret key'), sk),
    err, h('div', { class: 'row' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    err.textContent = '';
    try {
      session = await api.signIn(ak.value.trim(), sk.value);
      sk.value = '';
      if (!session || !session.user) session = await api.session();
      signedIn();
    } catch (ex) {
      err.textContent = ex && ex.status === 401 ? 'Wrong access key or secret key.' : errorText(ex);
      submit.disabled = false;
      sk.focus();
    }
  });
  clear(main).append(form);
  ak.focus();
}

function signedIn() {
  const who = document.getElementById('whoami');
  who.textContent = `Signed in as ${session.displayName || session.user}${session.admin ? ' (admin)' : ''}`;
  document.getElementById('sign-out').hidden = false;
  renderRoute();
}

async function signOut() {
  try { await api.signOut(); } catch (err) { toast(`Sign out: ${errorText(err)}`, { error: true }); }
  session = null;
  if (current.cleanup) { try { current.cleanup(); } catch { /* ignore */ } current.cleanup = null; }
  showSignIn('You are signed out.');
}

// Theme: the reader's saved choice, else the system's; the toggle saves.
const themeKey = 'cairn.theme';
const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');
function applyTheme() {
  const saved = localStorage.getItem(themeKey);
  const dark = saved ? saved === 'dark' : darkQuery.matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  const btn = document.getElementById('theme-toggle');
  btn.setAttribute('aria-pressed', String(dark));
  btn.textContent = 'Dark theme';
}

function init() {
  applyTheme();
  darkQuery.addEventListener('change', applyTheme);
  document.getElementById('theme-toggle').addEventListener('click', () => {
    const dark = document.documentElement.dataset.theme !== 'dark';
    localStorage.setItem(themeKey, dark ? 'dark' : 'light');
    applyTheme();
  });
  document.getElementById('sign-out').addEventListener('click', signOut);
  document.getElementById('skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    const main = document.getElementById('main');
    (main.querySelector('h1') || main).focus();
  });
  window.addEventListener('hashchange', () => { if (location.hash.startsWith('#/') || !location.hash) renderRoute(); });
  window.addEventListener('cairn:unauthorized', () => { session = null; showSignIn('Your session ended. Sign in again.'); });
  api.session().then((s) => {
    if (s && s.user) { session = s; signedIn(); } else showSignIn();
  }).catch(() => showSignIn());
}

init();
