/**
 * BatchTopK (./batchtopk.wgsl): among the per-row candidates, keep the k·B largest values of
 * the whole batch (ties at the boundary all kept) and mark the rest INVALID; the smallest kept value
 * feeds an exponential moving average, the threshold the saved (JumpReLU-style) SAE uses.
 */
import { compileKernel, groupsFor } from "../runtime/kernel.ts";

const URL_ = new URL("./batchtopk.wgsl", import.meta.url);

export async function createBatchTopk(device: GPUDevice, d: { n: number; kTotal: number; emaDecay?: number }) {
  const c = { N: d.n, K_TOTAL: d.kTotal, EMA_DECAY: d.emaDecay ?? 0.99 };
  const [sel, mark, ema] = await Promise.all([
    compileKernel(device, URL_, "select_boundary", c),
    compileKernel(device, URL_, "mark", c),
    compileKernel(device, URL_, "ema", c),
  ]);
  return (b: { idx: GPUBuffer; val: GPUBuffer; state: GPUBuffer }) => {
    const all = { idx: b.idx, val: b.val, state: b.state };
    const parts = [sel.bind(all, [1, 1]), mark.bind(all, groupsFor(d.n, 256))];
    return {
      /** Boundary search and marking (training and validation). */
      select: { encode: (enc: GPUCommandEncoder) => parts.forEach((p) => p.encode(enc)) },
      /** Threshold moving-average update (training only). */
      ema: ema.bind(all, [1, 1]),
    };
  };
}
