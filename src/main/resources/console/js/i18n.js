// The console's words in English and Chinese (zh-CN): one catalogue per language, put together from one part per area
// of the console (i18n/*.js, each { en: {...}, 'zh-CN': {...} }). t(key) gives the word in the chosen language;
// dates and numbers are formatted for it, in 24-hour time and the browser's time zone.

import common from './i18n/common.js';
import device from './i18n/device.js';
import features from './i18n/features.js';

export const LANGS = ['en', 'zh-CN'];
const STORED = 'stratus.lang';

export const catalogues = { en: {}, 'zh-CN': {} };
for (const part of [common, device, features]) {
  for (const l of LANGS) Object.assign(catalogues[l], part[l] || {});
}

/** The language: the one chosen in the header, else zh-CN when the browser asks for Chinese first, else English. */
export function lang() {
  const chosen = localStorage.getItem(STORED);
  if (LANGS.includes(chosen)) return chosen;
  const asked = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  return asked.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

/** Chooses a language and draws the page again in it. */
export function setLang(l) {
  localStorage.setItem(STORED, l);
  document.documentElement.lang = l;
  window.dispatchEvent(new CustomEvent('stratus:lang', { detail: l }));
}

/** The word for key, with {name} replaced from vars; the English one, or the key itself, when it has none. */
export function t(key, vars) {
  const text = catalogues[lang()][key] ?? catalogues.en[key] ?? key;
  return vars ? text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : text;
}

/** A time (ms or Date) in the chosen language, 24-hour, in the browser's zone; opts narrows or widens the fields. */
export function fmtDateTime(when, opts = {}) {
  return new Intl.DateTimeFormat(lang(), {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    hourCycle: 'h23', ...opts,
  }).format(when instanceof Date ? when : new Date(when));
}

/** A number in the chosen language's way. */
export function fmtNumber(n, opts = {}) {
  return new Intl.NumberFormat(lang(), opts).format(n);
}

/** The browser's time zone, as shown beside times (e.g. "Asia/Shanghai, UTC+08:00"). */
export function zoneName() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const minutes = -new Date().getTimezoneOffset();
  const sign = minutes >= 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  return `${zone}, UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
