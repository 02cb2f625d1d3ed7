/**
 * Per-row TopK (kernels/topk.wgsl): the k largest pre-activations of each row (ties: lower index),
 * stored in latent order as (idx, val = ReLU(pre)) with INVALID for pre ≤ 0 and unused slots.
 * `aux` restricts candidates to dead latents (since ≥ window) and takes min(k, state.n_dead).
 */
import { compileKernel, INVALID, type Kernel } from "./kernel.ts";

const URL_ = new URL("./topk.wgsl", import.meta.url);

export interface TopkDims {
  rows: number;
  S: number;
  k: number;
  /** Output slots per row (≥ k); default k. */
  cap?: number;
  /** First output entry. */
  outBase?: number;
  aux?: boolean;
  window?: number;
}

export interface TopkBuffers {
  pre: GPUBuffer;
  since: GPUBuffer;
  state: GPUBuffer;
  idx: GPUBuffer;
  val: GPUBuffer;
}

export async function createTopk(device: GPUDevice, d: TopkDims) {
  if (!(d.k >= 1 && d.k <= d.S)) throw new Error(`topk: k ${d.k} must be in 1..d_sae (${d.S})`);
  const k: Kernel = await compileKernel(device, URL_, "main", {
    S: d.S,
    CAP: d.cap ?? d.k,
    K: d.k,
    OUT_BASE: d.outBase ?? 0,
    AUX: !!d.aux,
    WINDOW: d.window ?? 0,
  });
  return (b: TopkBuffers) => k.bind([b.pre, b.since, b.state, b.idx, b.val], [d.rows, 1]);
}

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
