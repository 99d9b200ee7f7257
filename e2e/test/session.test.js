// Sessions, lists that keep their place, long titles and the Chinese console (issue 20), against the packaged jar in
// Debian's Chromium: a session kept in a new tab and across a server restart, the return to the page asked for after
// signing in, Back restoring a search, a reload keeping page and filter, a 128-character title without horizontal
// scroll, the Chinese UI with no English word of the common catalogue left, and the failed-login back-off (HTTP 429)
// told as such. Screenshots of the sign-in, products and product pages in both languages go to SCREENSHOT_DIR.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../lib/server.js';
import { englishLeft, englishWords } from '../lib/catalogue.js';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ADMIN_PASSWORD = 'e2e-admin-password';
const here = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = process.env.SCREENSHOT_DIR || path.resolve(here, '..', '..', 'target', 'screenshots');
const LONG_TITLE = `greenhouse-${'x'.repeat(117)}`; // 128 characters, no space to break at
// Settings as environment variables: REST statuses, so that the back-off is HTTP 429; a back-off that outlasts the run.
const ENV = { STRATUS_API_STATUS_CODES: 'rest', STRATUS_AUTH_BACKOFF_BASE_MILLIS: '600000' };

let server;
let browser;
let context;
let page;
const ids = {};

async function shot(p, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}

async function api(method, url, { token, body } = {}) {
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return res.json();
}

async function signIn(p) {
  await p.waitForSelector('[data-testid=login-form]');
  await p.fill('#password', ADMIN_PASSWORD);
  await p.click('[data-testid=login-form] button[type=submit]');
}

const hash = (p) => decodeURIComponent(new URL(p.url()).hash);

describe('Stratus console: sessions, lists in the URL, long titles, Chinese', { timeout: 150000 }, () => {
  before(async () => {
    server = await startServer({ adminPassword: ADMIN_PASSWORD, env: ENV });
    console.log(`server ready in ${server.startMillis} ms`);
    const { data: { token } } = await api('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    ids.long = (await api('POST', '/products', { token, body: { title: LONG_TITLE, protocol: 'MQTT' } })).data.product_id;
    ids.product = (await api('POST', '/products', { token, body: { title: 'greenhouse', protocol: 'MQTT' } })).data.product_id;
    for (let i = 1; i <= 25; i++) {
      const n = String(i).padStart(2, '0');
      await fetch(`${server.url}/devices?product_id=${ids.product}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ title: `sensor-${n}`, auth_info: `SN${n}` }),
      });
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US' });
    page = await context.newPage();
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
  });

  it('returns to the page asked for after signing in', async () => {
    await page.goto(`${server.url}/console/#/products/${ids.product}?q=sensor-1`);
    assert.match(hash(page), /^#\/login\?next=#\/products\/\d+\?q=sensor-1$/);
    await shot(page, 'login-en');
    await signIn(page);
    await page.waitForSelector('[data-testid=devices] table');
    assert.equal(hash(page), `#/products/${ids.product}?q=sensor-1`);
    assert.equal(await page.inputValue('[data-testid=device-search]'), 'sensor-1');
    assert.match(await page.textContent('[data-testid=range]'), /1–10 of 10/);
    assert.equal(await page.title(), 'Devices · greenhouse · Stratus');
  });

  it('writes the search into the URL, so that Back after opening a device restores it', async () => {
    await page.fill('[data-testid=device-search]', 'sensor-2');
    await page.waitForFunction(() => location.hash.includes('q=sensor-2'));
    await page.waitForFunction(() => document.querySelector('[data-testid=range]')?.textContent.includes('of 6'));
    await page.click('[data-testid=device-link]');
    await page.waitForFunction(() => location.hash.startsWith('#/devices/'));
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('[data-testid=range]')?.textContent.includes('of 6'));
    assert.equal(await page.inputValue('[data-testid=device-search]'), 'sensor-2');
  });

  it('keeps page, page size and the online filter over a reload', async () => {
    await page.fill('[data-testid=device-search]', '');
    await page.waitForFunction(() => document.querySelector('[data-testid=range]')?.textContent.includes('of 25'));
    await page.selectOption('[data-testid=online-filter]', 'false');
    await page.selectOption('[data-testid=page-size]', '10');
    await page.waitForFunction(() => document.querySelector('[data-testid=range]')?.textContent.includes('1–10 of 25'));
    await page.click('.pager button:has-text("Next")');
    await page.waitForFunction(() => document.querySelector('[data-testid=range]')?.textContent.includes('11–20 of 25'));
    await page.fill('[data-testid=page-jump]', '3');
    await page.press('[data-testid=page-jump]', 'Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid=range]')?.textContent.includes('21–25 of 25'));
    await page.reload();
    await page.waitForFunction(() => document.querySelector('[data-testid=range]')?.textContent.includes('21–25 of 25'));
    assert.equal(await page.inputValue('[data-testid=online-filter]'), 'false');
    assert.equal(await page.inputValue('[data-testid=page-size]'), '10');
    assert.equal(await page.inputValue('[data-testid=page-jump]'), '3');
    await page.selectOption('[data-testid=device-sort]', 'title');
    await page.waitForFunction(() => location.hash.includes('sort=title') && !/[?&]page=/.test(location.hash));
    assert.equal((await page.textContent('[data-testid=device-link]')).trim(), 'sensor-01');
    await shot(page, 'product-en');
  });

  it('is signed in in a new tab, and still after the server restarts', async () => {
    const tab = await context.newPage();
    await tab.goto(`${server.url}/console/#/products`);
    await tab.waitForSelector(`[data-product-id="${ids.product}"]`);
    await tab.close();
    const { dataDir, httpPort, mqttPort } = server;
    const t0 = Date.now();
    await server.stop({ keepData: true });
    const stopped = Date.now() - t0;
    server = await startServer({ adminPassword: ADMIN_PASSWORD, env: ENV, dataDir, httpPort, mqttPort });
    console.log(`restart: stopped in ${stopped} ms, ready in ${server.startMillis} ms`);
    await page.goto(`${server.url}/console/#/products?q=greenhouse`);
    await page.waitForSelector(`[data-product-id="${ids.product}"]`);
    assert.equal(await page.isVisible('[data-testid=login-form]'), false);
    assert.equal(await page.title(), 'Products · Stratus');
  });

  it('holds a 128-character title without horizontal scroll, cut short with the whole title on hover', async () => {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 860 });
      for (const where of ['#/products', `#/products/${ids.long}`]) {
        await page.goto(`${server.url}/console/${where}`);
        await page.waitForSelector(where === '#/products' ? `[data-product-id="${ids.long}"]` : '[data-testid=devices]');
        const { scroll, inner } = await page.evaluate(() => ({ scroll: document.scrollingElement.scrollWidth, inner: innerWidth }));
        assert.ok(scroll <= inner, `${where} at ${width} px: scrollWidth ${scroll} > ${inner}`);
      }
    }
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.goto(`${server.url}/console/#/products`);
    await page.waitForSelector(`[data-product-id="${ids.long}"]`);
    assert.equal(await page.getAttribute(`[data-product-id="${ids.long}"] a`, 'title'), LONG_TITLE);
    await shot(page, 'products-en');
  });

  it('switches to Chinese in the header and back', async () => {
    await page.click('#lang [data-lang=zh-CN]');
    await page.waitForFunction(() => document.querySelector('.panel-head h2')?.textContent === '产品');
    assert.equal(await page.textContent('#signout'), '退出登录');
    await page.click('#lang [data-lang=en]');
    await page.waitForFunction(() => document.querySelector('.panel-head h2')?.textContent === 'Products');
  });

  it('speaks Chinese to a zh-CN browser, with no English word of the catalogue on the main pages', async () => {
    const english = await englishWords('common');
    const zh = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
    try {
      const p = await zh.newPage();
      await p.goto(`${server.url}/console/#/products`);
      await p.waitForSelector('[data-testid=login-form]');
      assert.equal(await p.textContent('[data-testid=login-form] h1'), '登录 Stratus');
      assert.deepEqual(await englishLeft(p, english), []);
      await shot(p, 'login-zh');
      await signIn(p);
      await p.waitForSelector(`[data-product-id="${ids.product}"]`);
      assert.equal(await p.title(), '产品 · Stratus');
      assert.deepEqual(await englishLeft(p, english), [], 'products list');
      await shot(p, 'products-zh');
      await p.goto(`${server.url}/console/#/products/${ids.product}`);
      await p.waitForSelector('[data-testid=devices] table');
      await p.waitForFunction(() => document.getElementById('live').dataset.state === 'on');
      assert.deepEqual(await englishLeft(p, english), [], 'product page');
      assert.equal(await p.textContent('[data-testid=status]'), '离线');
      await shot(p, 'product-zh');
    } finally {
      await zh.close();
    }
  });

  // The last test: its address stays blocked afterwards.
  it('tells a failed-login back-off (HTTP 429) as such, not as a wrong password', async () => {
    await page.click('#signout');
    await page.waitForSelector('[data-testid=login-form]');
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${server.url}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'wrong' }) });
      if (res.status === 429) break;
    }
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('[data-testid=login-form] button[type=submit]');
    await page.waitForSelector('[data-testid=login-error]:not([hidden])');
    assert.match(await page.textContent('[data-testid=login-error]'), /^Too many attempts: wait \d+ s before trying again\.$/);
  });
});
