// History of a device's data streams: a chart of one or more streams over the chosen window [now - range, now] (or
// a custom one), down-sampled on the server for long ranges (GET /devices/{id}/datapoints?downsample=N keeps each
// bucket's minimum and maximum), a table paging through the raw rows (limit and cursor, newest first), and a CSV
// export of the raw rows. Times are shown in the browser's zone; queries name the window in UTC.

import { api } from './api.js';
import { csvCell } from './csv.js';
import { h, clear, fill, toast, showError, valueText } from './ui.js';
import { t, fmtNumber, zoneName } from './i18n.js';
import { serverTimeToMs, showServerTime } from './servertime.js';
import { timeChart, color } from './chart.js';

export const RANGES = [
  { id: '1h', seconds: 3600 },
  { id: '24h', seconds: 86400 },
  { id: '7d', seconds: 7 * 86400 },
  { id: '30d', seconds: 30 * 86400 },
  { id: 'custom' },
];
const CSV_PAGE = 6000;
const CSV_MAX = 200000;
const TABLE_PAGE = 100;
const MAX_STREAMS = 8;

function pad(n) {
  return String(n).padStart(2, '0');
}

/** Epoch ms -> the value of a datetime-local input, in the browser's zone. */
function toLocalInput(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function numeric(v) {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

function iso(ms) {
  return new Date(ms).toISOString();
}

function fmtDuration(ms) {
  const s = ms / 1000;
  const n = (x) => fmtNumber(+x.toFixed(1));
  if (s < 60) return t('history.unit.seconds', { n: n(s) });
  if (s < 3600) return t('history.unit.minutes', { n: n(s / 60) });
  if (s < 86400) return t('history.unit.hours', { n: n(s / 3600) });
  return t('history.unit.days', { n: n(s / 86400) });
}

/** The window [from, to] (epoch ms) of a state from the URL, or null when it names none that can be loaded. */
function stateWindow(st, now = Date.now()) {
  const r = RANGES.find((x) => x.id === (st.range || '1h'));
  if (!r) return null;
  if (r.id !== 'custom') return [now - r.seconds * 1000, now];
  // the inputs hold whole minutes: "to" reaches to the end of its minute
  return st.from && st.to && +st.from < +st.to ? [+st.from, +st.to + 59999] : null;
}

function sampledQuery(streams, win, buckets) {
  return { datastream_id: streams.join(','), start: iso(win[0]), end: iso(win[1]), downsample: buckets };
}

/**
 * The chart's first query, started before the page knows the device's streams when the URL names them (a reload,
 * a link): one round trip less before the first chart. Returns {streams, range, win, reply} or null.
 */
export function prefetch(deviceId, st, width) {
  const streams = (st.streams || []).slice(0, MAX_STREAMS);
  const win = stateWindow(st);
  if (!streams.length || !win || st.view === 'table') return null;
  const reply = api.datapoints(deviceId, sampledQuery(streams, win, Math.max(100, Math.min(1000, Math.round(width)))));
  reply.catch(() => {});
  return { streams, range: st.range || '1h', win, reply };
}

/**
 * The panel. initial: {streams, range, view, from, to} (from the URL); onState(state) is told each change of those.
 * Returns {el, streams, setStreams([{id, unit}]), select(id), toggle(id), livePoint(event), reload(), destroy()}.
 */
export function historyPanel(deviceId, { initial = {}, onState = () => {}, early = null } = {}) {
  let available = []; // [{id, unit}]
  let chosen = (initial.streams || []).slice(0, MAX_STREAMS);
  let range = RANGES.find((r) => r.id === initial.range) || RANGES[0];
  let view = initial.view === 'table' ? 'table' : 'chart';
  let win = null; // [from, to] epoch ms of the last load
  let data = new Map(); // stream -> [{ms, at, value}] ascending
  let totals = new Map();
  let downsampled = false;
  let bucketMs = 0;
  let chart = null;
  let loadSeq = 0;
  let pages = [null]; // cursors of the table's pages, newest first
  let pageIndex = 0;
  let redrawQueued = false;

  const select = h('select', { 'aria-label': t('history.stream'), 'data-testid': 'stream-select' });
  select.addEventListener('change', () => setChosen([select.value, ...chosen.slice(1).filter((s) => s !== select.value)]));
  const add = h('select', { 'aria-label': t('history.addStream'), 'data-testid': 'stream-add' });
  add.addEventListener('change', () => {
    if (add.value) setChosen([...chosen, add.value]);
  });
  const chips = h('span.hist-chips', { 'data-testid': 'stream-chips' });
  const rangeButtons = RANGES.map((r) => {
    const b = h('button.btn.secondary.small', { type: 'button', 'data-range': r.id }, t(`history.range.${r.id}`));
    b.addEventListener('click', () => setRange(r));
    return b;
  });
  const viewButtons = ['chart', 'table'].map((v) => {
    const b = h('button.btn.secondary.small', { type: 'button', 'data-view': v }, t(`history.view.${v}`));
    b.addEventListener('click', () => setView(v));
    return b;
  });
  const resetZoom = h('button.btn.secondary.small', { type: 'button', 'data-testid': 'reset-zoom', disabled: true,
    title: t('history.resetZoomHint') }, t('history.resetZoom'));
  resetZoom.addEventListener('click', () => chart && chart.resetZoom());
  const csv = h('button.btn.secondary.small', { type: 'button', 'data-testid': 'csv' }, 'CSV');
  csv.addEventListener('click', () => exportCsv().catch(showError));

  const from = h('input', { type: 'datetime-local', 'aria-label': t('history.from'), 'data-testid': 'range-from' });
  const to = h('input', { type: 'datetime-local', 'aria-label': t('history.to'), 'data-testid': 'range-to' });
  if (initial.from && initial.to) {
    from.value = toLocalInput(+initial.from);
    to.value = toLocalInput(+initial.to);
  }
  const apply = h('button.btn.small', { type: 'button' }, t('history.apply'));
  apply.addEventListener('click', () => {
    changed();
    load().catch(showError);
  });
  const custom = h('div.custom-range',
    h('div', h('label', t('history.from')), from), h('div', h('label', t('history.to')), to), apply);
  custom.hidden = range.id !== 'custom';

  const note = h('div.chart-note', { 'data-testid': 'chart-note' });
  const chartBox = h('div.chart-box', { 'data-testid': 'chart' });
  const tableBox = h('div.data-table.table-wrap', { 'data-testid': 'data-table' });
  const pager = h('div.pager', { 'data-testid': 'table-pager' });
  const tablePart = h('div', tableBox, pager);
  const el = h('section.panel', { 'data-testid': 'history' },
    h('div.panel-head', h('h2', t('history.title'))),
    h('div.toolbar', select, chips, add, h('div.segmented', rangeButtons), h('span.grow'), resetZoom,
      h('div.segmented', viewButtons), csv),
    custom, note, chartBox, tablePart,
    h('div.hint', { 'data-testid': 'zone-hint' }, t('history.zone', { zone: zoneName() })));

  function state() {
    const s = { streams: chosen.slice(), range: range.id, view };
    if (range.id === 'custom' && from.value && to.value) {
      s.from = new Date(from.value).getTime();
      s.to = new Date(to.value).getTime();
    }
    return s;
  }

  function changed() {
    onState(state());
  }

  function markControls() {
    rangeButtons.forEach((b) => b.classList.toggle('active', b.dataset.range === range.id));
    viewButtons.forEach((b) => b.classList.toggle('active', b.dataset.view === view));
    chartBox.hidden = view !== 'chart';
    tablePart.hidden = view !== 'table';
    resetZoom.hidden = view !== 'chart';
    if (available.length) {
      select.value = chosen[0] || '';
      fill(chips, chosen.slice(1).map((id, i) => h('span.hist-chip', { 'data-stream-chip': id },
        h('span.hist-dot', { style: `background:${color(i + 1)}` }), id,
        h('button', { type: 'button', 'aria-label': t('history.removeStream', { id }), title: t('history.removeStream', { id }),
          onclick: () => setChosen(chosen.filter((s) => s !== id)) }, '×'))));
      const rest = available.filter((s) => !chosen.includes(s.id));
      fill(add, h('option', { value: '' }, t('history.addStream')), rest.map((s) => h('option', { value: s.id }, s.id)));
      add.value = '';
      add.hidden = !rest.length || chosen.length >= MAX_STREAMS;
    }
  }

  function setChosen(ids) {
    chosen = [...new Set(ids)].slice(0, MAX_STREAMS);
    markControls();
    changed();
    load().catch(showError);
  }

  function setRange(r) {
    range = r;
    custom.hidden = r.id !== 'custom';
    markControls();
    if (r.id === 'custom') {
      if (!from.value || !to.value) {
        const now = Date.now();
        to.value = toLocalInput(now + 60000);
        from.value = toLocalInput(now - 3600000);
      }
      changed();
      return; // loads on Apply
    }
    changed();
    load().catch(showError);
  }

  function setView(v) {
    view = v;
    markControls();
    changed();
    if (v === 'table') loadTable(0).catch(showError);
    else drawChart();
  }

  function currentWindow() {
    if (range.id === 'custom') {
      if (!from.value || !to.value) throw new Error(t('history.chooseBoth'));
      const w = stateWindow({ range: 'custom', from: new Date(from.value).getTime(), to: new Date(to.value).getTime() });
      if (!w) throw new Error(t('history.startBeforeEnd'));
      return w;
    }
    return stateWindow({ range: range.id });
  }

  function buckets() {
    const w = chartBox.clientWidth || el.clientWidth || 800;
    return Math.max(100, Math.min(1000, Math.round(w)));
  }

  async function load() {
    if (!chosen.length) return;
    const seq = ++loadSeq;
    note.textContent = t('history.loading');
    note.classList.remove('sampled');
    let reply;
    const pre = early;
    early = null;
    try {
      if (pre && pre.streams.join(',') === chosen.join(',') && pre.range === range.id) {
        win = pre.win;
        reply = await pre.reply;
      } else {
        win = currentWindow();
        reply = await api.datapoints(deviceId, sampledQuery(chosen, win, buckets()));
      }
    } catch (e) {
      if (seq === loadSeq) note.textContent = e.message;
      throw e;
    }
    if (seq !== loadSeq) return;
    data = new Map(chosen.map((id) => [id, []]));
    totals = new Map(chosen.map((id) => [id, 0]));
    for (const ds of reply.datastreams || []) {
      if (!data.has(ds.id)) continue;
      data.set(ds.id, (ds.datapoints || []).map((p) => ({ ms: serverTimeToMs(p.at), at: p.at, value: p.value })));
      totals.set(ds.id, ds.total ?? ds.datapoints.length);
    }
    downsampled = !!reply.downsampled;
    bucketMs = reply.bucket_ms || 0;
    describe();
    if (view === 'table') await loadTable(0);
    else drawChart();
  }

  function shownCount() {
    let n = 0;
    for (const pts of data.values()) n += pts.length;
    return n;
  }

  function totalCount() {
    let n = 0;
    for (const v of totals.values()) n += v;
    return n;
  }

  function describe() {
    const shown = shownCount();
    note.classList.toggle('sampled', downsampled);
    if (!shown) note.textContent = t('history.noPoints');
    else if (downsampled) {
      note.textContent = t('history.sampled', { shown: fmtNumber(shown), total: fmtNumber(totalCount()), bucket: fmtDuration(bucketMs) });
    } else note.textContent = t(shown === 1 ? 'history.onePoint' : 'history.points', { n: fmtNumber(shown) });
    chartBox.dataset.points = String(shown);
    chartBox.dataset.downsampled = String(downsampled);
  }

  /** The streams' points on one time axis: xs (seconds) and, per stream, its value or null at each. */
  function aligned() {
    const streams = chosen.filter((id) => data.has(id));
    if (streams.length === 1) {
      const pts = data.get(streams[0]);
      return { xs: pts.map((p) => p.ms / 1000), ys: [pts.map((p) => numeric(p.value))] };
    }
    const index = new Map();
    for (const id of streams) for (const p of data.get(id)) index.set(p.ms, null);
    const times = [...index.keys()].sort((a, b) => a - b);
    times.forEach((ms, i) => index.set(ms, i));
    const ys = streams.map((id) => {
      const col = new Array(times.length).fill(null);
      for (const p of data.get(id)) col[index.get(p.ms)] = numeric(p.value);
      return col;
    });
    return { xs: times.map((ms) => ms / 1000), ys };
  }

  function drawChart() {
    if (chart) {
      chart.destroy();
      chart = null;
    }
    resetZoom.disabled = true;
    clear(chartBox);
    if (!win) return;
    const { xs, ys } = aligned();
    chartBox.dataset.from = String(win[0] / 1000);
    chartBox.dataset.to = String(win[1] / 1000);
    if (!xs.length) {
      chartBox.append(h('div.empty', h('strong', t('history.emptyTitle')), t('history.emptyText')));
      chartBox.dataset.drawn = '0';
      return;
    }
    if (ys.every((col) => col.every((y) => y === null))) {
      chartBox.append(h('div.empty', h('strong', t('history.notNumbers')), t('history.notNumbersText')));
      chartBox.dataset.drawn = '0';
      return;
    }
    const narrow = matchMedia('(max-width: 719px)').matches;
    const units = new Map(available.map((s) => [s.id, s.unit]));
    chart = timeChart(chartBox, {
      xs,
      series: chosen.filter((id) => data.has(id)).map((id, i) => ({ label: id, unit: units.get(id) || '', ys: ys[i] })),
      from: win[0] / 1000,
      to: win[1] / 1000,
      height: narrow ? 220 : 300,
      legend: !narrow || chosen.length > 1,
      onZoom: (z) => { resetZoom.disabled = !z; },
    });
    chartBox._uplot = chart.plot; // for tests and the browser console
    chartBox.dataset.drawn = String(xs.length);
  }

  async function loadTable(index) {
    if (!chosen.length || !win) return;
    const seq = ++loadSeq;
    const q = { datastream_id: chosen.join(','), start: iso(win[0]), end: iso(win[1]), limit: TABLE_PAGE, sort: 'DESC' };
    if (pages[index]) q.cursor = pages[index];
    const reply = await api.datapoints(deviceId, q);
    if (seq !== loadSeq) return;
    pages = pages.slice(0, index + 1);
    if (index === 0) pages = [null];
    if (reply.cursor) pages[index + 1] = reply.cursor;
    pageIndex = index;
    const rows = [];
    for (const ds of reply.datastreams || []) {
      for (const p of ds.datapoints || []) rows.push({ stream: ds.id, at: p.at, ms: serverTimeToMs(p.at), value: p.value });
    }
    rows.sort((a, b) => b.ms - a.ms || (a.stream < b.stream ? 1 : -1));
    drawTable(rows, !!reply.cursor);
  }

  function drawTable(rows, more) {
    clear(tableBox);
    clear(pager);
    if (!rows.length) {
      tableBox.append(h('div.empty', t('history.emptyTitle')));
      return;
    }
    const many = chosen.length > 1;
    tableBox.append(h('table',
      h('thead', h('tr', h('th', t('history.table.time')), many ? h('th', t('history.table.stream')) : null, h('th.num', t('history.table.value')))),
      h('tbody', rows.map((p) => h('tr', h('td.mono', { title: p.at }, showServerTime(p.at, { ms: true })),
        many ? h('td', p.stream) : null, h('td.num', valueText(p.value)))))));
    const first = pageIndex * TABLE_PAGE + 1;
    const last = first + rows.length - 1;
    pager.append(h('span.muted.small', { 'data-testid': 'table-range' },
      t('history.table.rows', { from: fmtNumber(first), to: fmtNumber(last), total: fmtNumber(Math.max(totalCount(), last)) })),
      h('div.actions',
        h('button.btn.secondary.small', { type: 'button', 'data-testid': 'table-newer', disabled: pageIndex === 0,
          onclick: () => loadTable(pageIndex - 1).catch(showError) }, t('history.table.newer')),
        h('button.btn.secondary.small', { type: 'button', 'data-testid': 'table-older', disabled: !more,
          onclick: () => loadTable(pageIndex + 1).catch(showError) }, t('history.table.older'))));
  }

  async function exportCsv() {
    if (!chosen.length) return;
    csv.disabled = true;
    try {
      const [a, b] = currentWindow();
      const many = chosen.length > 1;
      const rows = [many ? 'at,stream,value' : 'at,value'];
      let cursor;
      let n = 0;
      do {
        const q = { datastream_id: chosen.join(','), start: iso(a), end: iso(b), limit: CSV_PAGE };
        if (cursor) q.cursor = cursor;
        const reply = await api.datapoints(deviceId, q);
        const page = [];
        for (const ds of reply.datastreams || []) {
          for (const p of ds.datapoints || []) page.push([p.at, ds.id, p.value]);
        }
        page.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : 1));
        for (const [at, id, v] of page) {
          rows.push(many ? `${at},${csvCell(id)},${csvCell(v)}` : `${at},${csvCell(v)}`);
          n++;
        }
        cursor = reply.cursor;
      } while (cursor && n < CSV_MAX);
      const blob = new Blob([rows.join('\n') + '\n'], { type: 'text/csv' });
      const link = h('a', { href: URL.createObjectURL(blob), download: `${deviceId}-${chosen.join('+')}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      toast(cursor ? t('history.csv.first', { n: fmtNumber(n) }) : t(n === 1 ? 'history.csv.one' : 'history.csv.all', { n: fmtNumber(n) }), 'ok');
    } finally {
      csv.disabled = false;
    }
  }

  function redrawLive() {
    redrawQueued = false;
    describe();
    if (view !== 'chart') return;
    const { xs, ys } = aligned();
    if (chart && xs.length > 1) {
      chart.setData(xs, ys);
      chart.setWindow(win[0] / 1000, win[1] / 1000);
      chartBox.dataset.drawn = String(xs.length);
      chartBox.dataset.from = String(win[0] / 1000);
      chartBox.dataset.to = String(win[1] / 1000);
    } else {
      drawChart();
    }
  }

  const resize = new ResizeObserver(() => {
    const p = chart && chart.plot;
    if (p && chartBox.clientWidth && Math.abs(p.width - chartBox.clientWidth) > 2) {
      p.setSize({ width: chartBox.clientWidth, height: p.height });
    }
  });
  resize.observe(chartBox);
  markControls();

  return {
    el,
    get streams() {
      return chosen.slice();
    },
    /** The device's streams: [{id, unit}]. Chosen ones that are gone are dropped; with none left, the first is shown. */
    setStreams(list) {
      available = list;
      const ids = new Set(list.map((s) => s.id));
      const kept = chosen.filter((id) => ids.has(id));
      const changedChoice = kept.length !== chosen.length;
      chosen = kept;
      fill(select, list.map((s) => h('option', { value: s.id }, s.id)));
      markControls();
      if (!chosen.length && list.length) {
        setChosen([list[0].id]);
      } else if (changedChoice) {
        changed();
        load().catch(showError);
      } else if (!win && chosen.length) {
        load().catch(showError);
      }
    },
    /** Shows this stream alone. */
    select(id) {
      setChosen([id]);
    },
    /** Adds this stream to the chart, or takes it off. */
    toggle(id) {
      if (chosen.includes(id)) {
        if (chosen.length > 1) setChosen(chosen.filter((s) => s !== id));
      } else setChosen([...chosen, id]);
    },
    /** A datapoint event of this device: appended live to a relative range's chart. */
    livePoint(ev) {
      if (!chosen.includes(ev.stream) || range.id === 'custom' || !win || !data.has(ev.stream)) return;
      const ms = serverTimeToMs(ev.at);
      const pts = data.get(ev.stream);
      const last = pts.length ? pts[pts.length - 1].ms : -Infinity;
      if (!(ms >= last)) return; // an older point (a device-supplied time): shown on the next load
      pts.push({ ms, at: ev.at, value: ev.value });
      totals.set(ev.stream, (totals.get(ev.stream) || 0) + 1);
      win = [Math.max(ms, Date.now()) - range.seconds * 1000, Math.max(ms, Date.now())];
      for (const list of data.values()) while (list.length && list[0].ms < win[0]) list.shift();
      if (!redrawQueued) {
        redrawQueued = true;
        requestAnimationFrame(redrawLive);
      }
    },
    reload: () => load(),
    destroy() {
      loadSeq++;
      resize.disconnect();
      if (chart) chart.destroy();
    },
  };
}
