// "How to connect": the OneNET MQTT login of a device (client ID = device ID, user name = product ID,
// password = auth_info) with copy buttons and a mosquitto_pub example that uploads one data point; when the server
// has an MQTT TLS port, that port and the same example over TLS.

import { serverInfo } from './api.js';
import { h, copyable, copyButton, infoDialog } from './ui.js';
import { t } from './i18n.js';

function shellQuote(s) {
  return /^[A-Za-z0-9_.:/@+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The panel's element; the port arrives asynchronously. */
export function connectPanel(device, productId) {
  const host = location.hostname || 'localhost';
  const portText = h('code', { 'data-testid': 'connect-port' }, '…');
  const portCell = h('span.row', portText);
  const payload = '{"temperature":22.5}';
  const bytes = new TextEncoder().encode(payload).length;
  const hex = (n) => `\\x${n.toString(16).padStart(2, '0')}`;
  const example = (port, tls = false) => [
    `# ${t('connect.exampleComment')}`,
    `printf '\\x03${hex(bytes >> 8)}${hex(bytes & 0xff)}${payload}' | \\`,
    `  mosquitto_pub -h ${host} -p ${port} -V mqttv311 -i ${device.id} -u ${productId} \\`,
    `  ${tls ? '--cafile ca.pem ' : ''}-P ${shellQuote(device.auth_info)} -t '$dp' -q 1 -s`,
  ].join('\n');
  const pre = h('pre', { 'data-testid': 'connect-example' }, example(1883));
  const exampleRow = h('div.row', h('strong.small', t('connect.example')));
  let exampleText = example(1883);
  exampleRow.append(copyButton(() => exampleText));
  const portRow = h('dd', portCell);
  const tlsPart = h('div.tls');
  serverInfo().then((info) => {
    const port = info.mqtt_port ? String(info.mqtt_port) : '1883';
    portText.textContent = info.mqtt_port ? port : t('connect.portUnknown', { port });
    portCell.append(copyButton(port));
    exampleText = example(port);
    pre.textContent = exampleText;
    if (info.mqtt_tls_port) {
      const tlsPort = String(info.mqtt_tls_port);
      portRow.after(h('dt', t('connect.tlsPort')), h('dd', copyable(tlsPort, { testid: 'connect-tls-port' })));
      const tlsExample = example(tlsPort, true);
      tlsPart.append(
        h('div.row', h('strong.small', t('connect.sameOverTls')), copyButton(tlsExample)),
        h('p.small.muted', t('connect.caHint')),
        h('pre', { 'data-testid': 'connect-example-tls' }, tlsExample));
    }
  });
  return h('div.connect', { 'data-testid': 'connect-panel' },
    h('dl.facts',
      h('dt', t('connect.host')), h('dd', copyable(host)),
      h('dt', t('connect.port')), portRow,
      h('dt', t('connect.clientId')), h('dd', copyable(String(device.id), { testid: 'connect-client-id' })),
      h('dt', t('connect.username')), h('dd', copyable(String(productId), { testid: 'connect-username' })),
      h('dt', t('connect.password')), h('dd', copyable(device.auth_info, { testid: 'connect-password' }))),
    h('p.small.muted', t('connect.note')),
    exampleRow, pre, tlsPart);
}

export function showConnect(device, productId) {
  return infoDialog(t('connect.title', { title: device.title }), connectPanel(device, productId));
}
