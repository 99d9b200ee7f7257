// The live event stream (GET /events, Server-Sent Events): one EventSource for the product on screen.
// EventSource cannot send headers, so the session token goes in the query string (the server allows that
// for /events only). The browser reconnects by itself; after a reconnect, or when the server says it
// dropped events for us (a slow tab), pages re-read what they show. When the server ends the stream with
// `revoked` (the session was signed out, the product deleted), the page is no longer live: the indicator
// says so and nothing reconnects.

import { api, token } from './api.js';
import { t } from './i18n.js';

const EVENTS = ['device.online', 'device.offline', 'datapoint', 'dropped'];

let source = null;
let scope = null;
let handlers = new Set();
let resyncHandlers = new Set();
let everOpen = false;
/** Bumped whenever a page opens or stops the stream, so that a pending retry knows it is stale. */
let generation = 0;

const LABELS = { on: 'events.live', off: 'events.reconnecting', revoked: 'events.notLive' };
let endedReason = null;

function indicator(state) {
  const el = document.getElementById('live');
  el.hidden = state === 'hidden';
  el.classList.toggle('on', state === 'on');
  el.classList.toggle('off', state === 'off');
  el.classList.toggle('revoked', state === 'revoked');
  el.innerHTML = '';
  const label = document.createElement('span');
  label.className = 'label';
  label.textContent = LABELS[state] ? t(LABELS[state]) : '';
  el.append(label);
  el.dataset.state = state;
  el.title = state !== 'revoked' ? t('events.title')
    : endedReason ? t('events.endedBecause', { reason: endedReason }) : t('events.ended');
}

/** Draws the indicator again in the language just chosen. */
export function relabel() {
  const el = document.getElementById('live');
  if (el.dataset.state) indicator(el.dataset.state);
}

function dispatch(name, data) {
  for (const fn of handlers) {
    try {
      fn(name, data);
    } catch (e) {
      console.error('event handler failed', e);
    }
  }
}

function resync() {
  for (const fn of resyncHandlers) {
    try {
      fn();
    } catch (e) {
      console.error('resync failed', e);
    }
  }
}

/** Opens (or keeps) the stream for one product; null closes it. */
export function watch(productId) {
  if (productId === scope && source) return;
  stop();
  const gen = generation;
  scope = productId;
  if (!productId || !token.get()) return;
  const url = `/events?product_id=${encodeURIComponent(productId)}&token=${encodeURIComponent(token.get())}`;
  const es = new EventSource(url);
  source = es;
  everOpen = false;
  indicator('off');
  es.onopen = () => {
    indicator('on');
    if (everOpen) resync(); // events may have been missed while reconnecting
    everOpen = true;
  };
  es.onerror = () => {
    if (es !== source) return;
    indicator('off');
    if (es.readyState === EventSource.CLOSED) {
      // Refused (not a dropped connection, which the browser retries by itself): the session may have ended,
      // which any API call notices and turns into the sign-in page; otherwise try again in a while.
      close();
      indicator('off');
      setTimeout(() => {
        if (gen !== generation || !token.get()) return; // the page moved on meanwhile
        api.info().then(() => {
          if (gen !== generation) return;
          watch(productId);
          everOpen = true; // so that the first open re-reads what was missed meanwhile
        }).catch(() => {});
      }, 3000);
    }
  };
  es.addEventListener('revoked', (ev) => {
    if (es !== source) return;
    let reason = '';
    try {
      reason = JSON.parse(ev.data).reason || '';
    } catch {
      // no reason given
    }
    close(); // before the browser's own reconnect: this stream is over, not dropped
    endedReason = reason;
    indicator('revoked');
    // A signed-out session: any API call notices and shows the sign-in page.
    api.info().catch(() => {});
  });
  for (const name of EVENTS) {
    es.addEventListener(name, (ev) => {
      let data = {};
      try {
        data = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (name === 'dropped') resync();
      else dispatch(name, data);
    });
  }
}

export function stop() {
  generation++;
  close();
  endedReason = null;
  indicator('hidden');
}

function close() {
  if (source) source.close();
  source = null;
  scope = null;
}

/**
 * Handlers for the current page: fn(name, data) for each event, and resync() after missed events. Returns
 * a function that removes them; the router calls it when the page changes.
 */
export function subscribe(fn, onResync) {
  handlers.add(fn);
  if (onResync) resyncHandlers.add(onResync);
  return () => {
    handlers.delete(fn);
    if (onResync) resyncHandlers.delete(onResync);
  };
}

export function clearSubscriptions() {
  handlers = new Set();
  resyncHandlers = new Set();
}
