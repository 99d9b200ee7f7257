// #/devices/{id}: one device, its data streams with the latest values (live), the history of a stream,
// how to connect it, and commands when the server has them.

import { api } from '../api.js';
import { h, clear, fill, toast, formDialog, confirmDialog, copyable, onlineTag, setOnlineTag, flash, valueText, showError } from '../ui.js';
import * as events from '../events.js';
import { connectPanel } from '../connect.js';
import { historyPanel } from '../history.js';
import { commandPanel } from '../commands.js';

export async function render(root, params, { setCrumbs, navigate }) {
  const deviceId = params.id;
  let device = await api.device(deviceId);
  const productId = await productOf(device);
  const product = await api.product(productId).catch(() => ({ id: productId, title: productId }));
  setCrumbs([['Products', '#/products'], [product.title, `#/products/${productId}`], [device.title]]);
  events.watch(productId);
  const info = await api.info().catch(() => ({}));

  // ---- header ----
  const tag = onlineTag(device.online, device.disabled);
  const title = h('h1', device.title);
  const lastLogin = h('dd', { 'data-testid': 'last-login' }, device.last_login || 'never');
  const lastLogout = h('dd', device.last_logout || '—');
  const connect = h('div');
  connect.hidden = true;
  const connectToggle = h('button.btn.secondary.small', { type: 'button', 'data-testid': 'toggle-connect' }, 'How to connect');
  connectToggle.addEventListener('click', () => {
    connect.hidden = !connect.hidden;
    if (!connect.hidden) clear(connect).append(h('h3', { style: 'margin-top:1rem' }, 'How to connect'), connectPanel(device, productId));
  });
  root.append(h('section.panel',
    h('div.page-head',
      h('div.title', h('div.row', title, tag), h('p.muted.small', device.desc || '')),
      h('div.actions',
        connectToggle,
        h('button.btn.secondary.small', { type: 'button', onclick: () => edit() }, 'Edit'),
        h('button.btn.danger.small', { type: 'button', onclick: () => remove() }, 'Delete'))),
    h('dl.facts',
      h('dt', 'Device ID'), h('dd', copyable(device.id, { testid: 'device-id' })),
      h('dt', 'Product'), h('dd', h('a', { href: `#/products/${productId}` }, product.title), h('code.small', productId)),
      h('dt', 'auth_info'), h('dd', copyable(device.auth_info)),
      h('dt', 'Last login'), lastLogin,
      h('dt', 'Last logout'), lastLogout,
      h('dt', 'Created'), h('dd', device.create_time || '—')),
    connect));

  // ---- data streams ----
  const grid = h('div.streams', { 'data-testid': 'streams' });
  const cards = new Map();
  const streamsPanel = h('section.panel', h('div.panel-head', h('h2', 'Data streams')), grid);
  root.append(streamsPanel);
  const history = historyPanel(deviceId, { timezone: info.timezone });
  history.el.hidden = true;
  root.append(history.el);

  function card(s) {
    const value = h('div.value', { 'data-testid': 'stream-value' });
    const at = h('div.at', { 'data-testid': 'stream-at' });
    const el = h('button.stream', { type: 'button', 'data-stream': s.id, title: `Show the history of ${s.id}` },
      h('div.sid', s.id), value, at);
    el.addEventListener('click', () => selectStream(s.id));
    const c = { el, value, at, unit: s.unit_symbol || s.unit || '' };
    cards.set(s.id, c);
    setValue(c, s.current_value, s.at, false);
    return el;
  }

  function setValue(c, v, at, animate) {
    // The latest value is the one with the greatest time (a device may upload older points after newer ones);
    // API times of one zone compare as text.
    if (animate && c.lastAt && at < c.lastAt) return;
    c.lastAt = at;
    fill(c.value, valueText(v), c.unit && v !== undefined && v !== null ? h('span.unit', c.unit) : null);
    c.at.textContent = at || 'no data yet';
    if (animate) flash(c.el);
  }

  function selectStream(id) {
    for (const [sid, c] of cards) c.el.classList.toggle('selected', sid === id);
    history.el.hidden = false;
    history.select(id);
  }

  async function loadStreams() {
    const streams = await api.streams(deviceId);
    clear(grid);
    cards.clear();
    if (!streams.length) {
      grid.append(h('div.empty', { style: 'grid-column:1/-1' }, h('strong', 'No data yet.'),
        'When the device publishes data points to $dp, its streams and latest values appear here. ',
        h('a', { href: '#', onclick: (e) => { e.preventDefault(); if (connect.hidden) connectToggle.click(); } }, 'How to connect')));
      history.el.hidden = true;
      return;
    }
    streams.forEach((s) => grid.append(card(s)));
    history.setStreams(streams.map((s) => s.id));
    if (history.stream && cards.has(history.stream)) {
      cards.get(history.stream).el.classList.add('selected'); // the chart stays as it is
    } else {
      selectStream(streams[0].id);
    }
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

  // ---- commands (only when the server has them) ----
  let commands = null;
  commandPanel(deviceId).then((panel) => {
    if (panel && root.isConnected) {
      commands = panel;
      root.append(panel);
    }
  }).catch(() => {});

  // ---- live updates ----
  events.subscribe((name, data) => {
    if (data.device !== String(deviceId)) return;
    if (name === 'device.online' || name === 'device.offline') {
      const online = name === 'device.online';
      setOnlineTag(tag, online);
      if (online && data.at) lastLogin.textContent = data.at;
      if (!online && data.at) lastLogout.textContent = data.at;
    } else if (name === 'datapoint') {
      const c = cards.get(data.stream);
      if (!c) {
        refreshStreams(); // a new stream: the list carries its unit, and this point as its latest value
        return;
      }
      setValue(c, data.value, data.at, true);
      history.livePoint(data);
    }
  }, () => {
    api.device(deviceId).then((d) => { device = d; setOnlineTag(tag, d.online); }).catch(showError);
    refreshStreams();
    if (history.stream) history.reload().catch(showError);
  });

  async function edit() {
    const ok = await formDialog({
      title: `Edit ${device.title}`,
      fields: [
        { name: 'title', label: 'Name', required: true, value: device.title },
        { name: 'auth_info', label: 'auth_info (serial number)', required: true, value: device.auth_info,
          hint: 'Changing it changes the device\'s MQTT password.' },
        { name: 'desc', label: 'Description', type: 'textarea', value: device.desc },
      ],
      onSubmit: async (v) => {
        await api.updateDevice(deviceId, { title: v.title, auth_info: v.auth_info, desc: v.desc });
        return true;
      },
    });
    if (ok) {
      toast('Device saved.', 'ok');
      navigate(`#/devices/${deviceId}`);
    }
  }

  async function remove() {
    const ok = await confirmDialog(`Delete ${device.title}?`,
      'The device, its data streams, history and commands are deleted; if it is connected it is disconnected.',
      { action: () => api.deleteDevice(deviceId) });
    if (ok) {
      toast(`Deleted ${device.title}.`, 'ok');
      navigate(`#/products/${productId}`);
    }
  }

  await loadStreams();
  return () => {
    history.destroy();
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
  throw new Error(`No product holds device ${device.id}.`);
}
