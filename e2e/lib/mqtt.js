// A tiny MQTT 3.1.1 client over a raw socket, enough for a device in the console tests: CONNECT with the
// OneNET login, PUBLISH at QoS 0 or 1 (waiting for the PUBACK), DISCONNECT. No dependency to install.

import net from 'node:net';

function remainingLength(n) {
  const out = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

function str(s) {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function packet(type, flags, body) {
  return Buffer.concat([Buffer.from([(type << 4) | flags]), remainingLength(body.length), body]);
}

export class MqttDevice {
  constructor({ host = '127.0.0.1', port, clientId, username, password, keepAlive = 60 }) {
    Object.assign(this, { host, port, clientId, username, password, keepAlive });
    this.nextId = 1;
    this.waiting = new Map();
    this.buffer = Buffer.alloc(0);
  }

  /** Connects; resolves once CONNACK 0 arrives, rejects with its code otherwise. */
  connect() {
    return new Promise((resolve, reject) => {
      this.socket = net.createConnection({ host: this.host, port: this.port });
      this.socket.setNoDelay(true);
      this.connack = { resolve, reject };
      this.socket.on('data', (d) => this.onData(d));
      this.socket.on('error', (e) => reject(e));
      this.socket.on('close', () => {
        for (const w of this.waiting.values()) w.reject(new Error('connection closed'));
        this.waiting.clear();
        if (this.connack) this.connack.reject(new Error('closed before CONNACK'));
      });
      this.socket.on('connect', () => {
        const flags = 0x02 | 0x80 | 0x40; // clean session, user name, password
        const keep = Buffer.alloc(2);
        keep.writeUInt16BE(this.keepAlive);
        const body = Buffer.concat([str('MQTT'), Buffer.from([4, flags]), keep, str(this.clientId), str(this.username),
          str(this.password)]);
        this.socket.write(packet(1, 0, body));
      });
    });
  }

  onData(d) {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      if (this.buffer.length < 2) return;
      let len = 0;
      let mult = 1;
      let i = 1;
      let byte;
      do {
        if (i >= this.buffer.length) return;
        byte = this.buffer[i++];
        len += (byte & 0x7f) * mult;
        mult *= 128;
      } while (byte & 0x80);
      if (this.buffer.length < i + len) return;
      const header = this.buffer[0];
      const type = header >> 4;
      const body = this.buffer.subarray(i, i + len);
      this.buffer = this.buffer.subarray(i + len);
      if (type === 2 && this.connack) {
        const { resolve, reject } = this.connack;
        this.connack = null;
        if (body[1] === 0) resolve();
        else reject(new Error(`CONNACK return code ${body[1]}`));
      } else if (type === 3) {
        const topicLength = body.readUInt16BE(0);
        const topic = body.subarray(2, 2 + topicLength).toString('utf8');
        const qos = (header >> 1) & 3;
        if (qos === 1) this.socket.write(packet(4, 0, body.subarray(2 + topicLength, 4 + topicLength)));
        if (this.onPublish) this.onPublish(topic, body.subarray(2 + topicLength + (qos > 0 ? 2 : 0)));
      } else if (type === 4) {
        const id = body.readUInt16BE(0);
        const w = this.waiting.get(id);
        this.waiting.delete(id);
        if (w) w.resolve();
      }
    }
  }

  /** Publishes; at QoS 1 resolves when the server has acknowledged (for $dp: stored). */
  publish(topic, payload, qos = 1) {
    const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
    if (qos === 0) {
      this.socket.write(packet(3, 0, Buffer.concat([str(topic), data])));
      return Promise.resolve();
    }
    const id = this.nextId++;
    if (this.nextId > 0xffff) this.nextId = 1;
    const idBytes = Buffer.alloc(2);
    idBytes.writeUInt16BE(id);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no PUBACK for packet ${id} within 10 s`));
      }, 10000);
      this.waiting.set(id, {
        resolve: () => { clearTimeout(timer); resolve(); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.socket.write(packet(3, 0x02, Buffer.concat([str(topic), idBytes, data])));
    });
  }

  /** A clean DISCONNECT; resolves when the socket has closed. */
  disconnect() {
    return new Promise((resolve) => {
      if (!this.socket || this.socket.destroyed) return resolve();
      this.socket.once('close', resolve);
      this.socket.end(packet(14, 0, Buffer.alloc(0)));
    });
  }
}

/** A `$dp` payload: the type byte, a u16 big-endian length, then the JSON (types 1, 3, 4 and 5). */
export function dp(type, json) {
  const body = Buffer.from(typeof json === 'string' ? json : JSON.stringify(json), 'utf8');
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(body.length, 1);
  return Buffer.concat([head, body]);
}
