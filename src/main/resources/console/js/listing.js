// What a list shows (search, filter, sort, page, page size) as read from the URL, and the pager under a list: the
// range shown, first / previous / next / last, a jump to a page, and the page size. Pages write the state back with
// setQuery, so that Back and a reload find the list as it was.

import { h } from './ui.js';
import { t, fmtNumber } from './i18n.js';

export const PAGE_SIZES = [10, 20, 50, 100];

/** The list's state from the URL's parameters: q, online ('true' | 'false' | ''), sort, page, per_page. */
export function listState(params, { perPage = 20, sorts = [] } = {}) {
  const size = Number(params.per_page);
  const page = Math.floor(Number(params.page));
  return {
    q: params.q || '',
    online: params.online === 'true' || params.online === 'false' ? params.online : '',
    sort: sorts.includes(params.sort) ? params.sort : '',
    page: page >= 1 ? page : 1,
    perPage: PAGE_SIZES.includes(size) ? size : perPage,
  };
}

/** The URL parameters of a state, defaults left out. */
export function stateQuery(s, defaultPerPage = 20) {
  return {
    q: s.q, online: s.online, sort: s.sort, page: s.page > 1 ? s.page : '',
    per_page: s.perPage !== defaultPerPage ? s.perPage : '',
  };
}

/** A labelled select; onChange(value). options: [[value, label], ...]. */
export function select(label, value, options, onChange, testid) {
  const el = h('select', { 'aria-label': label, title: label, 'data-testid': testid, onchange: () => onChange(el.value) },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  return el;
}

/** The pager of a list showing `shown` items of `total` from page `page`; go(page, perPage) moves. */
export function pager({ page, perPage, total, shown }, go) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  const from = (page - 1) * perPage + 1;
  const to = from + shown - 1;
  const jump = h('input', { type: 'number', min: 1, max: pages, value: page, 'aria-label': t('list.pageNumber'),
    'data-testid': 'page-jump', class: 'page-jump' });
  const jumpTo = () => {
    const n = Math.min(pages, Math.max(1, Math.floor(Number(jump.value)) || 1));
    if (n !== page) go(n, perPage);
  };
  jump.addEventListener('change', jumpTo);
  jump.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') jumpTo(); });
  const button = (label, target, disabled, aria) => h('button.btn.secondary.small', {
    type: 'button', disabled, 'aria-label': aria || label, title: aria || label, onclick: () => go(target, perPage),
  }, label);
  return [
    h('span.muted.small', { 'data-testid': 'range' }, t('list.range', { from: fmtNumber(from), to: fmtNumber(to), total: fmtNumber(total) })),
    h('div.actions',
      button('«', 1, page <= 1, t('list.first')),
      button(t('list.previous'), page - 1, page <= 1),
      h('span.row.small.muted', h('span', t('list.page')), jump, h('span', t('list.ofPages', { pages: fmtNumber(pages) }))),
      button(t('list.next'), page + 1, to >= total),
      button('»', pages, page >= pages, t('list.last')),
      select(t('list.perPage'), String(perPage), PAGE_SIZES.map((n) => [String(n), t('list.nPerPage', { n })]),
        (v) => go(1, Number(v)), 'page-size')),
  ];
}
