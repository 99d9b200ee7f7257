// #/products/{id}/import: devices from CSV (a file or pasted text). Columns by header: title, auth_info (or sn),
// desc, tags (separated by ;), private; without a header: title, auth_info, desc. Rows are created a few at a time
// and each gets its result: the new device's ID or the server's error.

import { api } from '../api.js';
import { h, fill, toast } from '../ui.js';
import { t, fmtNumber } from '../i18n.js';
import { productTabs } from './featurekit.js';

/** Requests in flight at once: fast for 1,000 rows without queueing hundreds at the server. */
const PARALLEL = 8;
const MAX_ROWS = 10000;
const ALIASES = { title: 'title', name: 'title', auth_info: 'auth_info', sn: 'auth_info', desc: 'desc', description: 'desc',
  tags: 'tags', private: 'private' };

/** RFC 4180 rows: quoted cells may hold commas, quotes ("") and line breaks. Blank lines are skipped. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      if (row.some((v) => v.trim() !== '')) rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  row.push(cell);
  if (row.some((v) => v.trim() !== '')) rows.push(row);
  return rows;
}

/** The devices of the rows: [{line, body}] where line is the row's line in the file (1-based, header counted). */
export function devicesOf(rows) {
  if (!rows.length) return [];
  const first = rows[0].map((v) => v.trim().toLowerCase().replace(/^\ufeff/, ''));
  const header = first.some((v) => v in ALIASES);
  const columns = header ? first.map((v) => ALIASES[v] || null) : ['title', 'auth_info', 'desc'];
  return rows.slice(header ? 1 : 0).map((cells, i) => {
    const body = {};
    columns.forEach((col, j) => {
      const v = (cells[j] ?? '').trim();
      if (!col || v === '') return;
      if (col === 'tags') body.tags = v.split(/[;|]/).map((x) => x.trim()).filter(Boolean);
      else if (col === 'private') body.private = /^(1|true|yes)$/i.test(v);
      else body[col] = v;
    });
    return { line: i + (header ? 2 : 1), body };
  });
}

export async function render(root, params, { setCrumbs, setTitle }) {
  const productId = params.id;
  const product = await api.product(productId);
  setCrumbs([[t('feat.crumb.products'), '#/products'], [product.title, `#/products/${productId}`], [t('feat.tab.import')]]);
  if (setTitle) setTitle(t('feat.tab.import'), product.title);

  const file = h('input#import-file', { type: 'file', accept: '.csv,text/csv,text/plain', 'data-testid': 'import-file' });
  const text = h('textarea#import-text', { rows: 8, spellcheck: false, 'data-testid': 'import-text',
    placeholder: 'title,auth_info,desc\nsensor-1,SN0001,hall\nsensor-2,SN0002,' });
  const start = h('button.btn', { type: 'button', 'data-testid': 'import-start' }, t('feat.imp.start'));
  const progress = h('progress.fprogress', { max: 1, value: 0 });
  progress.hidden = true;
  const summary = h('p', { 'data-testid': 'import-summary', 'aria-live': 'polite' });
  const results = h('div', { 'data-testid': 'import-results' });
  file.addEventListener('change', async () => {
    if (file.files[0]) text.value = await file.files[0].text();
  });

  root.append(productTabs(productId, 'import'),
    h('section.panel', h('div.panel-head', h('h2', t('feat.imp.title'))),
      h('p.muted.small', t('feat.imp.intro')),
      h('label', { for: 'import-file' }, t('feat.imp.file')), file,
      h('label', { for: 'import-text' }, t('feat.imp.paste')), text,
      h('div.actions', { style: 'margin-top:.6rem' }, start), progress, summary),
    h('section.panel', h('div.panel-head', h('h2', t('feat.imp.results'))), results));

  let stopped = false;
  start.addEventListener('click', async () => {
    const devices = devicesOf(parseCsv(text.value));
    if (!devices.length) {
      toast(t('feat.imp.empty'), 'error');
      return;
    }
    if (devices.length > MAX_ROWS) {
      toast(t('feat.imp.tooMany', { max: fmtNumber(MAX_ROWS) }), 'error');
      return;
    }
    start.disabled = true;
    const cells = devices.map(() => h('td', { 'data-testid': 'import-result' }, '…'));
    fill(results, h('div.table-wrap', h('table', { 'data-testid': 'import-table' },
      h('thead', h('tr', h('th.num', t('feat.imp.line')), h('th', t('feat.imp.deviceTitle')), h('th', 'auth_info'),
        h('th', t('feat.imp.result')))),
      h('tbody', devices.map((d, i) => h('tr', h('td.num', String(d.line)), h('td.fwrap', d.body.title || ''),
        h('td', h('code', d.body.auth_info || '')), cells[i]))))));
    progress.hidden = false;
    progress.max = devices.length;
    let next = 0;
    let created = 0;
    let failed = 0;
    const show = () => {
      progress.value = created + failed;
      summary.textContent = t('feat.imp.summary', { done: fmtNumber(created + failed), total: fmtNumber(devices.length),
        created: fmtNumber(created), failed: fmtNumber(failed) });
    };
    const worker = async () => {
      while (!stopped && next < devices.length) {
        const i = next++;
        try {
          const made = await api.createDevice(productId, devices[i].body);
          fill(cells[i], h('span.fok', t('feat.imp.created')), ' ', h('a', { href: `#/devices/${made.device_id}` }, made.device_id));
          cells[i].dataset.ok = '1';
          created++;
        } catch (e) {
          fill(cells[i], h('span.ferr', e.message));
          cells[i].dataset.ok = '0';
          failed++;
        }
        if ((created + failed) % 25 === 0) show();
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    show();
    start.disabled = false;
    if (!stopped) toast(t('feat.imp.done', { created: fmtNumber(created), failed: fmtNumber(failed) }), failed ? 'error' : 'ok');
  });
  return () => { stopped = true; };
}
