// MQTT over WebSocket from a browser: MQTT.js (the field's browser client) in Debian's Chromium connects to
// ws://.../mqtt with a device's OneNET login, receives a message a TCP device publishes, and uploads a $dp point that
// the HTTP API then lists: once on mqtt.ws-port (a free port, Netty's own listener) and once at /mqtt on the HTTP port
// (Jetty's WebSocket bridged into the broker).

import { after, before, describe, it } from 'node:test';
import http from 'node:http';
import fs from 'node:fs';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, startServer } from '../lib/server.js';
import { MqttDevice } from '../lib/mqtt.js';

/** MQTT.js's browser bundle (its package exports do not list the dist files, so the path is spelled out). */
const MQTT_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'mqtt', 'dist', 'mqtt.min.js');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ADMIN_PASSWORD = 'e2e-admin-password';

let server;
let wsPort;
let browser;
let tcp;
let pageServer;
let pageUrl;

async function api(method, pathname, { body, token, key } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (key) headers['api-key'] = key;
  const res = await fetch(`${server.url}${pathname}`, { method, headers, body: body && JSON.stringify(body) });
  const json = await res.json();
  assert.equal(json.errno, 0, `${method} ${pathname}: ${JSON.stringify(json)}`);
  return json.data;
}

describe('MQTT over WebSocket from the browser', () => {
  before(async () => {
    wsPort = await freePort();
    server = await startServer({ adminPassword: ADMIN_PASSWORD, env: { STRATUS_MQTT_WS_PORT: String(wsPort) } });
    // A small page on 127.0.0.1 that loads MQTT.js: Chromium lets a local page, not about:blank, reach a local port.
    pageServer = http.createServer((req, res) => {
      if (req.url === '/mqtt.min.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(fs.readFileSync(MQTT_JS));
      } else {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script src="/mqtt.min.js"></script>');
      }
    });
    await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${pageServer.address().port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  });

  after(async () => {
    if (tcp) await tcp.disconnect().catch(() => {});
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
    if (pageServer) pageServer.close();
  });

  /** MQTT.js in a page logs in at {@code wsUrl}, receives what a TCP device publishes and uploads a $dp point. */
  async function exchange(wsUrl, title) {
    const { token } = await api('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    const product = await api('POST', '/products', { token, body: { title, protocol: 'MQTT' } });
    const key = product.master_key;
    const web = await api('POST', '/devices', { key, body: { title: 'browser', auth_info: 'SN-WEB' } });
    const meter = await api('POST', '/devices', { key, body: { title: 'meter', auth_info: 'SN-TCP' } });

    const page = await browser.newPage();
    await page.goto(pageUrl);
    const connected = page.evaluate(({ url, clientId, username }) => new Promise((resolve, reject) => {
      const client = window.mqtt.connect(url, { clientId, username, password: 'SN-WEB', protocolVersion: 4,
        reconnectPeriod: 0, connectTimeout: 5000 });
      window.client = client;
      client.on('error', (e) => reject(String(e)));
      client.on('close', () => reject(new Error('closed before subscribing')));
      client.on('connect', () => client.subscribe('greenhouse/#', { qos: 1 }, (err) => (err ? reject(String(err)) : resolve(true))));
      window.received = new Promise((got) => client.on('message', (topic, payload) => got(`${topic} ${payload.toString()}`)));
    }), { url: wsUrl, clientId: web.device_id, username: product.product_id });
    assert.equal(await connected, true);

    tcp = new MqttDevice({ port: server.mqttPort, clientId: meter.device_id, username: product.product_id, password: 'SN-TCP' });
    await tcp.connect();
    await tcp.publish('greenhouse/air', '21.5 from TCP', 1);
    assert.equal(await page.evaluate(() => window.received), 'greenhouse/air 21.5 from TCP');

    // $dp type 3 from the browser: byte 3, a 16-bit length, then the JSON.
    const acked = await page.evaluate(() => new Promise((resolve, reject) => {
      const json = new TextEncoder().encode('{"level":7}');
      const payload = new Uint8Array(3 + json.length);
      payload.set([3, json.length >> 8, json.length & 0xff]);
      payload.set(json, 3);
      window.client.publish('$dp', payload, { qos: 1 }, (err) => (err ? reject(String(err)) : resolve(true)));
    }));
    assert.equal(acked, true);
    const points = await api('GET', `/devices/${web.device_id}/datapoints?datastream_id=level`, { key });
    assert.equal(points.count, 1);
    assert.equal(points.datastreams[0].datapoints[0].value, 7);
    await page.evaluate(() => new Promise((resolve) => window.client.end(false, {}, resolve)));
    await page.close();
    await tcp.disconnect();
    tcp = undefined;
  }

  it('MQTT.js in Chromium logs in over ws:// on mqtt.ws-port, receives from a TCP device and uploads $dp', async () => {
    await exchange(`ws://127.0.0.1:${wsPort}/mqtt`, 'ws-port');
  });

  it('MQTT.js in Chromium does the same at /mqtt on the HTTP port', async () => {
    await exchange(`${server.url.replace(/^http/, 'ws')}/mqtt`, 'http-port');
  });
});
