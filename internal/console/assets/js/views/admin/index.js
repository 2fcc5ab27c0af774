// Admin views (owned by the con-admin helper, who replaces this stub).
// app.js registers each entry as a route shown to admins only:
//   { path: '/admin/users', title: 'Users', nav: true, render(root, params) }
// render may be async and may return a cleanup function; params holds the
// path's :names, `query` (the hash's query as an object) and `session`.
export const routes = [];
