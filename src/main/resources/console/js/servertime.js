// API times are the server's wall clock ("yyyy-MM-dd HH:mm:ss[.SSS]" in api.timezone, GET /info's timezone) without an
// offset. These turn them into instants, so that the console can show them in the browser's zone; queries go out with
// an explicit offset (ISO with Z), which the server accepts.

import { fmtDateTime } from './i18n.js';

let zone = null;
let parts = null;
const offsets = new Map(); // hour -> the zone's offset in ms at that hour

/** The server's zone id (from GET /info); null means UTC. */
export function setServerZone(id) {
  if (id === zone) return;
  zone = id || null;
  offsets.clear();
  parts = null;
  if (zone) {
    try {
      parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric',
        day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      parts = null; // a zone id this browser does not know: UTC, as best we can
    }
  }
}

function offsetAt(ms) {
  if (!parts) return 0;
  const hour = Math.floor(ms / 3600000);
  let off = offsets.get(hour);
  if (off === undefined) {
    const p = {};
    for (const { type, value } of parts.formatToParts(new Date(hour * 3600000))) p[type] = +value;
    off = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - hour * 3600000;
    offsets.set(hour, off);
  }
  return off;
}

/** "2026-11-26 10:00:00.123" (server wall clock) -> epoch ms; NaN when it is not such a time. */
export function serverTimeToMs(at) {
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?/.exec(at || '');
  if (!m) return NaN;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], m[7] ? +m[7].padEnd(3, '0') : 0);
  const guess = wall - offsetAt(wall);
  return wall - offsetAt(guess); // a second pass for times near a change of offset
}

/** An API time shown in the browser's zone (with milliseconds when it has them); '' for none. */
export function showServerTime(at, { ms = false } = {}) {
  const t = serverTimeToMs(at);
  if (Number.isNaN(t)) return at || '';
  return fmtDateTime(t, ms ? { fractionalSecondDigits: 3 } : {});
}
