// #/overview: the broker at a glance, read every 2 s from the counters /metrics shows (GET /overview, admin only),
// rates being the differences between two reads; and a product's MQTT topics with the devices subscribed to each.

import { api, call } from '../api.js';
import { h, fill, showError } from '../ui.js';
import { t, fmtNumber, fmtDateTime } from '../i18n.js';
import { featureStyles, productTabs } from './featurekit.js';

const POLL_MS = 2000;
/** Subscribed devices listed per topic; the total is always shown. */
const SUBSCRIBERS_SHOWN = 50;

const GAUGES = [
  ['connections', (m) => m.stratus_mqtt_connections],
  ['sessions', (m) => m.stratus_mqtt_sessions],
  ['wsConnections', (m) => m.stratus_http_mqtt_connections],
  ['eventStreams', (m) => m.stratus_event_streams],
  ['openCommands', (m) => m.stratus_commands_open],
  ['queued', (m) => m.stratus_mqtt_queued_messages],
  ['retained', (m) => m.stratus_mqtt_retained_messages],
];
const RATES = [
  ['received', 'stratus_mqtt_messages_received_total'],
  ['sent', 'stratus_mqtt_messages_sent_total'],
  ['stored', 'stratus_datapoints_stored_total'],
  ['dropped', 'stratus_mqtt_messages_dropped_total'],
];

export async function render(root, params, { setCrumbs, setTitle }) {
  featureStyles();
  setCrumbs([[t('feat.crumb.products'), '#/products'], [t('feat.ov.title')]]);
  if (setTitle) setTitle(t('feat.ov.title'));
  const listed = await api.products();
  const products = Array.isArray(listed) ? listed : (listed.products || []);
  const stats = h('div.fstats', { 'data-testid': 'overview-stats' });
  const updated = h('p.muted.small', { 'data-testid': 'overview-updated' });
  const select = h('select#ov-product', { 'aria-label': t('feat.ov.product') },
    h('option', { value: '' }, t('feat.ov.pickProduct')),
    products.map((p) => h('option', { value: p.id, selected: String(p.id) === params.product }, p.title)));
  const topics = h('div', { 'data-testid': 'overview-topics' });
  if (params.product) root.append(productTabs(params.product, 'topics'));
  root.append(
    h('section.panel', h('div.panel-head', h('h1', t('feat.ov.title'))), h('p.muted.small', t('feat.ov.intro')), stats, updated),
    h('section.panel', h('div.panel-head', h('h2', t('feat.ov.topics'))), h('p.muted.small', t('feat.ov.topicsIntro')),
      h('div.row', { style: 'margin-bottom:.6rem' }, select), topics));

  let last = null;
  async function poll() {
    const now = await call('GET', '/overview');
    const m = now.metrics;
    const tiles = GAUGES.filter(([, f]) => f(m) !== undefined)
      .map(([key, f]) => tile(key, fmtNumber(f(m))));
    for (const [key, name] of RATES) {
      if (m[name] === undefined) continue;
      const rate = last && now.at_ms > last.at_ms && last.metrics[name] !== undefined
        ? ((m[name] - last.metrics[name]) * 1000) / (now.at_ms - last.at_ms) : null;
      tiles.push(tile(key, rate === null ? '—' : fmtNumber(rate, { maximumFractionDigits: 1 }), t('feat.ov.perSecond')));
    }
    if (m.process_uptime_seconds !== undefined) tiles.push(tile('uptime', uptime(m.process_uptime_seconds)));
    fill(stats, tiles);
    updated.textContent = t('feat.ov.updated', { time: fmtDateTime(now.at_ms, { year: undefined, month: undefined, day: undefined }) });
    last = now;
  }

  function tile(key, value, unit) {
    return h('div.fstat', { 'data-testid': `ov-${key}` }, h('div.v', value, unit ? h('span.muted.small', ` ${unit}`) : null),
      h('div.l', t(`feat.ov.${key}`)));
  }

  async function loadTopics() {
    const productId = select.value;
    if (!productId) {
      fill(topics);
      return;
    }
    const names = await call('GET', '/mqtt/topic', { query: { product_id: productId } });
    if (!names.length) {
      fill(topics, h('div.empty', h('strong', t('feat.ov.noTopics')), t('feat.ov.noTopicsHint')));
      return;
    }
    const rows = await Promise.all(names.map(async (topic) => {
      const subs = await call('GET', '/mqtt/topic_device', { query: { product_id: productId, topic, per_page: SUBSCRIBERS_SHOWN } });
      return h('tr', h('td', h('code.fwrap', topic)), h('td.num', fmtNumber(subs.total_count)),
        h('td', subs.devices.map((id, i) => [i ? ', ' : '', h('a', { href: `#/devices/${id}` }, String(id))]),
          subs.total_count > subs.devices.length ? h('span.muted', ` … (+${fmtNumber(subs.total_count - subs.devices.length)})`) : null));
    }));
    fill(topics, h('div.table-wrap', h('table',
      h('thead', h('tr', h('th', t('feat.ov.topic')), h('th.num', t('feat.ov.subscriberCount')), h('th', t('feat.ov.subscribers')))),
      h('tbody', rows))));
  }
  select.addEventListener('change', () => loadTopics().catch(showError));

  await poll();
  await loadTopics();
  const timer = setInterval(() => { poll().catch(() => {}); }, POLL_MS);
  return () => clearInterval(timer);
}

function uptime(seconds) {
  const d = Math.floor(seconds / 86400);
  const hh = Math.floor((seconds % 86400) / 3600);
  const mm = Math.floor((seconds % 3600) / 60);
  return d ? t('feat.ov.uptimeDays', { d, h: hh }) : t('feat.ov.uptimeHours', { h: hh, m: mm });
}
