// Admin views: metrics charts, users and keys, topics with their queues
// and dead letters. app.js shows them (and their nav entry) to admins
// only; each view checks again and says "Access denied" to anyone else,
// and the admin API refuses non-admins whatever the page does.
import { h } from '../../ui.js';
import { denied, loadStyles, subnav } from './common.js';

// page wraps a lazily loaded view with the admin check, the stylesheet
// and the admin sub-navigation.
function page(path, module) {
  return async (root, params) => {
    if (!params || !params.session || !params.session.admin) {
      denied(root);
      return undefined;
    }
    loadStyles();
    const body = h('div', { class: 'admin-page' });
    root.append(subnav(path), body);
    const view = await import(`./${module}.js`);
    return view.render(body, params);
  };
}

export const routes = [
  { path: '/admin', title: 'Admin', nav: true, render: page('/admin', 'metrics') },
  { path: '/admin/users', title: 'Users', nav: false, render: page('/admin/users', 'users') },
  { path: '/admin/users/:user', title: 'User', nav: false, render: page('/admin/users', 'user') },
  { path: '/admin/topics', title: 'Topics and queues', nav: false, render: page('/admin/topics', 'topics') },
];
