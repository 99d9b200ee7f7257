// The console's entry point: a hash router (#/products, #/products/{id}, #/devices/{id}), the top bar,
// sign in and sign out. Pages are modules exporting render(main, params) -> optional cleanup function.

import { api, token, whenUnauthorized } from './api.js';
import { h, clear, showError, toast } from './ui.js';
import * as events from './events.js';
import * as productsPage from './pages/products.js';
import * as productPage from './pages/product.js';
import * as devicePage from './pages/device.js';

const main = document.getElementById('app');
const crumbs = document.getElementById('crumbs');
const signout = document.getElementById('signout');
let cleanup = null;
let renderSeq = 0;

const routes = [
  [/^\/login$/, () => loginPage],
  [/^\/products$/, () => productsPage.render],
  [/^\/products\/(\d+)$/, () => productPage.render],
  [/^\/devices\/(\d+)$/, () => devicePage.render],
];

/** Breadcrumbs: [[label, href], ..., [label]]. */
export function setCrumbs(items) {
  clear(crumbs);
  items.forEach(([label, href], i) => {
    if (i > 0) crumbs.append(h('span.sep', '/'));
    crumbs.append(href ? h('a', { href }, label) : h('span', label));
  });
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/products';
  const [path, qs = ''] = raw.split('?');
  return { path, params: Object.fromEntries(new URLSearchParams(qs)) };
}

async function route() {
  const { path, params } = parseHash();
  if (!token.get() && path !== '/login') {
    location.hash = '#/login';
    return;
  }
  if (cleanup) {
    try { cleanup(); } catch (e) { console.error(e); }
    cleanup = null;
  }
  events.clearSubscriptions();
  document.getElementById('dialog').open && document.getElementById('dialog').close();
  signout.hidden = !token.get();
  for (const [re, page] of routes) {
    const m = path.match(re);
    if (m) {
      const seq = ++renderSeq;
      clear(main);
      main.dataset.page = path.split('/')[1] || 'products';
      try {
        const c = await page()(main, { ...params, id: m[1] }, { setCrumbs, navigate });
        if (seq === renderSeq) cleanup = c || null;
        else if (c) c();
      } catch (e) {
        if (seq !== renderSeq) return;
        if (e.unauthorized) return; // handled by whenUnauthorized
        clear(main).append(h('div.panel.empty', h('strong', 'This page could not be loaded.'), e.message,
          h('p', h('a', { href: '#/products' }, 'Back to the products'))));
      }
      return;
    }
  }
  clear(main).append(h('div.panel.empty', h('strong', 'No such page.'), h('a', { href: '#/products' }, 'Go to the products')));
}

// ---- sign in / sign out ------------------------------------------------------------------------------

function loginPage(root, params) {
  events.stop();
  setCrumbs([]);
  signout.hidden = true;
  const error = h('div.form-error', { role: 'alert', 'data-testid': 'login-error' });
  error.hidden = !params.expired;
  if (params.expired) error.textContent = 'Your session has ended. Sign in again.';
  const user = h('input#username', { name: 'username', value: 'admin', autocomplete: 'username', required: true });
  const pass = h('input#password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button.btn', { type: 'submit' }, 'Sign in');
  const form = h('form.panel.login', { 'data-testid': 'login-form' },
    h('h1', 'Sign in to Stratus'),
    h('p.muted.small', 'Use the admin password set with --admin-password (or printed in the server log on the first start).'),
    h('label', { for: 'username' }, 'User name'), user,
    h('label', { for: 'password' }, 'Password'), pass,
    error, btn);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    btn.disabled = true;
    error.hidden = true;
    try {
      const data = await api.login(user.value.trim(), pass.value);
      token.set(data.token);
      navigate('#/products');
    } catch (e) {
      error.textContent = e.errno === 3 ? 'Wrong user name or password.' : e.message;
      error.hidden = false;
    } finally {
      btn.disabled = false;
    }
  });
  root.append(form);
  pass.focus();
}

signout.addEventListener('click', async () => {
  try {
    await api.logout();
  } catch {
    // the session may already be gone; signing out locally is what matters
  }
  token.clear();
  events.stop();
  toast('Signed out.');
  navigate('#/login');
});

whenUnauthorized(() => {
  if (!token.get()) return;
  token.clear();
  events.stop();
  navigate('#/login?expired=1');
});

window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (ev) => {
  showError(ev.reason);
});
route();
