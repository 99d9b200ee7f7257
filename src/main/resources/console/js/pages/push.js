// #/products/{id}/push: the product's data push (URL, token, verification, the last posts and failures) and its
// register code (the credential of register_de).

import { api, call } from '../api.js';
import { h, fill, toast, showError, confirmDialog, copyButton } from '../ui.js';
import { t } from '../i18n.js';
import { productTabs, deliveriesTable, every } from './featurekit.js';

export async function render(root, params, { setCrumbs, setTitle }) {
  const productId = params.id;
  const product = await api.product(productId);
  setCrumbs([[t('feat.crumb.products'), '#/products'], [product.title, `#/products/${productId}`], [t('feat.tab.push')]]);
  if (setTitle) setTitle(t('feat.tab.push'), product.title);
  const path = `/products/${encodeURIComponent(productId)}`;

  const url = h('input#push-url', { type: 'url', required: true, autocomplete: 'off', placeholder: 'https://example.com/onenet' });
  const token = h('input#push-token', { required: true, autocomplete: 'off', maxLength: 128 });
  const enabled = h('input#push-enabled', { type: 'checkbox', checked: true });
  const batch = h('input#push-batch', { type: 'checkbox', checked: true });
  const state = h('div', { 'data-testid': 'push-state' });
  const error = h('div.form-error', { role: 'alert', 'data-testid': 'push-error' });
  error.hidden = true;
  const save = h('button.btn', { type: 'submit', 'data-testid': 'push-save' }, t('feat.push.save'));
  const stop = h('button.btn.danger', { type: 'button', 'data-testid': 'push-delete' }, t('feat.push.stop'));
  const form = h('form.fform', { 'data-testid': 'push-form' },
    h('div.wide', h('label', { for: 'push-url' }, `${t('feat.push.url')} *`), url),
    h('div', h('label', { for: 'push-token' }, `${t('feat.push.token')} *`), token),
    h('label.fcheck', enabled, t('feat.push.enabled')),
    h('label.fcheck', batch, t('feat.push.batch')),
    h('div.wide', h('p.muted.small', t('feat.push.verifyHint')), error, h('div.actions', save, stop)));
  const outcomes = h('div');

  const code = h('code', { 'data-testid': 'register-code' }, product.register_code || '—');
  const rotate = h('button.btn.secondary', { type: 'button', 'data-testid': 'register-rotate' }, t('feat.reg.rotate'));
  rotate.addEventListener('click', async () => {
    const ok = await confirmDialog(t('feat.reg.rotateTitle'), t('feat.reg.rotateText'), {
      confirm: t('feat.reg.rotate'),
      action: async () => {
        const data = await call('POST', `${path}/register_code`);
        product.register_code = data.register_code;
      },
    });
    if (ok) {
      code.textContent = product.register_code;
      toast(t('feat.reg.rotated'), 'ok');
    }
  });

  root.append(productTabs(productId, 'push'),
    h('section.panel', h('div.panel-head', h('h2', t('feat.push.title'))), h('p.muted.small', t('feat.push.intro')), state, form),
    h('section.panel', h('div.panel-head', h('h2', t('feat.push.recent'))), outcomes),
    h('section.panel', h('div.panel-head', h('h2', t('feat.reg.title'))), h('p.muted.small', t('feat.reg.intro')),
      h('div.row', code, copyButton(() => product.register_code, t('feat.copy')), rotate)));

  let target = null;
  function showState() {
    stop.hidden = !target;
    if (!target) {
      fill(state, h('p', h('span.tag.offline', t('feat.push.none'))));
      return;
    }
    fill(state, h('p', h(`span.tag.${target.enabled ? 'online' : 'offline'}`, { 'data-testid': 'push-status' },
      target.enabled ? t('feat.push.on') : t('feat.push.off')), ' ',
    h('span.fok', { 'data-testid': 'push-verified' }, t('feat.push.verified', { time: target.update_time })), ' ',
    h('span.muted.small', target.batch ? t('feat.push.batchOn') : t('feat.push.batchOff'))));
  }

  async function load() {
    try {
      target = await call('GET', `${path}/push`);
    } catch (e) {
      if (e.errno !== 8) throw e;
      target = null;
    }
    if (target) {
      url.value = target.url;
      token.value = target.token;
      enabled.checked = target.enabled;
      batch.checked = target.batch;
    }
    showState();
  }

  async function loadOutcomes() {
    fill(outcomes, deliveriesTable(await call('GET', `${path}/push/deliveries`), 'push-outcomes'));
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    save.disabled = true;
    save.textContent = t('feat.push.verifying');
    try {
      await call('PUT', `${path}/push`, { body: { url: url.value.trim(), token: token.value.trim(), enabled: enabled.checked,
        batch: batch.checked } });
      toast(t('feat.push.saved'), 'ok');
      await load();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    } finally {
      save.disabled = false;
      save.textContent = t('feat.push.save');
    }
  });
  stop.addEventListener('click', async () => {
    const ok = await confirmDialog(t('feat.push.stopTitle'), t('feat.push.stopText'),
      { confirm: t('feat.push.stop'), action: () => call('DELETE', `${path}/push`) });
    if (ok) {
      toast(t('feat.push.stopped'), 'ok');
      url.value = '';
      token.value = '';
      await load();
    }
  });

  await load();
  await loadOutcomes().catch(showError);
  return every(3000, loadOutcomes);
}
