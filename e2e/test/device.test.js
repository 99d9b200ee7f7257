// The device page end to end (issue 20): a 7-day chart window over 1 hour of data, two streams on one chart, reset
// zoom, 24-hour times in the browser's zone with the zone shown, the table paging through raw rows, the page's state
// in the URL across a reload, disable/enable (a disabled device's CONNECT refused), a device-level key, and
// screenshots in English and Chinese. The browser runs in Europe/Berlin, the server's API times are +08:00.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../lib/server.js';
import { englishLeft, englishWords } from '../lib/catalogue.js';
import { MqttDevice } from '../lib/mqtt.js';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ADMIN_PASSWORD = 'e2e-admin-password';
const here = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = process.env.SCREENSHOT_DIR || path.resolve(here, '..', '..', 'target', 'screenshots');
const ZONE = 'Europe/Berlin';
const WEEK = 7 * 86400;

let server;
let browser;
let page;
const s = {};
const pageErrors = [];

/** An API call as the admin, or with an API key (OneNET's api-key header). */
async function api(method, p, body, key) {
  const headers = key ? { 'api-key': key } : { Authorization: `Bearer ${s.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${server.url}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return res.json();
}

async function newPage(locale, timezoneId) {
  const context = await browser.newContext({ locale, timezoneId, viewport: { width: 1280, height: 860 } });
  const p = await context.newPage();
  p.on('pageerror', (e) => pageErrors.push(String(e)));
  await p.goto(`${server.url}/console/#/login`);
  await p.fill('#password', ADMIN_PASSWORD);
  await p.click('[data-testid=login-form] button[type=submit]');
  await p.waitForSelector('[data-testid=products]');
  return p;
}

async function shot(p, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/** The chart's x scale and series labels once it has drawn n series. */
async function chartState(p, series) {
  await p.waitForFunction((n) => {
    const box = document.querySelector('[data-testid=chart]');
    const u = box && box._uplot;
    return u && u.series.length === n + 1 && document.querySelector('[data-testid=chart] canvas');
  }, series);
  return p.evaluate(() => {
    const u = document.querySelector('[data-testid=chart]')._uplot;
    return { min: u.scales.x.min, max: u.scales.x.max, labels: u.series.slice(1).map((x) => x.label), axisLabel: u.axes[0].label };
  });
}

describe('Stratus console: the device page', { timeout: 120000 }, () => {
  before(async () => {
    server = await startServer({ adminPassword: ADMIN_PASSWORD });
    s.token = (await (await fetch(`${server.url}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) })).json()).data.token;
    s.productId = (await api('POST', '/products', { title: 'orchard' })).data.product_id;
    s.deviceId = (await api('POST', `/devices?product_id=${s.productId}`, { title: 'weather-1', auth_info: 'WX0001' })).data.device_id;
    // The last hour only: 250 temperature points and 60 humidity points.
    const now = Date.now();
    const temp = Array.from({ length: 250 }, (_, i) => ({ at: new Date(now - 3500000 + i * 14000).toISOString(), value: 20 + (i % 10) / 2 }));
    const hum = Array.from({ length: 60 }, (_, i) => ({ at: new Date(now - 3540000 + i * 59000).toISOString(), value: 40 + (i % 7) }));
    const up = await api('POST', `/devices/${s.deviceId}/datapoints`, { datastreams: [{ id: 'temp', datapoints: temp }, { id: 'hum', datapoints: hum }] });
    assert.equal(up.errno, 0, JSON.stringify(up));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
    page = await newPage('en-US', ZONE);
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
  });

  it('draws the whole 7-day window over 1 hour of data, in the browser\'s zone with 24-hour times', async () => {
    await page.goto(`${server.url}/console/#/devices/${s.deviceId}?streams=temp`);
    await chartState(page, 1);
    await page.click('[data-range="7d"]');
    await page.waitForFunction(() => {
      const box = document.querySelector('[data-testid=chart]');
      const u = box && box._uplot;
      return u && u.scales.x.max - u.scales.x.min > 6 * 86400;
    });
    const c = await chartState(page, 1);
    const now = Date.now() / 1000;
    assert.ok(Math.abs(c.max - now) < 120, `the window ends now, not at the data: ${c.max} vs ${now}`);
    assert.ok(Math.abs(c.max - c.min - WEEK) < 1, `the x axis spans 7 days: ${c.max - c.min} s`);
    assert.match(c.axisLabel, /^Europe\/Berlin, UTC\+0[12]:00$/);
    assert.match(await page.textContent('[data-testid=zone-hint]'), /Europe\/Berlin.*24-hour/);
    // The tick labels of an hour-spaced axis at 15:00 Berlin time, and the card's time: 24-hour, no AM/PM.
    const ticks = await page.evaluate(() => {
      const u = document.querySelector('[data-testid=chart]')._uplot;
      const at15 = Date.UTC(2026, 0, 15, 14, 0, 0) / 1000; // 15:00 in Berlin (UTC+1 in January)
      return u.axes[0].values(u, [at15, at15 + 3600], 0, 50, 3600);
    });
    assert.deepEqual(ticks, ['01/15\n15:00', '16:00']);
    const at = await page.textContent('[data-stream=temp] [data-testid=stream-at]');
    assert.doesNotMatch(at, /AM|PM/);
    assert.match(at, /\d\d:\d\d:\d\d\.\d{3}$/);
  });

  it('puts two streams on one chart and resets a zoom', async () => {
    await page.selectOption('[data-testid=stream-add]', 'hum');
    const c = await chartState(page, 2);
    assert.deepEqual(c.labels, ['temp', 'hum']);
    const box = await page.locator('[data-testid=chart] .u-over').boundingBox();
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.99, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector('[data-testid=reset-zoom]:not([disabled])');
    const zoomed = await chartState(page, 2);
    assert.ok(zoomed.max - zoomed.min < WEEK / 5, `zoomed to ${zoomed.max - zoomed.min} s`);
    await page.click('[data-testid=reset-zoom]');
    await page.waitForSelector('[data-testid=reset-zoom][disabled]');
    const reset = await chartState(page, 2);
    assert.ok(Math.abs(reset.max - reset.min - WEEK) < 1);
    await shot(page, 'device-chart-en');
  });

  it('pages the table through the raw rows, not the down-sampled points', async () => {
    await page.click('[data-view=table]');
    await page.waitForFunction(() => (document.querySelector('[data-testid=table-range]') || {}).textContent === '1–100 of 310 rows');
    assert.equal(await page.locator('[data-testid=data-table] tbody tr').count(), 100);
    const first = await page.textContent('[data-testid=data-table] tbody tr td');
    assert.match(first, /^\d\d\/\d\d\/\d{4}, \d\d:\d\d:\d\d\.\d{3}$/);
    for (const range of ['101–200', '201–300', '301–310']) {
      await page.click('[data-testid=table-older]');
      await page.waitForFunction((r) => document.querySelector('[data-testid=table-range]').textContent.startsWith(r), range);
    }
    assert.equal(await page.locator('[data-testid=data-table] tbody tr').count(), 10);
    assert.ok(await page.locator('[data-testid=table-older]').isDisabled());
    await page.click('[data-testid=table-newer]');
    await page.waitForFunction(() => document.querySelector('[data-testid=table-range]').textContent.startsWith('201–300'));
  });

  it('keeps streams, range and view in the URL across a reload, and titles the tab', async () => {
    const url = new URL(page.url());
    const q = new URLSearchParams(url.hash.split('?')[1]);
    assert.deepEqual([q.get('streams'), q.get('range'), q.get('view')], ['temp,hum', '7d', 'table']);
    await page.reload();
    await page.waitForFunction(() => (document.querySelector('[data-testid=table-range]') || {}).textContent === '1–100 of 310 rows');
    assert.equal(await page.getAttribute('[data-range="7d"]', 'class'), 'btn secondary small active');
    assert.equal(await page.getAttribute('[data-view=table]', 'class'), 'btn secondary small active');
    assert.equal(await page.locator('[data-stream-chip=hum]').count(), 1);
    assert.equal(await page.title(), 'weather-1 · Stratus');
    await shot(page, 'device-table-en');
  });

  it('disables the device (its CONNECT is refused) and enables it again', async () => {
    const connect = () => new MqttDevice({ port: server.mqttPort, clientId: String(s.deviceId), username: String(s.productId),
      password: 'WX0001' });
    await page.click('[data-testid=toggle-disabled]');
    await page.click('[data-testid=confirm]');
    await page.waitForFunction(() => document.querySelector('.page-head [data-testid=status]').classList.contains('disabled'));
    await assert.rejects(connect().connect(), /CONNACK return code [1-5]|closed/);
    await page.click('[data-testid=toggle-disabled]');
    await page.waitForFunction(() => !document.querySelector('.page-head [data-testid=status]').classList.contains('disabled'));
    const d = connect();
    await d.connect();
    await d.disconnect();
  });

  it('creates a device-level key that reaches this device', async () => {
    await page.click('[data-testid=new-key]');
    await page.fill('#f-title', 'dashboard');
    await page.click('[data-testid=dialog-submit]');
    await page.waitForSelector('[data-key-title=dashboard] [data-testid=key-value]');
    const key = (await page.textContent('[data-key-title=dashboard] [data-testid=key-value]')).trim();
    const reply = await api('GET', `/devices/${s.deviceId}/datastreams`, undefined, key);
    assert.equal(reply.errno, 0, JSON.stringify(reply));
    assert.deepEqual(reply.data.map((x) => x.id).sort(), ['hum', 'temp']);
  });

  it('sets a stream\'s unit from the stream settings', async () => {
    await page.click('.stream-settings summary');
    await page.click('[data-settings-stream=temp] [data-testid=stream-edit]');
    await page.fill('#f-unit_symbol', '°C');
    await page.click('[data-testid=dialog-submit]');
    await page.waitForFunction(() => (document.querySelector('[data-stream=temp] .unit') || {}).textContent === '°C');
  });

  it('shows the page in Chinese (zh-CN), chart and table', async () => {
    const zh = await newPage('zh-CN', 'Asia/Shanghai');
    await zh.goto(`${server.url}/console/#/devices/${s.deviceId}?streams=temp%2Chum&range=24h&view=chart`);
    await chartState(zh, 2);
    assert.equal(await zh.textContent('[data-testid=history] h2'), '历史数据');
    assert.match(await zh.textContent('[data-testid=zone-hint]'), /Asia\/Shanghai, UTC\+08:00.*24 小时制/);
    const english = await englishWords('common', 'device');
    assert.deepEqual(await englishLeft(zh, english), [], 'device page, chart');
    await shot(zh, 'device-chart-zh');
    await zh.click('[data-view=table]');
    await zh.waitForFunction(() => /共 310 行/.test((document.querySelector('[data-testid=table-range]') || {}).textContent));
    assert.deepEqual(await englishLeft(zh, english), [], 'device page, table');
    await shot(zh, 'device-table-zh');
    await zh.context().close();
    assert.deepEqual(pageErrors, [], 'no script errors');
  });
});
