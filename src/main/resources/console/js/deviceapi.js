// The API calls of the device page beyond those in api.js: enable/disable, device-level keys, stream settings.

import { call } from './api.js';

const enc = encodeURIComponent;

export const deviceApi = {
  setDisabled: (id, disabled) => call('PUT', `/devices/${enc(id)}`, { body: { disabled } }),
  // The admin names the product of the keys with product_id.
  keys: (productId, deviceId) => call('GET', '/keys', { query: { product_id: productId, device_id: deviceId, per_page: 100 } }),
  createKey: (productId, deviceId, title) => call('POST', '/keys', {
    query: { product_id: productId },
    body: { title, permissions: [{ resources: [{ dev_id: String(deviceId) }] }] },
  }),
  deleteKey: (key) => call('DELETE', `/keys/${enc(key)}`),
  updateStream: (deviceId, stream, s) => call('PUT', `/devices/${enc(deviceId)}/datastreams/${enc(stream)}`, { body: s }),
  deleteStream: (deviceId, stream) => call('DELETE', `/devices/${enc(deviceId)}/datastreams/${enc(stream)}`),
};
