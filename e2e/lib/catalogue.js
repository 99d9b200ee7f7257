// The console's word catalogues (src/main/resources/console/js/i18n/*.js), for checking that a Chinese page shows no
// English word left untranslated.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CONSOLE_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'main', 'resources',
  'console', 'js');

/** The English words of the named catalogue parts whose Chinese differs (a shared word such as "CSV" does not count). */
export async function englishWords(...parts) {
  const words = [];
  for (const part of parts) {
    const source = fs.readFileSync(path.join(CONSOLE_JS, 'i18n', `${part}.js`), 'utf8');
    const { default: catalogue } = await import(`data:text/javascript,${encodeURIComponent(source)}`);
    words.push(...Object.entries(catalogue.en).filter(([k, v]) => catalogue['zh-CN'][k] !== v).map(([, v]) => v));
  }
  return words;
}

/** Texts on screen (text nodes, placeholders, labels, options) that equal one of the English words. */
export function englishLeft(page, words) {
  return page.evaluate((english) => {
    const set = new Set(english);
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || !el.checkVisibility() || !n.textContent.trim()) continue;
      if (set.has(n.textContent.trim())) found.push(n.textContent.trim());
    }
    for (const el of document.querySelectorAll('[placeholder], [aria-label], option')) {
      for (const text of [el.getAttribute('placeholder'), el.getAttribute('aria-label'), el.tagName === 'OPTION' ? el.textContent : null]) {
        if (text && set.has(text.trim())) found.push(text.trim());
      }
    }
    return found;
  }, words);
}
