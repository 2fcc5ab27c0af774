// Admin overview: charts of the server's own metrics over the last hour,
// from the history the server keeps in memory (GET /api/metrics/history),
// refreshed every step while the page is shown.
import { h, clear, errorText, formatBytes } from '../../ui.js';
import { history } from './common.js';
import { lineChart } from './chart.js';

// num keeps about three significant digits.
const num = (v) => {
  const a = Math.abs(v);
  return String(a >= 100 ? Math.round(v) : Number(v.toFixed(a >= 10 ? 1 : 2)));
};
const perSecond = (v) => `${num(v)}/s`;
const millis = (v) => `${num(v)} ms`;
const bytesPerSecond = (v) => `${formatBytes(Math.round(v))}/s`;
const events = (v) => String(Math.round(v));

function span(secs) {
  if (secs < 90) return `${Math.round(secs)} second${Math.round(secs) === 1 ? '' : 's'}`;
  const m = Math.round(secs / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
}

// byLabel turns {"PutObject":[...], ...} into series, largest sum first,
// "_others" last.
function byLabel(obj) {
  const sum = (vs) => vs.reduce((a, v) => a + (typeof v === 'number' ? v : 0), 0);
  return Object.entries(obj || {}).map(([name, values]) => ({ name, values, total: sum(values) }))
    .sort((a, b) => (a.name === '_others') - (b.name === '_others') || b.total - a.total || a.name.localeCompare(b.name));
}

function charts(doc) {
  const s = doc.series || {};
  const base = { start: doc.start, step: doc.step };
  return [
    { title: 'Requests per second by operation', series: byLabel(s.requests), format: perSecond,
      empty: 'No requests in the last hour.' },
    { title: 'Request latency (p50 and p99)', series: [{ name: 'p50', values: s.latencyP50 || [] }, { name: 'p99', values: s.latencyP99 || [] }],
      format: millis, empty: 'No requests in the last hour.' },
    { title: 'Errors per second by S3 code', series: byLabel(s.errors), format: perSecond, empty: 'No errors in the last hour.' },
    { title: 'Bytes in and out per second', series: [{ name: 'in', values: s.bytesIn || [] }, { name: 'out', values: s.bytesOut || [] }],
      format: bytesPerSecond, minTop: 1024 },
    { title: 'Event delivery latency (p50 and p99)', series: [{ name: 'p50', values: s.deliveryP50 || [] }, { name: 'p99', values: s.deliveryP99 || [] }],
      format: millis, empty: 'No events delivered to the endpoints of persistent topics in the last hour.' },
    { title: 'Queue depth (events in persistent topics)', series: [{ name: 'queued', values: s.queueDepth || [] }], format: events, integer: true },
  ].map((c) => ({ ...c, ...base }));
}

export async function render(root) {
  const status = h('p', { class: 'muted', id: 'metrics-status', 'aria-live': 'polite' }, 'Loading…');
  const grid = h('div', { class: 'chart-grid-layout' });
  root.append(h('h1', {}, 'Server metrics'), status, grid);
  let drawn = [];
  let timer = null;
  let stopped = false;

  const redrawAll = () => { for (const c of drawn) c.redraw(c.el.clientWidth - 34); };
  let resizeTimer = null;
  const onResize = () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(redrawAll, 150); };

  async function load() {
    let doc;
    try {
      doc = await history();
    } catch (err) {
      status.textContent = `Loading the metrics failed: ${errorText(err)}`;
      status.className = 'error-text';
      return 10;
    }
    if (stopped) return 0;
    const points = doc.points || 0;
    status.className = 'muted';
    status.textContent = points
      ? `The last ${span(points * doc.step)}, one point every ${doc.step} s (kept in memory by the server; refreshed automatically).`
      : `Collecting: the first point appears ${doc.step || 10} s after the server started.`;
    // Keep open point tables open across refreshes.
    const open = new Set([...grid.querySelectorAll('details[open]')].map((d) => d.closest('figure')?.dataset.chart));
    drawn = charts(doc).map((c) => lineChart({ ...c, series: points ? c.series.filter((s) => s.values.length) : [] }));
    clear(grid).append(...drawn.map((c, i) => { c.el.dataset.chart = String(i); return c.el; }));
    redrawAll();
    for (const c of drawn) {
      if (open.has(c.el.dataset.chart)) { const d = c.el.querySelector('details'); if (d) d.open = true; }
    }
    return doc.step || 10;
  }

  async function loop() {
    const step = await load();
    if (!stopped) timer = setTimeout(loop, Math.max(2, step) * 1000);
  }
  window.addEventListener('resize', onResize);
  await loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(resizeTimer);
    window.removeEventListener('resize', onResize);
  };
}
