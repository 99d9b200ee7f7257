// #/devices/{id}?streams=a,b&range=7d&view=chart: one device, its data streams with the latest values (live), the
// history of chosen streams, how to connect it, enable/disable, its device-level keys, stream settings, and commands
// when the server has them. The history's streams, range and view are kept in the URL (replaced, not pushed).

import { api } from '../api.js';
import { h, clear, fill, toast, formDialog, confirmDialog, copyable, onlineTag, setOnlineTag, flash, valueText, showError } from '../ui.js';
import * as events from '../events.js';
import { connectPanel } from '../connect.js';
import { historyPanel, prefetch } from '../history.js';
import { commandPanel } from '../commands.js';
import { t, fmtNumber } from '../i18n.js';
import { setServerZone, serverTimeToMs, showServerTime } from '../servertime.js';
import { deviceApi } from '../deviceapi.js';
import '../devicestyle.js';
// Imported by history.js too; named here so that the browser fetches them a round trip earlier.
import '../chart.js';
import '../csv.js';

export async function render(root, params, { setCrumbs, navigate, setTitle, setQuery }) {
  const deviceId = params.id;
  // Side by side, so that the first chart waits for as few round trips as can be.
  const infoLoad = api.info().catch(() => ({}));
  let firstStreams = api.streams(deviceId);
  firstStreams.catch(() => {});
  const initial = {
    streams: params.streams ? params.streams.split(',').filter(Boolean) : [],
    range: params.range, view: params.view, from: params.from, to: params.to,
  };
  const early = prefetch(deviceId, initial, root.clientWidth - 64);
  let device = await api.device(deviceId);
  const productId = await productOf(device);
  const productLoad = api.product(productId).catch(() => ({ id: productId, title: productId }));
  setServerZone((await infoLoad).timezone);
  setTitle(device.title);
  let alive = true; // until the page is left
  const productLink = h('a', { href: `#/products/${productId}` }, productId);
  productLoad.then((product) => {
    productLink.textContent = product.title;
    if (alive) setCrumbs([[t('device.crumbProducts'), '#/products'], [product.title, `#/products/${productId}`], [device.title]]);
  });
  events.watch(productId);

  // ---- header ----
  let tag = onlineTag(device.online, device.disabled);
  const title = h('h1', device.title);
  const titleRow = h('div.row', title, tag);
  const lastLogin = h('dd', { 'data-testid': 'last-login' }, device.last_login ? showServerTime(device.last_login) : t('device.never'));
  const lastLogout = h('dd', device.last_logout ? showServerTime(device.last_logout) : '—');
  const connect = h('div');
  connect.hidden = true;
  const connectToggle = h('button.btn.secondary.small', { type: 'button', 'data-testid': 'toggle-connect' }, t('device.howToConnect'));
  connectToggle.addEventListener('click', () => {
    connect.hidden = !connect.hidden;
    if (!connect.hidden) clear(connect).append(h('h3', { style: 'margin-top:1rem' }, t('device.howToConnect')), connectPanel(device, productId));
  });
  const disableButton = h('button.btn.secondary.small', { type: 'button', 'data-testid': 'toggle-disabled',
    onclick: () => toggleDisabled() });
  function markDisabled() {
    disableButton.textContent = device.disabled ? t('device.enable') : t('device.disable');
    disableButton.title = device.disabled ? t('device.enableHint') : t('device.disableHint');
    const fresh = onlineTag(device.online, device.disabled);
    tag.replaceWith(fresh);
    tag = fresh;
  }
  markDisabled();
  root.append(h('section.panel',
    h('div.page-head',
      h('div.title', titleRow, h('p.muted.small', device.desc || '')),
      h('div.actions',
        connectToggle,
        h('button.btn.secondary.small', { type: 'button', onclick: () => edit() }, t('device.edit')),
        disableButton,
        h('button.btn.danger.small', { type: 'button', onclick: () => remove() }, t('device.delete')))),
    h('dl.facts',
      h('dt', t('device.id')), h('dd', copyable(device.id, { testid: 'device-id' })),
      h('dt', t('device.product')), h('dd', productLink, ' ', h('code.small', productId)),
      h('dt', 'auth_info'), h('dd', copyable(device.auth_info)),
      h('dt', t('device.lastLogin')), lastLogin,
      h('dt', t('device.lastLogout')), lastLogout,
      h('dt', t('device.created')), h('dd', device.create_time ? showServerTime(device.create_time) : '—')),
    connect));

  // ---- data streams ----
  const grid = h('div.streams', { 'data-testid': 'streams' });
  const cards = new Map();
  root.append(h('section.panel', h('div.panel-head', h('h2', t('device.streams')),
    h('span.muted.small', t('device.streamsHint'))), grid));
  const hist = historyPanel(deviceId, {
    initial,
    early,
    onState: (s) => {
      writeUrl(s);
      markCards();
    },
  });
  hist.el.hidden = true;
  root.append(hist.el);

  function writeUrl(s) {
    setQuery({ streams: s.streams.join(','), range: s.range, from: s.from, to: s.to, view: s.view });
  }

  function markCards() {
    const chosen = hist.streams;
    for (const [sid, c] of cards) c.el.classList.toggle('selected', chosen.includes(sid));
  }

  function card(s) {
    const value = h('div.value', { 'data-testid': 'stream-value' });
    const at = h('div.at', { 'data-testid': 'stream-at' });
    const el = h('button.stream', { type: 'button', 'data-stream': s.id, title: t('device.cardHint', { id: s.id }) },
      h('div.sid', s.id), value, at);
    el.addEventListener('click', (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.shiftKey) hist.toggle(s.id);
      else hist.select(s.id);
    });
    const c = { el, value, at, unit: s.unit_symbol || s.unit || '' };
    cards.set(s.id, c);
    const live = livePoints.get(s.id);
    if (live && !(serverTimeToMs(s.at) >= live.ms)) setValue(c, live.value, live.at, false);
    else setValue(c, s.current_value, s.at, false);
    return el;
  }

  function setValue(c, v, at, animate) {
    // The latest value is the one with the greatest time (a device may upload older points after newer ones).
    const ms = serverTimeToMs(at);
    if (animate && c.lastMs && ms < c.lastMs) return;
    c.lastMs = ms;
    fill(c.value, valueText(v), c.unit && v !== undefined && v !== null ? h('span.unit', c.unit) : null);
    c.at.textContent = at ? showServerTime(at, { ms: true }) : t('device.noDataYet');
    c.at.title = at || '';
    if (animate) flash(c.el);
  }

  // The newest point of each stream the live events brought. A re-read of the streams may have been answered before
  // such points were stored; the cards it rebuilds keep these when they are newer.
  const livePoints = new Map();
  function rememberLive(data) {
    const ms = serverTimeToMs(data.at);
    const known = livePoints.get(data.stream);
    if (!known || !(ms < known.ms)) livePoints.set(data.stream, { value: data.value, at: data.at, ms });
  }

  let streams = [];
  async function loadStreams() {
    streams = await (firstStreams || api.streams(deviceId));
    firstStreams = null;
    clear(grid);
    cards.clear();
    drawSettings();
    if (!streams.length) {
      grid.append(h('div.empty', { style: 'grid-column:1/-1' }, h('strong', t('device.noData')),
        t('device.noDataText'), ' ',
        h('a', { href: '#', onclick: (e) => { e.preventDefault(); if (connect.hidden) connectToggle.click(); } }, t('device.howToConnect'))));
      hist.el.hidden = true;
      return;
    }
    streams.forEach((s) => grid.append(card(s)));
    hist.el.hidden = false;
    hist.setStreams(streams.map((s) => ({ id: s.id, unit: s.unit_symbol || s.unit || '' })));
    markCards();
  }

  // A point of a stream not on screen yet: re-read the list once, however many such points arrive meanwhile.
  let streamsLoading = null;
  let streamsDirty = false;
  function refreshStreams() {
    if (streamsLoading) {
      streamsDirty = true;
      return;
    }
    streamsLoading = loadStreams().catch(showError).finally(() => {
      streamsLoading = null;
      if (streamsDirty) {
        streamsDirty = false;
        refreshStreams();
      }
    });
  }

  // ---- stream settings ----
  const settingsBody = h('div', { 'data-testid': 'stream-settings' });
  const settings = h('details.panel.stream-settings', h('summary', h('strong', t('device.settings.title'))), settingsBody);
  root.append(settings);

  function drawSettings() {
    clear(settingsBody);
    if (!streams.length) {
      settingsBody.append(h('p.muted.small', t('device.settings.none')));
      return;
    }
    settingsBody.append(h('div.table-wrap', h('table',
      h('thead', h('tr', h('th', t('device.settings.stream')), h('th', t('device.settings.unit')), h('th', t('device.settings.symbol')),
        h('th', t('device.settings.updated')), h('th', ''))),
      h('tbody', streams.map((s) => h('tr', { 'data-settings-stream': s.id },
        h('td.mono', s.id), h('td', s.unit || '—'), h('td', s.unit_symbol || '—'),
        h('td', s.update_at ? showServerTime(s.update_at) : '—'),
        h('td', h('div.actions',
          h('button.btn.secondary.small', { type: 'button', 'data-testid': 'stream-edit', onclick: () => editStream(s) }, t('device.settings.edit')),
          h('button.btn.danger.small', { type: 'button', 'data-testid': 'stream-delete', onclick: () => deleteStream(s) }, t('device.settings.delete'))))))))));
  }

  async function editStream(s) {
    const ok = await formDialog({
      title: t('device.settings.editTitle', { id: s.id }),
      fields: [
        { name: 'unit', label: t('device.settings.unit'), value: s.unit || '', placeholder: t('device.settings.unitExample') },
        { name: 'unit_symbol', label: t('device.settings.symbol'), value: s.unit_symbol || '', placeholder: '°C' },
      ],
      submit: t('device.settings.save'),
      onSubmit: async (v) => {
        await deviceApi.updateStream(deviceId, s.id, { unit: v.unit, unit_symbol: v.unit_symbol });
        return true;
      },
    });
    if (ok) {
      toast(t('device.settings.saved', { id: s.id }), 'ok');
      refreshStreams();
    }
  }

  async function deleteStream(s) {
    const ok = await confirmDialog(t('device.settings.deleteTitle', { id: s.id }), t('device.settings.deleteText'),
      { confirm: t('device.settings.delete'), action: () => deviceApi.deleteStream(deviceId, s.id) });
    if (ok) {
      toast(t('device.settings.deleted', { id: s.id }), 'ok');
      refreshStreams();
    }
  }

  // ---- device-level keys ----
  const keysBody = h('div', { 'data-testid': 'device-keys' });
  root.append(h('section.panel.device-keys',
    h('div.panel-head', h('h2', t('device.keys.title')),
      h('button.btn.secondary.small', { type: 'button', 'data-testid': 'new-key', onclick: () => createKey() }, t('device.keys.new'))),
    h('p.muted.small', t('device.keys.intro')), keysBody));

  async function loadKeys() {
    const data = await deviceApi.keys(productId, deviceId);
    clear(keysBody);
    const keys = data.keys || [];
    if (!keys.length) {
      keysBody.append(h('p.muted.small', t('device.keys.none')));
      return;
    }
    keysBody.append(h('div.table-wrap', h('table.cards',
      h('thead', h('tr', h('th', t('device.keys.name')), h('th', t('device.keys.key')), h('th', t('device.keys.scope')), h('th', t('device.keys.created')), h('th', ''))),
      h('tbody', keys.map((k) => h('tr', { 'data-key-title': k.title },
        h('td', { 'data-label': t('device.keys.name') }, k.title),
        h('td', { 'data-label': t('device.keys.key') }, copyable(k.key, { testid: 'key-value' })),
        h('td', { 'data-label': t('device.keys.scope') }, scope(k)),
        h('td', { 'data-label': t('device.keys.created') }, k.create_time ? showServerTime(k.create_time) : '—'),
        h('td', h('button.btn.danger.small', { type: 'button', 'data-testid': 'key-delete', onclick: () => deleteKey(k) }, t('device.keys.delete')))))))));
  }

  function scope(k) {
    const resources = (k.permissions || []).flatMap((p) => p.resources || []);
    const devices = new Set(resources.map((r) => r.dev_id));
    const mine = resources.filter((r) => r.dev_id === String(deviceId));
    const streamsOnly = mine.filter((r) => r.ds_id).map((r) => r.ds_id);
    const parts = [];
    parts.push(streamsOnly.length && streamsOnly.length === mine.length
      ? t('device.keys.someStreams', { streams: streamsOnly.join(', ') }) : t('device.keys.allStreams'));
    if (devices.size > 1) parts.push(t('device.keys.moreDevices', { n: fmtNumber(devices.size - 1) }));
    return parts.join('; ');
  }

  async function createKey() {
    const key = await formDialog({
      title: t('device.keys.newTitle', { name: device.title }),
      intro: t('device.keys.newIntro'),
      fields: [{ name: 'title', label: t('device.keys.name'), required: true, value: `${device.title} key` }],
      submit: t('device.keys.create'),
      onSubmit: async (v) => (await deviceApi.createKey(productId, deviceId, v.title)).key,
    });
    if (key) {
      toast(t('device.keys.made'), 'ok');
      await loadKeys();
    }
  }

  async function deleteKey(k) {
    const ok = await confirmDialog(t('device.keys.deleteTitle', { name: k.title }), t('device.keys.deleteText'),
      { confirm: t('device.keys.delete'), action: () => deviceApi.deleteKey(k.key) });
    if (ok) {
      toast(t('device.keys.deleted', { name: k.title }), 'ok');
      await loadKeys();
    }
  }

  // ---- commands (only when the server has them) ----
  let commands = null;
  commandPanel(deviceId).then((panel) => {
    if (panel && alive) {
      commands = panel;
      root.append(panel);
    }
  }).catch(() => {});

  // ---- live updates ----
  events.subscribe((name, data) => {
    if (data.device !== String(deviceId)) return;
    if (name === 'device.online' || name === 'device.offline') {
      const online = name === 'device.online';
      device.online = online;
      setOnlineTag(tag, online);
      if (online && data.at) lastLogin.textContent = showServerTime(data.at);
      if (!online && data.at) lastLogout.textContent = showServerTime(data.at);
    } else if (name === 'datapoint') {
      rememberLive(data);
      const c = cards.get(data.stream);
      if (!c) {
        refreshStreams(); // a new stream: the list carries its unit, and this point as its latest value
        return;
      }
      setValue(c, data.value, data.at, true);
      hist.livePoint(data);
    }
  }, () => {
    api.device(deviceId).then((d) => { device = d; setOnlineTag(tag, d.online); }).catch(showError);
    refreshStreams();
    if (hist.streams.length) hist.reload().catch(showError);
  });

  async function toggleDisabled() {
    const disabled = !device.disabled;
    const apply = async () => {
      await deviceApi.setDisabled(deviceId, disabled);
      device = await api.device(deviceId);
      markDisabled();
      toast(t(disabled ? 'device.disabled' : 'device.enabled', { name: device.title }), 'ok');
    };
    if (!disabled) {
      await apply().catch(showError);
      return;
    }
    await confirmDialog(t('device.disableTitle', { name: device.title }), t('device.disableText'),
      { confirm: t('device.disable'), action: apply });
  }

  async function edit() {
    const ok = await formDialog({
      title: t('device.editTitle', { name: device.title }),
      fields: [
        { name: 'title', label: t('device.name'), required: true, value: device.title },
        { name: 'auth_info', label: t('device.authInfo'), required: true, value: device.auth_info, hint: t('device.authInfoHint') },
        { name: 'desc', label: t('device.desc'), type: 'textarea', value: device.desc },
      ],
      submit: t('device.save'),
      onSubmit: async (v) => {
        await api.updateDevice(deviceId, { title: v.title, auth_info: v.auth_info, desc: v.desc });
        return true;
      },
    });
    if (ok) {
      toast(t('device.saved'), 'ok');
      navigate(location.hash);
    }
  }

  async function remove() {
    const ok = await confirmDialog(t('device.deleteTitle', { name: device.title }), t('device.deleteText'),
      { confirm: t('device.delete'), action: () => api.deleteDevice(deviceId) });
    if (ok) {
      toast(t('device.deleted', { name: device.title }), 'ok');
      navigate(`#/products/${productId}`);
    }
  }

  await loadStreams();
  loadKeys().catch(showError);
  return () => {
    alive = false;
    hist.destroy();
    if (commands) commands.stop();
  };
}

/**
 * The product of a device: GET /devices/{id} does not name it (OneNET's reply has no product field), so it
 * is found by listing each product's devices with this id.
 */
async function productOf(device) {
  if (device.product_id) return String(device.product_id);
  const products = await api.products();
  for (const p of products) {
    const found = await api.devices(p.id, { device_id: device.id, per_page: 1 });
    if (found.total_count > 0) return String(p.id);
  }
  throw new Error(t('device.noProduct', { id: device.id }));
}
