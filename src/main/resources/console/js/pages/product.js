// #/products/{id}: a product (ID, master key) and its devices: search, a filter by online status, sorting, paging
// (all of it in the URL), live online tags, create / edit / delete, and how to connect each one.

import { api, serverInfo } from '../api.js';
import { h, clear, fill, toast, formDialog, confirmDialog, copyable, copyButton, onlineTag, setOnlineTag, flash, timeText, setApiZone } from '../ui.js';
import { t } from '../i18n.js';
import { listState, stateQuery, select, pager } from '../listing.js';
import * as events from '../events.js';
import { productActions } from './products.js';
import { showConnect } from '../connect.js';
import { productTabs } from './featurekit.js'; // features helper: tabs to triggers, push, import, topics

const PER_PAGE = 20;
/** The API pages devices in its own order; a sort reads up to this many pages of 100 and orders them here. */
const SORT_MAX_PAGES = 20;
const SORTS = ['title', 'newest', 'last_login'];
const COMPARE = {
  title: (a, b) => a.title.localeCompare(b.title),
  newest: (a, b) => Number(b.id) - Number(a.id),
  last_login: (a, b) => String(b.last_login || '').localeCompare(String(a.last_login || '')),
};

export async function render(root, params, { setCrumbs, navigate, setTitle, setQuery }) {
  const productId = params.id;
  const [product] = await Promise.all([api.product(productId), serverInfo().then((i) => setApiZone(i.timezone))]);
  const crumbsAndTitle = () => {
    setCrumbs([[t('products.title'), '#/products'], [product.title]]);
    setTitle(t('product.devices'), product.title);
  };
  crumbsAndTitle();
  events.watch(productId);

  // ---- product header ----
  const keyText = h('code.secret', { 'data-testid': 'master-key' }, '•'.repeat(16));
  let shown = false;
  const toggle = h('button.btn.copy', { type: 'button' }, t('product.show'));
  toggle.addEventListener('click', () => {
    shown = !shown;
    keyText.textContent = shown ? product.master_key : '•'.repeat(16);
    toggle.textContent = shown ? t('product.hide') : t('product.show');
  });
  const reloadProduct = async () => {
    Object.assign(product, await api.product(productId));
    keyText.textContent = shown ? product.master_key : '•'.repeat(16);
    title.textContent = product.title;
    title.title = product.title;
    desc.textContent = product.desc || '';
    crumbsAndTitle();
  };
  const title = h('h1', { title: product.title }, product.title);
  const desc = h('p.muted.small', product.desc || '');
  root.append(productTabs(productId, 'product')); // features helper
  root.append(h('section.panel',
    h('div.page-head',
      h('div.title', title, desc),
      productActions(product, reloadProduct, { afterDelete: async () => navigate('#/products') })),
    h('dl.facts',
      h('dt', t('products.colId')), h('dd', copyable(product.id, { testid: 'product-id' })),
      h('dt', t('products.masterKey')), h('dd', keyText, toggle, copyButton(() => product.master_key)),
      h('dt', t('product.protocol')), h('dd', product.protocol || 'MQTT'),
      h('dt', t('products.colCreated')), h('dd', timeText(product.create_time)))));

  // ---- devices ----
  const state = listState(params, { perPage: PER_PAGE, sorts: SORTS });
  const search = h('input', { type: 'search', placeholder: t('product.search'), value: state.q,
    'aria-label': t('product.searchLabel'), 'data-testid': 'device-search' });
  const restart = (change) => { Object.assign(state, change, { page: 1 }); load(); };
  const onlineSelect = select(t('product.onlineFilter'), state.online,
    [['', t('product.allDevices')], ['true', t('product.onlineOnly')], ['false', t('product.offlineOnly')]],
    (v) => restart({ online: v }), 'online-filter');
  const sortSelect = select(t('list.sort'), state.sort,
    [['', t('product.sortDefault')], ['title', t('products.sortTitle')], ['newest', t('products.sortNewest')],
      ['last_login', t('product.sortLastLogin')]], (v) => restart({ sort: v }), 'device-sort');
  const list = h('div', { 'data-testid': 'devices' });
  const note = h('p.small.muted');
  const pagerBox = h('div.pager');
  root.append(h('section.panel',
    h('div.panel-head', h('h2', t('product.devices')),
      h('button.btn', { type: 'button', onclick: () => create(), 'data-testid': 'new-device' }, t('product.addDevice'))),
    h('div.row.list-controls', search, onlineSelect, sortSelect),
    list, note, pagerBox));

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => restart({ q: search.value.trim() }), 250);
  });

  /** One page of the API's order, or, sorted, the first SORT_MAX_PAGES pages of 100 in order and this page of them. */
  async function fetchPage(filter) {
    if (!state.sort) return api.devices(productId, { ...filter, page: state.page, per_page: state.perPage });
    const first = await api.devices(productId, { ...filter, page: 1, per_page: 100 });
    const pages = Math.min(SORT_MAX_PAGES, Math.ceil(first.total_count / 100));
    const rest = await Promise.all(Array.from({ length: Math.max(0, pages - 1) },
      (_, i) => api.devices(productId, { ...filter, page: i + 2, per_page: 100 })));
    const all = first.devices.concat(...rest.map((r) => r.devices)).sort(COMPARE[state.sort]);
    const from = (state.page - 1) * state.perPage;
    return { total_count: Math.min(first.total_count, all.length), devices: all.slice(from, from + state.perPage),
      truncated: first.total_count > all.length };
  }

  let loadSeq = 0;
  async function load() {
    const seq = ++loadSeq;
    const filter = { key_words: state.q, online: state.online };
    const data = await fetchPage(filter);
    if (seq !== loadSeq) return;
    const total = data.total_count;
    if (total > 0 && (state.page - 1) * state.perPage >= total) {
      state.page = Math.ceil(total / state.perPage);
      return load();
    }
    setQuery(stateQuery(state, PER_PAGE));
    clear(list);
    clear(pagerBox);
    note.textContent = data.truncated ? t('product.sortedFirst', { n: SORT_MAX_PAGES * 100 }) : '';
    if (!data.devices.length) {
      list.append(state.q || state.online
        ? h('div.empty', h('strong', t('product.noMatch')), state.q ? t('product.noMatchHint', { q: state.q }) : null)
        : h('div.empty', h('strong', t('product.none')), t('product.noneHint')));
      return;
    }
    list.append(h('div.table-wrap', h('table.cards',
      h('thead', h('tr', h('th', t('product.colStatus')), h('th', t('products.colTitle')), h('th', t('product.colId')),
        h('th', 'auth_info'), h('th', t('product.colLastLogin')), h('th', ''))),
      h('tbody', data.devices.map(row)))));
    fill(pagerBox, pager({ page: state.page, perPage: state.perPage, total, shown: data.devices.length },
      (page, perPage) => { Object.assign(state, { page, perPage }); load(); }));
  }

  function row(d) {
    return h('tr', { 'data-device-id': d.id },
      h('td', { 'data-label': t('product.colStatus') }, onlineTag(d.online, d.disabled)),
      h('td.title-cell', { 'data-label': t('products.colTitle') }, h('a', { href: `#/devices/${d.id}`, title: d.title, 'data-testid': 'device-link' }, d.title)),
      h('td', { 'data-label': t('product.colId') }, h('code', d.id)),
      h('td', { 'data-label': 'auth_info' }, h('code', d.auth_info)),
      h('td', { 'data-label': t('product.colLastLogin'), 'data-testid': 'last-login' }, d.last_login ? timeText(d.last_login) : t('product.never')),
      h('td', { 'data-label': '' }, h('div.actions',
        h('button.btn.secondary.small', { type: 'button', onclick: () => showConnect(d, productId) }, t('product.connect')),
        h('button.btn.secondary.small', { type: 'button', onclick: () => edit(d) }, t('products.edit')),
        h('button.btn.danger.small', { type: 'button', onclick: () => remove(d) }, t('ui.delete')))));
  }

  async function create() {
    const created = await formDialog({
      title: t('product.addTitle'),
      fields: [
        { name: 'title', label: t('product.fieldName'), required: true, placeholder: 'sensor-1' },
        { name: 'auth_info', label: t('product.fieldAuthInfo'), required: true, placeholder: 'SN0001',
          hint: t('product.authInfoHint') },
        { name: 'desc', label: t('products.fieldDesc'), type: 'textarea' },
      ],
      submit: t('product.add'),
      onSubmit: (v) => api.createDevice(productId, { title: v.title, auth_info: v.auth_info, desc: v.desc }),
    });
    if (!created) return;
    Object.assign(state, { q: '', online: '', page: 1 });
    search.value = '';
    onlineSelect.value = '';
    await load();
    const d = await api.device(created.device_id);
    await showConnect(d, productId);
  }

  async function edit(d) {
    const ok = await formDialog({
      title: t('products.editTitle', { title: d.title }),
      fields: [
        { name: 'title', label: t('product.fieldName'), required: true, value: d.title },
        { name: 'auth_info', label: t('product.fieldAuthInfo'), required: true, value: d.auth_info,
          hint: t('product.authInfoChange') },
        { name: 'desc', label: t('products.fieldDesc'), type: 'textarea', value: d.desc },
      ],
      onSubmit: async (v) => {
        await api.updateDevice(d.id, { title: v.title, auth_info: v.auth_info, desc: v.desc });
        return true;
      },
    });
    if (ok) {
      toast(t('product.saved'), 'ok');
      await load();
    }
  }

  async function remove(d) {
    const ok = await confirmDialog(t('products.deleteTitle', { title: d.title }), t('product.deleteText'),
      { action: () => api.deleteDevice(d.id) });
    if (ok) {
      toast(t('products.deleted', { title: d.title }), 'ok');
      await load();
    }
  }

  events.subscribe((name, data) => {
    if (name !== 'device.online' && name !== 'device.offline') return;
    const tr = list.querySelector(`tr[data-device-id="${data.device}"]`);
    if (!tr) return;
    setOnlineTag(tr.querySelector('.tag'), name === 'device.online');
    if (name === 'device.online' && data.at) {
      const cell = tr.querySelector('[data-testid=last-login]');
      cell.textContent = timeText(data.at);
      flash(cell);
    }
  }, () => load());

  await load();
  return () => clearTimeout(timer);
}
