// #/products/{id}/triggers: a product's triggers (OneNET 6.4): create, list, delete, a test post to the URL, and the
// last outcomes of each trigger's posts.

import { api, call } from '../api.js';
import { h, fill, toast, showError, confirmDialog } from '../ui.js';
import { t } from '../i18n.js';
import { productTabs, deliveriesTable, every } from './featurekit.js';

const TYPES = ['>', '<', '>=', '<=', 'inout', 'change', 'frozen', 'live'];

export async function render(root, params, { setCrumbs, setTitle }) {
  const productId = params.id;
  const product = await api.product(productId);
  setCrumbs([[t('feat.crumb.products'), '#/products'], [product.title, `#/products/${productId}`], [t('feat.tab.triggers')]]);
  if (setTitle) setTitle(t('feat.tab.triggers'), product.title);

  const input = (name, attrs = {}) => h('input', { id: `trg-${name}`, name, autocomplete: 'off', ...attrs });
  const title = input('title', { maxLength: 128 });
  const dsId = input('ds_id', { required: true, placeholder: 'temperature' });
  const type = h('select#trg-type', { name: 'type' }, TYPES.map((v) => h('option', { value: v }, t(`feat.trg.type.${v}`))));
  const threshold = input('threshold', { type: 'number', step: 'any', value: '30' });
  const low = input('lolmt', { type: 'number', step: 'any', value: '0' });
  const high = input('uplmt', { type: 'number', step: 'any', value: '100' });
  const url = input('url', { type: 'url', required: true, placeholder: 'https://example.com/trigger' });
  const devIds = input('dev_ids', { placeholder: t('feat.trg.devIdsHint') });
  const thresholdLabel = h('label', { for: 'trg-threshold' }, t('feat.trg.threshold'));
  const thresholdBox = h('div', thresholdLabel, threshold);
  const rangeBox = h('div', h('label', { for: 'trg-lolmt' }, t('feat.trg.lolmt')), low,
    h('label', { for: 'trg-uplmt' }, t('feat.trg.uplmt')), high);
  const syncType = () => {
    thresholdBox.hidden = type.value === 'inout' || type.value === 'change';
    rangeBox.hidden = type.value !== 'inout';
    thresholdLabel.textContent = ['frozen', 'live'].includes(type.value) ? t('feat.trg.seconds') : t('feat.trg.threshold');
  };
  type.addEventListener('change', syncType);
  syncType();
  const error = h('div.form-error', { role: 'alert' });
  error.hidden = true;
  const submit = h('button.btn', { type: 'submit', 'data-testid': 'trigger-create' }, t('feat.trg.create'));
  const form = h('form.fform', { 'data-testid': 'trigger-form' },
    h('div', h('label', { for: 'trg-title' }, t('feat.trg.title')), title),
    h('div', h('label', { for: 'trg-ds_id' }, `${t('feat.trg.stream')} *`), dsId),
    h('div', h('label', { for: 'trg-type' }, t('feat.trg.type')), type),
    thresholdBox, rangeBox,
    h('div.wide', h('label', { for: 'trg-url' }, `${t('feat.trg.url')} *`), url),
    h('div.wide', h('label', { for: 'trg-dev_ids' }, t('feat.trg.devIds')), devIds),
    h('div.wide', error, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    const body = { title: title.value.trim(), ds_id: dsId.value.trim(), type: type.value, url: url.value.trim() };
    if (type.value === 'inout') body.threshold = { lolmt: Number(low.value), uplmt: Number(high.value) };
    else if (type.value !== 'change') body.threshold = Number(threshold.value);
    const ids = devIds.value.split(/[\s,]+/).filter(Boolean);
    if (ids.length) body.dev_ids = ids;
    submit.disabled = true;
    try {
      const made = await call('POST', '/triggers', { query: { product_id: productId }, body });
      toast(t('feat.trg.created', { id: made.trigger_id }), 'ok');
      title.value = '';
      await load();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });

  const list = h('div', { 'data-testid': 'triggers' });
  root.append(productTabs(productId, 'triggers'),
    h('section.panel', h('div.panel-head', h('h2', t('feat.trg.new'))),
      h('p.muted.small', t('feat.trg.intro')), form),
    h('section.panel', h('div.panel-head', h('h2', t('feat.tab.triggers'))), list));

  const open = new Set();
  const deliveryBoxes = new Map();

  async function load() {
    const data = await call('GET', '/triggers', { query: { product_id: productId, per_page: 100 } });
    deliveryBoxes.clear();
    if (!data.triggers.length) {
      fill(list, h('div.empty', h('strong', t('feat.trg.none')), t('feat.trg.noneHint')));
      return;
    }
    fill(list, h('div.table-wrap', h('table',
      h('thead', h('tr', h('th', t('feat.trg.title')), h('th', t('feat.trg.stream')), h('th', t('feat.trg.condition')),
        h('th', t('feat.trg.url')), h('th', t('feat.trg.devices')), h('th', ''))),
      h('tbody', data.triggers.map(row)))));
    await refreshDeliveries();
  }

  function condition(tr) {
    if (tr.type === 'change') return t('feat.trg.type.change');
    if (tr.type === 'inout') return `${t('feat.trg.type.inout')} [${tr.threshold.lolmt}, ${tr.threshold.uplmt}]`;
    if (tr.type === 'frozen' || tr.type === 'live') return `${t(`feat.trg.type.${tr.type}`)} ${tr.threshold} s`;
    return `${tr.ds_id} ${tr.type} ${tr.threshold}`;
  }

  function row(tr) {
    const box = h('div', { 'data-testid': `deliveries-${tr.id}` });
    const detail = h('tr', h('td', { colSpan: 6 }, box));
    const show = () => { detail.hidden = !open.has(tr.id); };
    show();
    deliveryBoxes.set(tr.id, box);
    const toggle = h('button.btn.secondary.small', { type: 'button', 'data-testid': 'trigger-deliveries' },
      t('feat.trg.deliveries'));
    toggle.addEventListener('click', async () => {
      if (open.has(tr.id)) open.delete(tr.id); else open.add(tr.id);
      show();
      await refreshDeliveries().catch(showError);
    });
    const fire = h('button.btn.secondary.small', { type: 'button', 'data-testid': 'trigger-test' }, t('feat.trg.test'));
    fire.addEventListener('click', async () => {
      fire.disabled = true;
      try {
        await call('POST', `/triggers/${encodeURIComponent(tr.id)}/test`);
        toast(t('feat.trg.testQueued'), 'ok');
        open.add(tr.id);
        show();
        setTimeout(() => refreshDeliveries().catch(() => {}), 800);
      } catch (e) {
        showError(e);
      } finally {
        fire.disabled = false;
      }
    });
    const del = h('button.btn.danger.small', { type: 'button', 'data-testid': 'trigger-delete' }, t('feat.delete'));
    del.addEventListener('click', async () => {
      const ok = await confirmDialog(t('feat.trg.deleteTitle', { title: tr.title || tr.id }), t('feat.trg.deleteText'),
        { confirm: t('feat.delete'), action: () => call('DELETE', `/triggers/${encodeURIComponent(tr.id)}`) });
      if (ok) {
        toast(t('feat.trg.deleted'), 'ok');
        await load();
      }
    });
    return [
      h('tr', { 'data-trigger-id': tr.id },
        h('td', { 'data-label': t('feat.trg.title') }, h('span.fwrap', tr.title || '—')),
        h('td', { 'data-label': t('feat.trg.stream') }, h('code', tr.ds_id)),
        h('td', { 'data-label': t('feat.trg.condition') }, condition(tr)),
        h('td', { 'data-label': t('feat.trg.url') }, h('code.fwrap', tr.url)),
        h('td', { 'data-label': t('feat.trg.devices') }, tr.dev_ids.length ? tr.dev_ids.join(', ') : t('feat.trg.allDevices')),
        h('td', h('div.actions', fire, toggle, del))),
      detail,
    ];
  }

  async function refreshDeliveries() {
    await Promise.all([...deliveryBoxes.entries()].filter(([id]) => open.has(id)).map(async ([id, box]) => {
      const outcomes = await call('GET', `/triggers/${encodeURIComponent(id)}/deliveries`);
      fill(box, h('h3', t('feat.trg.lastDeliveries')), deliveriesTable(outcomes, 'trigger-outcomes'));
    }));
  }

  await load();
  return every(3000, refreshDeliveries);
}
