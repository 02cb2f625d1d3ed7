/**
 * Feature absorption, first-letter version (Chanin et al. 2024, "A is for Absorption"; SAEBench's
 * `absorption`), on the corpus's word-initial tokens (`▁word`) instead of SAEBench's ICL spelling prompts:
 *
 *   1. Letter probes: one-vs-rest ridge probes (ridge.ts) on the raw activations predict each token's first
 *      letter (argmax of the 26 decision values); p_L = w_L / ‖w_L‖ is letter L's direction. (SAEBench trains
 *      a softmax probe; the closed-form ridge probes give all 26 directions from one d×d solve, where 26
 *      logistic fits on 512-wide activations would take most of the stage's time.)
 *   2. Main latents of L ("feature splitting"): latents ranked by their mean difference μ⁺ − μ⁻ > 0 between
 *      L-tokens and other letter tokens (train split; only latents firing more on L, unlike sparse probing's
 *      |μ⁺ − μ⁻|, since a main latent must represent the letter); k-sparse probes on the top k = 1 … max_k; the main latents are the
 *      top k* where k* grows while F1(k) − F1(k − 1) > τ_fs = 0.03 (SAEBench's f1_jump_threshold).
 *   3. For each test token of letter L that the probe gets right (a probe true positive), with raw
 *      activation x, SAE code f and c_l = cos(W_dec[l], p_L):
 *        P = x·p_L (the probe projection),  π_l = f_l·(W_dec[l]·p_L) (latent l's share of it; SAEBench's
 *        f_l·c_l for unit-norm decoder rows, but rows here carry any activation scaling),  M = Σ_{l∈main} π_l.
 *      absorption fraction (SAEBench, after Till): A = the sum of the ≤ 3 largest π_l > 0 over non-main
 *        latents with c_l ≥ 0.1; fraction = 0 if M ≥ P or A/P < 0.4, 1 if M ≤ 0, else min(A, P−M) / (min(A, P−M) + M).
 *      full absorption: every main latent is 0, the latent with the largest π has c ≥ 0.025, P ≥ 0 and
 *        π_top / P ≥ 0.4; that latent is the token's absorbing latent.
 *   Per letter: mean absorption fraction and full-absorption rate = (count) / (probe true positives);
 *   the reported means average the letters that have true positives.
 */
import { binaryScores } from "./logistic.ts";
import { meanDifference, type ProbeExamples, probeScores, type ProbeTask, topIndices } from "./probing.ts";
import { fitRidgeProbes, ridgeScores } from "./ridge.ts";

export const ABSORPTION = {
  maxK: 10,
  f1Jump: 0.03,
  fullCos: 0.025,
  fractionCos: 0.1,
  projectionShare: 0.4,
  maxAbsorbers: 3,
  /** Train positives a letter needs for a probe. */
  minTrain: 8,
} as const;

export interface LetterExamples extends ProbeExamples {
  /** First letter (0 … 25) per example. */
  letter: Uint8Array;
  /** 1 = test split. */
  test: Uint8Array;
}

export type LetterRow = {
  letter: string;
  n_train: number;
  n_test: number;
  probe_f1: number;
  true_positives: number;
  main_latents: number[];
  main_f1: number[];
  mean_absorption_fraction: number;
  full_absorption_rate: number;
  full_absorptions: number;
  /** Absorbing latents (full absorption), most frequent first, with their token counts. */
  absorbers: number[];
  absorber_counts: number[];
};

export interface AbsorptionSummary {
  letters: number;
  mean_absorption_fraction: number;
  mean_full_absorption_rate: number;
  mean_main_latents: number;
}

/** Main latents of a letter by the F1-jump rule, with the F1 of each k tried. */
export function mainLatents(ex: LetterExamples, letter: number, dSae: number) {
  const all = Uint32Array.from({ length: ex.n }, (_, i) => i);
  const task: ProbeTask = {
    task: "pos",
    label: String(letter),
    members: all,
    y: Uint8Array.from(ex.letter, (l) => (l === letter ? 1 : 0)),
    test: ex.test,
  };
  const ranked = topIndices(meanDifference(ex, task, dSae, true), ABSORPTION.maxK);
  const f1: number[] = [];
  let kStar = Math.min(1, ranked.length);
  for (let k = 1; k <= ranked.length; k++) {
    f1.push(probeScores(ex, task, ranked.slice(0, k)).f1);
    if (k === 1) continue;
    if (f1[k - 1] - f1[k - 2] > ABSORPTION.f1Jump) kStar = k;
    else break;
  }
  return { latents: ranked.slice(0, kStar), f1 };
}

/** Absorption fraction and full absorption of one token (the formulas of the module comment). */
export function tokenAbsorption(
  P: number,
  entries: { latent: number; act: number; cos: number; dot: number }[],
  main: Set<number>,
): { fraction: number; full: boolean; absorber: number } {
  const C = ABSORPTION;
  let M = 0, mainFires = false;
  const others: number[] = [];
  let top = { latent: -1, pi: -Infinity, cos: 0 };
  for (const { latent, act, cos, dot } of entries) {
    const pi = act * dot;
    if (main.has(latent)) {
      M += pi;
      if (Math.abs(act) > 1e-8) mainFires = true;
    } else if (cos >= C.fractionCos && pi > 0) others.push(pi);
    if (pi > top.pi) top = { latent, pi, cos };
  }
  others.sort((a, b) => b - a);
  const A = others.slice(0, C.maxAbsorbers).reduce((s, v) => s + v, 0);
  let fraction: number;
  if (M >= P || A / P < C.projectionShare) fraction = 0;
  else if (M <= 0) fraction = 1;
  else {
    const absorbed = Math.min(A, P - M);
    fraction = Math.min(1, Math.max(0, absorbed / (absorbed + M)));
  }
  const full = !mainFires && top.latent >= 0 && top.cos >= C.fullCos && P >= 0 && top.pi / P >= C.projectionShare;
  return { fraction, full, absorber: full ? top.latent : -1 };
}

/** Rows `idx` of the examples' raw activations as a dense float64 matrix. */
function denseRows(ex: LetterExamples, idx: number[]): Float64Array {
  const d = ex.dIn, X = new Float64Array(idx.length * d);
  idx.forEach((i, r) => {
    for (let j = 0; j < d; j++) X[r * d + j] = ex.x[i * d + j];
  });
  return X;
}

/** Ridge letter probes: each letter's unit direction, and the argmax letter of every test example. */
function letterProbes(ex: LetterExamples, trainIdx: number[], testIdx: number[], letters: number[]) {
  const d = ex.dIn, C = letters.length, classOf = new Int8Array(26).fill(-1);
  letters.forEach((L, q) => (classOf[L] = q));
  const fitRows = trainIdx.filter((i) => classOf[ex.letter[i]] >= 0);
  const probes = fitRidgeProbes(
    denseRows(ex, fitRows),
    fitRows.length,
    d,
    fitRows.map((i) => classOf[ex.letter[i]]),
    C,
  );
  const z = ridgeScores(probes, denseRows(ex, testIdx), testIdx.length);
  const pred = testIdx.map((_, r) => {
    let best = 0;
    for (let q = 1; q < C; q++) if (z[r * C + q] > z[r * C + best]) best = q;
    return letters[best];
  });
  const dirs = letters.map((_, q) => {
    const w = Float64Array.from({ length: d }, (_, j) => probes.W[j * C + q]);
    const norm = Math.hypot(...w) || 1;
    return w.map((v) => v / norm);
  });
  return { dirs, pred };
}

/** W_dec[l]·p and cos(W_dec[l], p) for every latent. */
function decoderProjections(wDec: ArrayLike<number>, dir: Float64Array, dSae: number) {
  const d = dir.length, cos = new Float64Array(dSae), dots = new Float64Array(dSae);
  for (let l = 0; l < dSae; l++) {
    let dot = 0, nn = 0;
    for (let j = 0; j < d; j++) {
      const v = wDec[l * d + j];
      dot += v * dir[j];
      nn += v * v;
    }
    cos[l] = nn > 0 ? dot / Math.sqrt(nn) : 0;
    dots[l] = dot;
  }
  return { cos, dots };
}

/** One letter's row: probe F1, main latents, and absorption over its probe true positives. */
function letterRow(
  ex: LetterExamples,
  L: number,
  dir: Float64Array,
  proj: { cos: Float64Array; dots: Float64Array },
  split: { trainIdx: number[]; testIdx: number[]; pred: number[] },
  dSae: number,
): LetterRow {
  const { trainIdx, testIdx, pred } = split, d = ex.dIn;
  const main = mainLatents(ex, L, dSae), mainSet = new Set(main.latents);
  const yTest = Uint8Array.from(testIdx, (i) => (ex.letter[i] === L ? 1 : 0));
  let tp = 0, fracSum = 0, fulls = 0;
  const absorbers = new Map<number, number>();
  testIdx.forEach((i, r) => {
    if (ex.letter[i] !== L || pred[r] !== L) return;
    tp++;
    let P = 0;
    for (let j = 0; j < d; j++) P += ex.x[i * d + j] * dir[j];
    const entries = [];
    for (let e = ex.offsets[i]; e < ex.offsets[i + 1]; e++) {
      const l = ex.idx[e];
      if (ex.val[e] !== 0) entries.push({ latent: l, act: ex.val[e], cos: proj.cos[l], dot: proj.dots[l] });
    }
    const t = tokenAbsorption(P, entries, mainSet);
    fracSum += t.fraction;
    if (t.full) {
      fulls++;
      absorbers.set(t.absorber, (absorbers.get(t.absorber) ?? 0) + 1);
    }
  });
  const ab = [...absorbers].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return {
    letter: String.fromCharCode(97 + L),
    n_train: trainIdx.filter((i) => ex.letter[i] === L).length,
    n_test: yTest.reduce((s, v) => s + v, 0),
    probe_f1: binaryScores(yTest, Float64Array.from(pred, (p) => (p === L ? 1 : -1))).f1,
    true_positives: tp,
    main_latents: main.latents,
    main_f1: main.f1,
    mean_absorption_fraction: tp ? fracSum / tp : NaN,
    full_absorption_rate: tp ? fulls / tp : NaN,
    full_absorptions: fulls,
    absorbers: ab.map(([l]) => l),
    absorber_counts: ab.map(([, c]) => c),
  };
}

/** Letter probes, main latents and absorption per letter. `wDec` is [dSae, dIn]. */
export function absorption(
  ex: LetterExamples,
  wDec: ArrayLike<number>,
  dSae: number,
): { rows: LetterRow[]; summary: AbsorptionSummary } {
  const trainIdx: number[] = [], testIdx: number[] = [];
  for (let i = 0; i < ex.n; i++) (ex.test[i] ? testIdx : trainIdx).push(i);
  const counts = new Array(26).fill(0);
  for (const i of trainIdx) counts[ex.letter[i]]++;
  const letters = counts.flatMap((c, L) => (c >= ABSORPTION.minTrain ? [L] : []));
  const rows: LetterRow[] = [];
  if (letters.length) {
    const { dirs, pred } = letterProbes(ex, trainIdx, testIdx, letters);
    letters.forEach((L, q) => {
      rows.push(letterRow(ex, L, dirs[q], decoderProjections(wDec, dirs[q], dSae), { trainIdx, testIdx, pred }, dSae));
    });
  }
  const scored = rows.filter((r) => r.true_positives > 0);
  const mean = (f: (r: LetterRow) => number) =>
    scored.length ? scored.reduce((s, r) => s + f(r), 0) / scored.length : NaN;
  return {
    rows,
    summary: {
      letters: scored.length,
      mean_absorption_fraction: mean((r) => r.mean_absorption_fraction),
      mean_full_absorption_rate: mean((r) => r.full_absorption_rate),
      mean_main_latents: mean((r) => r.main_latents.length),
    },
  };
}
