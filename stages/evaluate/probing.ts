/**
 * k-sparse probing (Gurnee et al. 2023, "Finding Neurons in a Haystack"; SAEBench's `sparse_probing`,
 * Karvonen et al. 2025): how well can a binary label be read from only k SAE latents?
 *
 * For one task (a POS class vs. the other tokens, or a genre vs. the other sequences) with examples split
 * into train and test:
 *   1. select the k latents with the largest |mean difference|  |μ_l⁺ − μ_l⁻|  of their activation between
 *      positive and negative train examples (ties: lower latent index);
 *   2. fit an L2 logistic probe (λ = 1, logistic.ts) on those k activations of the train examples;
 *   3. report accuracy and positive-class F1 of the probe on the test examples,
 * for k ∈ {1, 2, 5, 10, 20}; beside it the same probe on all d_in raw activations (the ceiling: what the
 * model itself linearly encodes) and on k latents drawn at random (seeded) among those that fire at least
 * once on the train examples (the floor). Tasks are balanced as in SAEBench: as many negatives as positives.
 */
import { binaryScores, decisionValues, fitLogistic } from "./logistic.ts";
import { Rng } from "../train/rng.ts";

export const PROBE_KS = [1, 2, 5, 10, 20] as const;

/**
 * Fit options of every probe: at most 15 Newton steps. On correlated 512-wide activations the probe's
 * direction has converged by then (cosine > 0.999 to the fully converged one) while the last digits of the
 * gradient would cost as much again; small k-sparse probes converge in fewer steps anyway.
 */
export const PROBE_FIT = { l2: 1, maxIter: 15 } as const;

/** Examples as dense raw activations [n, dIn] plus sparse SAE codes (CSR). */
export interface ProbeExamples {
  n: number;
  dIn: number;
  x: Float32Array;
  offsets: Uint32Array;
  idx: Uint32Array;
  val: Float32Array;
}

export interface ProbeTask {
  task: "pos" | "genre";
  label: string;
  /** Example indices, their labels (1 = positive) and split (1 = test). */
  members: Uint32Array;
  y: Uint8Array;
  test: Uint8Array;
}

export type ProbeRow = {
  task: string;
  label: string;
  /** "sae" (top-k by mean difference), "random" (k random live latents) or "raw" (all d_in activations). */
  method: "sae" | "random" | "raw";
  k: number | null;
  n_train: number;
  n_test: number;
  accuracy: number;
  f1: number;
  /** Latents of the probe, in selection order (null for raw). */
  latents: number[] | null;
  /** |mean difference| of each selected latent on the train split (null for raw and random). */
  mean_diff: number[] | null;
};

/** |μ⁺ − μ⁻| per latent over the train members of `task` (dense, length dSae); `signed`: μ⁺ − μ⁻. */
export function meanDifference(ex: ProbeExamples, task: ProbeTask, dSae: number, signed = false): Float64Array {
  const pos = new Float64Array(dSae), neg = new Float64Array(dSae);
  let nPos = 0, nNeg = 0;
  task.members.forEach((i, m) => {
    if (task.test[m]) return;
    const acc = task.y[m] ? pos : neg;
    if (task.y[m]) nPos++;
    else nNeg++;
    for (let e = ex.offsets[i]; e < ex.offsets[i + 1]; e++) acc[ex.idx[e]] += ex.val[e];
  });
  const diff = new Float64Array(dSae);
  for (let l = 0; l < dSae; l++) {
    const v = pos[l] / Math.max(1, nPos) - neg[l] / Math.max(1, nNeg);
    diff[l] = signed ? v : Math.abs(v);
  }
  return diff;
}

/** Indices of the `k` largest values (descending, ties by lower index), skipping zeros. */
export function topIndices(v: Float64Array, k: number): number[] {
  const order: number[] = [];
  for (let l = 0; l < v.length; l++) if (v[l] > 0) order.push(l);
  order.sort((a, b) => v[b] - v[a] || a - b);
  return order.slice(0, k);
}

/** Dense features of the members on one side of the split: chosen latents, or the raw activations. */
function features(ex: ProbeExamples, task: ProbeTask, latents: number[] | null, test: boolean) {
  const rows = [...task.members.keys()].filter((m) => Boolean(task.test[m]) === test);
  const d = latents ? latents.length : ex.dIn;
  const X = new Float64Array(rows.length * d), y = new Uint8Array(rows.length);
  const col = new Map(latents?.map((l, c) => [l, c]) ?? []);
  rows.forEach((m, r) => {
    const i = task.members[m];
    y[r] = task.y[m];
    if (!latents) {
      for (let j = 0; j < d; j++) X[r * d + j] = ex.x[i * ex.dIn + j];
      return;
    }
    for (let e = ex.offsets[i]; e < ex.offsets[i + 1]; e++) {
      const c = col.get(ex.idx[e]);
      if (c !== undefined) X[r * d + c] = ex.val[e];
    }
  });
  return { X, y, n: rows.length, d };
}

/** Fit on the train members, score on the test members. */
export function probeScores(ex: ProbeExamples, task: ProbeTask, latents: number[] | null) {
  const tr = features(ex, task, latents, false), te = features(ex, task, latents, true);
  const model = fitLogistic(tr.X, tr.n, tr.d, tr.y, PROBE_FIT);
  return { n_train: tr.n, n_test: te.n, ...binaryScores(te.y, decisionValues(model, te.X, te.n, te.d)) };
}

/** Every probe of one task: SAE top-k and random-k for each k, and the raw-activation ceiling. */
export function sparseProbe(ex: ProbeExamples, task: ProbeTask, dSae: number, seed: number): ProbeRow[] {
  const diff = meanDifference(ex, task, dSae);
  const ranked = topIndices(diff, PROBE_KS[PROBE_KS.length - 1]);
  const live = new Set<number>();
  task.members.forEach((i, m) => {
    if (task.test[m]) return;
    for (let e = ex.offsets[i]; e < ex.offsets[i + 1]; e++) if (ex.val[e] !== 0) live.add(ex.idx[e]);
  });
  const shuffled = new Rng(seed, labelStream(task)).shuffle(Uint32Array.from([...live].sort((a, b) => a - b)));
  const base = { task: task.task, label: task.label };
  const rows: ProbeRow[] = [];
  for (const k of PROBE_KS) {
    const top = ranked.slice(0, k);
    rows.push({
      ...base,
      method: "sae",
      k,
      ...probeScores(ex, task, top),
      latents: top,
      mean_diff: top.map((l) => diff[l]),
    });
    const rnd = Array.from(shuffled.subarray(0, k));
    rows.push({ ...base, method: "random", k, ...probeScores(ex, task, rnd), latents: rnd, mean_diff: null });
  }
  rows.push({ ...base, method: "raw", k: null, ...probeScores(ex, task, null), latents: null, mean_diff: null });
  return rows;
}

function labelStream(task: ProbeTask): number {
  let h = task.task === "pos" ? 17 : 31;
  for (const c of task.label) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** Mean over tasks of each (method, k): the numbers eval.json reports. */
export function summariseProbes(rows: ProbeRow[]): Record<string, { accuracy: number; f1: number; tasks: number }> {
  const acc = new Map<string, { a: number; f: number; n: number }>();
  for (const r of rows) {
    const key = r.method === "raw" ? "raw" : `${r.method}_top_${r.k}`;
    const s = acc.get(key) ?? { a: 0, f: 0, n: 0 };
    s.a += r.accuracy;
    s.f += r.f1;
    s.n++;
    acc.set(key, s);
  }
  return Object.fromEntries([...acc].map(([k, s]) => [k, { accuracy: s.a / s.n, f1: s.f / s.n, tasks: s.n }]));
}
