// Hand-drawn SVG line charts of the metrics history, no library. Each
// chart is a <figure> with a caption, an SVG (role="img", with a <title>
// and a <desc> summary), a legend, a summary table (latest, average and
// peak of each series) and, on demand, the table of every point: the
// tables are the chart for who cannot see it.
import { h, clear, uid } from '../../ui.js';

const svgNS = 'http://www.w3.org/2000/svg';
const height = 200;
const pad = { top: 12, right: 12, bottom: 28, left: 64 };
// Dash patterns tell the lines apart without colour.
const dashes = ['', '6 3', '2 3', '8 3 2 3', '12 4', '3 6', '10 2 2 2 2 2', '1 2'];

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null && v !== false) el.setAttribute(k, String(v));
  }
  for (const c of children) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// niceMax rounds a maximum up to 1, 2, 2.5 or 5 times a power of ten.
export function niceMax(max) {
  if (!(max > 0)) return 1;
  const mag = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= max) return m * mag;
  return 10 * mag;
}

function stats(values) {
  const nums = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  if (!nums.length) return { latest: null, avg: null, peak: null };
  let latest = null;
  for (let i = values.length - 1; i >= 0; i -= 1) {
    if (typeof values[i] === 'number') { latest = values[i]; break; }
  }
  return { latest, avg: nums.reduce((a, b) => a + b, 0) / nums.length, peak: Math.max(...nums) };
}

function clock(t) {
  return new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function clockSeconds(t) {
  return new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

// pathOf draws one series: a null value breaks the line; a lone point
// between two gaps is drawn as a dot.
function pathOf(values, x, y) {
  let d = '';
  const dots = [];
  let run = 0;
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      if (run === 1) dots.push(i - 1);
      run = 0;
      return;
    }
    d += `${run === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    run += 1;
  });
  if (run === 1) dots.push(values.length - 1);
  return { d, dots };
}

// lineChart renders a chart into a new <figure>. series is an array of
// {name, values}; start and step (seconds) place the points in time;
// format renders a value with its unit. Call redraw(width) when the
// figure's width changes.
export function lineChart({ title, series, start, step, format, empty, minTop = 1, integer = false }) {
  const captionId = uid('chart');
  const points = series.length ? series[0].values.length : 0;
  const fig = h('figure', { class: 'chart card', 'aria-labelledby': captionId });
  const caption = h('figcaption', {}, h('h2', { id: captionId }, title));
  const plot = h('div', { class: 'chart-plot' });
  fig.append(caption);
  const hasData = series.some((s) => s.values.some((v) => typeof v === 'number' && Number.isFinite(v)));
  if (!points || !series.length || !hasData) {
    fig.append(h('p', { class: 'muted' }, empty || 'No data yet.'));
    return { el: fig, redraw() {} };
  }
  const summary = summaryText(title, series, format, points, step);
  fig.append(plot, legend(series, format), summaryTable(title, series, format),
    pointsTable(title, series, start, step, format));

  function redraw(width) {
    const w = Math.max(280, Math.floor(width));
    const peak = Math.max(0, ...series.flatMap((s) => s.values.filter((v) => typeof v === 'number' && Number.isFinite(v))));
    // Integer series get integer grid lines (four steps).
    const top = integer ? Math.max(4, Math.ceil(niceMax(peak) / 4) * 4) : niceMax(Math.max(peak, minTop));
    const innerW = w - pad.left - pad.right;
    const innerH = height - pad.top - pad.bottom;
    const x = (i) => pad.left + (points === 1 ? innerW : (i * innerW) / (points - 1));
    const y = (v) => pad.top + innerH - (v / top) * innerH;
    const titleId = uid('svgt');
    const descId = uid('svgd');
    const root = svg('svg', { width: w, height, viewBox: `0 0 ${w} ${height}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}`, class: 'chart-svg' },
      svg('title', { id: titleId }, title), svg('desc', { id: descId }, summary));
    const grid = svg('g', { class: 'chart-grid', 'aria-hidden': 'true' });
    for (let k = 0; k <= 4; k += 1) {
      const v = (top * k) / 4;
      const yy = y(v).toFixed(1);
      grid.append(svg('line', { x1: pad.left, x2: w - pad.right, y1: yy, y2: yy }),
        svg('text', { x: pad.left - 6, y: yy, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, format(v)));
    }
    const ticks = points > 2 ? [0, Math.floor((points - 1) / 2), points - 1] : [...Array(points).keys()];
    for (const i of ticks) {
      grid.append(svg('text', { x: x(i), y: height - 8, 'text-anchor': i === 0 && points > 1 ? 'start' : (i === points - 1 ? 'end' : 'middle') },
        (points - 1) * step < 600 ? clockSeconds(start + i * step) : clock(start + i * step)));
    }
    root.append(grid);
    series.forEach((s, n) => {
      const { d, dots } = pathOf(s.values, x, y);
      const g = svg('g', { class: `chart-series series-${s.name === '_others' ? 'other' : n % 8}`, 'aria-hidden': 'true' });
      if (d) g.append(svg('path', { d, fill: 'none', 'stroke-width': 2, 'stroke-dasharray': dashes[n % dashes.length] || undefined }));
      for (const i of dots) g.append(svg('circle', { cx: x(i), cy: y(s.values[i]), r: 2.5 }));
      root.append(g);
    });
    clear(plot).append(root);
  }
  return { el: fig, redraw };
}

function seriesLabel(name) { return name === '_others' ? 'others' : name; }

function summaryText(title, series, format, points, step) {
  const mins = Math.round((points * step) / 60);
  const parts = series.map((s) => {
    const st = stats(s.values);
    return st.peak === null ? `${seriesLabel(s.name)}: no data` : `${seriesLabel(s.name)} peak ${format(st.peak)}, latest ${format(st.latest)}`;
  });
  return `${title} over the last ${mins || 1} minute${mins === 1 ? '' : 's'}: ${parts.join('; ')}.`;
}

function legend(series, format) {
  return h('ul', { class: 'chart-legend' }, series.map((s, n) => {
    const st = stats(s.values);
    const sample = svg('svg', { width: 28, height: 10, 'aria-hidden': 'true', class: `chart-series series-${s.name === '_others' ? 'other' : n % 8}` },
      svg('line', { x1: 0, x2: 28, y1: 5, y2: 5, 'stroke-width': 2, 'stroke-dasharray': dashes[n % dashes.length] || undefined }));
    return h('li', {}, sample, h('span', {}, seriesLabel(s.name)),
      h('span', { class: 'muted' }, st.latest === null ? '—' : format(st.latest)));
  }));
}

function summaryTable(title, series, format) {
  const cell = (v) => h('td', { class: 'num' }, v === null ? '—' : format(v));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'chart-summary' },
    h('caption', { class: 'visually-hidden' }, `${title}: summary`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Series'), h('th', { scope: 'col', class: 'num' }, 'Latest'),
      h('th', { scope: 'col', class: 'num' }, 'Average'), h('th', { scope: 'col', class: 'num' }, 'Peak'))),
    h('tbody', {}, series.map((s) => {
      const st = stats(s.values);
      return h('tr', {}, h('th', { scope: 'row' }, seriesLabel(s.name)), cell(st.latest), cell(st.avg), cell(st.peak));
    }))));
}

// pointsTable lists every point, newest first, built when opened.
function pointsTable(title, series, start, step, format) {
  const box = h('div', { class: 'table-wrap' });
  const details = h('details', { class: 'chart-points' }, h('summary', {}, 'All points as a table'), box);
  details.addEventListener('toggle', () => {
    if (!details.open || box.firstChild) return;
    const n = series[0].values.length;
    const rows = [];
    for (let i = n - 1; i >= 0; i -= 1) {
      rows.push(h('tr', {}, h('th', { scope: 'row' }, clockSeconds(start + i * step)),
        series.map((s) => h('td', { class: 'num' }, typeof s.values[i] === 'number' ? format(s.values[i]) : '—'))));
    }
    box.append(h('table', {}, h('caption', { class: 'visually-hidden' }, `${title}: every point`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Time'), series.map((s) => h('th', { scope: 'col', class: 'num' }, seriesLabel(s.name))))),
      h('tbody', {}, rows)));
  });
  return details;
}
