// The console's product feature pages end to end (issue 20): a trigger created and test-fired from the console reaching
// a local HTTP receiver, data push verified and saved, 1,000 devices imported from CSV with a result per row, the broker
// overview's live connection count, and screenshots of each page in English and Chinese (SCREENSHOT_DIR).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../lib/server.js';
import { MqttDevice } from '../lib/mqtt.js';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ADMIN_PASSWORD = 'e2e-admin-password';
const here = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = process.env.SCREENSHOT_DIR || path.resolve(here, '..', '..', 'target', 'screenshots');

let server;
let browser;
let receiver;
let device;
const pages = {};
const posts = [];
const state = {};

/** A receiver of trigger and push posts: answers push verification GETs with their msg, records POST bodies. */
function startReceiver() {
  return new Promise((resolve) => {
    const srv = http.createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      if (req.method === 'GET') {
        res.end(url.searchParams.get('msg') || '');
        return;
      }
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        posts.push({ path: url.pathname, body: JSON.parse(body) });
        res.end('ok');
      });
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

async function newPage(locale) {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => { state.pageErrors = (state.pageErrors || []).concat(String(e)); });
  await page.goto(`${server.url}/console/#/login`);
  await page.fill('#password', ADMIN_PASSWORD);
  await page.click('[data-testid=login-form] button[type=submit]');
  await page.waitForSelector('[data-testid=products]');
  return page;
}

async function shot(name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const [suffix, page] of [['en', pages.en], ['zh', pages.zh]]) {
    await page.goto(`${server.url}/console/#${state.shotHash[name]}`);
    await page.waitForSelector(state.shotReady[name]);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${suffix}.png`), fullPage: true, animations: 'disabled' });
  }
}

async function api(method, p, body) {
  const res = await fetch(server.url + p, {
    method,
    headers: { Authorization: `Bearer ${state.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const env = await res.json();
  assert.equal(env.errno, 0, `${method} ${p}: ${JSON.stringify(env)}`);
  return env.data;
}

async function until(fn, timeout = 15000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeout) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Console feature pages', { timeout: 150000 }, () => {
  before(async () => {
    receiver = await startReceiver();
    server = await startServer({ adminPassword: ADMIN_PASSWORD, env: { STRATUS_HOOK_DENY_NETWORKS: '169.254.0.0/16' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
    pages.en = await newPage('en-US');
    pages.zh = await newPage('zh-CN');
    state.token = await pages.en.evaluate(() => localStorage.getItem('stratus.token'));
    const made = await api('POST', '/products', { title: 'Features e2e', desc: 'triggers, push, import' });
    state.productId = made.product_id;
    const dev = await api('POST', `/devices?product_id=${made.product_id}`, { title: 'probe', auth_info: 'PROBE-1' });
    state.deviceId = dev.device_id;
    const p = `/products/${state.productId}`;
    state.shotHash = { triggers: `${p}/triggers`, push: `${p}/push`, import: `${p}/import`, overview: `/overview?product=${state.productId}` };
    state.shotReady = { triggers: '[data-testid=trigger-form]', push: '[data-testid=push-state] .tag',
      import: '[data-testid=import-start]', overview: '[data-testid=ov-connections]' };
  });

  after(async () => {
    if (device) await device.disconnect().catch(() => {});
    if (browser) await browser.close().catch(() => {});
    if (receiver) receiver.close();
    if (server) await server.stop();
  });

  it('creates a trigger and fires a test post that the receiver gets, with the outcome listed', async () => {
    const page = pages.en;
    await page.goto(`${server.url}/console/#/products/${state.productId}`);
    await page.click('[data-testid=tab-triggers]');
    await page.waitForSelector('[data-testid=trigger-form]');
    await page.fill('#trg-title', 'hot');
    await page.fill('#trg-ds_id', 'temperature');
    await page.selectOption('#trg-type', '>');
    await page.fill('#trg-threshold', '30');
    await page.fill('#trg-url', `http://127.0.0.1:${receiver.address().port}/trigger`);
    await page.click('[data-testid=trigger-create]');
    await page.waitForSelector('tr[data-trigger-id]');
    const id = await page.getAttribute('tr[data-trigger-id]', 'data-trigger-id');
    await page.click('[data-testid=trigger-test]');
    const post = await until(() => posts.find((x) => x.path === '/trigger'));
    assert.equal(String(post.body.trigger.id), id);
    assert.equal(post.body.trigger.type, '>');
    assert.equal(post.body.test, true);
    assert.equal(post.body.current_data[0].ds_id, 'temperature');
    await page.waitForSelector(`[data-testid=deliveries-${id}] [data-testid=trigger-outcomes] .fok`);
    // A real point over the threshold fires it too.
    await api('POST', `/devices/${state.deviceId}/datapoints`, { datastreams: [{ id: 'temperature', datapoints: [{ value: 42 }] }] });
    const real = await until(() => posts.find((x) => x.path === '/trigger' && !x.body.test));
    assert.equal(real.body.current_data[0].value, 42);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=trigger-outcomes] tbody tr').length >= 2);
    await shot('triggers');
  });

  it('saves a verified data push and shows it', async () => {
    const page = pages.en;
    await page.goto(`${server.url}/console/#/products/${state.productId}/push`);
    await page.waitForSelector('[data-testid=push-state] .tag');
    await page.fill('#push-url', `http://127.0.0.1:${receiver.address().port}/push`);
    await page.fill('#push-token', 'tok-e2e');
    await page.click('[data-testid=push-save]');
    await page.waitForSelector('[data-testid=push-verified]');
    const shown = await api('GET', `/products/${state.productId}/push`);
    assert.equal(shown.url, `http://127.0.0.1:${receiver.address().port}/push`);
    assert.equal(shown.token, 'tok-e2e');
    await page.reload();
    await page.waitForSelector('[data-testid=push-verified]');
    assert.equal(await page.inputValue('#push-url'), shown.url);
    await api('POST', `/devices/${state.deviceId}/datapoints`, { datastreams: [{ id: 'humidity', datapoints: [{ value: 55 }] }] });
    await until(() => posts.find((x) => x.path === '/push'));
    await page.waitForSelector('[data-testid=push-outcomes] .fok', { timeout: 10000 });
    assert.ok((await page.textContent('[data-testid=register-code]')).length > 3);
    await shot('push');
  });

  it('imports 1,000 devices from CSV with a result per row; a bad row shows its error', async () => {
    const page = pages.en;
    await page.goto(`${server.url}/console/#/products/${state.productId}/import`);
    await page.waitForSelector('[data-testid=import-start]');
    const lines = ['title,auth_info,desc'];
    for (let i = 1; i <= 1000; i++) lines.push(`bulk-${i},BULK-${String(i).padStart(4, '0')},"row ${i}, imported"`);
    lines.push('duplicate,BULK-0001,same auth_info');
    await page.fill('#import-text', lines.join('\n'));
    const t0 = Date.now();
    await page.click('[data-testid=import-start]');
    await page.waitForFunction(() => !document.querySelector('[data-testid=import-start]').disabled
      && document.querySelectorAll('[data-testid=import-result][data-ok]').length === 1001, null, { timeout: 60000 });
    state.importMs = Date.now() - t0;
    const ok = await page.$$eval('[data-testid=import-result][data-ok="1"]', (els) => els.length);
    const bad = await page.$$eval('[data-testid=import-result][data-ok="0"]', (els) => els.map((e) => e.textContent));
    assert.equal(ok, 1000);
    assert.equal(bad.length, 1);
    assert.match(bad[0], /exist/i);
    const listed = await api('GET', `/devices?product_id=${state.productId}&per_page=1`);
    assert.equal(listed.total_count, 1001);
    console.log(`1,000 devices imported in ${state.importMs} ms`);
    await page.fill('#import-text', 'title,auth_info\nshot-1,SHOT-1\nshot-2,BULK-0002');
    await page.click('[data-testid=import-start]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=import-result][data-ok]').length === 2);
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'import-en.png'), fullPage: true, animations: 'disabled' });
    const zh = pages.zh;
    await zh.goto(`${server.url}/console/#/products/${state.productId}/import`);
    await zh.waitForSelector('[data-testid=import-start]');
    await zh.fill('#import-text', 'title,auth_info\nshot-3,SHOT-3\nshot-4,BULK-0002');
    await zh.click('[data-testid=import-start]');
    await zh.waitForFunction(() => document.querySelectorAll('[data-testid=import-result][data-ok]').length === 2);
    await zh.screenshot({ path: path.join(SHOTS, 'import-zh.png'), fullPage: true, animations: 'disabled' });
  });

  it('shows a live connection count that changes when a device connects, and the topics with subscribers', async () => {
    await api('POST', `/mqtt/topic?product_id=${state.productId}`, { name: 'alerts/all' });
    const page = pages.en;
    await page.goto(`${server.url}/console/#/overview?product=${state.productId}`);
    await page.waitForSelector('[data-testid=ov-connections] .v');
    const count = async () => Number((await page.textContent('[data-testid=ov-connections] .v')).replace(/\D/g, ''));
    const before = await count();
    device = new MqttDevice({ port: server.mqttPort, clientId: state.deviceId, username: state.productId, password: 'PROBE-1' });
    await device.connect();
    const t0 = Date.now();
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=ov-connections] .v').textContent
      .replace(/\D/g, '')) === n + 1, before, { timeout: 6000 });
    console.log(`overview showed the new connection after ${Date.now() - t0} ms`);
    await page.waitForSelector('[data-testid=overview-topics] code');
    assert.match(await page.textContent('[data-testid=overview-topics]'), /alerts\/all/);
    await shot('overview');
    await device.disconnect();
    device = null;
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=ov-connections] .v').textContent
      .replace(/\D/g, '')) === n, before, { timeout: 6000 });
  });

  it('leaves no English word of the feature catalogue on the Chinese pages, and no page error', async () => {
    const zh = pages.zh;
    const en = await zh.evaluate(async () => (await import('/console/js/i18n/features.js')).default.en);
    const words = Object.values(en).filter((w) => /[a-z]{4,}/.test(w) && !/^(URL|Token)$/.test(w));
    for (const hash of Object.values(state.shotHash)) {
      await zh.goto(`${server.url}/console/#${hash}`);
      await zh.waitForTimeout(600);
      const text = await zh.evaluate(() => document.getElementById('app').innerText);
      const left = words.filter((w) => text.includes(w));
      assert.deepEqual(left, [], `${hash} shows English: ${left.join(' | ')}`);
    }
    assert.deepEqual(state.pageErrors || [], []);
  });
});
