// History of one data stream: a uPlot chart (or a table) over a chosen time range, down-sampled on the
// server for long ranges (GET /devices/{id}/datapoints?downsample=N keeps each bucket's min and max), and
// a CSV export of the raw points.
//
// Times: the API writes them in the server's zone without an offset ("yyyy-MM-dd HH:mm:ss.SSS"). The
// chart shows that same wall-clock time: each time is read as if it were UTC and uPlot draws in UTC, so
// chart, table and API agree without the console knowing the zone. Ranges go out as a duration (relative
// ones) or as server wall-clock start/end (custom ones), which the server reads in its own zone.

import { api } from './api.js';
import { csvCell } from './csv.js';
import { h, clear, fill, toast, showError, valueText } from './ui.js';

const RANGES = [
  { id: '1h', label: '1 h', seconds: 3600 },
  { id: '24h', label: '24 h', seconds: 86400 },
  { id: '7d', label: '7 d', seconds: 7 * 86400 },
  { id: 'custom', label: 'Custom' },
];
const CSV_PAGE = 6000;
const CSV_MAX = 200000;
const TABLE_MAX = 2000;

/** "2026-11-26 10:00:00.123" (server wall clock) -> seconds, read as UTC. */
export function apiTimeToSeconds(at) {
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?/.exec(at || '');
  if (!m) return NaN;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], m[7] ? +m[7].padEnd(3, '0') : 0);
  return ms / 1000;
}

function pad(n) {
  return String(n).padStart(2, '0');
}

/** Seconds (wall clock read as UTC) -> the value of a datetime-local input. */
function toLocalInput(sec) {
  const d = new Date(sec * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

function numeric(v) {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

function fmtInt(n) {
  return Number(n).toLocaleString('en-US');
}

function fmtDuration(ms) {
  const s = ms / 1000;
  if (s < 60) return `${+s.toFixed(1)} s`;
  if (s < 3600) return `${+(s / 60).toFixed(1)} min`;
  if (s < 86400) return `${+(s / 3600).toFixed(1)} h`;
  return `${+(s / 86400).toFixed(1)} d`;
}

/**
 * The panel. Returns {el, select(streamId), setStreams(ids), livePoint(event), destroy()}.
 * timezone: the server's zone id for the note under the chart (may be null).
 */
export function historyPanel(deviceId, { timezone } = {}) {
  let streams = [];
  let stream = null;
  let range = RANGES[0];
  let view = 'chart';
  let points = []; // [{at, sec, value}] ascending
  let downsampled = false;
  let total = 0;
  let bucketMs = 0;
  let plot = null;
  let loadSeq = 0;

  const select = h('select', { 'aria-label': 'Data stream', 'data-testid': 'stream-select' });
  select.addEventListener('change', () => show(select.value));
  const rangeButtons = RANGES.map((r) => {
    const b = h('button.btn.secondary.small', { type: 'button', 'data-range': r.id }, r.label);
    b.addEventListener('click', () => setRange(r));
    return b;
  });
  const viewButtons = ['chart', 'table'].map((v) => {
    const b = h('button.btn.secondary.small', { type: 'button', 'data-view': v }, v === 'chart' ? 'Chart' : 'Table');
    b.addEventListener('click', () => setView(v));
    return b;
  });
  const csv = h('button.btn.secondary.small', { type: 'button', 'data-testid': 'csv' }, 'CSV');
  csv.addEventListener('click', () => exportCsv().catch(showError));

  const from = h('input', { type: 'datetime-local', 'aria-label': 'From', 'data-testid': 'range-from' });
  const to = h('input', { type: 'datetime-local', 'aria-label': 'To', 'data-testid': 'range-to' });
  const apply = h('button.btn.small', { type: 'button' }, 'Apply');
  apply.addEventListener('click', () => load());
  const custom = h('div.custom-range',
    h('div', h('label', 'From'), from), h('div', h('label', 'To'), to), apply);
  custom.hidden = true;

  const note = h('div.chart-note', { 'data-testid': 'chart-note' });
  const chartBox = h('div.chart-box', { 'data-testid': 'chart' });
  const tableBox = h('div.data-table.table-wrap', { 'data-testid': 'data-table' });
  tableBox.hidden = true;
  const el = h('section.panel', { 'data-testid': 'history' },
    h('div.panel-head', h('h2', 'History')),
    h('div.toolbar', select, h('div.segmented', rangeButtons), h('span.grow'), h('div.segmented', viewButtons), csv),
    custom, note, chartBox, tableBox,
    h('div.hint', `Times are the server's time${timezone ? ` (${timezone})` : ''}.`));

  function markButtons() {
    rangeButtons.forEach((b) => b.classList.toggle('active', b.dataset.range === range.id));
    viewButtons.forEach((b) => b.classList.toggle('active', b.dataset.view === view));
  }

  function setRange(r) {
    range = r;
    custom.hidden = r.id !== 'custom';
    markButtons();
    if (r.id === 'custom') {
      if (!from.value || !to.value) {
        const now = points.length ? points[points.length - 1].sec : Date.now() / 1000;
        to.value = toLocalInput(now + 60);
        from.value = toLocalInput(now - 3600);
      }
      return; // loads on Apply
    }
    load();
  }

  function setView(v) {
    view = v;
    markButtons();
    chartBox.hidden = v !== 'chart';
    tableBox.hidden = v !== 'table';
    draw();
  }

  function query(extra) {
    const q = { datastream_id: stream, ...extra };
    if (range.id === 'custom') {
      if (!from.value || !to.value) throw new Error('Choose both ends of the custom range.');
      // Whole minutes: "to" 10:05 reaches up to 10:05:59.999.
      q.start = from.value.length === 16 ? `${from.value}:00` : from.value;
      q.end = to.value.length === 16 ? `${to.value}:59.999` : to.value;
      if (q.start >= q.end) throw new Error('The start of the range must come before its end.');
    } else {
      q.duration = range.seconds;
    }
    return q;
  }

  function buckets() {
    const w = chartBox.clientWidth || el.clientWidth || 800;
    return Math.max(100, Math.min(1000, Math.round(w)));
  }

  async function load() {
    if (!stream) return;
    const seq = ++loadSeq;
    note.textContent = 'Loading…';
    note.classList.remove('sampled');
    let data;
    try {
      data = await api.datapoints(deviceId, query({ downsample: buckets() }));
    } catch (e) {
      if (seq === loadSeq) note.textContent = e.message;
      throw e;
    }
    if (seq !== loadSeq) return;
    const ds = (data.datastreams || []).find((s) => s.id === stream);
    points = ((ds && ds.datapoints) || []).map((p) => ({ at: p.at, sec: apiTimeToSeconds(p.at), value: p.value }));
    downsampled = !!data.downsampled;
    total = ds ? ds.total ?? points.length : 0;
    bucketMs = data.bucket_ms || 0;
    draw();
  }

  function describe() {
    note.classList.toggle('sampled', downsampled);
    if (!points.length) {
      note.textContent = 'No points in this range.';
    } else if (downsampled) {
      note.textContent = `Down-sampled on the server: ${fmtInt(points.length)} of ${fmtInt(total)} points shown, `
        + `the minimum and maximum of each ${fmtDuration(bucketMs)} bucket.`;
    } else {
      note.textContent = `${fmtInt(points.length)} point${points.length === 1 ? '' : 's'}.`;
    }
    chartBox.dataset.points = String(points.length);
    chartBox.dataset.downsampled = String(downsampled);
  }

  function draw() {
    describe();
    if (view === 'table') drawTable();
    else drawChart();
  }

  function drawChart() {
    if (plot) {
      plot.destroy();
      plot = null;
    }
    clear(chartBox);
    const xs = [];
    const ys = [];
    for (const p of points) {
      xs.push(p.sec);
      ys.push(numeric(p.value));
    }
    if (!points.length) {
      chartBox.append(h('div.empty', h('strong', 'No data in this range.'), 'Pick a longer range, or wait for the device to publish.'));
      chartBox.dataset.drawn = '0';
      return;
    }
    if (ys.every((y) => y === null)) {
      chartBox.append(h('div.empty', h('strong', 'These values are not numbers.'), 'The table view lists them.'));
      chartBox.dataset.drawn = '0';
      return;
    }
    const narrow = window.matchMedia('(max-width: 719px)').matches;
    const opts = {
      width: chartBox.clientWidth || 600,
      height: narrow ? 220 : 300,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { show: !narrow },
      cursor: { drag: { x: true, y: false } },
      // One point alone would give an empty x range: centre it in an hour.
      scales: { x: { time: true, range: xs.length === 1 ? [xs[0] - 1800, xs[0] + 1800] : undefined } },
      series: [
        {},
        {
          label: stream,
          stroke: '#2563eb',
          width: 1.5,
          spanGaps: false,
          points: { show: points.length < 200, size: 5 },
          value: (u, v) => (v === null || v === undefined ? '—' : String(v)),
        },
      ],
      axes: [{}, { size: 60 }],
    };
    plot = new uPlot(opts, [xs, ys], chartBox);
    chartBox._uplot = plot; // for tests and the browser console
    chartBox.dataset.drawn = String(xs.length);
  }

  function drawTable() {
    clear(tableBox);
    if (!points.length) {
      tableBox.append(h('div.empty', 'No data in this range.'));
      return;
    }
    const rows = points.slice(-TABLE_MAX).reverse();
    tableBox.append(h('table',
      h('thead', h('tr', h('th', 'Time'), h('th.num', 'Value'))),
      h('tbody', rows.map((p) => h('tr', h('td.mono', p.at), h('td.num', valueText(p.value)))))));
    if (points.length > TABLE_MAX) {
      tableBox.append(h('div.hint', `The newest ${fmtInt(TABLE_MAX)} of ${fmtInt(points.length)} rows; CSV has them all.`));
    }
  }

  async function exportCsv() {
    if (!stream) return;
    csv.disabled = true;
    try {
      const rows = ['at,value'];
      let cursor;
      let n = 0;
      do {
        const extra = { limit: CSV_PAGE };
        if (cursor) extra.cursor = cursor;
        const q = query(extra);
        if (range.id !== 'custom') {
          // A fixed window, so that paging continues the same query (a duration moves with "now").
          delete q.duration;
          const endSec = Date.now() / 1000;
          q.end = q.end || new Date(endSec * 1000).toISOString().slice(0, 19) + 'Z';
          q.start = q.start || new Date((endSec - range.seconds) * 1000).toISOString().slice(0, 19) + 'Z';
        }
        const data = await api.datapoints(deviceId, q);
        const ds = (data.datastreams || []).find((s) => s.id === stream);
        for (const p of (ds && ds.datapoints) || []) {
          rows.push(`${p.at},${csvCell(p.value)}`);
          n++;
        }
        cursor = data.cursor;
      } while (cursor && n < CSV_MAX);
      const blob = new Blob([rows.join('\n') + '\n'], { type: 'text/csv' });
      const a = h('a', { href: URL.createObjectURL(blob), download: `${deviceId}-${stream}.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      toast(cursor ? `Exported the first ${fmtInt(n)} points.` : `Exported ${fmtInt(n)} point${n === 1 ? '' : 's'}.`, 'ok');
    } finally {
      csv.disabled = false;
    }
  }

  function show(id) {
    stream = id;
    select.value = id;
    load().catch(showError);
  }

  const resize = new ResizeObserver(() => {
    if (plot && chartBox.clientWidth && Math.abs(plot.width - chartBox.clientWidth) > 2) {
      plot.setSize({ width: chartBox.clientWidth, height: plot.height });
    }
  });
  resize.observe(chartBox);
  markButtons();

  return {
    el,
    get stream() {
      return stream;
    },
    setStreams(ids) {
      streams = ids;
      fill(select, ids.map((id) => h('option', { value: id }, id)));
      if (stream) select.value = stream;
    },
    select: show,
    /** A datapoint event of this device: appended live when it is of the stream shown and the range is relative. */
    livePoint(ev) {
      if (ev.stream !== stream || range.id === 'custom') return;
      const sec = apiTimeToSeconds(ev.at);
      const last = points.length ? points[points.length - 1].sec : -Infinity;
      if (!(sec >= last)) return; // an older point (a device-supplied time): shown on the next load
      points.push({ at: ev.at, sec, value: ev.value });
      total += 1;
      const oldest = sec - range.seconds;
      while (points.length && points[0].sec < oldest) points.shift();
      if (plot && view === 'chart' && points.length > 1 && numeric(ev.value) !== null) {
        describe();
        plot.setData([points.map((p) => p.sec), points.map((p) => numeric(p.value))]);
        chartBox.dataset.drawn = String(points.length);
      } else {
        draw();
      }
    },
    reload: () => load(),
    destroy() {
      resize.disconnect();
      if (plot) plot.destroy();
    },
  };
}
