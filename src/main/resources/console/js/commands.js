// Commands to a device (POST /cmds, GET /cmds/{uuid}, GET /cmds/{uuid}/resp, GET /cmds/history/{id}).
// Shown only when the server routes them: a server without commands answers HTTP 404 for the history.

import { api, routeExists } from './api.js';
import { h, clear, showError } from './ui.js';
import { t } from './i18n.js';
import { showServerTime } from './servertime.js';

const FINAL = new Set([3, 4, 5, 6]);
const STATUSES = [0, 1, 2, 3, 4, 5, 6];
const status = (n) => (STATUSES.includes(n) ? t(`cmd.status.${n}`) : String(n));
const POLL_MS = 1000;
const POLL_FOR_MS = 120000;

function hexToText(hex) {
  if (!hex) return '';
  const bytes = new Uint8Array(hex.match(/../g).map((b) => parseInt(b, 16)));
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/** The panel, or null when this server has no commands. */
export async function commandPanel(deviceId) {
  if (!(await routeExists('GET', `/cmds/history/${encodeURIComponent(deviceId)}`, { per_page: 1 }))) return null;
  let timer = null;
  const body = h('textarea', { placeholder: 'LED:1', 'aria-label': t('cmd.command'), 'data-testid': 'command-body' });
  const timeout = h('input', { type: 'number', min: '0', max: '2678400', value: '0', 'aria-label': t('cmd.timeout') });
  const qos = h('select', { 'aria-label': 'QoS' }, h('option', { value: '0' }, 'QoS 0'), h('option', { value: '1' }, 'QoS 1'));
  const send = h('button.btn', { type: 'button', 'data-testid': 'command-send' }, t('cmd.send'));
  const statusBox = h('div.cmd-status', { 'data-testid': 'command-status' });
  const history = h('div');

  async function loadHistory() {
    const data = await api.commandHistory(deviceId, { per_page: 5 });
    clear(history);
    const items = data.items || [];
    if (!items.length) {
      history.append(h('p.muted.small', t('cmd.none')));
      return;
    }
    history.append(h('div.table-wrap', h('table.cards',
      h('thead', h('tr', h('th', t('cmd.sent')), h('th', t('cmd.command')), h('th', t('cmd.statusCol')), h('th', t('cmd.response')))),
      h('tbody', items.map((c) => h('tr',
        h('td', { 'data-label': t('cmd.sent') }, showServerTime(c.send_time || c.create_time) || '—'),
        h('td.mono', { 'data-label': t('cmd.command') }, hexToText(c.body)),
        h('td', { 'data-label': t('cmd.statusCol') }, status(c.status)),
        h('td.mono', { 'data-label': t('cmd.response') }, hexToText(c.confirm_body) || '—')))))));
  }

  async function poll(uuid, started) {
    const s = await api.commandStatus(uuid);
    clear(statusBox).append(h('div', t('cmd.label'), ' ', h('code', uuid), ': ', h('strong', status(s.status))));
    if (s.status === 4) {
      const res = await api.commandResponse(uuid);
      statusBox.append(h('div.small.muted', t('cmd.responseLabel')), h('pre', { 'data-testid': 'command-response' }, await res.text()));
    }
    if (FINAL.has(s.status) || s.status === 0 || Date.now() - started > POLL_FOR_MS) {
      loadHistory().catch(() => {});
      return;
    }
    timer = setTimeout(() => poll(uuid, started).catch(showError), POLL_MS);
  }

  send.addEventListener('click', async () => {
    if (!body.value) {
      clear(statusBox).append(h('span.form-error', t('cmd.typeFirst')));
      return;
    }
    clearTimeout(timer);
    send.disabled = true;
    try {
      const data = await api.sendCommand(deviceId, body.value, { qos: qos.value, timeout: timeout.value || 0 });
      await poll(data.cmd_uuid, Date.now());
    } catch (e) {
      clear(statusBox).append(h('span.form-error', e.message));
    } finally {
      send.disabled = false;
    }
  });

  await loadHistory().catch(() => {});
  const el = h('section.panel', { 'data-testid': 'commands' },
    h('div.panel-head', h('h2', t('cmd.title'))),
    h('p.muted.small', t('cmd.intro')),
    body,
    h('div.row', { style: 'margin-top:0.5rem' }, qos, h('label', { style: 'margin:0' }, t('cmd.timeout')), h('span', { style: 'width:7rem' }, timeout), send),
    statusBox,
    h('h3', { style: 'margin-top:1rem' }, t('cmd.recent')),
    history);
  el.stop = () => clearTimeout(timer);
  return el;
}
