/**
 * Hand-written SVG charts: a line chart (one or more series) and a histogram, each with a title, axis
 * labels and ticks, so a file is readable on its own. Output is a pure function of the data (fixed number
 * formatting, no ids or timestamps), so the same data gives the same bytes.
 */

export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Plot y on a log10 axis (non-positive values are dropped). */
  logY?: boolean;
  width?: number;
  height?: number;
}

export interface HistogramSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Bin edges, length counts.length + 1. */
  edges: ArrayLike<number>;
  counts: ArrayLike<number>;
  width?: number;
  height?: number;
  /** Optional extra bar drawn left of the axis for values outside the edges (e.g. dead latents). */
  extra?: { label: string; count: number };
}

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];
export const MARGIN = { left: 70, right: 20, top: 40, bottom: 50 };
const MARKERS_UP_TO = 30;

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Coordinates with two decimals: enough for a screen, stable bytes. */
export function c(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

/** A short tick label: integers plain, large/small numbers in engineering-ish form. */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a < 1e-3) return v.toExponential(1);
  return `${+v.toPrecision(3)}`;
}

/** About `n` "nice" tick values (1, 2, 5 × 10^k steps) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo) || !Number.isFinite(hi - lo)) return [lo];
  // a range below float resolution (e.g. a constant series with rounding noise) gets a single tick
  if (hi - lo < 1e-9 * Math.max(Math.abs(lo), Math.abs(hi))) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.ceil(lo / step);
  const out: number[] = [];
  // ticks by index (not by repeated addition, which can stall when step is tiny against t)
  for (let i = first; i * step <= hi + step * 1e-9 && out.length <= 4 * n; i++) out.push(+(i * step).toPrecision(12));
  return out;
}

export function extent(values: number[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) return [lo - (lo === 0 ? 1 : Math.abs(lo) * 0.1), hi + (hi === 0 ? 1 : Math.abs(hi) * 0.1)];
  return [lo, hi];
}

export interface Frame {
  w: number;
  h: number;
  sx: (v: number) => number;
  sy: (v: number) => number;
}

export function header(w: number, h: number, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" ` +
    `font-family="sans-serif" font-size="12">\n<title>${escapeXml(title)}</title>\n` +
    `<rect width="${w}" height="${h}" fill="#ffffff"/>\n` +
    `<text x="${c(w / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>\n`;
}

export function axes(
  f: Frame,
  xTicks: number[],
  yTicks: number[],
  xLabel: string,
  yLabel: string,
  yFmt = formatTick,
): string {
  const { w, h } = f;
  const x0 = MARGIN.left, x1 = w - MARGIN.right, y0 = h - MARGIN.bottom, y1 = MARGIN.top;
  let s = `<g stroke="#e5e7eb">`;
  for (const t of yTicks) s += `<line x1="${x0}" x2="${x1}" y1="${c(f.sy(t))}" y2="${c(f.sy(t))}"/>`;
  s += `</g>\n<g stroke="#111827"><line x1="${x0}" x2="${x1}" y1="${y0}" y2="${y0}"/>` +
    `<line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}"/></g>\n<g fill="#111827">`;
  for (const t of xTicks) {
    s += `<text x="${c(f.sx(t))}" y="${y0 + 16}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`;
  }
  for (const t of yTicks) {
    s += `<text x="${x0 - 6}" y="${c(f.sy(t) + 4)}" text-anchor="end">${escapeXml(yFmt(t))}</text>`;
  }
  s += `</g>\n<text x="${c((x0 + x1) / 2)}" y="${h - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>\n` +
    `<text transform="translate(16 ${c((y0 + y1) / 2)}) rotate(-90)" text-anchor="middle">${
      escapeXml(yLabel)
    }</text>\n`;
  return s;
}

/** A line chart of one or more series sharing the axes; a legend when there is more than one. */
export function lineChart(spec: LineChartSpec): string {
  const w = spec.width ?? 640, h = spec.height ?? 360;
  const tf = spec.logY ? (v: number) => (v > 0 ? Math.log10(v) : NaN) : (v: number) => v;
  const xs: number[] = [], ys: number[] = [];
  for (const s of spec.series) {
    for (let i = 0; i < s.x.length; i++) {
      const y = tf(s.y[i]);
      if (Number.isFinite(s.x[i]) && Number.isFinite(y)) xs.push(s.x[i]), ys.push(y);
    }
  }
  const [xlo, xhi] = extent(xs), [ylo, yhi] = extent(ys);
  const xTicks = niceTicks(xlo, xhi);
  const yTicks = spec.logY ? niceTicks(Math.floor(ylo), Math.ceil(yhi)).filter(Number.isInteger) : niceTicks(ylo, yhi);
  const yLo = Math.min(ylo, yTicks[0]), yHi = Math.max(yhi, yTicks[yTicks.length - 1]);
  const f: Frame = {
    w,
    h,
    sx: (v) => MARGIN.left + (v - xlo) / (xhi - xlo) * (w - MARGIN.left - MARGIN.right),
    sy: (v) => h - MARGIN.bottom - (v - yLo) / (yHi - yLo) * (h - MARGIN.top - MARGIN.bottom),
  };
  let out = header(w, h, spec.title) +
    axes(f, xTicks, yTicks, spec.xLabel, spec.yLabel, spec.logY ? (t) => `1e${t}` : formatTick);
  spec.series.forEach((s, k) => {
    const pts: string[] = [];
    for (let i = 0; i < s.x.length; i++) {
      const y = tf(s.y[i]);
      if (Number.isFinite(s.x[i]) && Number.isFinite(y)) pts.push(`${c(f.sx(s.x[i]))},${c(f.sy(y))}`);
    }
    const color = COLORS[k % COLORS.length];
    out += `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(" ")}">` +
      `<title>${escapeXml(s.name)}</title></polyline>\n`;
    // Sparse series (e.g. validation logged at checkpoints only) also get point markers, so a single
    // point is visible.
    if (pts.length <= MARKERS_UP_TO) {
      out += `<g fill="${color}">` + pts.map((p) => {
        const [x, y] = p.split(",");
        return `<circle cx="${x}" cy="${y}" r="2.5"/>`;
      }).join("") + `</g>\n`;
    }
    if (spec.series.length > 1) {
      const ly = MARGIN.top + 4 + k * 16;
      out += `<line x1="${w - MARGIN.right - 120}" x2="${w - MARGIN.right - 100}" y1="${ly}" y2="${ly}" ` +
        `stroke="${color}" stroke-width="2"/><text x="${w - MARGIN.right - 95}" y="${ly + 4}">${
          escapeXml(s.name)
        }</text>\n`;
    }
  });
  return out + "</svg>\n";
}

/** A histogram with bars over the given bin edges (and an optional separate bar, e.g. dead latents). */
export function histogram(spec: HistogramSpec): string {
  const w = spec.width ?? 640, h = spec.height ?? 360;
  const n = spec.counts.length;
  if (spec.edges.length !== n + 1) {
    throw new Error(`histogram "${spec.title}": ${spec.edges.length} edges for ${n} bins (need ${n + 1})`);
  }
  const xlo = spec.edges[0], xhi = spec.edges[n];
  const extraW = spec.extra ? (w - MARGIN.left - MARGIN.right) * 0.08 : 0;
  const plotL = MARGIN.left + extraW;
  let ymax = spec.extra ? spec.extra.count : 0;
  for (let i = 0; i < n; i++) ymax = Math.max(ymax, spec.counts[i]);
  const yTicks = niceTicks(0, Math.max(1, ymax));
  const yHi = Math.max(ymax, yTicks[yTicks.length - 1], 1);
  const f: Frame = {
    w,
    h,
    sx: (v) => plotL + (v - xlo) / (xhi - xlo || 1) * (w - plotL - MARGIN.right),
    sy: (v) => h - MARGIN.bottom - v / yHi * (h - MARGIN.top - MARGIN.bottom),
  };
  let out = header(w, h, spec.title) + axes(f, niceTicks(xlo, xhi), yTicks, spec.xLabel, spec.yLabel);
  out += `<g fill="#2563eb">`;
  for (let i = 0; i < n; i++) {
    const x = f.sx(spec.edges[i]), x2 = f.sx(spec.edges[i + 1]), y = f.sy(spec.counts[i]);
    out += `<rect x="${c(x)}" y="${c(y)}" width="${c(Math.max(0, x2 - x - 0.5))}" ` +
      `height="${c(h - MARGIN.bottom - y)}"><title>[${formatTick(spec.edges[i])}, ${formatTick(spec.edges[i + 1])}): ${
        spec.counts[i]
      }</title></rect>`;
  }
  out += `</g>\n`;
  if (spec.extra) {
    const y = f.sy(spec.extra.count);
    out +=
      `<rect x="${c(MARGIN.left + 4)}" y="${c(y)}" width="${c(extraW - 10)}" height="${
        c(h - MARGIN.bottom - y)
      }" fill="#9ca3af"><title>${escapeXml(spec.extra.label)}: ${spec.extra.count}</title></rect>` +
      `<text x="${c(MARGIN.left + extraW / 2)}" y="${h - MARGIN.bottom + 30}" text-anchor="middle" font-size="10">${
        escapeXml(spec.extra.label)
      }</text>\n`;
  }
  return out + "</svg>\n";
}
