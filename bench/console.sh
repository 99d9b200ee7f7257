#!/usr/bin/env bash
# The console's device page: first load with 10,000 points in range (issue 20's target: under 1 s), and its weight.
# Starts the packaged jar (e2e/lib/server.js), uploads 10,000 points of one stream over the last 24 hours, signs in
# with Debian's Chromium (playwright-core from e2e/node_modules), then loads
# #/devices/{id}?streams=temp&range=24h&view=chart RUNS times from about:blank with the browser cache off, and times
# each from navigation start to the first frame with the chart drawn. Prints each run, the median, and the bytes and
# requests of one load.
# Environment: STRATUS_JAR (default target/stratus.jar), RUNS (default 7), POINTS (default 10000),
# CHROMIUM (default /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/../e2e"
[ -d node_modules/playwright-core ] || { echo "run npm ci in e2e/ first" >&2; exit 1; }
export STRATUS_JAR=${STRATUS_JAR:-$(cd .. && pwd)/target/stratus.jar}

node --input-type=module -e '
import { chromium } from "playwright-core";
import { startServer } from "./lib/server.js";

const RUNS = +(process.env.RUNS || 7);
const POINTS = +(process.env.POINTS || 10000);
const PASSWORD = "bench-admin-password";
const server = await startServer({ adminPassword: PASSWORD });
let browser;
try {
  const login = await (await fetch(`${server.url}/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "admin", password: PASSWORD }) })).json();
  const call = async (method, path, body) => (await fetch(server.url + path, { method,
    headers: { Authorization: `Bearer ${login.data.token}`, "Content-Type": "application/json" }, body: JSON.stringify(body) })).json();
  const product = (await call("POST", "/products", { title: "bench" })).data.product_id;
  const device = (await call("POST", `/devices?product_id=${product}`, { title: "bench-1", auth_info: "B0001" })).data.device_id;
  const now = Date.now();
  const step = Math.floor((86400000 - 60000) / POINTS);
  for (let i = 0; i < POINTS; i += 1000) {
    const datapoints = [];
    for (let j = i; j < Math.min(i + 1000, POINTS); j++) {
      datapoints.push({ at: new Date(now - 86400000 + 30000 + j * step).toISOString(), value: Math.round(500 + 100 * Math.sin(j / 300)) / 10 });
    }
    const r = await call("POST", `/devices/${device}/datapoints`, { datastreams: [{ id: "temp", datapoints }] });
    if (r.errno !== 0) throw new Error(JSON.stringify(r));
  }

  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/console/#/login`);
  await page.fill("#password", PASSWORD);
  await page.click("[data-testid=login-form] button[type=submit]");
  await page.waitForSelector("[data-testid=products]");
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  let bytes = 0;
  let requests = 0;
  cdp.on("Network.loadingFinished", (e) => { bytes += e.encodedDataLength; requests++; });

  const url = `${server.url}/console/#/devices/${device}?streams=temp&range=24h&view=chart`;
  const times = [];
  let shown = "";
  for (let run = 0; run < RUNS; run++) {
    await page.goto("about:blank");
    bytes = 0;
    requests = 0;
    await page.goto(url);
    const ms = await (await page.waitForFunction(() => {
      const box = document.querySelector("[data-testid=chart]");
      return box && box._uplot && box.querySelector("canvas") && +box.dataset.drawn > 0 && performance.now();
    }, null, { polling: "raf", timeout: 30000 })).jsonValue();
    shown = await page.textContent("[data-testid=chart-note]");
    times.push(ms);
    console.log(`run ${run + 1}: ${ms.toFixed(0)} ms, ${requests} requests, ${(bytes / 1024).toFixed(0)} KiB`);
  }
  times.sort((a, b) => a - b);
  console.log(`chart: ${shown}`);
  console.log(`median first load of the device page with ${POINTS} points in range: ${times[Math.floor(times.length / 2)].toFixed(0)} ms `
    + `(min ${times[0].toFixed(0)}, max ${times[times.length - 1].toFixed(0)}); one load: ${requests} requests, ${(bytes / 1024).toFixed(0)} KiB`);
} finally {
  if (browser) await browser.close();
  await server.stop();
}
'
