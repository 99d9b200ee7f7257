// A uPlot time chart of one or more streams over a fixed window [from, to] (epoch seconds), in the browser's zone
// with 24-hour ticks, a drag to zoom and a reset. The x range is the window, not the data's span: uPlot's range
// function is asked on every setScale, so it answers the zoom when there is one and the window otherwise.

import { t, lang, fmtDateTime, zoneName } from './i18n.js';

const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

export function color(i) {
  return COLORS[i % COLORS.length];
}

function formatters() {
  const l = lang();
  const f = (o) => new Intl.DateTimeFormat(l, { hourCycle: 'h23', ...o });
  return {
    month: f({ year: 'numeric', month: '2-digit' }),
    day: f({ month: '2-digit', day: '2-digit' }),
    minute: f({ hour: '2-digit', minute: '2-digit' }),
    second: f({ hour: '2-digit', minute: '2-digit', second: '2-digit' }),
  };
}

function dayOf(d) {
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** Tick labels: days, or hours and minutes with the day above the first tick of each day. */
function tickValues(fmt) {
  return (u, splits, axisIdx, space, incr) => {
    let lastDay = null;
    return splits.map((s) => {
      const d = new Date(s * 1000);
      if (incr >= 28 * 86400) return fmt.month.format(d);
      if (incr >= 86400) return fmt.day.format(d);
      const time = (incr >= 60 ? fmt.minute : fmt.second).format(d);
      const day = dayOf(d);
      const label = day !== lastDay ? `${fmt.day.format(d)}\n${time}` : time;
      lastDay = day;
      return label;
    });
  };
}

/**
 * Draws into box. series: [{label, unit, ys}] sharing xs (seconds, ascending; null where a stream has no point).
 * onZoom(zoomed) is told when the shown span leaves or returns to the window. Returns {plot, setWindow, setData,
 * resetZoom, zoomed, destroy}.
 */
export function timeChart(box, { xs, series, from, to, height = 300, legend = true, onZoom = () => {} }) {
  let win = [from, to];
  let zoom = null;
  const fmt = formatters();
  const units = [...new Set(series.map((s) => s.unit || ''))];
  const scaleOf = (s) => (units.length > 1 ? `y:${s.unit || ''}` : 'y');
  const scales = { x: { time: true, range: () => zoom || win } };
  const axes = [{
    values: tickValues(fmt),
    label: zoneName(),
    labelSize: 20,
    labelFont: '11px system-ui, sans-serif',
    size: 48,
  }];
  units.slice(0, 2).forEach((unit, i) => {
    const key = units.length > 1 ? `y:${unit}` : 'y';
    scales[key] = { auto: true };
    axes.push({ scale: key, side: i === 0 ? 3 : 1, size: 60, label: unit || undefined, labelSize: unit ? 18 : 0,
      grid: { show: i === 0 } });
  });
  const opts = {
    width: box.clientWidth || 600,
    height,
    legend: { show: legend },
    cursor: {
      drag: { x: true, y: false, setScale: false },
      bind: { dblclick: () => () => { resetZoom(); return null; } },
    },
    select: { show: true },
    scales,
    series: [
      { label: t('history.chartTime'), value: (u, v) => (v == null ? '—' : fmtDateTime(v * 1000)) },
      ...series.map((s, i) => ({
        label: s.unit ? `${s.label} (${s.unit})` : s.label,
        scale: scaleOf(s),
        stroke: color(i),
        width: 1.5,
        spanGaps: series.length > 1,
        points: { show: xs.length < 200, size: 5 },
        value: (u, v) => (v == null ? '—' : String(v)),
      })),
    ],
    axes,
    hooks: {
      setSelect: [(u) => {
        if (u.select.width < 3) return;
        const a = u.posToVal(u.select.left, 'x');
        const b = u.posToVal(u.select.left + u.select.width, 'x');
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        zoomTo(a, b);
      }],
    },
  };
  const plot = new uPlot(opts, [xs, ...series.map((s) => s.ys)], box);

  function zoomTo(a, b) {
    zoom = [a, b];
    plot.setScale('x', { min: a, max: b });
    onZoom(true);
  }

  function resetZoom() {
    const was = zoom !== null;
    zoom = null;
    plot.setScale('x', { min: win[0], max: win[1] });
    if (was) onZoom(false);
  }

  return {
    plot,
    get zoomed() {
      return zoom !== null;
    },
    get window() {
      return win;
    },
    /** Moves the window (a relative range follows "now"); a zoom stays where it is. */
    setWindow(a, b) {
      win = [a, b];
      if (!zoom) plot.setScale('x', { min: a, max: b });
    },
    setData(newXs, ys) {
      plot.setData([newXs, ...ys]);
    },
    zoomTo,
    resetZoom,
    destroy() {
      plot.destroy();
    },
  };
}
