// What the product feature pages (triggers, data push, import, overview) share: their few styles, the tabs of a
// product's pages, and a table of the last outcomes of outbound posts.

import { h } from '../ui.js';
import { t, fmtDateTime } from '../i18n.js';

const STYLE = `
.ftabs { display: flex; gap: .4rem; flex-wrap: wrap; margin: 0 0 .8rem; }
.ftabs a { padding: .3rem .7rem; border-radius: 6px; border: 1px solid #d0d7de; text-decoration: none; }
.ftabs a.current { background: #0b63ce; color: #fff; border-color: #0b63ce; }
.fform { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .2rem .8rem; align-items: end; }
.fform .wide { grid-column: 1 / -1; }
.fform label { margin: 0; }
.fcheck { display: flex; gap: .4rem; align-items: center; }
.fcheck input { width: auto; }
.fstats { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: .6rem; }
.fstat { border: 1px solid #d0d7de; border-radius: 8px; padding: .6rem .8rem; }
.fstat .v { font-size: 1.6rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.fstat .l { color: #57606a; font-size: .85rem; }
.fok { color: #1a7f37; }
.ferr { color: #cf222e; overflow-wrap: anywhere; }
.fwrap { overflow-wrap: anywhere; }
.fprogress { width: 100%; }
`;

/** Adds the styles once. */
export function featureStyles() {
  if (document.getElementById('feature-styles')) return;
  document.head.append(h('style#feature-styles', STYLE));
}

/** The tabs over a product's pages; `current` is one of product, triggers, push, import, topics. */
export function productTabs(productId, current) {
  featureStyles();
  const tab = (key, href, label) => h('a', { href, class: key === current ? 'current' : null, 'data-testid': `tab-${key}` }, label);
  return h('nav.ftabs', { 'aria-label': t('feat.tabs') },
    tab('product', `#/products/${productId}`, t('feat.tab.devices')),
    tab('triggers', `#/products/${productId}/triggers`, t('feat.tab.triggers')),
    tab('push', `#/products/${productId}/push`, t('feat.tab.push')),
    tab('import', `#/products/${productId}/import`, t('feat.tab.import')),
    tab('topics', `#/overview?product=${productId}`, t('feat.tab.overview')));
}

/** The last outcomes of posts (GET .../deliveries), newest first, as a table; an empty note when none. */
export function deliveriesTable(outcomes, testid) {
  if (!outcomes.length) return h('p.muted.small', { 'data-testid': testid }, t('feat.deliveries.none'));
  return h('div.table-wrap', h('table', { 'data-testid': testid },
    h('thead', h('tr', h('th', t('feat.deliveries.at')), h('th', t('feat.deliveries.result')),
      h('th.num', t('feat.deliveries.attempts')), h('th', t('feat.deliveries.problem')))),
    h('tbody', outcomes.map((o) => h('tr',
      h('td', fmtDateTime(o.at_ms)),
      h('td', h(o.delivered ? 'span.fok' : 'span.ferr', o.delivered ? t('feat.deliveries.ok') : t('feat.deliveries.failed')),
        o.test ? h('span.muted.small', ` (${t('feat.deliveries.test')})`) : null),
      h('td.num', String(o.attempts)),
      h('td.ferr', o.problem || ''))))));
}

/** Polls fn every ms while the page is shown; returns the stop function. */
export function every(ms, fn) {
  const timer = setInterval(() => { fn().catch(() => {}); }, ms);
  return () => clearInterval(timer);
}
