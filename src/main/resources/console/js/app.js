// The console's entry point: a hash router (#/products, #/products/{id}, #/devices/{id}), the top bar (crumbs,
// language, sign out), sign in and sign out. Pages are modules exporting render(main, params, nav) -> optional cleanup
// function; nav has setCrumbs, navigate, setTitle and setQuery (the page's state written back to the URL).

import { api, token, whenUnauthorized, TOKEN_KEY } from './api.js';
import { h, clear, showError, toast } from './ui.js';
import { t, lang, setLang, LANGS } from './i18n.js';
import * as events from './events.js';
import * as productsPage from './pages/products.js';
import * as productPage from './pages/product.js';
import * as devicePage from './pages/device.js';
// features helper: product feature pages
import * as triggersPage from './pages/triggers.js';
import * as pushPage from './pages/push.js';
import * as importPage from './pages/import.js';
import * as overviewPage from './pages/overview.js';

const main = document.getElementById('app');
const crumbs = document.getElementById('crumbs');
const signout = document.getElementById('signout');
const langSwitch = document.getElementById('lang');
let cleanup = null;
let renderSeq = 0;
let expiryTimer = null;

const routes = [
  [/^\/login$/, () => loginPage],
  [/^\/products$/, () => productsPage.render],
  [/^\/products\/(\d+)$/, () => productPage.render],
  [/^\/devices\/(\d+)$/, () => devicePage.render],
  // features helper: product feature pages
  [/^\/products\/(\d+)\/triggers$/, () => triggersPage.render],
  [/^\/products\/(\d+)\/push$/, () => pushPage.render],
  [/^\/products\/(\d+)\/import$/, () => importPage.render],
  [/^\/overview$/, () => overviewPage.render],
];

/** Breadcrumbs: [[label, href], ..., [label]]. A long label is cut short, with the whole of it on hover. */
export function setCrumbs(items) {
  clear(crumbs);
  items.forEach(([label, href], i) => {
    if (i > 0) crumbs.append(h('span.sep', '/'));
    crumbs.append(href ? h('a', { href, title: label }, label) : h('span', { title: label }, label));
  });
}

/** The tab's title: the page's parts, most specific first, e.g. setTitle(t('devices'), product.title). */
export function setTitle(...parts) {
  document.title = [...parts.filter(Boolean), 'Stratus'].join(' · ');
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** Writes a page's state into the URL without drawing the page again; empty values are left out. */
export function setQuery(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const qs = q.toString();
  const hash = `#${parseHash().path}${qs ? `?${qs}` : ''}`;
  if (hash !== location.hash) history.replaceState(history.state, '', hash);
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/products';
  const [path, qs = ''] = raw.split('?');
  return { path, params: Object.fromEntries(new URLSearchParams(qs)) };
}

/** Where to go after signing in: a page of the console, never the sign-in page itself. */
function safeNext(next) {
  return next && /^#\/(?!login)/.test(next) ? next : '#/products';
}

function loginHash(extra = {}) {
  const here = location.hash || '#/products';
  const next = here.startsWith('#/login') || here === '#/products' ? null : here;
  const q = new URLSearchParams({ ...extra, ...(next ? { next } : {}) }).toString();
  return `#/login${q ? `?${q}` : ''}`;
}

async function route() {
  const { path, params } = parseHash();
  if (!token.get() && path !== '/login') {
    location.replace(loginHash());
    return;
  }
  if (cleanup) {
    try { cleanup(); } catch (e) { console.error(e); }
    cleanup = null;
  }
  events.clearSubscriptions();
  document.getElementById('dialog').open && document.getElementById('dialog').close();
  drawHeader();
  setTitle();
  for (const [re, page] of routes) {
    const m = path.match(re);
    if (m) {
      const seq = ++renderSeq;
      clear(main);
      main.dataset.page = path.split('/')[1] || 'products';
      try {
        const c = await page()(main, { ...params, id: m[1] }, { setCrumbs, navigate, setTitle, setQuery });
        if (seq === renderSeq) cleanup = c || null;
        else if (c) c();
      } catch (e) {
        if (seq !== renderSeq) return;
        if (e.unauthorized) return; // handled by whenUnauthorized
        clear(main).append(h('div.panel.empty', h('strong', t('app.pageFailed')), e.message,
          h('p', h('a', { href: '#/products' }, t('app.backToProducts')))));
      }
      return;
    }
  }
  clear(main).append(h('div.panel.empty', h('strong', t('app.noSuchPage')), h('a', { href: '#/products' }, t('app.goToProducts'))));
}

// ---- the top bar -------------------------------------------------------------------------------------

function drawHeader() {
  document.documentElement.lang = lang();
  signout.hidden = !token.get();
  signout.textContent = t('app.signOut');
  const noscript = document.querySelector('noscript');
  if (noscript) noscript.textContent = t('app.needsJs');
  clear(langSwitch).append(...LANGS.map((l) => h('button.btn.ghost.small', {
    type: 'button', lang: l, 'aria-pressed': String(l === lang()), class: l === lang() ? 'active' : null,
    'data-lang': l, onclick: () => { if (l !== lang()) setLang(l); },
  }, l === 'en' ? 'EN' : '中文')));
  langSwitch.setAttribute('aria-label', t('app.language'));
}

window.addEventListener('stratus:lang', () => {
  events.relabel();
  route();
});

// ---- sign in / sign out ------------------------------------------------------------------------------

function loginPage(root, params) {
  events.stop();
  setCrumbs([]);
  setTitle(t('login.title'));
  signout.hidden = true;
  const next = safeNext(params.next);
  if (token.get()) {
    location.replace(next);
    return;
  }
  const error = h('div.form-error', { role: 'alert', 'data-testid': 'login-error' });
  error.hidden = !params.expired;
  if (params.expired) error.textContent = t('login.expired');
  const user = h('input#username', { name: 'username', value: 'admin', autocomplete: 'username', required: true });
  const pass = h('input#password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button.btn', { type: 'submit' }, t('login.submit'));
  const form = h('form.panel.login', { 'data-testid': 'login-form' },
    h('h1', t('login.heading')),
    h('p.muted.small', t('login.intro')),
    h('label', { for: 'username' }, t('login.username')), user,
    h('label', { for: 'password' }, t('login.password')), pass,
    error, btn);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    btn.disabled = true;
    error.hidden = true;
    try {
      const data = await api.login(user.value.trim(), pass.value);
      token.set(data.token, data.expires_in);
      watchExpiry();
      location.replace(next);
    } catch (e) {
      if (e.retryAfter) error.textContent = t('login.tooMany', { s: e.retryAfter });
      else error.textContent = e.errno === 3 ? t('login.wrong') : e.message;
      error.hidden = false;
    } finally {
      btn.disabled = false;
    }
  });
  root.append(form);
  pass.focus();
}

/** Ends the session in this tab: live streams stop at once, then the sign-in page (which returns here after). */
function endLocally(reason) {
  clearTimeout(expiryTimer);
  token.clear();
  events.stop();
  if (reason) location.replace(loginHash({ expired: '1' }));
  else navigate('#/login');
}

/** Signs out when the session expires (its stream ends with it, not at the server's next heartbeat). */
function watchExpiry() {
  clearTimeout(expiryTimer);
  const left = token.remaining();
  if (!Number.isFinite(left)) return;
  // setTimeout's delay is a 32-bit number of milliseconds.
  expiryTimer = setTimeout(() => (token.remaining() <= 0 ? endLocally('expired') : watchExpiry()), Math.min(Math.max(left, 0), 2 ** 31 - 1));
}

signout.addEventListener('click', async () => {
  try {
    await api.logout();
  } catch {
    // the session may already be gone; signing out locally is what matters
  }
  endLocally();
  toast(t('app.signedOut'));
});

whenUnauthorized(() => {
  if (!token.get()) return;
  endLocally('expired');
});

// Another tab signed in or out: this one follows.
window.addEventListener('storage', (ev) => {
  if (ev.key !== TOKEN_KEY && ev.key !== null) return;
  if (!token.get()) {
    if (parseHash().path !== '/login') endLocally('expired');
  } else if (parseHash().path === '/login') {
    watchExpiry();
    location.replace(safeNext(parseHash().params.next));
  }
});

window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (ev) => {
  showError(ev.reason);
});
watchExpiry();
route();
