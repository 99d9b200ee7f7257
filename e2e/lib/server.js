// Starts the packaged Stratus jar on free ports with a temporary data directory, and stops it by its PID.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The jar: STRATUS_JAR (set by the Maven build), else ../target/stratus.jar. */
export function jarPath() {
  return process.env.STRATUS_JAR || path.resolve(here, '..', '..', 'target', 'stratus.jar');
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `env`: settings as STRATUS_* environment variables, over the inherited environment. `dataDir` and the ports, when
 * given, start it again where a server stopped with stop({ keepData: true }) ran (a restart: same data, same origin).
 */
export async function startServer({ adminPassword, env = {}, dataDir: reused, httpPort: http, mqttPort: mqtt }) {
  const jar = jarPath();
  if (!fs.existsSync(jar)) {
    throw new Error(`${jar} does not exist: build it first with mvn -B -DskipTests package (or run mvn -B verify).`);
  }
  const dataDir = reused || fs.mkdtempSync(path.join(os.tmpdir(), 'stratus-e2e-data-'));
  const mqttPort = mqtt || await freePort();
  const httpPort = http || await freePort();
  const args = ['-Xmx512m', '-jar', jar, '--bind', '127.0.0.1', '--mqtt-port', String(mqttPort), '--http-port', String(httpPort),
    '--data-dir', dataDir, '--admin-password', adminPassword];
  const child = spawn(process.env.JAVA || 'java', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let log = '';
  const started = Date.now();
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Stratus did not log "Stratus ready" within 60 s:\n${log}`)), 60000);
    const onData = (d) => {
      log += d.toString();
      if (log.includes('Stratus ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Stratus exited with ${code} before it was ready:\n${log}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    mqttPort,
    httpPort,
    dataDir,
    url: `http://127.0.0.1:${httpPort}`,
    startMillis: Date.now() - started,
    log: () => log,
    async stop({ keepData = false } = {}) {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
        await exited;
        clearTimeout(timer);
      }
      if (!keepData) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
