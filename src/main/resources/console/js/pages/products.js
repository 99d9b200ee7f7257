// #/products: every product with its device count; create, edit, rotate the master key, delete.

import { api } from '../api.js';
import { h, clear, toast, showError, formDialog, infoDialog, confirmDialog, copyable } from '../ui.js';
import * as events from '../events.js';

export async function render(root, params, { setCrumbs, navigate }) {
  events.stop();
  setCrumbs([['Products']]);
  const body = h('div', { 'data-testid': 'products' });
  const panel = h('section.panel',
    h('div.panel-head', h('h2', 'Products'),
      h('button.btn', { type: 'button', onclick: () => create(), 'data-testid': 'new-product' }, 'New product')),
    body);
  root.append(panel);

  async function load() {
    const products = await api.products();
    clear(body);
    if (!products.length) {
      body.append(h('div.empty', h('strong', 'No products yet.'),
        'A product groups devices that share a protocol and a master key. Create one to start adding devices.'));
      return;
    }
    body.append(h('div.table-wrap', h('table.cards',
      h('thead', h('tr', h('th', 'Title'), h('th', 'Product ID'), h('th.num', 'Devices'), h('th', 'Created'), h('th', ''))),
      h('tbody', products.map((p) => h('tr', { 'data-product-id': p.id },
        h('td', { 'data-label': 'Title' }, h('a', { href: `#/products/${p.id}` }, p.title)),
        h('td', { 'data-label': 'Product ID' }, h('code', p.id)),
        h('td.num', { 'data-label': 'Devices' }, String(p.device_count ?? 0)),
        h('td', { 'data-label': 'Created' }, p.create_time || '—'),
        h('td', { 'data-label': '' }, productActions(p, load))))))));
  }

  async function create() {
    const created = await formDialog({
      title: 'New product',
      intro: 'Devices of a product log in over MQTT with the product ID as user name.',
      fields: [
        { name: 'title', label: 'Title', required: true, placeholder: 'greenhouse' },
        { name: 'desc', label: 'Description', type: 'textarea' },
      ],
      submit: 'Create',
      onSubmit: (v) => api.createProduct({ title: v.title, desc: v.desc, protocol: 'MQTT' }),
    });
    if (!created) return;
    await load();
    await infoDialog('Product created',
      h('p.small.muted', 'Keep the master key secret: it can manage every device of the product and log in as any of them.'),
      h('dl.facts', { 'data-testid': 'product-created' },
        h('dt', 'Product ID'), h('dd', copyable(created.product_id, { testid: 'created-product-id' })),
        h('dt', 'Master key'), h('dd', copyable(created.master_key, { testid: 'created-master-key' }))));
    navigate(`#/products/${created.product_id}`);
  }

  await load();
}

/** Edit, rotate key and delete buttons of a product; used by the list and the product page. */
export function productActions(p, reload, { afterDelete } = {}) {
  return h('div.actions',
    h('button.btn.secondary.small', { type: 'button', onclick: () => editProduct(p, reload) }, 'Edit'),
    h('button.btn.secondary.small', { type: 'button', onclick: () => rotateKey(p, reload) }, 'Rotate key'),
    h('button.btn.danger.small', { type: 'button', onclick: () => deleteProduct(p, afterDelete || reload) }, 'Delete'));
}

async function editProduct(p, reload) {
  const ok = await formDialog({
    title: `Edit ${p.title}`,
    fields: [
      { name: 'title', label: 'Title', required: true, value: p.title },
      { name: 'desc', label: 'Description', type: 'textarea', value: p.desc },
    ],
    onSubmit: async (v) => {
      await api.updateProduct(p.id, { title: v.title, desc: v.desc });
      return true;
    },
  });
  if (ok) {
    toast('Product saved.', 'ok');
    await reload();
  }
}

async function rotateKey(p, reload) {
  let key = null;
  const ok = await confirmDialog(`Rotate the master key of ${p.title}?`,
    'The current key stops working at once, for the API and for devices that log in with it. Devices that use their auth_info are not affected.',
    { confirm: 'Rotate', action: async () => { key = (await api.rotateKey(p.id)).master_key; } });
  if (!ok) return;
  await reload();
  await infoDialog('New master key', h('dl.facts', h('dt', 'Master key'), h('dd', copyable(key, { testid: 'rotated-key' }))));
}

async function deleteProduct(p, after) {
  const ok = await confirmDialog(`Delete ${p.title}?`,
    'This deletes the product with all its devices, their data and their keys. Connected devices are disconnected.',
    { action: () => api.deleteProduct(p.id) });
  if (ok) {
    toast(`Deleted ${p.title}.`, 'ok');
    try {
      await after();
    } catch (e) {
      showError(e);
    }
  }
}
