// Helpers of the admin views: the admin API (RGW's Admin Ops JSON, through
// the console's /api/admin/ forwarder), the metrics history, the admin
// pages' own navigation and their stylesheet.
import * as api from '../../api.js';
import { h } from '../../ui.js';

// adminJSON calls the admin API: path is after /admin/ ("user"), query an
// object whose '' values are flags ("?list"). Answers are JSON (or empty).
export async function adminJSON(method, path, query = {}) {
  const res = await api.admin(method, path, { query });
  if (res && res.json !== undefined) return res.json;
  const text = res && typeof res.text === 'string' ? res.text : '';
  return text ? JSON.parse(text) : null;
}

// history returns the metrics history document.
export async function history() {
  return api.history();
}

// tenantOf is the tenant of a user id "tenant$uid" ("" for the default
// tenant).
export function tenantOf(id) {
  const i = id.indexOf('$');
  return i < 0 ? '' : id.slice(0, i);
}

const pages = [
  { path: '/admin', title: 'Metrics' },
  { path: '/admin/users', title: 'Users' },
  { path: '/admin/topics', title: 'Topics and queues' },
];

// subnav links the admin pages; active is the path of the current one.
export function subnav(active) {
  return h('nav', { class: 'admin-nav', 'aria-label': 'Administration' },
    h('ul', {}, pages.map((p) => h('li', {}, h('a', {
      href: '#' + p.path, 'aria-current': p.path === active ? 'page' : false,
    }, p.title)))));
}

// denied renders the access-denied page for a signed-in non-admin (the
// admin API refuses them too; this only says so plainly).
export function denied(root) {
  root.append(h('h1', {}, 'Access denied'),
    h('p', { role: 'alert', class: 'error-text', id: 'admin-denied' }, 'These pages are for administrators: your user has no admin capabilities.'),
    h('p', {}, h('a', { href: '#/buckets' }, 'Back to buckets')));
}

// loadStyles adds the admin pages' stylesheet once.
export function loadStyles() {
  if (document.getElementById('admin-css')) return;
  document.head.append(h('link', { rel: 'stylesheet', id: 'admin-css', href: new URL('./admin.css', import.meta.url).href }));
}
