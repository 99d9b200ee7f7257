// Small DOM helpers: element building, toasts, dialogs, copy buttons, online tags.

import { t, fmtDateTime } from './i18n.js';

/**
 * h('div.panel#id', {onclick, class, dataset...}, child, ...): an element. Children may be strings, nodes,
 * arrays, or null/false (skipped). Attributes starting with "on" become listeners.
 */
export function h(spec, attrs, ...children) {
  if (attrs === null || typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  const [, tag = 'div', rest = ''] = spec.match(/^([a-z0-9]*)(.*)$/i);
  const el = document.createElement(tag || 'div');
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** Replaces an element's children (arrays flattened, null and false skipped, as h() does). */
export function fill(el, ...children) {
  append(clear(el), children);
  return el;
}

export function toast(message, kind = 'info', ms = 5000) {
  const el = h(`div.toast.${kind}`, message);
  document.getElementById('toasts').append(el);
  setTimeout(() => el.remove(), kind === 'error' ? Math.max(ms, 8000) : ms);
}

export function showError(e) {
  toast(e && e.message ? e.message : String(e), 'error');
}

/** A button that copies text to the clipboard (with a fallback for pages not served over https). */
export function copyButton(text, label = t('ui.copy')) {
  const btn = h('button.btn.copy', { type: 'button', title: t('ui.copyTitle') }, label);
  btn.addEventListener('click', async () => {
    const value = typeof text === 'function' ? text() : text;
    let ok = false;
    try {
      await navigator.clipboard.writeText(value);
      ok = true;
    } catch {
      const area = h('textarea', { style: 'position:fixed;left:-9999px' }, value);
      document.body.append(area);
      area.select();
      try { ok = document.execCommand('copy'); } catch { ok = false; }
      area.remove();
    }
    btn.textContent = ok ? t('ui.copied') : t('ui.copyFailed');
    btn.classList.toggle('done', ok);
    setTimeout(() => { btn.textContent = label; btn.classList.remove('done'); }, 1500);
  });
  return btn;
}

/** Text with a copy button beside it. */
export function copyable(text, { mono = true, testid } = {}) {
  return h('span.row', h(mono ? 'code' : 'span', { 'data-testid': testid }, text), copyButton(text));
}

export function onlineTag(online, disabled = false) {
  if (disabled) return h('span.tag.disabled', { 'data-testid': 'status' }, t('ui.disabled'));
  return h(`span.tag.${online ? 'online' : 'offline'}`, { 'data-testid': 'status' }, online ? t('ui.online') : t('ui.offline'));
}

export function setOnlineTag(tag, online) {
  if (!tag || tag.classList.contains('disabled')) return;
  tag.classList.toggle('online', online);
  tag.classList.toggle('offline', !online);
  tag.textContent = online ? t('ui.online') : t('ui.offline');
  flash(tag);
}

export function flash(el) {
  el.classList.remove('flash');
  void el.offsetWidth; // restart the animation
  el.classList.add('flash');
}

const dialog = () => document.getElementById('dialog');

/**
 * A modal form. fields: [{name, label, value, required, type, hint, placeholder}]. onSubmit(values) may
 * throw: its message is shown in the dialog and it stays open. Resolves with onSubmit's result, or null.
 */
export function formDialog({ title, intro, fields, submit = t('ui.save'), onSubmit }) {
  return new Promise((resolve) => {
    const d = dialog();
    const error = h('div.form-error', { role: 'alert' });
    error.hidden = true;
    const inputs = {};
    const form = h('form', { method: 'dialog' },
      h('h2', title),
      intro ? h('p.muted.small', intro) : null,
      fields.map((f) => {
        const id = `f-${f.name}`;
        const input = f.type === 'textarea'
          ? h('textarea', { id, name: f.name, placeholder: f.placeholder || '' }, f.value || '')
          : h('input', { id, name: f.name, type: f.type || 'text', value: f.value || '', placeholder: f.placeholder || '',
            required: !!f.required, autocomplete: 'off' });
        inputs[f.name] = input;
        return [h('label', { for: id }, f.label + (f.required ? ' *' : '')), input, f.hint ? h('div.hint', f.hint) : null];
      }),
      error,
      h('div.buttons',
        h('button.btn.secondary', { type: 'button', onclick: () => { d.close(); } }, t('ui.cancel')),
        h('button.btn', { type: 'submit', 'data-testid': 'dialog-submit' }, submit)));
    let result = null;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const values = {};
      for (const [k, el] of Object.entries(inputs)) values[k] = el.value.trim();
      const btn = form.querySelector('button[type=submit]');
      btn.disabled = true;
      try {
        result = await onSubmit(values);
        d.close();
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
      } finally {
        btn.disabled = false;
      }
    });
    clear(d).append(form);
    d.addEventListener('close', () => resolve(result), { once: true });
    d.showModal();
    const first = form.querySelector('input, textarea');
    if (first) first.focus();
  });
}

/** A modal with content and a close button. */
export function infoDialog(title, ...content) {
  return new Promise((resolve) => {
    const d = dialog();
    clear(d).append(h('div.dialog-body', h('h2', title), content,
      h('div.buttons', h('button.btn', { type: 'button', onclick: () => d.close(), 'data-testid': 'dialog-close' }, t('ui.done')))));
    d.addEventListener('close', () => resolve(), { once: true });
    d.showModal();
  });
}

/** Asks before something that cannot be undone; resolves true when confirmed and action() succeeded. */
export function confirmDialog(title, message, { confirm = t('ui.delete'), action }) {
  return new Promise((resolve) => {
    const d = dialog();
    const error = h('div.form-error', { role: 'alert' });
    error.hidden = true;
    let done = false;
    const ok = h('button.btn.danger', { type: 'button', 'data-testid': 'confirm' }, confirm);
    ok.addEventListener('click', async () => {
      ok.disabled = true;
      try {
        await action();
        done = true;
        d.close();
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
      } finally {
        ok.disabled = false;
      }
    });
    clear(d).append(h('div.dialog-body', h('h2', title), h('p', message), error,
      h('div.buttons', h('button.btn.secondary', { type: 'button', onclick: () => d.close() }, t('ui.cancel')), ok)));
    d.addEventListener('close', () => resolve(done), { once: true });
    d.showModal();
  });
}

let apiOffset = null;

/** The zone of the API's times, from GET /info's timezone when it is an offset ("+08:00", "Z"); else unknown. */
export function setApiZone(zone) {
  apiOffset = zone === 'Z' ? 'Z' : /^[+-]\d{2}:\d{2}$/.test(zone || '') ? zone : null;
}

/** An API time ("yyyy-MM-dd HH:mm:ss" in the API's zone) in the chosen language and the browser's zone. */
export function timeText(apiTime) {
  if (!apiTime) return '—';
  const when = apiOffset && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(apiTime)
    ? new Date(`${apiTime.slice(0, 19).replace(' ', 'T')}${apiOffset}`) : null;
  return when && !Number.isNaN(when.getTime()) ? fmtDateTime(when) : apiTime;
}

/** A value for display: numbers and strings as they are, anything else as compact JSON. */
export function valueText(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
