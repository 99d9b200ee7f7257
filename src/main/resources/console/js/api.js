// The Stratus HTTP API as the console uses it: the admin token from sessionStorage, the errno envelope
// turned into values or ApiError, and a message for each errno that a person can act on.

const TOKEN_KEY = 'stratus.token';

/** What each OneNET errno means for someone using the console. */
const HINTS = {
  1: 'The server hit an internal error; its log has the details.',
  2: 'Sign in first.',
  3: 'Not allowed: the credential is wrong or has expired.',
  4: 'The request was not valid JSON.',
  5: 'The request is too large.',
  6: 'A value is not valid.',
  7: 'A required field is missing.',
  8: 'Not found; it may have been deleted.',
  9: 'Nothing was sent.',
  10: 'The device is not online.',
  11: 'That data stream already exists.',
  12: 'That already exists.',
  13: 'The server is busy; try again shortly.',
};

export class ApiError extends Error {
  constructor(errno, error, status, unauthorized = false) {
    const detail = error || 'request failed';
    const hint = HINTS[errno];
    super(hint ? `${hint} (${detail})` : `Error ${errno}: ${detail}`);
    this.errno = errno;
    this.detail = detail;
    this.status = status;
    /** The session is gone (errno 2 or 3 that is not a failed-login back-off): whenUnauthorized has been told. */
    this.unauthorized = unauthorized;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
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
    throw new Error(`The server cannot be reached (${e.message}).`);
  }
  if (raw && res.ok) return res;
  let env = null;
  try {
    env = await res.json();
  } catch {
    // not JSON: handled below
  }
  if (!env || typeof env.errno !== 'number') {
    throw new ApiError(1, `HTTP ${res.status} without a JSON reply`, res.status);
  }
  if (env.errno !== 0) {
    // Read errno, not the status: OneNET's routes answer HTTP 200 unless the server runs with
    // api.status-codes=rest. A back-off is errno 3 too, but comes with Retry-After and ends by itself.
    const unauthorized = auth && (env.errno === 2 || env.errno === 3) && !res.headers.has('Retry-After');
    const err = new ApiError(env.errno, env.error, res.status, unauthorized);
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
