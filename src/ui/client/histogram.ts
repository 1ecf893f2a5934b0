/**
 * Browser code: the latency histogram, an SVG of Results' durationMs. Bins are linear with a
 * 1-2-5 step chosen so that the 99th percentile falls in the last bin; slower Results are
 * counted in that last bin (labelled "≥"), so one outlier cannot squash every other bar.
 */
// biome-ignore lint/complexity/noUselessStringRaw: raw, so that escapes in the browser code reach the browser as written
export const HISTOGRAM_JS = String.raw`
const SVG_NS = 'http://www.w3.org/2000/svg';
const HISTOGRAM_BINS = 24;

function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The smallest 1, 2 or 5 times a power of ten that is at least raw, and at least 1. */
function niceStep(raw) {
  if (!(raw > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/** Bins of durations: [{from, to, count}], the last one open-ended (to = null) when needed. */
function latencyBins(durations, maxBins) {
  if (durations.length === 0) return [];
  const sorted = durations.slice().sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
  const step = niceStep((p99 + 1) / maxBins);
  const n = Math.min(maxBins, Math.floor(p99 / step) + 1);
  const bins = [];
  for (let i = 0; i < n; i++) bins.push({ from: i * step, to: (i + 1) * step, count: 0 });
  for (const d of sorted) bins[Math.min(n - 1, Math.floor(d / step))].count++;
  if (sorted[sorted.length - 1] >= n * step) bins[n - 1].to = null;
  return bins;
}

function binLabel(bin) {
  return bin.to === null ? '≥ ' + fmtInt(bin.from) + ' ms' : fmtInt(bin.from) + '–' + fmtInt(bin.to) + ' ms';
}

/** Draws the histogram of durations into container (replacing what was there). */
function drawHistogram(container, durations, summary) {
  const bins = latencyBins(durations, HISTOGRAM_BINS);
  const W = 640;
  const H = 220;
  const left = 44;
  const bottom = 40;
  const top = 12;
  const right = 12;
  const svg = svgEl('svg', {
    class: 'histogram',
    viewBox: '0 0 ' + W + ' ' + H,
    role: 'img',
    'aria-labelledby': 'histogram-title histogram-desc',
  });
  svg.append(svgEl('title', { id: 'histogram-title' }, 'Latency histogram'));
  svg.append(svgEl('desc', { id: 'histogram-desc' }, summary));
  const most = Math.max(1, ...bins.map((b) => b.count));
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const barW = bins.length > 0 ? plotW / bins.length : plotW;
  bins.forEach((bin, i) => {
    const h = (bin.count / most) * plotH;
    const rect = svgEl('rect', {
      class: 'bar',
      x: (left + i * barW + 1).toFixed(1),
      y: (top + plotH - h).toFixed(1),
      width: Math.max(1, barW - 2).toFixed(1),
      height: h.toFixed(1),
      'data-count': bin.count,
      'data-from': bin.from,
    });
    rect.append(svgEl('title', {}, binLabel(bin) + ': ' + fmtInt(bin.count)));
    svg.append(rect);
  });
  svg.append(svgEl('line', { class: 'axis', x1: left, y1: top + plotH, x2: W - right, y2: top + plotH }));
  svg.append(svgEl('line', { class: 'axis', x1: left, y1: top, x2: left, y2: top + plotH }));
  svg.append(svgEl('text', { x: left - 6, y: top + 10, 'text-anchor': 'end' }, fmtInt(most)));
  svg.append(svgEl('text', { x: left - 6, y: top + plotH, 'text-anchor': 'end' }, '0'));
  if (bins.length > 0) {
    const last = bins[bins.length - 1];
    svg.append(svgEl('text', { x: left, y: H - bottom + 16 }, '0 ms'));
    const end = last.to === null ? '≥ ' + fmtInt(last.from) + ' ms' : fmtInt(last.to) + ' ms';
    svg.append(svgEl('text', { x: W - right, y: H - bottom + 16, 'text-anchor': 'end' }, end));
    const mid = Math.floor(bins.length / 2);
    if (mid > 0) {
      const x = left + mid * barW;
      svg.append(svgEl('text', { x, y: H - bottom + 16, 'text-anchor': 'middle' }, fmtInt(bins[mid].from) + ' ms'));
    }
  }
  svg.append(svgEl('text', { x: left + plotW / 2, y: H - 6, 'text-anchor': 'middle' }, 'duration of the last attempt'));
  container.replaceChildren(svg);
}
`;
