/**
 * A frontier plot for a sweep: one marker per SAE (x = L0, y = a fidelity metric), each a link to that
 * SAE's dashboard, and the Pareto frontier (no other SAE has both a lower L0 and a higher y) drawn as a line
 * through its members. Pure function of the data: the same sweep gives the same bytes.
 */
import { axes, c, escapeXml, extent, type Frame, header, MARGIN, niceTicks } from "./svg.ts";

export interface FrontierPoint {
  label: string;
  x: number;
  y: number;
  /** Link target (relative URL of the SAE's dashboard), or null. */
  href: string | null;
}

/**
 * Indices of the Pareto frontier for "lower x, higher y is better", sorted by x: a point is on it when no
 * other point has x' <= x and y' >= y with one of them strict.
 */
export function paretoFrontier(points: readonly { x: number; y: number }[]): number[] {
  const idx = points.map((_, i) => i).filter((i) => Number.isFinite(points[i].x) && Number.isFinite(points[i].y));
  idx.sort((a, b) => points[a].x - points[b].x || points[b].y - points[a].y);
  const out: number[] = [];
  let best = -Infinity;
  for (const i of idx) {
    if (points[i].y > best) {
      out.push(i);
      best = points[i].y;
    }
  }
  return out;
}

export function frontierChart(
  spec: { title: string; xLabel: string; yLabel: string; points: FrontierPoint[]; width?: number; height?: number },
): string {
  const w = spec.width ?? 560, h = spec.height ?? 360;
  const pts = spec.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  // 5% padding, so markers at the extremes are not cut by the frame
  const pad = ([lo, hi]: [number, number]): [number, number] => [lo - (hi - lo) * 0.05, hi + (hi - lo) * 0.05];
  const [xlo, xhi] = pad(extent(pts.map((p) => p.x))), [ylo0, yhi0] = pad(extent(pts.map((p) => p.y)));
  const xTicks = niceTicks(xlo, xhi), yTicks = niceTicks(ylo0, yhi0);
  const ylo = Math.min(ylo0, yTicks[0]), yhi = Math.max(yhi0, yTicks[yTicks.length - 1]);
  const xl = Math.min(xlo, xTicks[0]), xh = Math.max(xhi, xTicks[xTicks.length - 1]);
  const f: Frame = {
    w,
    h,
    sx: (v) => MARGIN.left + (v - xl) / (xh - xl) * (w - MARGIN.left - MARGIN.right),
    sy: (v) => h - MARGIN.bottom - (v - ylo) / (yhi - ylo) * (h - MARGIN.top - MARGIN.bottom),
  };
  let out = header(w, h, spec.title) + axes(f, xTicks, yTicks, spec.xLabel, spec.yLabel);
  const front = paretoFrontier(pts);
  out += `<polyline class="frontier" fill="none" stroke="#dc2626" stroke-width="1.5" points="${
    front.map((i) => `${c(f.sx(pts[i].x))},${c(f.sy(pts[i].y))}`).join(" ")
  }"><title>Pareto frontier</title></polyline>\n`;
  const onFront = new Set(front);
  pts.forEach((p, i) => {
    const dot = `<circle class="sae" data-label="${escapeXml(p.label)}" data-x="${p.x}" data-y="${p.y}" cx="${
      c(f.sx(p.x))
    }" cy="${c(f.sy(p.y))}" r="5" fill="${onFront.has(i) ? "#dc2626" : "#2563eb"}"><title>${
      escapeXml(`${p.label}: L0 ${p.x}, ${spec.yLabel} ${p.y}`)
    }</title></circle>`;
    out += (p.href ? `<a href="${escapeXml(p.href)}">${dot}</a>` : dot) + "\n";
  });
  return out + "</svg>\n";
}
