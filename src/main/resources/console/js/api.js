// The Stratus HTTP API as the console uses it: the admin token from localStorage (so that every tab of the console
// shares the session), the errno envelope turned into values or ApiError, and a message for each errno that a person
// can act on.

import { t } from './i18n.js';

export const TOKEN_KEY = 'stratus.token';
const EXPIRY_KEY = 'stratus.token.expires';

export class ApiError extends Error {
  /** retryAfter: the seconds of a failed-login back-off (HTTP 429, or errno 3 with Retry-After). */
  constructor(errno, error, status, unauthorized = false, retryAfter = 0) {
    const detail = error || t('api.requestFailed');
    const hint = retryAfter ? t('api.tooManyAttempts', { s: retryAfter }) : t(`errno.${errno}`);
    super(hint !== `errno.${errno}` ? `${hint} (${detail})` : t('api.errorN', { errno, detail }));
    this.errno = errno;
    this.detail = detail;
    this.status = status;
    this.retryAfter = retryAfter;
    /** The session is gone (errno 2 or 3 that is not a failed-login back-off): whenUnauthorized has been told. */
    this.unauthorized = unauthorized;
  }
}

export const token = {
  /** The session's token, or null when there is none or it has expired. */
  get() {
    const expires = Number(localStorage.getItem(EXPIRY_KEY)) || 0;
    if (expires && expires <= Date.now()) return null;
    return localStorage.getItem(TOKEN_KEY);
  },
  /** Milliseconds until the session expires (Infinity when the server did not say). */
  remaining() {
    const expires = Number(localStorage.getItem(EXPIRY_KEY)) || 0;
    return expires ? expires - Date.now() : Infinity;
  },
  set(value, expiresInSeconds) {
    localStorage.setItem(TOKEN_KEY, value);
    if (expiresInSeconds) localStorage.setItem(EXPIRY_KEY, String(Date.now() + expiresInSeconds * 1000));
    else localStorage.removeItem(EXPIRY_KEY);
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(EXPIRY_KEY);
  },
};

let onUnauthorized = () => {};
/** Called when a request is refused for the credential (an expired or revoked session). */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * One API call. Resolves to the envelope's data; rejects with ApiError (errno != 0) or a network Error.
 * Options: query (object), body (object -> JSON, or a string sent as it is), raw (resolve to the Response).
 */
export async function call(method, path, { query: params, body, raw = false, auth = true } = {}) {
  const headers = {};
  const t = token.get();
  if (auth && t) headers.Authorization = `Bearer ${t}`;
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string') {
      payload = body;
      headers['Content-Type'] = 'application/octet-stream';
    } else {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
  }
  let res;
  try {
    res = await fetch(path + query(params), { method, headers, body: payload });
  } catch (e) {
    throw new Error(t('api.unreachable', { detail: e.message }));
  }
  if (raw && res.ok) return res;
  let env = null;
  try {
    env = await res.json();
  } catch {
    // not JSON: handled below
  }
  if (!env || typeof env.errno !== 'number') {
    throw new ApiError(1, t('api.notJson', { status: res.status }), res.status);
  }
  if (env.errno !== 0) {
    // Read errno, not the status: OneNET's routes answer HTTP 200 unless the server runs with
    // api.status-codes=rest. A back-off is errno 3 too, but comes with Retry-After and ends by itself.
    const backOff = env.errno === 3 && (res.headers.has('Retry-After') || res.status === 429);
    const retryAfter = backOff ? Math.max(1, Number(res.headers.get('Retry-After')) || 1) : 0;
    const unauthorized = auth && (env.errno === 2 || env.errno === 3) && !retryAfter;
    const err = new ApiError(env.errno, env.error, res.status, unauthorized, retryAfter);
    if (unauthorized) onUnauthorized(err);
    throw err;
  }
  return env.data === undefined ? null : env.data;
}

/** Whether a route exists at all: an unknown route is HTTP 404 (errno 8 for a missing resource is HTTP 200). */
export async function routeExists(method, path, params) {
  try {
    const res = await fetch(path + query(params), {
      method,
      headers: { Authorization: `Bearer ${token.get()}` },
    });
    return res.status !== 404;
  } catch {
    return false;
  }
}

let infoPromise = null;

/** GET /info, once per page load (the MQTT ports, the zone of the API's times); {} when it fails. */
export function serverInfo() {
  if (!infoPromise) infoPromise = api.info().catch(() => { infoPromise = null; return {}; });
  return infoPromise;
}

export const api = {
  login: (username, password) => call('POST', '/auth/login', { body: { username, password }, auth: false }),
  logout: () => call('POST', '/auth/logout'),
  info: () => call('GET', '/info'),

  products: () => call('GET', '/products'),
  product: (id) => call('GET', `/products/${encodeURIComponent(id)}`),
  createProduct: (p) => call('POST', '/products', { body: p }),
  updateProduct: (id, p) => call('PUT', `/products/${encodeURIComponent(id)}`, { body: p }),
  deleteProduct: (id) => call('DELETE', `/products/${encodeURIComponent(id)}`),
  rotateKey: (id) => call('POST', `/products/${encodeURIComponent(id)}/master_key`),

  devices: (productId, params) => call('GET', '/devices', { query: { product_id: productId, ...params } }),
  device: (id) => call('GET', `/devices/${encodeURIComponent(id)}`),
  createDevice: (productId, d) => call('POST', '/devices', { query: { product_id: productId }, body: d }),
  updateDevice: (id, d) => call('PUT', `/devices/${encodeURIComponent(id)}`, { body: d }),
  deleteDevice: (id) => call('DELETE', `/devices/${encodeURIComponent(id)}`),

  streams: (deviceId) => call('GET', `/devices/${encodeURIComponent(deviceId)}/datastreams`),
  datapoints: (deviceId, params) => call('GET', `/devices/${encodeURIComponent(deviceId)}/datapoints`, { query: params }),

  sendCommand: (deviceId, body, params) => call('POST', '/cmds', { query: { device_id: deviceId, ...params }, body }),
  commandStatus: (uuid) => call('GET', `/cmds/${encodeURIComponent(uuid)}`),
  commandResponse: (uuid) => call('GET', `/cmds/${encodeURIComponent(uuid)}/resp`, { raw: true }),
  commandHistory: (deviceId, params) => call('GET', `/cmds/history/${encodeURIComponent(deviceId)}`, { query: params }),
};
