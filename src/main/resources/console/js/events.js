// The live event stream (GET /events, Server-Sent Events): one EventSource for the product on screen.
// EventSource cannot send headers, so the session token goes in the query string (the server allows that
// for /events only). The browser reconnects by itself; after a reconnect, or when the server says it
// dropped events for us (a slow tab), pages re-read what they show.

import { token } from './api.js';

const EVENTS = ['device.online', 'device.offline', 'datapoint', 'dropped'];

let source = null;
let scope = null;
let handlers = new Set();
let resyncHandlers = new Set();
let everOpen = false;

function indicator(state) {
  const el = document.getElementById('live');
  el.hidden = state === 'hidden';
  el.classList.toggle('on', state === 'on');
  el.classList.toggle('off', state === 'off');
  el.innerHTML = '';
  const label = document.createElement('span');
  label.className = 'label';
  label.textContent = state === 'on' ? 'live' : 'reconnecting…';
  el.append(label);
  el.dataset.state = state;
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
  scope = productId;
  if (!productId || !token.get()) return;
  const url = `/events?product_id=${encodeURIComponent(productId)}&token=${encodeURIComponent(token.get())}`;
  source = new EventSource(url);
  everOpen = false;
  indicator('off');
  source.onopen = () => {
    indicator('on');
    if (everOpen) resync(); // events may have been missed while reconnecting
    everOpen = true;
  };
  source.onerror = () => {
    indicator('off');
  };
  for (const name of EVENTS) {
    source.addEventListener(name, (ev) => {
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
  if (source) source.close();
  source = null;
  scope = null;
  indicator('hidden');
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
