/** Float64 references of the selection kernels (the tests compare the WGSL against these on random inputs). */
import { INVALID } from "../runtime/kernel.ts";
import type { CscDims } from "./csc.ts";

// ---- topk
/** Float64 reference: per row, the selected (idx, val) in latent order, padded to cap with INVALID. */
export function topkReference(
  pre: ArrayLike<number>,
  rows: number,
  S: number,
  k: number,
  cap = k,
  candidate: (i: number) => boolean = () => true,
): { idx: Uint32Array; val: Float64Array } {
  const idx = new Uint32Array(rows * cap).fill(INVALID);
  const val = new Float64Array(rows * cap);
  for (let t = 0; t < rows; t++) {
    const cand: number[] = [];
    for (let i = 0; i < S; i++) if (candidate(i)) cand.push(i);
    cand.sort((a, b) => (pre[t * S + b] - pre[t * S + a]) || (a - b));
    const chosen = cand.slice(0, k).sort((a, b) => a - b);
    chosen.forEach((i, s) => {
      const v = pre[t * S + i];
      if (v > 0) {
        idx[t * cap + s] = i;
        val[t * cap + s] = v;
      }
    });
  }
  return { idx, val };
}

// ---- batchtopk
/** Float64 reference: keep mask of the entries (valid ones with value ≥ the kTotal-th largest). */
export function batchTopkReference(valid: ArrayLike<boolean>, val: ArrayLike<number>, kTotal: number): boolean[] {
  const vals: number[] = [];
  for (let j = 0; j < val.length; j++) if (valid[j]) vals.push(val[j]);
  vals.sort((a, b) => b - a);
  const thr = vals.length <= kTotal ? -Infinity : vals[kTotal - 1];
  return Array.from({ length: val.length }, (_, j) => !!valid[j] && val[j] >= thr);
}

/** Float64 reference of `ema`: thr' = decay·thr + (1 − decay)·(smallest kept value); unchanged if none kept. */
export function batchTopkEmaReference(thr: number, kept: number[], decay: number): number {
  return kept.length ? decay * thr + (1 - decay) * Math.min(...kept) : thr;
}

// ---- csc
/** Float64-free reference: per-latent lists of valid entry ids in the kernel's order. */
export function cscReference(idx: ArrayLike<number>, d: CscDims): { start: Uint32Array; list: Uint32Array } {
  const chunk = d.chunk ?? 32;
  const lists: number[][] = Array.from({ length: d.S }, () => []);
  for (let t0 = 0; t0 < d.B; t0 += chunk) {
    const t1 = Math.min(t0 + chunk, d.B);
    for (let t = t0; t < t1; t++) {
      for (let s = 0; s < d.cap; s++) if (idx[t * d.cap + s] !== INVALID) lists[idx[t * d.cap + s]].push(t * d.cap + s);
    }
    for (let t = t0; t < t1; t++) {
      for (let s = 0; s < d.auxCap; s++) {
        const e = d.B * d.cap + t * d.auxCap + s;
        if (idx[e] !== INVALID) lists[idx[e]].push(e);
      }
    }
  }
  const start = new Uint32Array(d.S + 1);
  for (let i = 0; i < d.S; i++) start[i + 1] = start[i] + lists[i].length;
  return { start, list: Uint32Array.from(lists.flat()) };
}
