// #/products/{id}: a product (ID, master key) and its devices: search, paging, live online tags,
// create / edit / delete, and how to connect each one.

import { api } from '../api.js';
import { h, clear, toast, formDialog, confirmDialog, copyable, copyButton, onlineTag, setOnlineTag, flash } from '../ui.js';
import * as events from '../events.js';
import { productActions } from './products.js';
import { showConnect } from '../connect.js';

const PER_PAGE = 20;

export async function render(root, params, { setCrumbs, navigate }) {
  const productId = params.id;
  const product = await api.product(productId);
  setCrumbs([['Products', '#/products'], [product.title]]);
  events.watch(productId);

  // ---- product header ----
  const keyText = h('code.secret', { 'data-testid': 'master-key' }, '•'.repeat(16));
  let shown = false;
  const toggle = h('button.btn.copy', { type: 'button' }, 'Show');
  toggle.addEventListener('click', () => {
    shown = !shown;
    keyText.textContent = shown ? product.master_key : '•'.repeat(16);
    toggle.textContent = shown ? 'Hide' : 'Show';
  });
  const reloadProduct = async () => {
    Object.assign(product, await api.product(productId));
    keyText.textContent = shown ? product.master_key : '•'.repeat(16);
    title.textContent = product.title;
    desc.textContent = product.desc || '';
    setCrumbs([['Products', '#/products'], [product.title]]);
  };
  const title = h('h1', product.title);
  const desc = h('p.muted.small', product.desc || '');
  root.append(h('section.panel',
    h('div.page-head',
      h('div.title', title, desc),
      productActions(product, reloadProduct, { afterDelete: async () => navigate('#/products') })),
    h('dl.facts',
      h('dt', 'Product ID'), h('dd', copyable(product.id, { testid: 'product-id' })),
      h('dt', 'Master key'), h('dd', keyText, toggle, copyButton(() => product.master_key)),
      h('dt', 'Protocol'), h('dd', product.protocol || 'MQTT'),
      h('dt', 'Created'), h('dd', product.create_time || '—'))));

  // ---- devices ----
  let page = Number(params.page) || 1;
  let keyWords = params.q || '';
  const search = h('input', { type: 'search', placeholder: 'Search by title or device ID', value: keyWords,
    'aria-label': 'Search devices', 'data-testid': 'device-search' });
  const list = h('div', { 'data-testid': 'devices' });
  const pager = h('div.pager');
  root.append(h('section.panel',
    h('div.panel-head', h('h2', 'Devices'),
      h('button.btn', { type: 'button', onclick: () => create(), 'data-testid': 'new-device' }, 'Add device')),
    h('div.row', { style: 'margin-bottom:0.6rem' }, search),
    list, pager));

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      keyWords = search.value.trim();
      page = 1;
      load();
    }, 250);
  });

  let loadSeq = 0;
  async function load() {
    const seq = ++loadSeq;
    const data = await api.devices(productId, { key_words: keyWords, page, per_page: PER_PAGE });
    if (seq !== loadSeq) return;
    const total = data.total_count;
    if (total > 0 && (page - 1) * PER_PAGE >= total) {
      page = Math.ceil(total / PER_PAGE);
      return load();
    }
    clear(list);
    clear(pager);
    if (!data.devices.length) {
      list.append(keyWords
        ? h('div.empty', h('strong', 'No device matches.'), `Nothing has "${keyWords}" in its title or ID.`)
        : h('div.empty', h('strong', 'No devices yet.'), 'Add a device, then connect it over MQTT with the details shown.'));
      return;
    }
    list.append(h('div.table-wrap', h('table.cards',
      h('thead', h('tr', h('th', 'Status'), h('th', 'Title'), h('th', 'Device ID'), h('th', 'auth_info'), h('th', 'Last login'), h('th', ''))),
      h('tbody', data.devices.map(row)))));
    const from = (page - 1) * PER_PAGE + 1;
    const to = from + data.devices.length - 1;
    pager.append(h('span.muted.small', `${from}–${to} of ${total}`),
      h('div.actions',
        h('button.btn.secondary.small', { type: 'button', disabled: page <= 1, onclick: () => { page -= 1; load(); } }, 'Previous'),
        h('button.btn.secondary.small', { type: 'button', disabled: to >= total, onclick: () => { page += 1; load(); } }, 'Next')));
  }

  function row(d) {
    return h('tr', { 'data-device-id': d.id },
      h('td', { 'data-label': 'Status' }, onlineTag(d.online, d.disabled)),
      h('td', { 'data-label': 'Title' }, h('a', { href: `#/devices/${d.id}`, 'data-testid': 'device-link' }, d.title)),
      h('td', { 'data-label': 'Device ID' }, h('code', d.id)),
      h('td', { 'data-label': 'auth_info' }, h('code', d.auth_info)),
      h('td', { 'data-label': 'Last login', 'data-testid': 'last-login' }, d.last_login || 'never'),
      h('td', { 'data-label': '' }, h('div.actions',
        h('button.btn.secondary.small', { type: 'button', onclick: () => showConnect(d, productId) }, 'Connect'),
        h('button.btn.secondary.small', { type: 'button', onclick: () => edit(d) }, 'Edit'),
        h('button.btn.danger.small', { type: 'button', onclick: () => remove(d) }, 'Delete'))));
  }

  async function create() {
    const created = await formDialog({
      title: 'Add a device',
      fields: [
        { name: 'title', label: 'Name', required: true, placeholder: 'sensor-1' },
        { name: 'auth_info', label: 'auth_info (serial number)', required: true, placeholder: 'SN0001',
          hint: 'Unique in the product; the device logs in with it as its MQTT password.' },
        { name: 'desc', label: 'Description', type: 'textarea' },
      ],
      submit: 'Add',
      onSubmit: (v) => api.createDevice(productId, { title: v.title, auth_info: v.auth_info, desc: v.desc }),
    });
    if (!created) return;
    keyWords = '';
    search.value = '';
    await load();
    const d = await api.device(created.device_id);
    await showConnect(d, productId);
  }

  async function edit(d) {
    const ok = await formDialog({
      title: `Edit ${d.title}`,
      fields: [
        { name: 'title', label: 'Name', required: true, value: d.title },
        { name: 'auth_info', label: 'auth_info (serial number)', required: true, value: d.auth_info,
          hint: 'Changing it changes the device\'s MQTT password.' },
        { name: 'desc', label: 'Description', type: 'textarea', value: d.desc },
      ],
      onSubmit: async (v) => {
        await api.updateDevice(d.id, { title: v.title, auth_info: v.auth_info, desc: v.desc });
        return true;
      },
    });
    if (ok) {
      toast('Device saved.', 'ok');
      await load();
    }
  }

  async function remove(d) {
    const ok = await confirmDialog(`Delete ${d.title}?`,
      'The device, its data streams, history and commands are deleted; if it is connected it is disconnected.',
      { action: () => api.deleteDevice(d.id) });
    if (ok) {
      toast(`Deleted ${d.title}.`, 'ok');
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
      cell.textContent = data.at;
      flash(cell);
    }
  }, () => load());

  await load();
  return () => clearTimeout(timer);
}
