/**
 * BatchTopK (kernels/batchtopk.wgsl): among the per-row candidates, keep the k·B largest values of
 * the whole batch (ties at the boundary all kept) and mark the rest INVALID; the smallest kept value
 * feeds an exponential moving average, the threshold the saved (JumpReLU-style) SAE uses.
 */
import { compileKernel, groupsFor } from "./kernel.ts";

const URL_ = new URL("./batchtopk.wgsl", import.meta.url);

export async function createBatchTopk(device: GPUDevice, d: { n: number; kTotal: number; emaDecay?: number }) {
  const c = { N: d.n, K_TOTAL: d.kTotal, EMA_DECAY: d.emaDecay ?? 0.99 };
  const [sel, mark, ema] = await Promise.all([
    compileKernel(device, URL_, "select_boundary", c),
    compileKernel(device, URL_, "mark", c),
    compileKernel(device, URL_, "ema", c),
  ]);
  return (b: { idx: GPUBuffer; val: GPUBuffer; state: GPUBuffer }) => {
    const bufs = [b.idx, b.val, b.state];
    const parts = [sel.bind(bufs, [1, 1]), mark.bind(bufs, groupsFor(d.n, 256))];
    return {
      /** Boundary search and marking (training and validation). */
      select: { encode: (enc: GPUCommandEncoder) => parts.forEach((p) => p.encode(enc)) },
      /** Threshold moving-average update (training only). */
      ema: ema.bind([, , b.state], [1, 1]),
    };
  };
}

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
