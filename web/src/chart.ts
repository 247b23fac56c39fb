/** A small SVG line chart for the dashboard's rate history. */

const SVG = 'http://www.w3.org/2000/svg';

/** One line of a chart. */
export interface Series {
  /** CSS colour of the line. */
  color: string;
  /** Values, oldest first, aligned with the chart's times. */
  values: number[];
}

/** Chart geometry in SVG user units (the SVG scales to its box). */
const W = 600;
const H = 160;
const PAD_L = 44;
const PAD_R = 8;
const PAD_T = 10;
const PAD_B = 20;

function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** Rounds up to a "nice" axis maximum (1, 2, 5 × 10^n). */
export function niceMax(v: number): number {
  if (v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * Draws series over times (Unix ms, oldest first) into svg, replacing what
 * it held. spanMs is the width of the time axis, ending at the last time.
 */
export function drawChart(svg: SVGSVGElement, times: number[], series: Series[], spanMs: number): void {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const end = times.length > 0 ? (times[times.length - 1] ?? 0) : Date.now();
  const start = end - spanMs;
  let max = 0;
  for (const s of series) for (const v of s.values) max = Math.max(max, v);
  max = niceMax(max);
  const x = (t: number): number => PAD_L + ((t - start) / spanMs) * (W - PAD_L - PAD_R);
  const y = (v: number): number => H - PAD_B - (v / max) * (H - PAD_T - PAD_B);
  for (const frac of [0, 0.5, 1]) {
    const v = max * frac;
    svg.append(svgEl('line', { x1: PAD_L, x2: W - PAD_R, y1: y(v), y2: y(v), class: 'grid' }));
    const label = svgEl('text', { x: PAD_L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' });
    label.textContent = v >= 1000 ? `${v / 1000}k` : String(v);
    svg.append(label);
  }
  for (const [i, text] of [`-${Math.round(spanMs / 60000)} min`, 'now'].entries()) {
    const t = svgEl('text', { x: i === 0 ? PAD_L : W - PAD_R, y: H - 4, 'text-anchor': i === 0 ? 'start' : 'end', class: 'axis' });
    t.textContent = text;
    svg.append(t);
  }
  for (const s of series) {
    const pts: string[] = [];
    s.values.forEach((v, i) => {
      const t = times[i];
      if (t !== undefined && t >= start) pts.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    });
    if (pts.length > 0) {
      svg.append(svgEl('polyline', { points: pts.join(' '), fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round' }));
    }
  }
}
