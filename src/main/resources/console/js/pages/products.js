// #/products: every product with its device count, searched, sorted and paged in the page (the API lists them all),
// with that state in the URL; create, edit, rotate the master key, delete.

import { api, serverInfo } from '../api.js';
import { h, clear, fill, toast, showError, formDialog, infoDialog, confirmDialog, copyable, timeText, setApiZone } from '../ui.js';
import { t, fmtNumber } from '../i18n.js';
import { listState, stateQuery, select, pager } from '../listing.js';
import * as events from '../events.js';

const SORTS = ['title', 'newest', 'devices'];
const COMPARE = {
  title: (a, b) => a.title.localeCompare(b.title),
  newest: (a, b) => Number(b.id) - Number(a.id),
  devices: (a, b) => (b.device_count ?? 0) - (a.device_count ?? 0),
};

export async function render(root, params, { setCrumbs, navigate, setTitle, setQuery }) {
  events.stop();
  setCrumbs([[t('products.title')]]);
  setTitle(t('products.title'));
  setApiZone((await serverInfo()).timezone);
  const state = listState(params, { sorts: SORTS });
  const body = h('div', { 'data-testid': 'products' });
  const pagerBox = h('div.pager');
  const search = h('input', { type: 'search', placeholder: t('products.search'), value: state.q,
    'aria-label': t('products.search'), 'data-testid': 'product-search' });
  const sortSelect = select(t('list.sort'), state.sort,
    [['', t('products.sortDefault')], ['title', t('products.sortTitle')], ['newest', t('products.sortNewest')],
      ['devices', t('products.sortDevices')]], (v) => { state.sort = v; state.page = 1; draw(); }, 'product-sort');
  root.append(h('section.panel',
    h('div.panel-head', h('h2', t('products.title')),
      h('button.btn', { type: 'button', onclick: () => create(), 'data-testid': 'new-product' }, t('products.new'))),
    h('div.row.list-controls', search, sortSelect),
    body, pagerBox));

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.q = search.value.trim(); state.page = 1; draw(); }, 250);
  });

  let products = [];
  async function load() {
    products = await api.products();
    draw();
  }

  function draw() {
    clear(body);
    clear(pagerBox);
    if (!products.length) {
      setQuery(stateQuery(state));
      body.append(h('div.empty', h('strong', t('products.none')), t('products.noneHint')));
      return;
    }
    const words = state.q.toLowerCase();
    const matching = products.filter((p) => !words || p.title.toLowerCase().includes(words) || String(p.id) === state.q);
    if (state.sort) matching.sort(COMPARE[state.sort]);
    const pages = Math.max(1, Math.ceil(matching.length / state.perPage));
    state.page = Math.min(state.page, pages);
    setQuery(stateQuery(state));
    if (!matching.length) {
      body.append(h('div.empty', h('strong', t('products.noMatch')), t('products.noMatchHint', { q: state.q })));
      return;
    }
    const shown = matching.slice((state.page - 1) * state.perPage, state.page * state.perPage);
    body.append(h('div.table-wrap', h('table.cards.products',
      h('thead', h('tr', h('th', t('products.colTitle')), h('th', t('products.colId')), h('th.num', t('products.colDevices')),
        h('th', t('products.colCreated')), h('th', ''))),
      h('tbody', shown.map((p) => h('tr', { 'data-product-id': p.id },
        h('td.title-cell', { 'data-label': t('products.colTitle') }, h('a', { href: `#/products/${p.id}`, title: p.title }, p.title)),
        h('td', { 'data-label': t('products.colId') }, h('code', p.id)),
        h('td.num', { 'data-label': t('products.colDevices') }, fmtNumber(p.device_count ?? 0)),
        h('td', { 'data-label': t('products.colCreated') }, timeText(p.create_time)),
        h('td', { 'data-label': '' }, productActions(p, load))))))));
    fill(pagerBox, pager({ page: state.page, perPage: state.perPage, total: matching.length, shown: shown.length },
      (page, perPage) => { state.page = page; state.perPage = perPage; draw(); }));
  }

  async function create() {
    const created = await formDialog({
      title: t('products.new'),
      intro: t('products.newIntro'),
      fields: [
        { name: 'title', label: t('products.fieldTitle'), required: true, placeholder: 'greenhouse' },
        { name: 'desc', label: t('products.fieldDesc'), type: 'textarea' },
      ],
      submit: t('products.create'),
      onSubmit: (v) => api.createProduct({ title: v.title, desc: v.desc, protocol: 'MQTT' }),
    });
    if (!created) return;
    await load();
    await infoDialog(t('products.created'),
      h('p.small.muted', t('products.keepSecret')),
      h('dl.facts', { 'data-testid': 'product-created' },
        h('dt', t('products.colId')), h('dd', copyable(created.product_id, { testid: 'created-product-id' })),
        h('dt', t('products.masterKey')), h('dd', copyable(created.master_key, { testid: 'created-master-key' }))));
    navigate(`#/products/${created.product_id}`);
  }

  await load();
  return () => clearTimeout(timer);
}

/** Edit, rotate key and delete buttons of a product; used by the list and the product page. */
export function productActions(p, reload, { afterDelete } = {}) {
  return h('div.actions',
    h('button.btn.secondary.small', { type: 'button', onclick: () => editProduct(p, reload) }, t('products.edit')),
    h('button.btn.secondary.small', { type: 'button', onclick: () => rotateKey(p, reload) }, t('products.rotate')),
    h('button.btn.danger.small', { type: 'button', onclick: () => deleteProduct(p, afterDelete || reload) }, t('ui.delete')));
}

async function editProduct(p, reload) {
  const ok = await formDialog({
    title: t('products.editTitle', { title: p.title }),
    fields: [
      { name: 'title', label: t('products.fieldTitle'), required: true, value: p.title },
      { name: 'desc', label: t('products.fieldDesc'), type: 'textarea', value: p.desc },
    ],
    onSubmit: async (v) => {
      await api.updateProduct(p.id, { title: v.title, desc: v.desc });
      return true;
    },
  });
  if (ok) {
    toast(t('products.saved'), 'ok');
    await reload();
  }
}

async function rotateKey(p, reload) {
  let key = null;
  const ok = await confirmDialog(t('products.rotateTitle', { title: p.title }), t('products.rotateText'),
    { confirm: t('products.rotateConfirm'), action: async () => { key = (await api.rotateKey(p.id)).master_key; } });
  if (!ok) return;
  await reload();
  await infoDialog(t('products.newKey'), h('dl.facts', h('dt', t('products.masterKey')), h('dd', copyable(key, { testid: 'rotated-key' }))));
}

async function deleteProduct(p, after) {
  const ok = await confirmDialog(t('products.deleteTitle', { title: p.title }), t('products.deleteText'),
    { action: () => api.deleteProduct(p.id) });
  if (ok) {
    toast(t('products.deleted', { title: p.title }), 'ok');
    try {
      await after();
    } catch (e) {
      showError(e);
    }
  }
}
