/**
 * The export's SVG plots: training curves over tokens (`loss`, `l0`, `dead_latents`, and
 * `explained_variance` when logged) from `train_log.parquet`, and the latent density histogram
 * (log10 firing frequency per latent). Each is a standalone file with title and axis labels; the
 * dashboard inlines the same strings.
 */
import type { Columns } from "./inputs.ts";
import type { LOG_SCHEMA } from "../train/log_schema.ts";

/** A column of train_log.parquet (the train stage's LOG_SCHEMA). */
type LogColumn = keyof typeof LOG_SCHEMA;
import { histogram, lineChart } from "./svg.ts";

export interface DensityHistogram {
  edges: number[];
  counts: number[];
  /** Latents that never fired (density 0), drawn as a separate bar. */
  dead: number;
}

const LOG_EPS = 1e-10;

/**
 * Histogram of log10(density) over latents with density > 0, in `bins` equal bins over [lo, 0] where lo
 * is the floor of the smallest log density (at least -10); dead latents (density 0) are counted apart.
 */
export function densityHistogram(density: ArrayLike<number>, bins = 40): DensityHistogram {
  let minLog = 0, dead = 0;
  for (let i = 0; i < density.length; i++) {
    if (density[i] > 0) minLog = Math.min(minLog, Math.log10(density[i] + LOG_EPS));
    else dead++;
  }
  const lo = Math.max(-10, Math.floor(minLog === 0 ? -1 : minLog)), hi = 0;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < density.length; i++) {
    if (!(density[i] > 0)) continue;
    const b = Math.floor((Math.log10(density[i] + LOG_EPS) - lo) / (hi - lo) * bins);
    counts[Math.min(bins - 1, Math.max(0, b))]++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => +(lo + (hi - lo) * i / bins).toPrecision(10));
  return { edges, counts, dead };
}

/** An evaluate-stage histogram `{min, max, counts}` or `{edges, counts}` as edges/counts. */
export function histogramFromEval(h: unknown): DensityHistogram | null {
  if (!h || typeof h !== "object") return null;
  const o = h as Record<string, unknown>;
  const counts = o.counts as number[] | undefined;
  if (!Array.isArray(counts) || counts.length === 0) return null;
  let edges = o.edges as number[] | undefined;
  if (!Array.isArray(edges) && typeof o.min === "number" && typeof o.max === "number") {
    const lo = o.min, hi = o.max;
    edges = Array.from({ length: counts.length + 1 }, (_, i) => lo + (hi - lo) * i / counts.length);
  }
  if (!Array.isArray(edges) || edges.length !== counts.length + 1) return null;
  return { edges, counts, dead: 0 };
}

export function densityPlot(h: DensityHistogram): string {
  return histogram({
    title: "Latent density histogram",
    xLabel: "log10(firing frequency)",
    yLabel: "latents",
    edges: h.edges,
    counts: h.counts,
    extra: h.dead > 0 ? { label: "dead", count: h.dead } : undefined,
  });
}

function numeric(col: unknown[] | undefined): number[] | null {
  if (!col) return null;
  const out = col.map((v) => (typeof v === "number" ? v : NaN));
  return out.some(Number.isFinite) ? out : null;
}

/** Training-curve SVGs keyed by file stem (`loss`, `l0`, `dead_latents`, `explained_variance`). */
export function trainingPlots(log: Columns | null): Record<string, string> {
  if (!log) return {};
  const TOKENS: LogColumn = "tokens";
  const x = numeric(log[TOKENS]);
  if (!x) return {};
  const xLabel = "training tokens";
  const out: Record<string, string> = {};
  const chart = (stem: string, title: string, yLabel: string, cols: [LogColumn, string][], logY = false) => {
    const series = cols.flatMap(([col, name]) => {
      const y = numeric(log[col]);
      return y ? [{ name, x, y }] : [];
    });
    if (series.length) out[stem] = lineChart({ title, xLabel, yLabel, series, logY });
  };
  chart("loss", "Training loss", "loss (log scale)", [
    ["loss", "loss"],
    ["mse", "mse"],
    ["val_mse", "val mse"],
  ], true);
  chart("l0", "L0 (active latents per token)", "L0", [["l0", "train"], ["val_l0", "validation"]]);
  chart("dead_latents", "Dead latents", "dead latents", [["dead_latents", "dead latents"]]);
  chart("explained_variance", "Explained variance", "explained variance", [
    ["explained_variance", "train"],
    ["val_explained_variance", "validation"],
  ]);
  return out;
}
